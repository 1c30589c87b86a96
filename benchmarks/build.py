"""Build benchmark: `sinkload build` and queries on the six views against the same marts computed in memory.

What is measured
  1. The sample data set (`sinkload sample`: 14 OCO-2 v10 MIP members + the shipped EnsMean at 1 deg, VEGAS at
     0.5 deg, BEPS at 0.0727 deg over China, 72 months each) is ingested with the default regions and the
     sample land cover into a throw-away database (not timed).
  2. `sinkload build` (the CLI, as a user runs it: dbt build of every model and its tests) on that database,
     then the same command again with nothing changed. dbt's own per-model times (target/run_results.json)
     name the slowest models.
  3. Reference: the same six marts computed in memory with numpy and shapely/pyproj from the same files by
     tests/independent_marts.py (the end-to-end test's independent computation: read the files, overlap
     every 1 deg cell with the region and land-cover polygons, harmonise, aggregate). Ratio = build seconds /
     in-memory seconds (aim: within 10x).
  4. Latency of a typical query on each view, as the analyst role would send it from a BI tool (a filtered
     query, and the whole view): one warm-up, then --repeats runs; median and 95th percentile (aim: each
     view under 100 ms). The plan of each typical query (EXPLAIN ANALYZE, BUFFERS) goes to
     results/build_plans.txt.

Everything runs in a throw-away database (tests/support.py: fresh_database) on the server
`sinkload db url` points at, dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from psycopg import sql

from benchmarks._common import machine_info, publish, results_parser, sinkload_binary, timed
from sinkload.db.connection import connect, database_url
from sinkload.db.warehouse import Warehouse
from sinkload.dbt.runner import target_dir
from sinkload.roles import Roles
from sinkload.settings import Settings
from tests.independent_marts import expected_marts
from tests.support import cli_env, fresh_database

ROOT = Path(__file__).resolve().parents[1]
LATENCY_AIM_MS = 100.0
BUILD_AIM_RATIO = 10.0
MIP = "oco2_v10_mip_lnlgis"
ENSEMBLE = "ensemble_mean"

# A BI tool's typical question to each view (parameters: the MIP product, its ensemble mean), then the view whole.
TYPICAL_QUERIES = {
    "sink_cell_mean": ("map of the ensemble mean",
                       "select lon, lat, sink_gc_m2_yr, geom from marts.sink_cell_mean "
                       "where product = %(product)s and member = %(member)s"),
    "sink_monthly": ("national monthly series of every member",
                     "select member, month, sink_tgc from marts.sink_monthly "
                     "where product = %(product)s and scope = 'national' order by member, month"),
    "sink_annual": ("annual division sinks of the ensemble mean",
                    "select unit, year, sink_pgc from marts.sink_annual where product = %(product)s "
                    "and member = %(member)s and scope = 'division' order by unit, year"),
    "sink_summary": ("ecosystem table of every product and member",
                     "select product, member, unit, mean_pgc_yr, interannual_sd_pgc_yr, share_pct "
                     "from marts.sink_summary where scope = 'ecosystem' order by product, member, unit"),
    "sink_zonal_monthly": ("latitude x month section of the ensemble mean",
                           "select lat, month, sink_gc_m2_day from marts.sink_zonal_monthly "
                           "where product = %(product)s and member = %(member)s order by lat, month"),
    "ensemble_spread": ("spread of the inversions per unit",
                        "select scope, unit, n_members, member_mean_pgc_yr, member_sd_pgc_yr, member_min_pgc_yr, "
                        "member_max_pgc_yr from marts.ensemble_spread where product = %(product)s"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = results_parser(__doc__, "build")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per query (default 20)")
    return parser.parse_args(argv)


# -- setup (not timed) ------------------------------------------------------------------------------------

def load_inputs(settings: Settings, sample_dir: Path):
    from sinkload.geography.landcover import ingest_landcover_file
    from sinkload.geography.regions import ingest_default_regions
    from sinkload.ingest.flux import ingest_manifest
    from sinkload.sample import write_sample

    print(f"writing the sample data set to {sample_dir} and loading it ...", flush=True)
    manifest = write_sample(sample_dir)
    warehouse = Warehouse.of(settings)
    ingest_manifest(warehouse, manifest)
    ingest_default_regions(warehouse)
    ingest_landcover_file(warehouse, manifest.landcover, code_field=manifest.landcover_code_field)
    return manifest


# -- measurements -----------------------------------------------------------------------------------------

def run_build(settings: Settings, label: str) -> dict:
    env = cli_env(settings)
    print(f"sinkload build ({label}) ...", flush=True)
    with timed() as timer:
        done = subprocess.run([sinkload_binary(), "build"], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"sinkload build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return {"label": label, "seconds": round(timer.seconds, 2), "slowest_models": slowest_models(settings)}


def slowest_models(settings: Settings, top: int = 8) -> list[dict]:
    """dbt's own timing of each node of the last invocation, slowest first."""
    results = json.loads((target_dir(settings.dbt_project_dir) / "run_results.json").read_text())["results"]
    ranked = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:top]
    return [{"node": r["unique_id"].split(".", 2)[-1], "seconds": round(r["execution_time"], 2)} for r in ranked]


