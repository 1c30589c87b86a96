"""The test support module: throw-away databases, the CLI as a user runs it, fingerprints of the database, and
a small world whose marts can be computed by hand. Imported as `tests.support` (pytest puts the repository
root on sys.path; benchmarks run as `python -m benchmarks.<name>` from it).

Reload tests take a database of their own (fresh, migrated, own role prefix): they run dbt and rely on the
reload log, which other tests' loads in the session database would disturb.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from sinkload.db import migrate as migrations
from sinkload.db.warehouse import Warehouse
from sinkload.roles import Roles
from sinkload.settings import Settings


@contextmanager
def fresh_database(server_url: str, base: Settings, label: str, migrate: bool = True) -> Iterator[Settings]:
    """A new database `sinkload_<label>_<id>` (migrated to head unless not `migrate`) with role prefix
    `<label[0]><id>`; dropped (with its roles) afterwards."""
    token = uuid.uuid4().hex[:8]
    name = f"sinkload_{label}_{token}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    settings = replace(base, database_url=url, role_prefix=f"{label[0]}{token}")
    try:
        if migrate:
            migrations.upgrade(Warehouse.of(settings, url))
        yield settings
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            for role in Roles(settings.role_prefix).all():
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def cli_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    assert settings.database_url
    return {**os.environ, "SINKLOAD_DATABASE_URL": settings.database_url,
            "SINKLOAD_ROLE_PREFIX": settings.role_prefix, **(extra or {})}


def cli_argv(*args: object) -> list[str]:
    return [sys.executable, "-m", "sinkload", *map(str, args)]


def run_cli(settings: Settings, *args: object, timeout: float = 900,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cli_argv(*args), env=cli_env(settings, env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def start_cli(settings: Settings, *args: object, env: dict[str, str] | None = None) -> subprocess.Popen:
    """The CLI in the background, in a process group of its own (so a test can kill it with its children)."""
    return subprocess.Popen(cli_argv(*args), env=cli_env(settings, env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def add_fake_batch(settings: Settings, label: str) -> int:
    """A provenance row without tiles (as the loader): changes raw.load_batch's state without the ingest
    code, so that the reload's rebuild decision can be tested on its own."""
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(Roles(settings.role_prefix).loader)))
        product_id = conn.execute(
            "insert into raw.product (name, family, kind) values (%s, 'test', 'bottom-up') "
            "on conflict (name) do update set family = excluded.family returning product_id", [label]).fetchone()[0]
        member_id = conn.execute(
            "insert into raw.member (product_id, name) values (%s, %s) on conflict (product_id, name) "
            "do update set name = excluded.name returning member_id", [product_id, label]).fetchone()[0]
        grid_id = conn.execute(
            "insert into raw.grid (west, north, dx, dy, nx, ny) values (-180, 90, 1, 1, 360, 180) "
            "on conflict (west, north, dx, dy, nx, ny) do update set nx = excluded.nx returning grid_id").fetchone()[0]
        return conn.execute(
            """insert into raw.load_batch (product_id, member_id, grid_id, file_name, file_path, sha256, size_bytes,
                   variable, factor_applied, sign_applied, first_month, last_month, n_months, n_values, loader_version)
               values (%s, %s, %s, 'fake.nc', '/fake.nc', %s, 0, 'x', '1', 1, '2015-01-01', '2015-01-01', 1, 0, 'test')
               returning batch_id""",
            [product_id, member_id, grid_id, uuid.uuid4().hex * 2]).fetchone()[0]


def reload_runs(settings: Settings) -> list[dict]:
    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        cur = conn.execute("select * from raw.reload_run order by run_id")
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]


