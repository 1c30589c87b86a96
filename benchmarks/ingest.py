"""Ingest benchmark: `sinkload ingest flux` against `raster2pgsql ... | psql` on the same files.

What is measured
  1. Study scale. The sample data set (`sinkload sample`, deterministic, cached under --data-dir): the 14
     OCO-2 v10 MIP members + the shipped EnsMean (global 1 deg, 72 months; EnsStd is written too but the
     catalog skips it), VEGAS nbp (global 0.5 deg, 72 months) and BEPS (5 yearly 12-band GeoTIFFs of the
     China window at 0.0727 deg). Per product, the real CLI runs as a child process (wall time, peak RSS);
     then raster2pgsql loads the same files (NetCDF subdataset NETCDF:"file":var, all bands; GeoTIFFs as
     they are) into a table of its own, piped into psql, with the tile size sinkload uses at that
     resolution. Both tables carry a GiST index on ST_ConvexHull(rast) during the load. raster2pgsql
     stores the raw values (no unit, sign, calendar or axis normalisation, no provenance) and one
     multi-band raster per tile and file; sinkload one single-band raster per tile and month.
     Values stored = non-missing cells x months: sinkload's raw.load_batch.n_values, and ST_Count(rast,
     band, true) summed over bands and tiles for raster2pgsql; both must agree. Ratio = raster2pgsql seconds
     per value / sinkload seconds per value (> 1: sinkload is faster). Median of --repeats runs each.
  2. Streaming. MIP-like NetCDF files on a global 0.25 deg grid with 12, 96 and 420 months (the largest is
     1.7 GB of float32 data, stored uncompressed) are ingested under a product of a temporary catalog (the
     MIP entry with its resolution adjusted): peak RSS against file size, and the largest file again under
     an address-space limit (RLIMIT_AS) smaller than the file. Files per command: the first MIP member
     (BEPS year) alone against all members (years) in one command.
  3. Context: the Python start-up of a sinkload process, and raster2pgsql alone on VEGAS with 8 .. 72 bands
     per tile (where its time on month-chunked NetCDF goes).

Peak RSS is each process's ru_maxrss, reported by a tiny fork wrapper (benchmarks/_common.py), so raster2pgsql
and psql are measured apart; the PostgreSQL server's memory is not part of either. Everything runs in a throw-away database
(tests/support.py: fresh_database) of the server `sinkload db url` points at; it is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import netCDF4
import numpy as np
import psycopg
import yaml
from psycopg import sql

from benchmarks._common import (
    MIB,
    ProcessRun,
    machine_info,
    rss_floor_bytes,
    run_pipeline,
    sinkload_binary,
    timed,
)
from sinkload import __version__ as sinkload_version
from sinkload.catalog import load_catalog
from sinkload.db.connection import database_url
from sinkload.db.rasters import tile_size
from sinkload.normalize import Grid
from sinkload.settings import Settings
from tests.support import fresh_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path("/tmp/sinkload-bench-data")
DEFAULT_RESULTS_DIR = ROOT / "benchmarks" / "results"
GIB = 1 << 30
QUICK_MEMBERS = ("Ames", "Baker", "CAMS")
STREAM_RESOLUTION = 0.25
STREAM_MONTHS_FULL = (12, 96, 420)
STREAM_MONTHS_QUICK = (12, 48)
STREAM_PRODUCT = "bench_streaming"
STREAM_MEMBER = "BENCH"
MEMORY_AIM_BYTES = GIB
SPEED_AIM = 2.0
R2P_MODES = {"copy": ["-Y"], "insert": []}  # raster2pgsql -Y: COPY statements; default: one INSERT per tile


@dataclass(frozen=True)
class Workload:
    """One product's files, as sinkload is told to load them and as raster2pgsql opens them."""

    label: str
    product: str
    member: str | None
    sinkload_paths: tuple[Path, ...]  # files or a folder
    files: tuple[Path, ...]  # the files actually loaded (what raster2pgsql gets)
    variable: str | None  # NetCDF variable; None for GeoTIFF
    resolution: float

    def gdal_names(self) -> list[str]:
        return [f'NETCDF:"{f}":{self.variable}' if self.variable else str(f) for f in self.files]

    @property
    def tile(self) -> int:
        return tile_size(Grid(west=-180.0, north=90.0, dx=self.resolution, dy=self.resolution, nx=0, ny=0))


@dataclass(frozen=True)
class Tools:
    sinkload: str
    raster2pgsql: str
    psql: str


@dataclass
class Context:
    """What every measurement needs: the scratch database, the child environment, tools and a log dir."""

    url: str
    env: dict[str, str]
    tools: Tools
    conn: psycopg.Connection
    log_dir: Path
    checkpoint: bool = True


