"""Reload benchmark: what `sinkload reload` costs for a full load, one corrected member file, and nothing.

What is measured (on the sample data set, `sinkload sample`: 14 OCO-2 v10 MIP members + EnsMean at 1°,
VEGAS at 0.5°, BEPS at 0.0727°, laid out as an inbox INBOX/<product>/<files>), in a throw-away database
(tests/support.py) whose default regions and sample land cover are loaded first (not timed):
  1. `sinkload reload INBOX` on the empty warehouse: every file ingested, every model built;
  2. the same command with nothing changed;
  3. one MIP member file corrected (every value × 1.01, all its months), written under a hidden name and
     renamed over the old one, then `sinkload reload INBOX`: one file ingested, the incremental models redo
     that member's months and its product's ensemble means only (docs/architecture.md);
  4. `sinkload build` with nothing changed and `sinkload build --full-refresh`, for reference.
dbt's own time of every node (target/run_results.json) is recorded for each dbt step; the report shows the
harmonisation model's and the largest nodes of the corrected-member reload. The machine is shared: the load
average before each step is recorded next to it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks._common import machine_info, publish, results_parser, sinkload_binary, timed
from sinkload.db.connection import database_url
from sinkload.db.warehouse import Warehouse
from sinkload.dbt.runner import target_dir
from sinkload.settings import Settings
from tests.support import cli_env, fresh_database

ROOT = Path(__file__).resolve().parents[1]
HARMONISED = "model.sinkload.int_flux_cell_months_harmonised"
CORRECTED_MEMBER = "CAMS_gridded_fluxes_LNLGIS.nc4"
TOP_NODES = 15


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return results_parser(__doc__, "reload").parse_args(argv)


def make_inbox(settings: Settings, directory: Path) -> Path:
    """The sample as an inbox (files copied under INBOX/<product>/), regions and land cover loaded."""
    from sinkload.geography.landcover import ingest_landcover_file
    from sinkload.geography.regions import ingest_default_regions
    from sinkload.sample import write_sample

    manifest = write_sample(directory / "sample")
    inbox = directory / "inbox"
    for item in manifest.flux:
        for path in item.paths:
            target = inbox / item.product / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    ingest_default_regions(Warehouse.of(settings))
    ingest_landcover_file(Warehouse.of(settings), manifest.landcover, code_field=manifest.landcover_code_field)
    return inbox


def correct_member(inbox: Path) -> Path:
    """Every value of one MIP member's land flux × 1.01, replaced atomically (hidden name, rename)."""
    import netCDF4

    member = next(inbox.rglob(CORRECTED_MEMBER))
    hidden = member.with_name("." + member.name)
    shutil.copyfile(member, hidden)
    with netCDF4.Dataset(hidden, "a") as ds:
        ds["land"][:] = ds["land"][:] * 1.01
    hidden.rename(member)
    return member


# The incremental models: the tables of schema intermediate whose rows carry a version (macros/incremental.sql).
INCREMENTAL_TABLES = ("select table_name from information_schema.columns where table_schema = 'intermediate' "
                      "and column_name = 'source_version' order by table_name")