def write_file(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- a small world whose marts can be computed by hand ----------------------------------------------------
# "China" is the rectangle 110..114 E x 30..32 N (eight whole 1-degree cells), split into four divisions of
# two cells each; the flux files are MIP-style member files (gC m-2 yr-1 as monthly-mean rates, positive =
# source) on the global 1-degree grid.

EARTH_RADIUS_M = 6_371_000.0
YEARS_DEFAULT = range(2015, 2021)  # the MIP archive's 72 months
WORLD_WEST, WORLD_EAST, WORLD_SOUTH, WORLD_NORTH = 110, 114, 30, 32
DIVISIONS = {"North": (110, 31, 112, 32), "South": (110, 30, 112, 31),
             "Northwest": (112, 31, 114, 32), "Qinghai-Tibet": (112, 30, 114, 31)}
LANDCOVER_CODES = {"North": 1, "South": 4, "Northwest": 6, "Qinghai-Tibet": 11}


def rectangle_feature(name: str, west: float, south: float, east: float, north: float, **props) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Feature", "properties": {"name": name, **props},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def write_geojson(path: Path, features: list[dict]) -> Path:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def world_regions(directory: Path) -> tuple[Path, Path, Path]:
    """(national, divisions, land cover) GeoJSON files of the small world; names in `name`, codes in `code`."""
    national = write_geojson(directory / "national.geojson", [
        rectangle_feature("China", WORLD_WEST, WORLD_SOUTH, WORLD_EAST, WORLD_NORTH)])
    divisions = write_geojson(directory / "divisions.geojson", [
        rectangle_feature(name, *box) for name, box in DIVISIONS.items()])
    landcover = write_geojson(directory / "landcover.geojson", [
        rectangle_feature(name, *box, code=LANDCOVER_CODES[name]) for name, box in DIVISIONS.items()])
    return national, divisions, landcover


def world_field(seed: int, years: range, scale: float = 1.0):
    """Monthly-mean NEE rates (gC m-2 yr-1, positive = source) on the global 1-degree grid, float32, with
    a seasonal cycle in the small world and zeros elsewhere: shape (months, 180 lat south->north, 360 lon)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = 12 * len(years)
    field = np.zeros((n, 180, 360), dtype=np.float32)
    month = np.arange(n) % 12
    seasonal = (-300.0 * np.sin(np.pi * month / 11.0) + 80.0)[:, None, None]
    rows = slice(90 + WORLD_SOUTH, 90 + WORLD_NORTH)
    cols = slice(180 + WORLD_WEST, 180 + WORLD_EAST)
    noise = rng.normal(0.0, 40.0, size=(n, rows.stop - rows.start, cols.stop - cols.start))
    field[:, rows, cols] = (scale * (seasonal + noise)).astype(np.float32)
    return field


def write_mip_member(path: Path, field, years: range, experiment: str = "LNLGIS") -> Path:
    """A member file as the OCO-2 v10 MIP archive ships it: land(time, latitude, longitude) in
    'gC per m2 per year' (monthly-mean rates, positive = source) with start_date(time, 3)."""
    import netCDF4
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    n = field.shape[0]
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("time", n)
        ds.createDimension("latitude", 180)
        ds.createDimension("longitude", 360)
        ds.createDimension("date_components", 3)
        lat = ds.createVariable("latitude", "f4", ("latitude",))
        lat[:] = np.arange(-89.5, 90, 1.0)
        lon = ds.createVariable("longitude", "f4", ("longitude",))
        lon[:] = np.arange(-179.5, 180, 1.0)
        start = ds.createVariable("start_date", "i4", ("time", "date_components"))
        start[:] = [[y, m, 1] for y in years for m in range(1, 13)][:n]
        land = ds.createVariable("land", "f4", ("time", "latitude", "longitude"), zlib=True, complevel=4)
        land.units = "gC per m2 per year"
        land[:] = field
        ocean = ds.createVariable("ocean", "f4", ("time", "latitude", "longitude"), zlib=True, complevel=4)
        ocean.units = "gC per m2 per year"
        ocean[:] = np.zeros_like(field)
        ds.experiment = experiment
    return path


def cell_area_m2(south: float, north: float, dlon_deg: float = 1.0) -> float:
    import math

    return EARTH_RADIUS_M**2 * math.radians(dlon_deg) * (math.sin(math.radians(north)) - math.sin(math.radians(south)))


def national_monthly_tgc(field, years: range) -> dict:
    """Independent: the small world's monthly sink (Tg C, positive = uptake) from a MIP rate field, keyed by
    the month's first day."""
    import calendar
    import datetime

    totals = {}
    for k, (year, month) in enumerate((y, m) for y in years for m in range(1, 13)):
        per_month = calendar.monthrange(year, month)[1] / (366 if calendar.isleap(year) else 365)
        total = 0.0
        for lat in range(WORLD_SOUTH, WORLD_NORTH):
            area = cell_area_m2(lat, lat + 1)
            for lon in range(WORLD_WEST, WORLD_EAST):
                total += area * -float(field[k, 90 + lat, 180 + lon]) * per_month
        totals[datetime.date(year, month, 1)] = total / 1e12
    return totals


def matches(answer: dict, expected: dict, min_months: int = 60) -> bool:
    """Whether a mart's {month: value} equals the independent values on every month it lists, listing at
    least `min_months` (the marts may keep only the analysis period). Tolerance: 1e-6 of the series' largest
    magnitude (values are stored as float32; a month whose net is near zero has no meaningful relative error)."""
    import math

    tolerance = 1e-6 * max(abs(v) for v in expected.values())
    return len(answer) >= min_months and all(
        month in expected and math.isclose(value, expected[month], rel_tol=1e-6, abs_tol=tolerance)
        for month, value in answer.items())


WORLD_PRODUCT = "oco2_v10_mip_lnlgis"
WORLD_MODEL = "CAMS"


def build_world(settings: Settings, directory: Path, years: range = YEARS_DEFAULT, seed: int = 1):
    """Load the small world's regions and land cover, put one MIP member of WORLD_PRODUCT in an inbox and
    reload (ingest + build). Returns (inbox, member file, its rate field)."""
    national, divisions, landcover = world_regions(directory)
    for args in (["regions", national, "--scope", "national", "--name-field", "name"],
                 ["regions", divisions, "--scope", "division", "--name-field", "name", "--tiles-national"],
                 ["landcover", landcover, "--code-field", "code"]):
        result = run_cli(settings, "ingest", *args)
        assert result.returncode == 0, result.stdout + result.stderr
    inbox = directory / "inbox"
    member_file = inbox / WORLD_PRODUCT / "LNLGIS" / f"{WORLD_MODEL}_gridded_fluxes_LNLGIS.nc4"
    field = world_field(seed=seed, years=years)
    write_mip_member(member_file, field, years)
    result = run_cli(settings, "reload", inbox)
    assert result.returncode == 0, result.stdout + result.stderr
    return inbox, member_file, field


def run_cli_ok(settings: Settings, *args: object) -> None:
    """Run the CLI; fail the test with its output unless it exits 0."""
    result = run_cli(settings, *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


@contextmanager
def any_length_world(server_url: str, base_settings: Settings, directory: Path, label: str,
                     years: range) -> Iterator[tuple[Settings, Path, Path, object]]:
    """The small world in a fresh database, read with a catalog that takes MIP member files of any length:
    (settings, inbox, member file, its rate field)."""
    import pytest

    with pytest.MonkeyPatch.context() as patch, fresh_database(server_url, base_settings, label) as settings:
        patch.setenv("SINKLOAD_CATALOG", str(catalog_of_any_length(base_settings, directory)))
        yield settings, *build_world(settings, directory, years=years)


def catalog_of_any_length(base_settings: Settings, directory: Path) -> Path:
    """The shipped catalog, but MIP member files of any number of months (so that months can be appended)."""
    text = base_settings.catalog.read_text(encoding="utf-8")
    fixed = "time: {rule: start_date, first_month: 2015-01, n_months: 72}"
    assert fixed in text
    path = directory / "catalog.yaml"
    path.write_text(text.replace(fixed, "time: {rule: start_date}", 1), encoding="utf-8")
    return path


def replace_atomically(member_file: Path, field, years: range) -> None:
    """Write a new version under a hidden name and rename it over the old one (the documented upload)."""
    hidden = member_file.with_name("." + member_file.name)
    write_mip_member(hidden, field, years)
    hidden.rename(member_file)


def raw_fingerprint(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the contents of every table of schema raw (to prove a failed load changed nothing)."""
    tables = [r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'raw' order by 1")]
    return {t: conn.execute(sql.SQL(
        "select count(*), md5(coalesce(string_agg(x::text, ',' order by x::text), '')) from raw.{} x"
    ).format(sql.Identifier(t))).fetchone() for t in tables}


def marts_fingerprint(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the contents of every view of schema marts (what an analyst reads)."""
    views = [r[0] for r in conn.execute("select viewname from pg_views where schemaname = 'marts' order by 1")]
    return {v: conn.execute(sql.SQL(
        "select count(*), md5(coalesce(string_agg(x::text, ',' order by x::text), '')) from marts.{} x"
    ).format(sql.Identifier(v))).fetchone() for v in views}


def database_fingerprint(conn: psycopg.Connection) -> dict[str, dict[str, tuple[int, str]]]:
    """Schema raw and every mart view: equal before and after a refused input proves nothing changed."""
    return {"raw": raw_fingerprint(conn), "marts": marts_fingerprint(conn)}


# -- marts equal between builds --------------------------------------------------------------------------

# Columns that name the build rather than the data.
BUILD_COLUMNS = {"build_id", "started_at", "finished_at", "published_at"}

# Two builds of the same data agree to rounding, not bit for bit: the planner picks the order in which a sum
# of doubles adds its terms, and an incremental table's rows sit in another physical order than a full
# refresh's (measured: up to 1.3e-14 apart, in every mart that sums).
SUM_REL_TOL = 1e-12


class PercentDifference(float):
    """A difference of two sums in per cent of one of them (method_comparison.difference_pct). Its rounding is
    its operands', 100 x 2 x SUM_REL_TOL percentage points, however near zero the difference itself is: where
    two methods agree, it is rounding noise whose sign may flip between builds."""


PERCENT_DIFFERENCE_COLUMNS = {"difference_pct"}


def marts_rows(settings) -> dict[str, list[tuple]]:
    """Every mart view's rows without the build's own ids and times (geometries as WKT), sorted."""
    with psycopg.connect(settings.database_url) as conn:
        views = [name for (name,) in conn.execute(
            "select table_name from information_schema.views where table_schema = 'marts' order by 1")]
        snapshot = {}
        for view in views:
            cur = conn.execute(f'select * from marts."{view}"')
            keep = [k for k, column in enumerate(cur.description)
                    if column.name not in BUILD_COLUMNS and column.name != "geom"]
            percent = {k for k in keep if cur.description[k].name in PERCENT_DIFFERENCE_COLUMNS}
            rows = [tuple(PercentDifference(row[k]) if k in percent and row[k] is not None else row[k]
                          for k in keep) for row in cur.fetchall()]
            snapshot[view] = sorted(rows, key=lambda row: repr(tuple(
                f"{v:.6g}" if isinstance(v, float) else v for v in row)))
        return snapshot


def same_values(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        abs_tol = 100 * 2 * SUM_REL_TOL if isinstance(a, PercentDifference) else SUM_REL_TOL
        return math.isclose(a, b, rel_tol=SUM_REL_TOL, abs_tol=abs_tol) or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_marts_equal(incremental: dict, full: dict) -> None:
    assert incremental.keys() == full.keys()
    for view in full:
        assert len(incremental[view]) == len(full[view]), view
        for got, wanted in zip(incremental[view], full[view], strict=True):
            assert len(got) == len(wanted) and all(map(same_values, got, wanted)), (view, got, wanted)


def equals_full_refresh(settings: Settings) -> dict:
    """Check the current (incremental) marts against those of `sinkload build --full-refresh`; returns the latter."""
    incremental = marts_rows(settings)
    run_cli_ok(settings, "build", "--full-refresh")
    full = marts_rows(settings)
    assert_marts_equal(incremental, full)
    return full
