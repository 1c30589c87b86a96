"""Scale benchmark: full ingest + build time and database size at 1x, 2x and 4x the inversion ensemble's
member-months, the slopes, and where one 2-core machine stops being comfortable.

What is measured
  The study-scale sample (`sinkload sample`: 14 OCO-2 v10 MIP members + the shipped EnsMean at 1 deg, 72
  months; VEGAS at 0.5 deg; BEPS at 0.0727 deg over China; default regions; sample land cover), with the MIP
  product scaled:
    1x  the sample as it is (14 members x 72 months);
    2x  twice the members (each model again as `<Model>-r1`, a replica with its own bias), 72 months;
    4x  twice the members and twice the months (2015-2026), i.e. 4x the member-months.
  (Scaling members and months each by 4 would be 16x the data; the line is fitted on member-months.)
  The other products, regions and land cover stay as in the study. The analysis period (dbt var
  period_end_year, 2019 by default) is set to the last year of the MIP data (2020, or 2026 at 4x; a copy of
  the checkout as SINKLOAD_HOME), so that every month loaded goes through every model: otherwise months past
  the period are stored but not harmonised. Each scale runs in a throw-away database
  through the CLI as a user runs it (benchmarks/baseline.py's steps: `ingest flux` per product, `ingest
  regions --default`, `ingest landcover`, `build`); the scaled MIP product is declared in a copy of the
  catalog (its members and month count). Recorded: each step's seconds, pg_database_size and the size of
  each schema (tables with their indexes and TOAST).
  A least-squares line per quantity over member-months gives the slope (s and MB per member-month) and the
  intercept (what does not grow with the ensemble: the other products, geography, dbt's fixed cost); the
  projection at 10x and 100x the study's member-months follows the line. "Comfortable" on this machine: a
  full ingest + build within one hour (a nightly window) and a database that fits in the machine's memory.

Ratios are against the 1x run of the same invocation. The machine is shared: the load average before each
scale is recorded next to it.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import psycopg

from benchmarks._common import catalog_copy, machine_info, publish, results_parser, timed
from benchmarks.baseline import run_warehouse
from sinkload.db.connection import database_url
from sinkload.manifest import FluxInput
from sinkload.settings import Settings
from tests.support import fresh_database

ROOT = Path(__file__).resolve().parents[1]

MIP = "oco2_v10_mip_lnlgis"
BASE_YEARS = list(range(2015, 2021))
# scale -> (member multiplier, month multiplier)
SCALES = {1: (1, 1), 2: (2, 1), 4: (2, 2)}
COMFORT_SECONDS = 3600.0
NOISE_LIMIT = 0.10  # largest residual of a line (share of a run) that still reads as linear
MB = 1e6


# -- inputs (not timed) -------------------------------------------------------------------------------------

def scaled_mip(directory: Path, members_x: int, months_x: int) -> list[Path]:
    """The MIP member files with `members_x` replicas of each model over `months_x` times the sample's years."""
    from sinkload.sample import build_lattice, china_outline, mip_land, write_mip
    from sinkload.sample_fields import member_flavours, year_anomalies

    years = list(range(BASE_YEARS[0], BASE_YEARS[0] + len(BASE_YEARS) * months_x))
    lattice, anomalies = build_lattice(china_outline()), year_anomalies(years)
    paths = []
    for replica in range(members_x):
        for model, flavour in member_flavours().items():
            name = model if replica == 0 else f"{model}-r{replica}"
            land = mip_land(lattice, replace(flavour, bias_g_m2_yr=flavour.bias_g_m2_yr + replica), anomalies, years)
            paths.append(write_mip(directory / f"{name}_gridded_fluxes_LNLGIS.nc4", land, model, years))
    return paths


def scaled_catalog(path: Path, members_x: int, months_x: int) -> Path:
    """The shipped catalog with the MIP product's members and month count scaled."""
    def scale(catalog: dict) -> None:
        entry = catalog["products"][MIP]
        models = list(entry["members"])
        entry["members"] = models + [f"{m}-r{r}" for r in range(1, members_x) for m in models]
        entry["time"]["n_months"] = entry["time"]["n_months"] * months_x

    return catalog_copy(path, scale)


def scaled_manifest(base, directory: Path, scale: int):
    """(manifest, catalog path or None, MIP member-months) of one scale."""
    members_x, months_x = SCALES[scale]
    mip = next(item for item in base.flux if item.product == MIP)
    if scale == 1:
        return base, None, len(mip.paths) * 12 * len(BASE_YEARS)
    paths = scaled_mip(directory / "mip", members_x, months_x)
    flux = tuple(FluxInput(MIP, tuple(paths)) if item.product == MIP else item for item in base.flux)
    catalog = scaled_catalog(directory / "catalog.yaml", members_x, months_x)
    return replace(base, flux=flux), catalog, len(paths) * 12 * len(BASE_YEARS) * months_x