def current_xid(settings: Settings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute("select txid_current()").fetchone()[0]


def rows_rewritten(settings: Settings, since: int) -> dict[str, float]:
    """Per incremental model, the share of its rows written by transactions after `since` (a txid): what a step
    rewrote. The least a step can cost, if cost follows the rows written."""
    span = current_xid(settings) - since  # age(xmin) of a row written after `since` is below it
    with psycopg.connect(settings.database_url) as conn:
        shares = {}
        for (table,) in conn.execute(INCREMENTAL_TABLES).fetchall():
            written, total = conn.execute(sql.SQL(
                "select count(*) filter (where age(xmin) < %s), count(*) from intermediate.{}"
            ).format(sql.Identifier(table)), [span]).fetchone()
            shares[table] = round(written / total, 4) if total else 0.0
    return shares


def step(settings: Settings, label: str, *args: object) -> dict:
    """One timed CLI command; the harmonisation model's dbt time when dbt ran it, and the share of each
    incremental model's rows it rewrote."""
    load = [round(x, 2) for x in os.getloadavg()]
    since = current_xid(settings)
    print(f"{label}: sinkload {' '.join(map(str, args))} ...", flush=True)
    results = target_dir(settings.dbt_project_dir) / "run_results.json"
    before = results.stat().st_mtime if results.exists() else 0.0
    with timed() as timer:
        done = subprocess.run([sinkload_binary(), *map(str, args)], env=cli_env(settings), capture_output=True,
                              text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{label} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    nodes: dict[str, float] = {}
    if results.exists() and results.stat().st_mtime > before:
        nodes = {r["unique_id"]: round(r["execution_time"], 2) for r in json.loads(results.read_text())["results"]}
    return {"label": label, "command": "sinkload " + " ".join(map(str, args[:1])) + (
        " --full-refresh" if "--full-refresh" in args else ""), "seconds": round(timer.seconds, 2),
        "harmonisation_seconds": nodes.get(HARMONISED), "loadavg_before": load,
        "dbt_seconds": round(sum(nodes.values()), 2),
        "rows_rewritten": rows_rewritten(settings, since),
        "dbt_nodes": dict(sorted(nodes.items(), key=lambda item: -item[1]))}


def run(settings: Settings, directory: Path) -> list[dict]:
    inbox = make_inbox(settings, directory)
    steps = [step(settings, "full reload (empty warehouse)", "reload", inbox),
             step(settings, "reload, nothing changed", "reload", inbox)]
    correct_member(inbox)
    steps.append(step(settings, "reload, one corrected member file", "reload", inbox))
    steps.append(step(settings, "build, nothing changed", "build"))
    steps.append(step(settings, "build --full-refresh", "build", "--full-refresh"))
    return steps


def rewritten_table(steps: list[dict]) -> list[str]:
    """Markdown lines: per step that wrote rows, the share of each incremental model's rows it rewrote."""
    writing = [item for item in steps if any(item.get("rows_rewritten", {}).values())]
    if not writing:
        return []
    tables = sorted({table for item in writing for table in item["rows_rewritten"]})
    lines = ["", "Share of each incremental model's rows that the step wrote (rows whose xmin is a transaction of "
             "the step): if a step's cost followed the rows it writes, its share of the full reload's time could "
             "not be much below these.", "",
             "| step | " + " | ".join(f"`{table}`" for table in tables) + " |",
             "|---|" + "---:|" * len(tables)]
    for item in writing:
        lines.append(f"| {item['label']} | " + " | ".join(
            f"{100 * item['rows_rewritten'].get(table, 0):.1f} %" for table in tables) + " |")
    return lines


def report(steps: list[dict], machine: dict) -> str:
    full = steps[0]["seconds"]
    lines = ["# Reload benchmark (benchmarks/reload.py)", "",
             f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {machine['cpu']}, "
             f"{machine['cores']} cores, {machine['memory_gib']} GiB; load average at start {machine['loadavg']}.",
             "The machine was shared with other work (the load average before each step is in the table): "
             "the absolute seconds are noisy, the ratios less so.", "",
             "| step | seconds | % of full reload | harmonisation model (dbt s) | load avg before |",
             "|---|---:|---:|---:|---|"]
    for item in steps:
        share = 100 * item["seconds"] / full if full else 0
        lines.append(f"| {item['label']} | {item['seconds']:.1f} | {share:.0f} % | "
                     f"{'' if item['harmonisation_seconds'] is None else item['harmonisation_seconds']} | "
                     f"{item['loadavg_before']} |")
    full_harmonisation, corrected = steps[0]["harmonisation_seconds"], steps[2]
    if full_harmonisation and corrected["harmonisation_seconds"] is not None:
        lines += ["", f"The incremental harmonisation redid one member's months in {corrected['harmonisation_seconds']:.1f} s "
                  f"({100 * corrected['harmonisation_seconds'] / full_harmonisation:.0f} % of its full "
                  f"{full_harmonisation:.1f} s)."]
    lines += rewritten_table(steps)
    lines += ["", f"dbt's own time per node (models and tests, target/run_results.json; two threads, so the sum "
              f"exceeds the wall time) of the corrected-member reload, the {TOP_NODES} largest, against the "
              "same node in the full reload:", "",
              "| node | corrected reload (s) | full reload (s) |", "|---|---:|---:|"]
    full_nodes = steps[0].get("dbt_nodes", {})
    for node, seconds in list(corrected.get("dbt_nodes", {}).items())[:TOP_NODES]:
        full_seconds = f"{full_nodes[node]:.2f}" if node in full_nodes else ""
        lines.append(f"| {node.split('.', 2)[2]} | {seconds:.2f} | {full_seconds} |")
    lines.append(f"| all nodes ({len(corrected.get('dbt_nodes', {}))}) | {corrected.get('dbt_seconds', 0):.1f} | "
                 f"{steps[0].get('dbt_seconds', 0):.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    base = Settings.from_env()
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="sinkload-reload-bench-") as tmp, \
            fresh_database(database_url(base), base, "reloadbench") as settings:
        steps = run(settings, Path(tmp))
    publish(args, "reload", {"machine": machine, "steps": steps}, report(steps, machine))


if __name__ == "__main__":
    main()