def run_in_memory(url: str, manifest) -> dict:
    print("the same marts in memory (tests/independent_marts.py) ...", flush=True)
    with timed() as timer:
        marts = expected_marts(url, manifest)
    return {"seconds": round(timer.seconds, 2), "rows": {name: len(rows) for name, rows in marts.items()}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_query(conn, query: str, params: dict, repeats: int) -> dict:
    conn.execute(query, params).fetchall()  # warm-up
    times, rows = [], 0
    for _ in range(repeats):
        with timed() as timer:
            rows = len(conn.execute(query, params).fetchall())
        times.append(timer.seconds * 1000)
    return {"rows": rows, "median_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 0.95), 2),
            "max_ms": round(max(times), 2)}


def measure_views(settings: Settings, repeats: int) -> tuple[list[dict], str]:
    """Per view: the typical query and the whole view, as the analyst role; and their plans."""
    params = {"product": MIP, "member": ENSEMBLE}
    results, plans = [], []
    with connect(settings.database_url, role=Roles(settings.role_prefix).analyst, autocommit=True) as conn:
        for view, (question, query) in TYPICAL_QUERIES.items():
            typical = time_query(conn, query, params, repeats)
            whole = time_query(conn, sql.SQL("select * from marts.{}").format(sql.Identifier(view)), {}, repeats)
            results.append({"view": view, "question": question, "query": query, "typical": typical, "whole": whole})
            plan = conn.execute("explain (analyze, buffers, costs off) " + query, params).fetchall()
            plans.append(f"-- marts.{view}: {question}\n{query}\n" + "\n".join(line for (line,) in plan) + "\n")
            print(f"  {view}: {typical['median_ms']} ms ({typical['rows']} rows), whole view "
                  f"{whole['median_ms']} ms ({whole['rows']} rows)", flush=True)
    return results, "\n".join(plans)


# -- report -----------------------------------------------------------------------------------------------

def render_markdown(res: dict) -> str:
    first, again = res["builds"]
    memory = res["in_memory"]
    ratio = first["seconds"] / memory["seconds"]
    worst = max(res["views"], key=lambda v: v["typical"]["median_ms"])
    worst_whole = max(res["views"], key=lambda v: v["whole"]["median_ms"])
    lines = [
        "# Build benchmark: `sinkload build` and the six views vs the same marts in memory",
        "",
        f"Run {res['started']} on {res['machine']['cores']} cores ({res['machine']['cpu']}), total "
        f"{res['elapsed_s']} s. Generated by `benchmarks/build.py`; the numbers below are copied from `build.json`.",
        "",
        "## Headline",
        "",
        f"- `sinkload build` on the sample data set (14 MIP members + EnsMean at 1°, VEGAS at 0.5°, BEPS at 0.0727°, "
        f"72 months; every model and its tests): **{first['seconds']:.1f} s**; again with nothing changed: "
        f"**{again['seconds']:.1f} s**.",
        f"- The same six marts computed in memory with numpy and shapely/pyproj from the same files "
        f"(tests/independent_marts.py): **{memory['seconds']:.1f} s** -> build / in-memory = **{ratio:.2f}x** "
        f"(aim: within {BUILD_AIM_RATIO:g}x: **{'met' if ratio <= BUILD_AIM_RATIO else 'NOT met'}**).",
        f"- Typical query per view, as the analyst role, median of {res['settings']['repeats']}: slowest "
        f"`{worst['view']}` at **{worst['typical']['median_ms']:.1f} ms** (aim: under {LATENCY_AIM_MS:g} ms: "
        f"**{'met' if worst['typical']['median_ms'] < LATENCY_AIM_MS else 'NOT met'}**); the slowest whole view "
        f"(`select *`) is `{worst_whole['view']}` at {worst_whole['whole']['median_ms']:.1f} ms.",
        "",
        "## Views",
        "",
        "| view | typical query | rows | median ms | p95 ms | whole view rows | median ms | p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for v in res["views"]:
        t, w = v["typical"], v["whole"]
        lines.append(f"| `{v['view']}` | {v['question']} | {t['rows']:,} | {t['median_ms']:.2f} | {t['p95_ms']:.2f} "
                     f"| {w['rows']:,} | {w['median_ms']:.2f} | {w['p95_ms']:.2f} |")
    lines += ["", "The queries (parameters: product `oco2_v10_mip_lnlgis`, member `ensemble_mean`); their plans "
              "are in `build_plans.txt`:", ""]
    lines += [f"- `{v['view']}`: `{v['query']}`" for v in res["views"]]
    lines += ["", "## Where the build's time goes", "", "dbt's own time per node (first build, slowest first):", "",
              "| node | seconds |", "|---|---:|"]
    lines += [f"| `{m['node']}` | {m['seconds']:.2f} |" for m in first["slowest_models"]]
    lines += ["", "The in-memory reference produced "
              + ", ".join(f"{n:,} {name}" for name, n in memory["rows"].items()) + " values.", "",
              "## Machine", "", f"- {res['machine']['os']}, Python {res['machine']['python']}, "
              f"{res['machine']['memory_gib']} GiB; load average at start {res['machine']['loadavg']}.", ""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[dict, str]:
    started = datetime.datetime.now().astimezone()
    machine = machine_info()
    base = Settings.from_env()
    with timed() as total, tempfile.TemporaryDirectory(prefix="sinkload-benchbuild-") as tmp, \
            fresh_database(database_url(base), base, "benchbuild") as scratch:
        manifest = load_inputs(scratch, Path(tmp) / "sample")
        builds = [run_build(scratch, "first"), run_build(scratch, "nothing changed")]
        memory = run_in_memory(scratch.database_url, manifest)
        views, plans = measure_views(scratch, args.repeats)
    res = {"benchmark": "build", "started": started.isoformat(timespec="seconds"),
           "command": " ".join([Path(sys.executable).name, *sys.argv]), "elapsed_s": round(total.seconds, 1),
           "settings": {"repeats": args.repeats}, "machine": machine, "builds": builds, "in_memory": memory,
           "build_to_memory_ratio": round(builds[0]["seconds"] / memory["seconds"], 3), "views": views}
    return res, plans


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    res, plans = run(args)
    publish(args, "build", res, render_markdown(res), extra={"build_plans.txt": plans})


if __name__ == "__main__":
    main()