def project_copy(directory: Path, last_year: int) -> Path:
    """A checkout (migrations/, warehouse/, dbt_project/) for SINKLOAD_HOME whose analysis period (dbt var
    period_end_year) ends with the data's last year, so that every month loaded is harmonised and aggregated."""
    for folder in ("migrations", "warehouse", "dbt_project"):
        shutil.copytree(ROOT / folder, directory / folder, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
    config = directory / "dbt_project" / "dbt_project.yml"
    text, found = re.subn(r"(?m)^(\s*period_end_year:) \d+", rf"\g<1> {last_year}", config.read_text("utf-8"))
    if found != 1:
        sys.exit(f"{config}: period_end_year not found")
    config.write_text(text, encoding="utf-8")
    return directory


# -- measurements -------------------------------------------------------------------------------------------

def database_sizes(url: str) -> dict:
    """Bytes of the database and of each schema's tables (indexes and TOAST included)."""
    with psycopg.connect(url) as conn:
        total = conn.execute("select pg_database_size(current_database())").fetchone()[0]
        schemas = dict(conn.execute("""
            select n.nspname, sum(pg_total_relation_size(c.oid))::bigint
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where c.relkind in ('r', 'm', 'p') and n.nspname in ('raw', 'staging', 'intermediate', 'marts', 'public')
            group by 1 order by 1
        """).fetchall())
    return {"database_bytes": total, "schema_bytes": schemas}


def run_scale(base_settings: Settings, base_manifest, tmp: Path, scale: int) -> dict:
    print(f"scale {scale}x: writing inputs ...", flush=True)
    manifest, catalog, member_months = scaled_manifest(base_manifest, tmp / f"x{scale}", scale)
    last_year = BASE_YEARS[0] + len(BASE_YEARS) * SCALES[scale][1] - 1
    home = project_copy(tmp / f"x{scale}" / "checkout", last_year)
    load = [round(x, 2) for x in os.getloadavg()]
    # The CLI reads the catalog from SINKLOAD_CATALOG and the checkout from SINKLOAD_HOME (run_warehouse passes
    # this process's environment on).
    os.environ["SINKLOAD_HOME"] = str(home)
    if catalog:
        os.environ["SINKLOAD_CATALOG"] = str(catalog)
    try:
        with fresh_database(database_url(base_settings), base_settings, f"benchscale{scale}") as scratch:
            steps = run_warehouse(scratch, manifest)
            sizes = database_sizes(scratch.database_url)
    finally:
        os.environ.pop("SINKLOAD_CATALOG", None)
        os.environ.pop("SINKLOAD_HOME", None)
    seconds = sum(step["seconds"] for step in steps)
    print(f"scale {scale}x: {member_months} member-months, {seconds:.1f} s, "
          f"{sizes['database_bytes'] / MB:.0f} MB", flush=True)
    return {"scale": scale, "members_x": SCALES[scale][0], "months_x": SCALES[scale][1],
            "member_months": member_months, "period": [BASE_YEARS[0], last_year], "loadavg_before": load, "steps": steps,
            "seconds": round(seconds, 2), **sizes}


def fit(runs: list[dict]) -> dict:
    """Least-squares lines over member-months: seconds and MB (slope, intercept, largest relative residual),
    and their projections at 10x and 100x the study."""
    x = np.array([r["member_months"] for r in runs], dtype=float)
    study = x[0]
    out = {}
    series = {"seconds": [r["seconds"] for r in runs], "mb": [r["database_bytes"] / MB for r in runs],
              "raw_mb": [r["schema_bytes"].get("raw", 0) / MB for r in runs],
              "intermediate_mb": [r["schema_bytes"].get("intermediate", 0) / MB for r in runs]}
    for name, y in series.items():
        y = np.array(y, dtype=float)
        slope, intercept = np.polyfit(x, y, 1)
        residual = float(np.max(np.abs(y - (slope * x + intercept)) / y))
        out[name] = {"slope_per_member_month": float(slope), "intercept": float(intercept),
                     "max_relative_residual": round(residual, 4),
                     "projection": {f"{k}x": float(slope * study * k + intercept) for k in (10, 100)}}
    return out


def comfort(lines: dict, study_member_months: int, memory_gib: float) -> dict:
    """Member-months (and multiples of the study) at which a full ingest + build takes an hour and at which
    the database outgrows the machine's memory, from the fitted lines."""
    def reach(line: dict, limit: float) -> float:
        slope = line["slope_per_member_month"]
        return (limit - line["intercept"]) / slope if slope > 0 else float("inf")

    hour = reach(lines["seconds"], COMFORT_SECONDS)
    memory = reach(lines["mb"], memory_gib * (1 << 30) / MB)
    limit = min(hour, memory)
    return {"hour_member_months": round(hour), "memory_member_months": round(memory),
            "limit_member_months": round(limit), "limit_study_multiple": round(limit / study_member_months, 1),
            "limited_by": "time" if hour <= memory else "memory"}


# -- report -------------------------------------------------------------------------------------------------

def render_markdown(res: dict) -> str:
    runs, lines, ease = res["runs"], res["fit"], res["comfortable"]
    first = runs[0]
    t, m = lines["seconds"], lines["mb"]
    out = [
        "# Scale benchmark: full ingest + build and database size at 1x, 2x, 4x the MIP member-months",
        "",
        f"Run {res['started']} on {res['machine']['cores']} cores ({res['machine']['cpu']}), "
        f"{res['machine']['memory_gib']} GiB, total {res['elapsed_s']} s. Generated by `benchmarks/scale.py`; the "
        "numbers below are copied from `scale.json`. The machine is shared with other work: see the load average "
        "per run.",
        "",
        "## Runs",
        "",
        "| scale | members x | months x | MIP member-months | period | ingest + build s | vs 1x | database MB | vs 1x "
        "| raw MB | intermediate MB | marts MB | load avg before |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        schema = r["schema_bytes"]
        out.append(f"| {r['scale']}x | {r['members_x']} | {r['months_x']} | {r['member_months']:,} "
                   f"| {r['period'][0]}-{r['period'][1]} | {r['seconds']:.1f} "
                   f"| {r['seconds'] / first['seconds']:.2f} | {r['database_bytes'] / MB:,.0f} "
                   f"| {r['database_bytes'] / first['database_bytes']:.2f} | {schema.get('raw', 0) / MB:,.0f} "
                   f"| {schema.get('intermediate', 0) / MB:,.0f} | {schema.get('marts', 0) / MB:,.1f} "
                   f"| {r['loadavg_before']} |")
    out += [
        "",
        "## Slopes and projection",
        "",
        f"- Time: **{t['slope_per_member_month'] * 1000:.1f} ms per member-month** + {t['intercept']:.0f} s "
        f"(largest residual {t['max_relative_residual'] * 100:.1f} % of a run).",
        f"- Size: **{m['slope_per_member_month']:.3f} MB per member-month** + {m['intercept']:.0f} MB "
        f"(largest residual {m['max_relative_residual'] * 100:.1f} %): raw "
        f"{lines['raw_mb']['slope_per_member_month']:.3f} MB and intermediate "
        f"{lines['intermediate_mb']['slope_per_member_month']:.3f} MB per member-month.",
        *([f"- **The time line does not fit within {NOISE_LIMIT:.0%}**: the runs' load averages differ (the machine "
            "is shared), so the time slope and what follows from it are rough; the size line does not depend on "
            "the load."] if t["max_relative_residual"] > NOISE_LIMIT else []),
        f"- The study (1x, {first['member_months']:,} member-months) x10: about "
        f"**{t['projection']['10x'] / 60:.0f} min** and **{m['projection']['10x'] / 1000:.1f} GB**; x100: about "
        f"**{t['projection']['100x'] / 3600:.1f} h** and **{m['projection']['100x'] / 1000:.0f} GB** (the fitted "
        "line; a full ingest + build, the incremental paths cost less).",
        f"- One {res['machine']['cores']}-core machine with {res['machine']['memory_gib']} GiB stays comfortable "
        f"(full ingest + build within {COMFORT_SECONDS / 3600:.0f} h, database within memory) up to about "
        f"**{ease['limit_member_months']:,} member-months = {ease['limit_study_multiple']}x the study**, limited "
        f"by {ease['limited_by']} (one hour at {ease['hour_member_months']:,} member-months; memory at "
        f"{ease['memory_member_months']:,}).",
        "",
        "## Steps per run (seconds)",
        "",
        "| step | " + " | ".join(f"{r['scale']}x" for r in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for k, step in enumerate(first["steps"]):
        out.append(f"| {step['step']} | " + " | ".join(f"{r['steps'][k]['seconds']:.1f}" for r in runs) + " |")
    out += ["", "## Machine", "", f"- {res['machine']['os']}, Python {res['machine']['python']}; load average at "
            f"start {res['machine']['loadavg']}.", ""]
    return "\n".join(out)


def run(scales: list[int]) -> dict:
    from sinkload.sample import write_sample

    started = datetime.datetime.now().astimezone()
    machine = machine_info()
    base = Settings.from_env()
    with timed() as total, tempfile.TemporaryDirectory(prefix="sinkload-benchscale-") as tmp:
        print(f"writing the sample data set to {tmp} ...", flush=True)
        manifest = write_sample(Path(tmp) / "sample")
        runs = [run_scale(base, manifest, Path(tmp), scale) for scale in scales]
    lines = fit(runs)
    return {"benchmark": "scale", "started": started.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]), "elapsed_s": round(total.seconds, 1),
            "machine": machine, "runs": runs, "fit": lines,
            "comfortable": comfort(lines, runs[0]["member_months"], machine["memory_gib"])}


def main(argv: list[str] | None = None) -> None:
    parser = results_parser(__doc__, "scale")
    parser.add_argument("--scales", type=int, nargs="+", default=list(SCALES), choices=list(SCALES),
                        help="which scales to run, smallest first (default 1 2 4)")
    args = parser.parse_args(argv)
    res = run(sorted(args.scales))
    publish(args, "scale", res, render_markdown(res))


if __name__ == "__main__":
    main()
