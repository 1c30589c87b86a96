"""Strong baseline: the warehouse's full ingest + build against an in-memory pipeline a skilled analyst would
script, computing the same unit-month totals (marts.sink_monthly) from the same files, in the same run.

What is measured
  1. The sample data set (`sinkload sample`: 14 OCO-2 v10 MIP members + the shipped EnsMean at 1 deg, VEGAS at
     0.5 deg, BEPS at 0.0727 deg over China, 72 months each) is written to a temporary folder (not timed).
  2. Warehouse, through the CLI as a user runs it, in a throw-away database: `sinkload ingest flux` per product,
     `sinkload ingest regions --default`, `sinkload ingest landcover`, `sinkload build`. Each step is timed;
     their sum is "full ingest + build".
  3. Baseline, in this process, three times (the median run is the reference): the unit weights computed once
     (exact overlap of every 1 deg cell with the stored region polygons and the land-cover file's classes on the
     sphere's equal-area projection, where a cell is a rectangle, so polygons are clipped by rectangles; the rule
     is tests/independent_marts.geography), then per product the files read whole with netCDF4/rasterio,
     converted with vectorised factors, harmonised to 1 deg by separable overlap matrices (one einsum) and
     reduced to unit-month totals with ONE matrix product [member x month, cell] @ [cell, unit].
  4. The baseline's totals are checked equal to marts.sink_monthly (largest difference relative to the
     largest |value| of the unit's series) before any ratio is reported.

  ratio = (warehouse ingest + build seconds) / (baseline seconds)    (issue 13 target: <= 3x; aim 2x)

Everything runs in a throw-away database (tests/support.py: fresh_database) on the server
`sinkload db url` points at, dropped at the end.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import psycopg
import shapely

from benchmarks._common import machine_info, publish, results_parser, sinkload_binary, timed
from sinkload.db.connection import database_url
from sinkload.sample import write_sample
from sinkload.settings import Settings
from tests.independent import R, to_cea, to_one_degree
from tests.independent_marts import PERIOD, geography, read_fields
from tests.support import cli_env, fresh_database

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 3.0
AIM_RATIO = 2.0
EQUALITY_TOLERANCE = 1e-4  # of the largest |value| of a unit's monthly series (float32 storage, summation order)
ENSEMBLE_PRODUCTS = ("oco2_v10_mip_lnlgis",)
BASELINE_RUNS = 3  # the reference is the median run: a single one can meet autovacuum analysing the new build


# -- the warehouse, through the CLI --------------------------------------------------------------------------

def warehouse_steps(manifest) -> list[tuple[str, list[str]]]:
    steps = [(f"ingest flux {item.product}", ["ingest", "flux", *map(str, item.paths), "--product", item.product,
                                                *(["--member", item.member] if item.member else [])])
             for item in manifest.flux]
    steps.append(("ingest regions --default", ["ingest", "regions", "--default"]))
    steps.append(("ingest landcover", ["ingest", "landcover", str(manifest.landcover),
                                       "--code-field", manifest.landcover_code_field]))
    steps.append(("build", ["build"]))
    return steps


def run_warehouse(settings: Settings, manifest) -> list[dict]:
    env, timings = cli_env(settings), []
    for label, args in warehouse_steps(manifest):
        print(f"sinkload {label} ...", flush=True)
        with timed() as timer:
            done = subprocess.run([sinkload_binary(), *args], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"sinkload {label} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        timings.append({"step": label, "seconds": round(timer.seconds, 2)})
    return timings


# -- the analyst's in-memory pipeline -----------------------------------------------------------------------

def clipped_cell_overlaps(polygons: dict[str, object], lon0: int, lon1: int, lat0: int, lat1: int) -> dict:
    """Area (m²) of each 1° cell [lat, lon] inside each polygon, as independent.cell_overlaps but fast: a lon/lat
    cell is a rectangle on the sphere's equal-area projection, so the projected polygon is clipped by rectangles,
    a row strip first and then the cells of that strip."""
    xs = R * np.radians(np.arange(lon0, lon1 + 1, dtype=float))
    ys = R * np.sin(np.radians(np.arange(lat0, lat1 + 1, dtype=float)))
    result = {}
    for name, geom in polygons.items():
        projected = to_cea(geom)
        areas = np.zeros((len(ys) - 1, len(xs) - 1))
        for j in range(len(ys) - 1):
            strip = shapely.clip_by_rect(projected, xs[0], ys[j], xs[-1], ys[j + 1])
            if strip.is_empty:
                continue
            west, _south, east, _north = strip.bounds
            for i in np.nonzero((xs[1:] > west) & (xs[:-1] < east))[0]:
                areas[j, i] = shapely.clip_by_rect(strip, xs[i], ys[j], xs[i + 1], ys[j + 1]).area
        result[name] = areas
    return result


def unit_matrix(weights: dict) -> tuple[list[tuple[str, str]], np.ndarray]:
    """[cell, unit] weights in m² (cells flattened [lat, lon]) and the unit keys in column order."""
    keys = sorted(key for key, w in weights.items() if (w > 0).any())
    return keys, np.stack([weights[key].ravel() for key in keys], axis=1)


def product_totals(members: dict[str, object], box_, units: np.ndarray) -> dict[str, tuple[list, np.ndarray]]:
    """Per member (and the ensemble mean when there are several): months of the period and [month, unit] Tg C."""
    period = [(y, m) for y in range(PERIOD[0], PERIOD[1] + 1) for m in range(1, 13)]
    one_degree = {}
    for member, field in members.items():
        index = {ym: k for k, ym in enumerate(field.months)}
        present = [ym for ym in period if ym in index]
        one_degree[member] = (present, to_one_degree(field, *box_)[[index[ym] for ym in present]])
    if len(one_degree) > 1:
        present = next(iter(one_degree.values()))[0]
        one_degree["ensemble_mean"] = (present, np.nanmean(np.stack([v for _p, v in one_degree.values()]), axis=0))
    names = list(one_degree)
    stacked = np.concatenate([one_degree[name][1].reshape(len(one_degree[name][0]), -1) for name in names])
    valid = np.isfinite(stacked)
    totals = np.where(valid, stacked, 0.0) @ units / 1e12  # the one matrix product: g -> Tg
    covered = valid.astype(float) @ (units > 0).astype(float) > 0
    totals = np.where(covered, totals, np.nan)
    result, row = {}, 0
    for name in names:
        n = len(one_degree[name][0])
        result[name] = (one_degree[name][0], totals[row:row + n])
        row += n
    return result


def run_baseline(url: str, manifest) -> tuple[dict, dict]:
    """Unit-month totals {(product, member, scope, unit, (y, m)): Tg C} and the phase timings."""
    with timed() as weights_timer:
        geo = geography(url, manifest, overlaps=clipped_cell_overlaps)
        keys, units = unit_matrix(geo.weights)
    with timed() as read_timer:
        fields = read_fields(manifest)
    by_product = defaultdict(dict)
    for (product, member), field in fields.items():
        by_product[product][member] = field
    totals = {}
    with timed() as compute_timer:
        for product, members in by_product.items():
            for member, (months, values) in product_totals(members, geo.box, units).items():
                for j, (scope, unit) in enumerate(keys):
                    for k, ym in enumerate(months):
                        if np.isfinite(values[k, j]):
                            totals[(product, member, scope, unit, ym)] = float(values[k, j])
    phases = {"weights_s": round(weights_timer.seconds, 2), "read_s": round(read_timer.seconds, 2),
              "compute_s": round(compute_timer.seconds, 2)}
    phases["seconds"] = round(sum(phases.values()), 2)
    return totals, phases


def median_run(runs: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    """The run whose total time is the median (the middle one of an odd number of runs)."""
    return sorted(runs, key=lambda run: run[1]["seconds"])[len(runs) // 2]


# -- equality ---------------------------------------------------------------------------------------------

def database_size(url: str) -> dict:
    """Bytes of the database and of the raw tiles, and the stored values (for the scale projection)."""
    with psycopg.connect(url) as conn:
        db_bytes, tile_bytes = conn.execute(
            "select pg_database_size(current_database()), pg_total_relation_size('raw.flux_tile')").fetchone()
        values = conn.execute("select coalesce(sum(n_values), 0) from raw.load_batch").fetchone()[0]
    return {"database_bytes": db_bytes, "flux_tile_bytes": tile_bytes, "stored_values": int(values)}


def compare(url: str, expected: dict) -> dict:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select product, member, scope, unit, month, sink_tgc from marts.sink_monthly "
                            "where sink_tgc is not null").fetchall()
    got = {(p, m, s, u, (d.year, d.month)): float(v) for p, m, s, u, d, v in rows}
    scale = defaultdict(float)
    for key, value in expected.items():
        scale[key[:4]] = max(scale[key[:4]], abs(value))
    missing = sorted(set(expected) ^ set(got))
    worst = max((abs(got[k] - expected[k]) / max(scale[k[:4]], 1e-12) for k in expected if k in got), default=0.0)
    return {"values": len(expected), "keys_differing": len(missing), "max_rel_diff": worst,
            "equal": not missing and worst <= EQUALITY_TOLERANCE}


# -- report -----------------------------------------------------------------------------------------------

def render_markdown(res: dict) -> str:
    ware, base, check = res["warehouse"], res["baseline"], res["equality"]
    runs = base.get("all_runs_s", [base["seconds"]])  # results before the median of several runs hold one
    total = sum(step["seconds"] for step in ware)
    ratio = res["ratio"]
    lines = [
        "# Baseline benchmark: warehouse ingest + build vs an analyst's in-memory pipeline",
        "",
        f"Run {res['started']} on {res['machine']['cores']} cores ({res['machine']['cpu']}). Generated by "
        "`benchmarks/baseline.py`; the numbers are copied from `baseline.json`.",
        "",
        "## Headline",
        "",
        f"- Warehouse, full ingest + build through the CLI: **{total:.1f} s**.",
        f"- Baseline (weights precomputed, vectorised reads, one matrix product per product): **{base['seconds']:.1f} s** "
        f"(weights {base['weights_s']} s, reads {base['read_s']} s, compute {base['compute_s']} s; the median of "
        f"{len(runs)} runs in the same process: {', '.join(f'{x:.1f}' for x in runs)} s).",
        f"- Ratio **{ratio:.2f}x** (target {TARGET_RATIO:g}x: **{'met' if ratio <= TARGET_RATIO else 'NOT met'}**; "
        f"aim {AIM_RATIO:g}x).",
        f"- Equal to `marts.sink_monthly`: **{check['equal']}** over {check['values']:,} unit-month totals "
        f"(largest difference {check['max_rel_diff']:.2e} of the unit's largest |value|; "
        f"{check['keys_differing']} keys present on one side only).",
        "",
        "## Warehouse steps",
        "",
        "| step | seconds |",
        "|---|---:|",
    ]
    lines += [f"| `sinkload {step['step']}` | {step['seconds']:.2f} |" for step in ware]
    size = res["size"]
    lines += ["", f"Database after the build: {size['database_bytes'] / 2**20:,.0f} MiB, of which raw.flux_tile "
              f"{size['flux_tile_bytes'] / 2**20:,.0f} MiB, for {size['stored_values']:,} stored values.",
              "", "## Machine", "", f"- {res['machine']['os']}, Python {res['machine']['python']}, "
              f"{res['machine']['memory_gib']} GiB; load average at start {res['machine']['loadavg']}.", ""]
    return "\n".join(lines)


def run() -> dict:
    started = datetime.datetime.now().astimezone()
    machine = machine_info()
    base = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="sinkload-benchbaseline-") as tmp, \
            fresh_database(database_url(base), base, "benchbaseline") as scratch:
        print(f"writing the sample data set to {tmp} ...", flush=True)
        manifest = write_sample(Path(tmp) / "sample")
        warehouse = run_warehouse(scratch, manifest)
        print("the analyst's in-memory pipeline ...", flush=True)
        runs = [run_baseline(scratch.database_url, manifest) for _ in range(BASELINE_RUNS)]
        totals, baseline = median_run(runs)
        baseline["all_runs_s"] = [phases["seconds"] for _, phases in runs]
        equality = compare(scratch.database_url, totals)
        size = database_size(scratch.database_url)
    total = sum(step["seconds"] for step in warehouse)
    return {"benchmark": "baseline", "started": started.isoformat(timespec="seconds"), "machine": machine,
            "warehouse": warehouse, "baseline": baseline, "equality": equality, "size": size,
            "ratio": round(total / baseline["seconds"], 3)}


def main(argv: list[str] | None = None) -> None:
    args = results_parser(__doc__, "baseline").parse_args(argv)
    res = run()
    publish(args, "baseline", res, render_markdown(res))
    if not res["equality"]["equal"]:
        sys.exit("the baseline's totals differ from marts.sink_monthly: the ratio is not meaningful")


if __name__ == "__main__":
    main()