# -- setup ------------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {len(QUICK_MEMBERS)} MIP members, one BEPS year, 1 repeat, streaming "
                             f"files of {'/'.join(map(str, STREAM_MONTHS_QUICK))} months; writes no results "
                             "files unless --results-dir is given")
    parser.add_argument("--repeats", type=int, default=None, help="runs per measurement, median reported "
                        "(default 3, 1 with --quick)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="cache of the generated input files, reused by later runs (default: %(default)s)")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help=f"where ingest.md and ingest.json go (default {DEFAULT_RESULTS_DIR.relative_to(ROOT)}"
                             ", none with --quick)")
    parser.add_argument("--r2p-modes", default="copy,insert",
                        help="raster2pgsql modes to time: copy (-Y, COPY statements) and/or insert (its default); "
                             "the first is the reference of the ratio (default: %(default)s)")
    parser.add_argument("--stream-months", default=None,
                        help="months of the streaming files, comma separated (default "
                             f"{','.join(map(str, STREAM_MONTHS_FULL))}; with --quick "
                             f"{','.join(map(str, STREAM_MONTHS_QUICK))})")
    parser.add_argument("--as-limit-gib", type=float, default=1.0,
                        help="address-space limit (RLIMIT_AS) for the extra run of the largest streaming file; "
                             "0 skips that run (default: %(default)s)")
    parser.add_argument("--skip-streaming", action="store_true", help="leave out the streaming part")
    parser.add_argument("--raster2pgsql", default=None, help="raster2pgsql binary (default: found on PATH or in "
                        "the PostgreSQL bin directory)")
    parser.add_argument("--psql", default=None, help="psql binary (default: as for raster2pgsql)")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.r2p_modes = [m.strip() for m in args.r2p_modes.split(",") if m.strip()]
    if not args.r2p_modes or any(m not in R2P_MODES for m in args.r2p_modes):
        parser.error(f"--r2p-modes: choose from {', '.join(R2P_MODES)}")
    months = args.stream_months or ",".join(map(str, STREAM_MONTHS_QUICK if args.quick else STREAM_MONTHS_FULL))
    args.stream_months = sorted(int(m) for m in months.split(","))
    if args.results_dir is None and not args.quick:
        args.results_dir = DEFAULT_RESULTS_DIR
    return args


def find_tool(name: str, explicit: str | None, settings: Settings) -> str:
    """An explicit path, else PATH, else SINKLOAD_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin."""
    candidates = [explicit] if explicit else [shutil.which(name)]
    if settings.pg_bindir:
        candidates.append(str(settings.pg_bindir / name))
    candidates += [str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit(f"{name}: not found (on Debian/Ubuntu: apt-get install postgis postgresql-client; or give --{name})")


def generator_fingerprint() -> str:
    """Hash of the sample generator's sources: the cached data set is rewritten when they change."""
    digest = hashlib.sha256()
    for name in ("sample.py", "sample_fields.py"):
        digest.update((ROOT / "src" / "sinkload" / name).read_bytes())
    return digest.hexdigest()[:16]


def ensure_sample(data_dir: Path, sinkload: str) -> Path:
    """The sample data set under data_dir/sample, written by `sinkload sample` unless already there."""
    sample_dir, marker = data_dir / "sample", data_dir / "sample.done"
    fingerprint = generator_fingerprint()
    if marker.exists() and marker.read_text().strip() == fingerprint and sample_dir.is_dir():
        return sample_dir
    shutil.rmtree(sample_dir, ignore_errors=True)
    print(f"writing the sample data set to {sample_dir} ...", flush=True)
    subprocess.run([sinkload, "sample", str(sample_dir)], check=True, stdout=subprocess.DEVNULL)
    marker.write_text(fingerprint + "\n")
    return sample_dir


def study_workloads(sample_dir: Path, catalog_path: Path, quick: bool) -> list[Workload]:
    """The four products of the sample data set, as `sinkload demo` loads them."""
    catalog = load_catalog(catalog_path)
    mip_dir = sample_dir / "oco2_v10_mip" / "LNLGIS"
    mip = catalog.product("oco2_v10_mip_lnlgis")
    members = sorted(p for p in mip_dir.glob("*.nc4") if not mip.skips(p.name))
    if quick:
        members = [p for p in members if p.name.split("_")[0] in QUICK_MEMBERS]
    beps = sorted((sample_dir / "beps").glob("BEPS_NEP_*.tif"))[: 1 if quick else None]
    ensmean = mip_dir / "EnsMean_gridded_fluxes_LNLGIS.nc4"
    vegas = sample_dir / "vegas" / "VEGAS_S3_nbp.nc"

    def workload(label: str, product: str, member: str | None, paths: list[Path], files: list[Path]) -> Workload:
        entry = catalog.product(product)
        return Workload(label, product, member, tuple(paths), tuple(files),
                        entry.variable if entry.family == "netcdf" else None, entry.resolution[0])

    return [
        workload("mip", "oco2_v10_mip_lnlgis", None, members if quick else [mip_dir], members),
        workload("mip_ensmean", "oco2_v10_mip_lnlgis_ensmean", "EnsMean", [ensmean], [ensmean]),
        workload("vegas", "vegas", "VEGAS", [vegas], [vegas]),
        workload("beps", "beps", "BEPS", beps, beps),
    ]


# -- database ---------------------------------------------------------------------------------------------

def checkpoint(ctx: Context) -> None:
    """Flush dirty buffers before a timed run so neither side pays for the other's writes."""
    if not ctx.checkpoint:
        return
    try:
        ctx.conn.execute("checkpoint")
    except psycopg.Error:
        ctx.checkpoint = False  # not allowed for this user: runs go without


def reset_sinkload_tables(ctx: Context) -> None:
    """Empty what an ingest writes: the batches and every table that references them (tiles, harmonised months)."""
    ctx.conn.execute("truncate raw.load_batch cascade")


def r2p_table(label: str) -> str:
    return f"bench_r2p.{label}"


def reset_r2p_table(ctx: Context, label: str) -> None:
    """An empty raster2pgsql-style table (rid, rast) with the same GiST index sinkload's table has."""
    table = sql.Identifier("bench_r2p", label)
    ctx.conn.execute("create schema if not exists bench_r2p")
    ctx.conn.execute(sql.SQL("drop table if exists {}").format(table))
    ctx.conn.execute(sql.SQL("create table {} (rid serial primary key, rast raster)").format(table))
    ctx.conn.execute(sql.SQL("create index on {} using gist (st_convexhull(rast))").format(table))


def sinkload_stored(ctx: Context, product: str) -> dict:
    """Files, values (sum of load_batch.n_values), tile rows and raster bytes of one product."""
    files, values = ctx.conn.execute(
        "select count(*), coalesce(sum(n_values), 0) from raw.load_batch join raw.product using (product_id) "
        "where name = %s", [product]).fetchone()
    rows, nbytes = ctx.conn.execute(
        "select count(*), coalesce(sum(pg_column_size(rast)), 0) from raw.flux_tile "
        "join raw.product using (product_id) where name = %s", [product]).fetchone()
    return {"files": files, "values": int(values), "rows": rows, "raster_bytes": int(nbytes)}


def r2p_stored(ctx: Context, label: str, count_values: bool) -> dict:
    """Rows, raster bytes and (when asked: it reads every band) non-NODATA values of a raster2pgsql table."""
    table = sql.Identifier("bench_r2p", label)
    rows, nbytes = ctx.conn.execute(
        sql.SQL("select count(*), coalesce(sum(pg_column_size(rast)), 0) from {}").format(table)).fetchone()
    stored = {"rows": rows, "raster_bytes": int(nbytes)}
    if count_values:
        stored["values"] = int(ctx.conn.execute(sql.SQL(
            "select coalesce(sum(st_count(rast, b, true)), 0) from {}, generate_series(1, st_numbands(rast)) b"
        ).format(table)).fetchone()[0])
    return stored


# -- runs -------------------------------------------------------------------------------------------------

def run_checked(ctx: Context, commands: list[list[str]], log_name: str, preexec_fn=None,
                allow_failure: bool = False) -> tuple[float, list[ProcessRun]]:
    log = ctx.log_dir / f"{log_name}.log"
    with open(log, "ab") as handle:
        handle.write(f"\n$ {' | '.join(' '.join(c) for c in commands)}\n".encode())
    seconds, runs = run_pipeline(commands, ctx.env, log=log, preexec_fn=preexec_fn)
    failed = [r for r in runs if r.returncode != 0]
    if failed and not allow_failure:
        sys.exit(f"{failed[0].argv[0]} exited with {failed[0].returncode}; see {log}")
    return seconds, runs


def sinkload_command(ctx: Context, product: str, paths: tuple[Path, ...], member: str | None,
                     catalog: Path | None = None) -> list[str]:
    command = [ctx.tools.sinkload, "ingest", "flux", *map(str, paths), "--product", product]
    command += ["--member", member] if member else []
    return command + (["--catalog", str(catalog)] if catalog else [])


def run_sinkload(ctx: Context, workload: Workload) -> dict:
    reset_sinkload_tables(ctx)
    checkpoint(ctx)
    command = sinkload_command(ctx, workload.product, workload.sinkload_paths, workload.member)
    seconds, (run,) = run_checked(ctx, [command], f"sinkload-{workload.label}")
    return {"seconds": seconds, "peak_rss_bytes": run.peak_rss_bytes, **sinkload_stored(ctx, workload.product)}


def run_raster2pgsql(ctx: Context, workload: Workload, mode: str, count_values: bool) -> dict:
    reset_r2p_table(ctx, workload.label)
    checkpoint(ctx)
    loader = [ctx.tools.raster2pgsql, "-a", "-s", "4326", "-t", f"{workload.tile}x{workload.tile}",
              *R2P_MODES[mode], *workload.gdal_names(), r2p_table(workload.label)]
    client = [ctx.tools.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", ctx.url]
    seconds, (r2p, psql) = run_checked(ctx, [loader, client], f"raster2pgsql-{mode}-{workload.label}")
    return {"seconds": seconds, "peak_rss_bytes": r2p.peak_rss_bytes, "psql_peak_rss_bytes": psql.peak_rss_bytes,
            **r2p_stored(ctx, workload.label, count_values)}


def measure_workload(ctx: Context, workload: Workload, repeats: int, modes: list[str]) -> dict:
    """Median seconds and max peak RSS per tool over `repeats` runs, alternating which tool goes first."""
    runs: dict[str, list[dict]] = {"sinkload": [], **{f"raster2pgsql_{m}": [] for m in modes}}
    for k in range(repeats):
        order = ["sinkload", *modes] if k % 2 == 0 else [*modes[::-1], "sinkload"]
        for tool in order:
            print(f"  {workload.label}: {tool} (run {k + 1}/{repeats})", flush=True)
            if tool == "sinkload":
                runs["sinkload"].append(run_sinkload(ctx, workload))
            else:
                runs[f"raster2pgsql_{tool}"].append(run_raster2pgsql(ctx, workload, tool, count_values=k == 0))
    ctx.conn.execute(sql.SQL("drop table {}").format(sql.Identifier("bench_r2p", workload.label)))
    return {"label": workload.label, "product": workload.product, "files": [f.name for f in workload.files],
            "n_files": len(workload.files), "resolution_deg": workload.resolution, "tile_px": workload.tile,
            **{tool: summarise_runs(r) for tool, r in runs.items()}}


def summarise_runs(runs: list[dict]) -> dict:
    """The median run's seconds, every run's seconds, the largest peak RSS, and what was stored."""
    first = runs[0]
    summary = {"seconds": statistics.median(r["seconds"] for r in runs),
               "seconds_runs": [round(r["seconds"], 3) for r in runs],
               "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
               **{key: first[key] for key in ("values", "rows", "raster_bytes", "files") if key in first}}
    if "psql_peak_rss_bytes" in first:
        summary["psql_peak_rss_bytes"] = max(r["psql_peak_rss_bytes"] for r in runs)
    return summary


def measure_startup(ctx: Context, repeats: int) -> float:
    """Median seconds for a Python process to import what `sinkload ingest flux` imports (its start-up cost)."""
    modules = "sinkload.cli, sinkload.ingest.flux, sinkload.readers.netcdf, sinkload.readers.geotiff"
    command = [str(Path(ctx.tools.sinkload).with_name("python")), "-c", f"import {modules}"]
    return statistics.median(run_checked(ctx, [command], "sinkload-startup")[0] for _ in range(max(3, repeats)))


def measure_r2p_band_scaling(ctx: Context, workload: Workload) -> list[dict]:
    """raster2pgsql alone (output discarded) on one file with more and more bands per tile, and with one tile
    per band: where its time on chunked NetCDF goes."""
    variants = [(f"-b 1-{n}", ["-b", f"1-{n}"], workload.tile) for n in (8, 16, 24, 32)]
    variants += [("all bands", [], workload.tile), ("all bands, one tile per band", [], None)]
    rows = []
    for name, extra, tile in variants:
        size = f"{tile}x{tile}" if tile else "x".join(map(str, grid_shape(workload.files[0], workload.variable)))
        command = [ctx.tools.raster2pgsql, "-a", "-s", "4326", "-t", size, "-Y", *extra, *workload.gdal_names(),
                   "bench_r2p.discarded"]
        print(f"  raster2pgsql alone on {workload.label}: {name}, tiles {size}", flush=True)
        seconds, (run,) = run_pipeline([command], ctx.env)
        rows.append({"variant": name, "tile": size, "seconds": seconds, "peak_rss_bytes": run.peak_rss_bytes})
    return rows


def grid_shape(path: Path, variable: str) -> tuple[int, int]:
    """(nx, ny) of a NetCDF variable (time, lat, lon)."""
    with netCDF4.Dataset(path) as ds:
        _, ny, nx = ds[variable].shape
    return nx, ny


# -- streaming --------------------------------------------------------------------------------------------

def stream_file(data_dir: Path, months: int) -> Path:
    """A MIP-like NetCDF (land, gC per m2 per year, positive = source, start_date) on the global 0.25 deg
    grid, `months` months from 1990-01, float32, uncompressed and contiguous; written once, cached."""
    path = data_dir / "streaming" / f"bench_stream_{months}m_{STREAM_RESOLUTION:g}deg.nc"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    lats = np.arange(-90 + STREAM_RESOLUTION / 2, 90, STREAM_RESOLUTION)
    lons = np.arange(-180 + STREAM_RESOLUTION / 2, 180, STREAM_RESOLUTION)
    lon, lat = np.meshgrid(np.radians(lons), np.radians(lats))
    base = (-150.0 * np.cos(lat) ** 2 + 40.0 * np.sin(3 * lon) * np.cos(lat)).astype(np.float32)
    season = (400.0 * np.sin(lat)).astype(np.float32)
    partial = path.with_suffix(".partial")
    print(f"writing {path} ({months} months) ...", flush=True)
    with netCDF4.Dataset(partial, "w", format="NETCDF4") as ds:
        ds.createDimension("time", months)
        ds.createDimension("latitude", lats.size)
        ds.createDimension("longitude", lons.size)
        ds.createDimension("date_components", 3)
        ds.createVariable("latitude", "f4", ("latitude",))[:] = lats
        ds.createVariable("longitude", "f4", ("longitude",))[:] = lons
        ds.createVariable("start_date", "i4", ("time", "date_components"))[:] = [
            [1990 + k // 12, k % 12 + 1, 1] for k in range(months)]
        land = ds.createVariable("land", "f4", ("time", "latitude", "longitude"), contiguous=True)
        land.units = "gC per m2 per year"
        for k in range(months):
            land[k] = base + season * np.float32(np.cos(2 * np.pi * (k % 12 - 6) / 12)) + np.float32(k % 7)
        ds.title = "MIP-like synthetic flux for the sinkload streaming benchmark"
    partial.rename(path)
    return path


def stream_catalog(data_dir: Path, catalog_path: Path) -> Path:
    """A catalog of one product: the MIP entry of the real catalog with resolution 0.25 deg, any month count,
    a member BENCH and no file pattern."""
    entry = dict(yaml.safe_load(catalog_path.read_text(encoding="utf-8"))["products"]["oco2_v10_mip_lnlgis"])
    entry.update(resolution=[STREAM_RESOLUTION, STREAM_RESOLUTION], members=[STREAM_MEMBER], is_ensemble=False,
                 time={"rule": "start_date"}, description="sinkload ingest benchmark (streaming)")
    for key in ("file_pattern", "skip_pattern"):
        entry.pop(key, None)
    path = data_dir / "streaming" / "catalog.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"products": {STREAM_PRODUCT: entry}}, sort_keys=False), encoding="utf-8")
    return path


def address_space_limit(limit_bytes: int):
    """A preexec_fn capping the child's virtual address space (RLIMIT_AS) at limit_bytes."""
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


def run_stream_file(ctx: Context, path: Path, months: int, catalog: Path, limit_bytes: int | None) -> dict:
    reset_sinkload_tables(ctx)
    checkpoint(ctx)
    command = sinkload_command(ctx, STREAM_PRODUCT, (path,), STREAM_MEMBER, catalog)
    print(f"  streaming: {path.name}" + (f" under RLIMIT_AS {limit_bytes / GIB:g} GiB" if limit_bytes else ""),
          flush=True)
    seconds, (run,) = run_checked(ctx, [command], f"sinkload-stream-{months}m",
                                  address_space_limit(limit_bytes) if limit_bytes else None, allow_failure=True)
    stored = sinkload_stored(ctx, STREAM_PRODUCT) if run.returncode == 0 else {"values": 0}
    ny, nx = round(180 / STREAM_RESOLUTION), round(360 / STREAM_RESOLUTION)
    return {"file": path.name, "months": months, "grid": f"{nx} x {ny} ({STREAM_RESOLUTION:g} deg)",
            "data_bytes": months * ny * nx * 4, "file_bytes": path.stat().st_size, "values": stored["values"],
            "seconds": seconds, "peak_rss_bytes": run.peak_rss_bytes, "returncode": run.returncode,
            "as_limit_bytes": limit_bytes}


def measure_streaming(ctx: Context, data_dir: Path, catalog_path: Path, months_list: list[int],
                      as_limit_bytes: int | None) -> list[dict]:
    """Peak RSS for growing files; then the largest again under an address-space limit."""
    catalog = stream_catalog(data_dir, catalog_path)
    files = [(stream_file(data_dir, m), m) for m in months_list]
    rows = [run_stream_file(ctx, path, m, catalog, None) for path, m in files]
    if as_limit_bytes:
        path, months = files[-1]
        rows.append(run_stream_file(ctx, path, months, catalog, as_limit_bytes))
    reset_sinkload_tables(ctx)
    return rows


def measure_files_per_command(ctx: Context, workloads: list[Workload], results: list[dict]) -> list[dict]:
    """Peak RSS of `sinkload ingest flux` with the first file of a product alone against all its files in one
    command (the run of the study-scale part), for every product of more than one file."""
    rows = []
    for workload, result in zip(workloads, results, strict=True):
        if len(workload.files) < 2:
            continue
        single = Workload(workload.label, workload.product, workload.member, workload.files[:1],
                          workload.files[:1], workload.variable, workload.resolution)
        print(f"  files per command: {workload.files[0].name} alone", flush=True)
        one = run_sinkload(ctx, single)
        rows.append({"product": workload.product, "reader_cache": reader_cache(workload),
                     "runs": [{"files": 1, "peak_rss_bytes": one["peak_rss_bytes"], "seconds": one["seconds"]},
                              {"files": len(workload.files), "peak_rss_bytes": result["sinkload"]["peak_rss_bytes"],
                               "seconds": result["sinkload"]["seconds"]}]})
    return rows


def reader_cache(workload: Workload) -> dict:
    """The cache an open file of this workload keeps: netCDF4's per-variable chunk cache, or GDAL's block cache."""
    if workload.variable:
        with netCDF4.Dataset(workload.files[0]) as ds:
            var = ds[workload.variable]
            return {"kind": "netCDF4/HDF5 chunk cache per open variable", "bytes": var.get_var_chunk_cache()[0],
                    "chunking": var.chunking()}
    import rasterio

    with rasterio.Env():
        cachemax = int(rasterio.env.get_gdal_config("GDAL_CACHEMAX"))
    return {"kind": "GDAL block cache (GDAL_CACHEMAX, shared; blocks of open datasets)", "bytes": cachemax}


# -- results ----------------------------------------------------------------------------------------------

def totals(workloads: list[dict], modes: list[str]) -> dict:
    """Sums over the products; seconds per million values; ratio against the first raster2pgsql mode."""
    def tool_total(tool: str) -> dict:
        seconds = sum(w[tool]["seconds"] for w in workloads)
        values = sum(w[tool]["values"] for w in workloads)
        return {"seconds": seconds, "values": values, "s_per_million_values": seconds / values * 1e6,
                "peak_rss_bytes": max(w[tool]["peak_rss_bytes"] for w in workloads)}

    out = {tool: tool_total(tool) for tool in ("sinkload", *(f"raster2pgsql_{m}" for m in modes))}
    for m in modes:
        r2p = out[f"raster2pgsql_{m}"]
        r2p["ratio"] = r2p["s_per_million_values"] / out["sinkload"]["s_per_million_values"]
        r2p["psql_peak_rss_bytes"] = max(w[f"raster2pgsql_{m}"]["psql_peak_rss_bytes"] for w in workloads)
    for w in workloads:
        for m in modes:
            w[f"raster2pgsql_{m}"]["ratio"] = ((w[f"raster2pgsql_{m}"]["seconds"] / w[f"raster2pgsql_{m}"]["values"])
                                               / (w["sinkload"]["seconds"] / w["sinkload"]["values"]))
    rest = [w for w in workloads if w["label"] != "vegas"]
    if rest and len(rest) < len(workloads):
        sl_rest = sum(w["sinkload"]["seconds"] for w in rest) / sum(w["sinkload"]["values"] for w in rest)
        out["ratio_without_vegas"] = {m: sum(w[f"raster2pgsql_{m}"]["seconds"] for w in rest)
                                      / sum(w[f"raster2pgsql_{m}"]["values"] for w in rest) / sl_rest for m in modes}
    out["values_equal"] = all(w["sinkload"]["values"] == w[f"raster2pgsql_{m}"]["values"]
                              for w in workloads for m in modes)
    return out


def versions(ctx: Context) -> dict:
    postgres = ctx.conn.execute("select current_setting('server_version')").fetchone()[0]
    postgis = ctx.conn.execute("select postgis_full_version()").fetchone()[0]
    usage = subprocess.run([ctx.tools.raster2pgsql], capture_output=True, text=True).stdout.splitlines()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True,
                           text=True).stdout.strip()
    return {"sinkload": sinkload_version, "git_commit": commit + (" (src/ modified)" if dirty else ""),
            "postgresql": postgres, "postgis": postgis, "raster2pgsql": usage[0] if usage else "?",
            "numpy": np.__version__, "netCDF4": netCDF4.__version__, "netcdf_c": netCDF4.__netcdf4libversion__,
            "hdf5": netCDF4.__hdf5libversion__, "psycopg": psycopg.__version__}


def mib(nbytes: float) -> str:
    return f"{nbytes / MIB:,.0f} MiB"


def render_markdown(res: dict) -> str:
    """The human-readable report of one run (results/ingest.md)."""
    modes, tot, sl = res["settings"]["r2p_modes"], res["totals"], res["totals"]["sinkload"]
    rest = tot.get("ratio_without_vegas")
    warm = sl["seconds"] - len(res["workloads"]) * res["sinkload_startup_s"]
    ref = tot[f"raster2pgsql_{modes[0]}"]
    max_sl_rss = max([sl["peak_rss_bytes"]] + [s["peak_rss_bytes"] for s in res.get("streaming", [])])
    lines = [
        "# Ingest benchmark: `sinkload ingest flux` vs `raster2pgsql | psql`", "",
        f"Run {res['started']} on {res['machine']['cores']} cores ({res['machine']['cpu']}), "
        f"{'quick' if res['settings']['quick'] else 'full'} run, median of {res['settings']['repeats']} "
        f"run(s) per measurement, total {res['elapsed_s']:.0f} s. Generated by `benchmarks/ingest.py`; "
        "the numbers below are copied from `ingest.json`.", "",
        "## Headline", "",
        f"- Values stored (non-missing cells x months): **{sl['values']:,}** by sinkload, "
        f"{ref['values']:,} by raster2pgsql ({'equal' if tot['values_equal'] else 'NOT equal, see below'}).",
        f"- sinkload: **{sl['seconds']:.1f} s** = {sl['s_per_million_values']:.3f} s per million values "
        "(normalisation, sha256, provenance and per-month tiles included; 4 CLI processes, Python start-up "
        "included).",
        *[f"- raster2pgsql {m} mode | psql: **{tot[f'raster2pgsql_{m}']['seconds']:.1f} s** = "
          f"{tot[f'raster2pgsql_{m}']['s_per_million_values']:.3f} s per million values -> ratio "
          f"**{tot[f'raster2pgsql_{m}']['ratio']:.2f}x** (raster2pgsql time per value / sinkload time per value)"
          for m in modes],
        f"- Aim \"at least {SPEED_AIM:g}x faster than raster2pgsql per value\": "
        f"**{'met' if ref['ratio'] >= SPEED_AIM else 'NOT met'}** over all products against raster2pgsql's "
        f"{modes[0]} mode ({ref['ratio']:.2f}x)" + (
            f"; without VEGAS: **{'met' if rest[modes[0]] >= SPEED_AIM else 'NOT met'}** "
            f"({', '.join(f'{rest[m]:.2f}x against {m}' for m in modes)}). VEGAS is where raster2pgsql's NetCDF "
            "reading collapses (see \"raster2pgsql on chunked NetCDF\" below), so the total depends on it."
            if rest else "."),
        f"- Of sinkload's time, Python start-up and imports take {res['sinkload_startup_s']:.2f} s per "
        f"process ({len(res['workloads'])} processes: "
        f"{len(res['workloads']) * res['sinkload_startup_s']:.1f} s of the {sl['seconds']:.1f} s); without it "
        f"the ratio against {modes[0]} would be {ref['seconds'] / ref['values'] / (warm / sl['values']):.2f}x.",
        f"- Peak RSS: sinkload {mib(sl['peak_rss_bytes'])} (study data), {mib(max_sl_rss)} over every run incl. "
        f"streaming; raster2pgsql {mib(ref['peak_rss_bytes'])}, psql {mib(ref['psql_peak_rss_bytes'])}. "
        f"Aim \"under 1 GiB\": **{'met' if max_sl_rss < MEMORY_AIM_BYTES else 'NOT met'}** in these runs "
        "(see the files-per-command section for what it depends on).", "",
        "## Per product", "",
        "| product | files | values | sinkload s | " + " | ".join(f"r2p {m} s" for m in modes)
        + " | sinkload s/M values | " + " | ".join(f"r2p {m} s/M values | ratio ({m})" for m in modes)
        + " | sinkload peak RSS | r2p peak RSS | psql peak RSS | tile rows sinkload / r2p | raster MiB sinkload / r2p |",
        "|---|---:|---:|---:|" + "---:|" * len(modes) + "---:|" + "---:|---:|" * len(modes) + "---:|---:|---:|---:|---:|",
    ]
    for w in res["workloads"]:
        s, r = w["sinkload"], w[f"raster2pgsql_{modes[0]}"]
        cells = [w["product"], str(w["n_files"]), f"{s['values']:,}" + ("" if all(
            s["values"] == w[f"raster2pgsql_{m}"]["values"] for m in modes) else
            " (r2p: " + ", ".join(f"{w[f'raster2pgsql_{m}']['values']:,}" for m in modes) + ")"),
            f"{s['seconds']:.2f}", *[f"{w[f'raster2pgsql_{m}']['seconds']:.2f}" for m in modes],
            f"{s['seconds'] / s['values'] * 1e6:.3f}"]
        for m in modes:
            rm = w[f"raster2pgsql_{m}"]
            cells += [f"{rm['seconds'] / rm['values'] * 1e6:.3f}", f"{rm['ratio']:.2f}x"]
        cells += [mib(s["peak_rss_bytes"]), mib(r["peak_rss_bytes"]), mib(r["psql_peak_rss_bytes"]),
                  f"{s['rows']:,} / {r['rows']:,}", f"{s['raster_bytes'] / MIB:,.1f} / {r['raster_bytes'] / MIB:,.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Seconds of every run (sinkload; " + ", ".join(f"r2p {m}" for m in modes) + "): "
              + "; ".join(f"{w['label']}: " + ", ".join(str(w[t]["seconds_runs"]) for t in
                                                       ("sinkload", *(f"raster2pgsql_{m}" for m in modes)))
                          for w in res["workloads"]) + ".", ""]
    lines += render_band_scaling(res) + render_streaming(res)
    lines += render_method(res) + render_machine(res)
    return "\n".join(lines) + "\n"


def render_band_scaling(res: dict) -> list[str]:
    rows = res.get("r2p_band_scaling")
    if not rows:
        return []
    return [
        "## raster2pgsql on chunked NetCDF (VEGAS)", "",
        "raster2pgsql alone (SQL discarded, no database) on `VEGAS_S3_nbp.nc` (nbp chunked one month per chunk, "
        "zlib), with more and more bands (months) per tile:", "",
        "| bands | tile | seconds | peak RSS |", "|---|---|---:|---:|",
        *[f"| {r['variant']} | {r['tile']} | {r['seconds']:.2f} | {mib(r['peak_rss_bytes'])} |" for r in rows], "",
        "The time jumps once a tile spans more months than the reader's chunk cache holds: every tile reads its "
        "window from every band, each band's window needs that month's whole compressed chunk (about 1 MiB "
        "decompressed), and with too many bands per tile the chunks are evicted before the next tile needs "
        "them, so each chunk is decompressed once per tile instead of once. On the machine of this run GDAL "
        "links the system netCDF-C 4.9.0, whose default chunk cache is 16 MiB (`nc_get_chunk_cache`: "
        "16,777,216 bytes; the Python wheels' netCDF-C 4.10 has 64 MiB): 16 such chunks fit, 24 do not. With "
        "one tile per band the same file takes well under a second. sinkload reads one month at a time, so "
        "it does not meet this.", ""]


def render_streaming(res: dict) -> list[str]:
    lines = []
    if res.get("streaming"):
        rows = [r for r in res["streaming"] if not r["as_limit_bytes"]]
        small, large = rows[0], rows[-1]
        growth = (large["peak_rss_bytes"] - small["peak_rss_bytes"]) / (large["data_bytes"] - small["data_bytes"])
        lines += [
            "## Streaming: peak memory against file size", "",
            f"MIP-like NetCDF files (`land`, {rows[0]['grid']}, float32, uncompressed, contiguous), ingested with "
            f"`--catalog` (the MIP entry with resolution {STREAM_RESOLUTION:g} deg).", "",
            "| file | months | data size | file size | values | seconds | peak RSS | RLIMIT_AS | exit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in res["streaming"]:
            lines.append(f"| {r['file']} | {r['months']} | {mib(r['data_bytes'])} | {mib(r['file_bytes'])} | "
                         f"{r['values']:,} | {r['seconds']:.1f} | {mib(r['peak_rss_bytes'])} | "
                         f"{mib(r['as_limit_bytes']) if r['as_limit_bytes'] else '-'} | {r['returncode']} |")
        capped = [r for r in res["streaming"] if r["as_limit_bytes"]]
        shown = 0.0 if abs(growth) < 5e-5 else growth * 100  # no "-0.00"
        lines += ["", f"Peak RSS grows by {shown:.2f} MiB per 100 MiB of file "
                  f"({mib(small['peak_rss_bytes'])} for {mib(small['data_bytes'])} of data, "
                  f"{mib(large['peak_rss_bytes'])} for {mib(large['data_bytes'])}): the reader streams month by "
                  "month." if growth < 0.05 else
                  f"Peak RSS grows by {growth * 100:.1f} MiB per 100 MiB of file: the reader does NOT stream."]
        for r in capped:
            ok = r["returncode"] == 0 and r["values"] == large["values"]
            relation = "smaller" if r["as_limit_bytes"] < r["data_bytes"] else "NOT smaller"
            lines.append(f"With the address space capped at {mib(r['as_limit_bytes'])} ({relation} than the "
                         f"{mib(r['data_bytes'])} of data in the file) the load "
                         f"{'succeeds and stores every value' if ok else 'FAILS (see the log)'}.")
        lines.append("")
    if res.get("files_per_command"):
        lines += ["## Files per command", "",
                  "| product | files in one `sinkload ingest flux` | peak RSS | seconds | growth per extra file |",
                  "|---|---:|---:|---:|---:|"]
        grows = []
        for row in res["files_per_command"]:
            one, many = row["runs"]
            per_file = (many["peak_rss_bytes"] - one["peak_rss_bytes"]) / (many["files"] - 1)
            grows.append((row, per_file))
            lines += [f"| {row['product']} | 1 | {mib(one['peak_rss_bytes'])} | {one['seconds']:.1f} | |",
                      f"| {row['product']} | {many['files']} | {mib(many['peak_rss_bytes'])} | "
                      f"{many['seconds']:.1f} | {per_file / MIB:.1f} MiB |"]
        lines.append("")
        if any(per_file > 2 * MIB for _, per_file in grows):
            lines += [files_per_command_explanation(grows), ""]
        else:
            lines += ["Peak RSS does not grow with the number of files per command.", ""]
    return lines


def files_per_command_explanation(grows: list[tuple[dict, float]]) -> str:
    netcdf = next((row for row, _ in grows if row["reader_cache"].get("chunking")), grows[0][0])
    base, cache = netcdf["runs"][0]["peak_rss_bytes"], netcdf["reader_cache"]["bytes"]
    files_to_gib = (MEMORY_AIM_BYTES - base) / cache + 1
    caches = "; ".join(f"{row['product']}: {row['reader_cache']['kind']}, {mib(row['reader_cache']['bytes'])}"
                       + (f", variable chunked {tuple(row['reader_cache']['chunking'])} (months x lat x lon)"
                          if row["reader_cache"].get("chunking") else "") for row, _ in grows)
    return ("Peak RSS grows with the number of files loaded in one command, not with their size. `ingest_paths` "
            "(src/sinkload/ingest/flux.py) opens every file first (`sources = [open_flux(...) for path in "
            "files]`, for the metadata checks) and closes them all only in its final `finally`; while a file "
            "stays open its reader keeps what it decompressed cached. Caches here: " + caches + ". A MIP month "
            "read decompresses the chunks holding it (36 months at a time in the sample), which then stay "
            "cached per open file, up to the per-variable chunk cache; GeoTIFF blocks stay in GDAL's block "
            "cache while their dataset is open (up to GDAL_CACHEMAX, 5 % of RAM by default). So memory stays "
            "bounded per file but grows with the count of files per command (a folder of many members or "
            f"years): starting from the {mib(base)} of one file, {files_to_gib:.0f} files with full "
            f"{mib(cache)} NetCDF chunk caches would pass 1 GiB. Closing each source once it is loaded keeps "
            "RSS flat (seen outside this benchmark: reading the 5 BEPS files with the readers in one process, "
            "RSS grew by about 28 MiB per file with all sources open, and stayed flat when each was closed "
            "after its months were read).")


def render_method(res: dict) -> list[str]:
    modes = res["settings"]["r2p_modes"]
    return [
        "## What is compared", "",
        "- Same files on both sides, already in the OS page cache (generated before the timed runs). Each "
        "timed run starts on empty tables after a `CHECKPOINT`" + ("" if res["settings"]["checkpoint"] else
                                                                  " (not permitted here: skipped)") + "; "
        "sinkload and raster2pgsql alternate which goes first.",
        "- Scale: the issue's 16 MIP files are the sample's 14 members + EnsMean + EnsStd; the catalog skips "
        "EnsStd (a spread, not a flux), so 15 are loaded, on both sides.",
        "- sinkload: `sinkload ingest flux PATH... --product NAME [--member NAME]`, one process per product (the "
        "MIP members as the archive folder), as `sinkload demo` loads them; the time includes Python start-up, "
        "sha256 of each file, unit/sign/calendar/axis normalisation, provenance rows and COPY into "
        "`raw.flux_tile` (primary key, two b-tree indexes and the GiST index on ST_ConvexHull(rast) in place).",
        "- raster2pgsql: `raster2pgsql -a -s 4326 -t NxN " + ("-Y " if modes[0] == "copy" else "")
        + "FILES... bench_r2p.<product> | psql -X -q -v ON_ERROR_STOP=1`, one pipeline per product, into a table "
        "(rid serial primary key, rast raster) with a GiST index on ST_ConvexHull(rast) created before the "
        "load (no -I/-C/-M). NetCDF files as `NETCDF:\"file\":<variable>` (all 72 bands), GeoTIFFs as they are. "
        "Tile size N = sinkload's `tile_size` at that resolution (30 px at 1 deg, 60 px at 0.5 deg, 128 px for "
        "BEPS). `copy` = `-Y` (COPY statements, 50 rows each), `insert` = raster2pgsql's default (one INSERT "
        "per tile).",
        "- raster2pgsql stores the **raw** file values: no unit conversion, no sign flip, no calendar, "
        "longitudes and latitudes as GDAL presents them, no provenance, no idempotency check; it writes one "
        "multi-band raster per tile and file (72 or 12 bands), sinkload one single-band raster per tile and "
        "month (many more, smaller rows). Empty tiles (all NODATA) are left out on both sides.",
        "- Values stored: sinkload's `raw.load_batch.n_values` (non-NaN cells x months after normalisation); "
        "raster2pgsql: `sum(ST_Count(rast, band, true))` over all bands and tiles (NODATA excluded: the MIP "
        "files' NetCDF default fill, VEGAS's 1e20, BEPS's -9999). The MIP fields are 0, not missing, away "
        "from China, so every global cell counts.",
        "- Peak RSS: `ru_maxrss` of each process (os.wait4): the `sinkload` process, `raster2pgsql` and `psql` "
        "separately. Each is started by a tiny Python wrapper that forks it and reports its ru_maxrss (a "
        "process forked straight from the benchmark would inherit the benchmark's own high-water mark across "
        f"exec), so no figure can be below the wrapper's {mib(res['rss_floor_bytes'])} (what `true` measures). "
        "The wrapper adds about 15 ms to each timed run. The PostgreSQL backend is not included on either "
        "side.", ""]


def render_machine(res: dict) -> list[str]:
    m, v = res["machine"], res["versions"]
    return [
        "## How to reproduce", "",
        "```sh",
        ".venv/bin/sinkload db up                        # the embedded PostGIS (or set SINKLOAD_DATABASE_URL)",
        f".venv/bin/python benchmarks/ingest.py{' --quick' if res['settings']['quick'] else ''}"
        "            # --quick: smoke run; --help: options",
        "```", "",
        f"Input files are generated deterministically (`sinkload sample`, and the streaming files) into "
        f"`{res['settings']['data_dir']}` and reused by later runs; logs of every child process go to "
        f"`{res['settings']['log_dir']}`. The benchmark creates and drops its own database "
        "(`sinkload_benchingest_<id>`).", "",
        "## Machine", "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gib']} GiB; {m['os']}; Python {m['python']}",
        f"- Load average (1, 5, 15 min) at start {m['loadavg_start']}, at end {m['loadavg_end']} (other jobs may "
        "share the machine and the PostgreSQL server).",
        f"- sinkload {v['sinkload']} (git {v['git_commit']}); PostgreSQL {v['postgresql']}; {v['raster2pgsql']}; "
        f"numpy {v['numpy']}, netCDF4 {v['netCDF4']} (netcdf-c {v['netcdf_c']}, HDF5 {v['hdf5']}), "
        f"psycopg {v['psycopg']}",
        f"- PostGIS: `{v['postgis']}`", ""]


def write_results(res: dict, results_dir: Path) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "ingest.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (results_dir / "ingest.md").write_text(render_markdown(res), encoding="utf-8")
    print(f"wrote {results_dir / 'ingest.md'} and {results_dir / 'ingest.json'}")


# -- main -------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict:
    started, load_start = datetime.datetime.now().astimezone(), os.getloadavg()
    base = Settings.from_env()
    tools = Tools(sinkload_binary(), find_tool("raster2pgsql", args.raster2pgsql, base),
                  find_tool("psql", args.psql, base))
    data_dir = args.data_dir.resolve()
    log_dir = data_dir / "logs" / "ingest"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    workloads = study_workloads(ensure_sample(data_dir, tools.sinkload), base.catalog, args.quick)
    if not args.skip_streaming:
        for months in args.stream_months:
            stream_file(data_dir, months)  # written before any timing
    with timed() as total, fresh_database(database_url(base), base, "benchingest") as scratch, \
            psycopg.connect(scratch.database_url, autocommit=True) as conn:
        env = {**os.environ, "SINKLOAD_DATABASE_URL": scratch.database_url,
               "SINKLOAD_ROLE_PREFIX": scratch.role_prefix, "COLUMNS": "160"}
        env.pop("SINKLOAD_CATALOG", None)
        ctx = Context(scratch.database_url, env, tools, conn, log_dir)
        print(f"scratch database {conn.info.dbname}; logs in {log_dir}", flush=True)
        results = [measure_workload(ctx, w, args.repeats, args.r2p_modes) for w in workloads]
        files_per_command = measure_files_per_command(ctx, workloads, results)
        startup = measure_startup(ctx, args.repeats)
        vegas = next((w for w in workloads if w.label == "vegas"), None)
        band_scaling = measure_r2p_band_scaling(ctx, vegas) if vegas else []
        streaming = [] if args.skip_streaming else measure_streaming(
            ctx, data_dir, base.catalog, args.stream_months,
            int(args.as_limit_gib * GIB) if args.as_limit_gib > 0 else None)
        version_info = versions(ctx)
        checkpointed = ctx.checkpoint
    machine = machine_info()
    machine.pop("loadavg")
    machine.update(loadavg_start=[round(x, 2) for x in load_start],
                   loadavg_end=[round(x, 2) for x in os.getloadavg()])
    return {"benchmark": "ingest", "started": started.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]), "elapsed_s": round(total.seconds, 1),
            "settings": {"quick": args.quick, "repeats": args.repeats, "r2p_modes": args.r2p_modes,
                         "data_dir": str(data_dir), "log_dir": str(log_dir), "checkpoint": checkpointed,
                         "stream_months": [] if args.skip_streaming else args.stream_months},
            "machine": machine, "versions": version_info, "tools": asdict(tools), "workloads": results,
            "totals": totals(results, args.r2p_modes), "files_per_command": files_per_command,
            "sinkload_startup_s": startup, "r2p_band_scaling": band_scaling, "rss_floor_bytes": rss_floor_bytes(),
            "streaming": streaming}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    res = run(args)
    report = render_markdown(res)
    if args.results_dir:
        write_results(res, args.results_dir)
    else:
        print(report)
    tot = res["totals"]
    ref = tot[f"raster2pgsql_{args.r2p_modes[0]}"]
    print(f"sinkload {tot['sinkload']['seconds']:.1f} s, raster2pgsql ({args.r2p_modes[0]}) {ref['seconds']:.1f} s, "
          f"{tot['sinkload']['values']:,} values, ratio {ref['ratio']:.2f}x, values equal: {tot['values_equal']}")


if __name__ == "__main__":
    main()
