"""Reload benchmark, appended month: what `sinkload reload` costs when every member's file comes back with one
new month at its end, against the full reload of the same inbox measured in the same run.

What is measured (benchmarks/reload.py's inbox: the sample data set laid out as INBOX/<product>/<files>, default
regions and the sample land cover loaded first, not timed; a copy of the catalog without the MIP's fixed month
count, passed with --catalog):
  1. every OCO-2 MIP member file rewritten with its first 59 months (2015-01 .. 2019-11), then
     `sinkload reload INBOX` on the empty warehouse (the reference: a full reload);
  2. every member file rewritten with 60 months (2019-12 appended, inside the default period 2015-2019), under a
     hidden name renamed over the old one, then `sinkload reload INBOX`: each file is ingested again as a new
     batch; its 59 unchanged months keep their tiles (same month digest: re-pointed to the new batch,
     docs/ingest.md) and their version, so the incremental models compute the new month only (harmonised,
     ensemble means, aggregates; 2019 becomes a complete year, so the yearly summaries change too);
  3. the same with 2020-01 appended (outside the period: stored, not harmonised);
  4. `sinkload reload INBOX` again with nothing changed;
  5. `sinkload build` twice: each finds nothing changed since the last complete build (the reload's rebuild
     covered every change and recorded it) and skips dbt (issue 13's target: <= 5 s).
Issue 13's target for step 2: <= 10 % of the full reload. The machine is shared: the load average before each
step is recorded next to it.
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from benchmarks._common import catalog_copy, machine_info, publish, results_parser
from benchmarks.reload import make_inbox, rewritten_table, step
from sinkload.db.connection import database_url
from sinkload.settings import Settings
from tests.support import fresh_database

ROOT = Path(__file__).resolve().parents[1]

MIP = "oco2_v10_mip_lnlgis"
TARGET_SHARE = 0.10
BUILD_TARGET_S = 5.0


def open_catalog(path: Path) -> Path:
    """The shipped catalog without the MIP's fixed month count (a file may grow by a month)."""
    return catalog_copy(path, lambda catalog: catalog["products"][MIP]["time"].pop("n_months", None))


FIRST_MONTHS = 59  # 2015-01 .. 2019-11: the reference holds all of the period but its last month


def write_members(inbox: Path, n_months: int) -> int:
    """Rewrite every MIP member file of the inbox with its first `n_months` months from 2015-01 (atomically:
    hidden name, rename). Returns the number of files rewritten."""
    from sinkload.sample import MIP_YEARS, build_lattice, china_outline, mip_land, write_mip
    from sinkload.sample_fields import member_flavours, year_anomalies

    years = [*MIP_YEARS, MIP_YEARS[-1] + 1]
    lattice, anomalies = build_lattice(china_outline()), year_anomalies(years)
    files = 0
    for model, flavour in member_flavours().items():
        target = next(inbox.rglob(f"{model}_gridded_fluxes_LNLGIS.nc4"))
        hidden = target.with_name("." + target.name)
        write_mip(hidden, mip_land(lattice, flavour, anomalies, years)[:n_months], model, years)
        hidden.rename(target)
        files += 1
    return files


def run(settings: Settings, directory: Path) -> dict:
    inbox = make_inbox(settings, directory)
    catalog = open_catalog(directory / "catalog.yaml")
    write_members(inbox, FIRST_MONTHS)
    steps = [step(settings, "full reload (empty warehouse; member files to 2019-11)", "reload", inbox,
                  "--catalog", catalog)]
    files = write_members(inbox, FIRST_MONTHS + 1)
    steps.append(step(settings, f"reload, 2019-12 (in the period) appended to each of {files} member files", "reload",
                      inbox, "--catalog", catalog))
    write_members(inbox, FIRST_MONTHS + 2)
    steps.append(step(settings, f"reload, 2020-01 (outside the period) appended to each of {files} member files",
                      "reload", inbox, "--catalog", catalog))
    steps.append(step(settings, "reload, nothing changed", "reload", inbox, "--catalog", catalog))
    # `sinkload build` skips dbt when nothing changed since the last complete build recorded (a reload records
    # its rebuild when it covered every change).
    steps.append(step(settings, "build after the reloads", "build"))
    steps.append(step(settings, "build, nothing changed", "build"))
    return {"steps": steps, "appended_files": files,
            "appended_share": round(steps[1]["seconds"] / steps[0]["seconds"], 4),
            "appended_outside_share": round(steps[2]["seconds"] / steps[0]["seconds"], 4)}


def report(res: dict) -> str:
    machine, steps, share = res["machine"], res["steps"], res["appended_share"]
    lines = ["# Reload benchmark: one month appended for every member (benchmarks/reload_append.py)", "",
             f"Run {res['started']} on {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; load "
             f"average at start {machine['loadavg']}. The machine was shared with other work (the load average "
             "before each step is in the table): the absolute seconds are noisy, the ratios less so.", "",
             f"Appended month inside the period: **{share * 100:.0f} %** of the full reload (issue 13's target: <= "
             f"{TARGET_SHARE * 100:.0f} %: **{'met' if share <= TARGET_SHARE else 'NOT met'}**); outside the period "
             f"(stored, not harmonised): {res['appended_outside_share'] * 100:.0f} %.",
             f"`sinkload build` with nothing changed: **{steps[-1]['seconds']:.1f} s** (target: <= {BUILD_TARGET_S:g} s: "
             f"**{'met' if steps[-1]['seconds'] <= BUILD_TARGET_S else 'NOT met'}**).", "",
             "| step | seconds | % of full reload | harmonisation model (dbt s) | dbt nodes (sum of s, 2 threads) "
             "| load avg before |",
             "|---|---:|---:|---:|---:|---|"]
    for item in steps:
        lines.append(f"| {item['label']} | {item['seconds']:.1f} | {100 * item['seconds'] / steps[0]['seconds']:.0f} % "
                     f"| {'' if item['harmonisation_seconds'] is None else item['harmonisation_seconds']} "
                     f"| {item['dbt_seconds'] or ''} | {item['loadavg_before']} |")
    slowest = ", ".join(f"{node.split('.')[-1]} {seconds:.1f} s" for node, seconds in list(steps[1]["dbt_nodes"].items())[:5])
    lines += rewritten_table(steps)
    lines += ["", f"Slowest dbt nodes of the reload with a month appended inside the period: {slowest}.", "",
              "The run before month digests (every appended file's months recomputed) is kept in "
              "reload_append.before-digests.md; runs before 2026-11-27 10:00 UTC appended 2021-01 to files of 72 "
              "months, outside the period (never harmonised)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = results_parser(__doc__, "reload_append").parse_args(argv)
    base = Settings.from_env()
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="sinkload-reload-append-") as tmp, \
            fresh_database(database_url(base), base, "appendbench") as settings:
        res = {"benchmark": "reload_append", "started": started, "machine": machine,
               **run(settings, Path(tmp))}
    publish(args, "reload_append", res, report(res))


if __name__ == "__main__":
    main()
