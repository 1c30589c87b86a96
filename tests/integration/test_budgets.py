"""`sinkload ingest budgets` and the provenance marts through the CLI against a real PostGIS: the budget
comparison against an independent numpy computation from the same files, lineage after a file is replaced,
products and their comparison, and bad budget files refused with nothing changed. Numbers are invented."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import netCDF4
import numpy as np
import psycopg
import pytest
from psycopg import sql

from sinkload.budgets import EXPERIMENTS, LATERAL_QUANTITIES, column_name
from sinkload.roles import Roles
from tests.support import (
    WORLD_EAST,
    WORLD_NORTH,
    WORLD_PRODUCT,
    WORLD_SOUTH,
    WORLD_WEST,
    YEARS_DEFAULT,
    build_world,
    cell_area_m2,
    database_fingerprint,
    fresh_database,
    national_monthly_tgc,
    replace_atomically,
    run_cli,
    world_field,
    write_mip_member,
)

ENSMEAN_PRODUCT = "oco2_v10_mip_lnlgis_ensmean"
PERIOD = range(2015, 2020)  # the dbt default period
C_PER_CO2 = 12.011 / 44.009
ISO3 = "CHN"
# Invented budget NBE (Tg CO2/yr, positive = to the atmosphere) of the country per experiment: a base value
# and a step per year; unc a fixed fraction. Written in alternating E-notations.
BASE = {"IS": -310.0, "LNLG": -420.0, "LNLGIS": -530.0, "LNLGOGIS": -640.0}


def e_notation(value: float, short: bool) -> str:
    text = f"{value:.6E}"
    return text.replace("E+0", "E+").replace("E-0", "E-") if short else text


def budget_nbe(experiment: str, year: int | None) -> float:
    return BASE[experiment] + (0.0 if year is None else 7.5 * (year - 2015))


def budget_unc(experiment: str, year: int | None) -> float:
    return abs(budget_nbe(experiment, year)) * 0.4


def write_budget_csv(path: Path, preamble: bool = True, codes: tuple[str, ...] = (ISO3, "ABC", "Region_Test"),
                     drop: str | None = None, override: dict | None = None, duplicate: bool = False) -> Path:
    columns = ["Alpha 3 Code", "Country", "Year"]
    for experiment in EXPERIMENTS:
        for quantity in ("NBE", "NCE", "dC_loss"):
            columns += [column_name(quantity, experiment), column_name(quantity, experiment, unc=True)]
    for quantity in LATERAL_QUANTITIES:
        columns += [column_name(quantity), column_name(quantity, unc=True)]
    columns = [c for c in columns if c != drop]
    lines = [f"# comment line {k}: invented national budgets for a test" for k in range(7)] if preamble else []
    lines.append(",".join(columns))
    rows = [(code, year) for code in codes for year in [*YEARS_DEFAULT, None]]
    if duplicate:
        rows.append(rows[0])
    for k, (code, year) in enumerate(rows):
        shift = 0.0 if code == ISO3 else 1000.0
        cells = {"Alpha 3 Code": code, "Country": f"name of {code}", "Year": "mean" if year is None else str(year)}
        for experiment in EXPERIMENTS:
            nbe = budget_nbe(experiment, year) + shift
            cells[column_name("NBE", experiment)] = e_notation(nbe, k % 2 == 0)
            cells[column_name("NBE", experiment, unc=True)] = e_notation(budget_unc(experiment, year), k % 2 == 1)
            for quantity in ("NCE", "dC_loss"):
                cells[column_name(quantity, experiment)] = e_notation(nbe + 11.0, False)
                cells[column_name(quantity, experiment, unc=True)] = e_notation(5.0, True)
        for quantity in LATERAL_QUANTITIES:
            cells[column_name(quantity)] = e_notation(3.0, False)
            cells[column_name(quantity, unc=True)] = e_notation(1.0, False)
        cells.update((override or {}) if k == 1 else {})
        lines.append(",".join(cells.get(c, "") for c in columns))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def grid_field(experiment: str, year: int) -> np.ndarray:
    """Invented gridded NBE (g CO2 m-2 yr-1), (180 lat south->north, 360 lon): values in the small world's
    cells and, to check the mask, in cells outside it."""
    field = np.full((180, 360), np.nan, dtype=np.float32)
    rows = slice(90 + WORLD_SOUTH, 90 + WORLD_NORTH)
    cols = slice(180 + WORLD_WEST, 180 + WORLD_EAST)
    ramp = np.arange((rows.stop - rows.start) * (cols.stop - cols.start), dtype=np.float32).reshape(
        rows.stop - rows.start, cols.stop - cols.start)
    field[rows, cols] = -100.0 - 10.0 * EXPERIMENTS.index(experiment) - (year - 2015) * 3.0 + ramp
    field[rows, cols.stop] = 5000.0  # east of the world: must not count
    field[rows.start - 1, cols] = 7000.0  # south of it
    return field


def write_budget_grid(path: Path, years: range = YEARS_DEFAULT) -> Path:
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("time", len(years))
        ds.createDimension("lat", 180)
        ds.createDimension("lon", 360)
        time = ds.createVariable("time", "f8", ("time",))
        time.units = "days since 2015-01-01"
        time[:] = [(datetime.date(y, 7, 1) - datetime.date(2015, 1, 1)).days for y in years]
        ds.createVariable("lat", "f4", ("lat",))[:] = np.arange(-89.5, 90, 1.0)
        ds.createVariable("lon", "f4", ("lon",))[:] = np.arange(-179.5, 180, 1.0)
        for experiment in EXPERIMENTS:
            nbe = ds.createVariable(f"{experiment}_NBE", "f4", ("time", "lat", "lon"), fill_value=-9999.0)
            nbe.units = "g CO2 m-2 yr-1"
            nbe[:] = np.ma.masked_invalid(np.stack([grid_field(experiment, y) for y in years]))
            std = ds.createVariable(f"{experiment}_NBE_std", "f4", ("time", "lat", "lon"), fill_value=-9999.0)
            std[:] = np.ma.masked_invalid(np.abs(np.stack([grid_field(experiment, y) for y in years])) * 0.3)
    return path


def annual_pgc(field: np.ndarray) -> dict[int, float]:
    """Independent: a member's national annual sink (Pg C) per year of the period from its rate field."""
    monthly = national_monthly_tgc(field, YEARS_DEFAULT)
    return {year: sum(v for m, v in monthly.items() if m.year == year) / 1000 for year in PERIOD}


def grid_sink_pgc(experiment: str, year: int) -> float:
    field = grid_field(experiment, year)
    total = sum(float(field[90 + lat, 180 + lon]) * cell_area_m2(lat, lat + 1)
                for lat in range(WORLD_SOUTH, WORLD_NORTH) for lon in range(WORLD_WEST, WORLD_EAST))
    return -total / 1e12 * C_PER_CO2 / 1000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def close(a: float | None, b: float | None, scale: float = 1.0) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-5 * max(abs(b), scale)


def rows(settings, query: str, params=()) -> list[dict]:
    with psycopg.connect(settings.database_url) as conn:
        cur = conn.execute(query, params)
        names = [c.name for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur]


def ok(result) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def world(server_url, base_settings, tmp_path_factory):
    """The small world with three LNLGIS members and the shipped-ensemble-mean product, the budgets (CSV with
    a preamble + grid) ingested and the marts built."""
    with fresh_database(server_url, base_settings, "budgets") as settings:
        directory = tmp_path_factory.mktemp("budgets")
        inbox, member_file, field = build_world(settings, directory)
        fields = {"CAMS": field}
        for seed, model, scale in ((2, "CT", 0.6), (3, "OU", 1.7)):
            fields[model] = world_field(seed=seed, years=YEARS_DEFAULT, scale=scale)
            write_mip_member(member_file.with_name(f"{model}_gridded_fluxes_LNLGIS.nc4"), fields[model], YEARS_DEFAULT)
        ensmean = np.mean(np.stack(list(fields.values())), axis=0).astype(np.float32) + np.float32(40.0)
        write_mip_member(inbox / ENSMEAN_PRODUCT / "EnsMean_gridded_fluxes_LNLGIS.nc4", ensmean, YEARS_DEFAULT)
        ok(run_cli(settings, "reload", inbox))
        csv_file = write_budget_csv(directory / "pilot_topdown_CO2_Budget_countries_v1.csv")
        grid_file = write_budget_grid(directory / "pilot_topdown_CO2_Budget_grid_v1.nc")
        ok(run_cli(settings, "ingest", "budgets", csv_file, "--grid", grid_file))
        ok(run_cli(settings, "build"))
        yield {"settings": settings, "directory": directory, "inbox": inbox, "member_file": member_file,
               "fields": fields, "ensmean": ensmean, "csv": csv_file, "grid": grid_file}


def test_budget_comparison_matches_an_independent_computation(world):
    settings, fields = world["settings"], world["fields"]
    annual = {model: annual_pgc(f) for model, f in fields.items()}
    ensmean_annual = annual_pgc(world["ensmean"])
    got = rows(settings, "select * from marts.budget_comparison")
    # Every budget row of the country (6 years + mean) for each experiment that has a product: LNLGIS only,
    # matched by both LNLGIS products.
    assert {(r["product"], r["experiment"]) for r in got} == {(WORLD_PRODUCT, "LNLGIS"), (ENSMEAN_PRODUCT, "LNLGIS")}
    assert len(got) == 2 * (len(YEARS_DEFAULT) + 1)
    for r in got:
        year = r["year"]
        assert r["iso3"] == ISO3 and r["unit"] == "China" and r["is_mean"] == (year is None)
        assert close(r["budget_sink_pgc_yr"], -budget_nbe("LNLGIS", year) * C_PER_CO2 / 1000)
        assert close(r["budget_unc_pgc_yr"], budget_unc("LNLGIS", year) * C_PER_CO2 / 1000)
        grid_years = [grid_sink_pgc("LNLGIS", y) for y in YEARS_DEFAULT]
        assert close(r["budget_grid_sink_pgc_yr"],
                     float(np.mean(grid_years)) if year is None else grid_sink_pgc("LNLGIS", year))
        source = annual if r["product"] == WORLD_PRODUCT else {"EnsMean": ensmean_annual}
        if year is not None and year not in PERIOD:
            assert r["n_members"] == 0 and r["warehouse_member_median_pgc_yr"] is None and r["within_unc"] is None
            continue
        values = [float(np.mean(list(a.values()))) if year is None else a[year] for a in source.values()]
        median, mean = float(np.median(values)), float(np.mean(values))
        budget = -budget_nbe("LNLGIS", year) * C_PER_CO2 / 1000
        assert r["n_members"] == len(values)
        assert close(r["warehouse_member_median_pgc_yr"], median, 1e-3)
        assert close(r["warehouse_ensemble_mean_pgc_yr"], mean, 1e-3)
        assert close(r["difference_pgc_yr"], median - budget, 1e-3)
        assert r["within_unc"] == (abs(median - budget) <= budget_unc("LNLGIS", year) * C_PER_CO2 / 1000)
        assert (r["warehouse_first_year"], r["warehouse_last_year"]) == (
            (PERIOD[0], PERIOD[-1]) if year is None else (year, year))
    # The three members differ, so median and mean do too (the test tells them apart).
    some = next(r for r in got if r["product"] == WORLD_PRODUCT and r["year"] == 2016)
    assert abs(some["warehouse_member_median_pgc_yr"] - some["warehouse_ensemble_mean_pgc_yr"]) > 1e-6


def test_budgets_stored_as_read_with_provenance(world):
    settings = world["settings"]
    files = rows(settings, "select kind, file_name, sha256, size_bytes, loader_version from raw.budget_file order by kind")
    assert [(f["kind"], f["file_name"], f["sha256"], f["size_bytes"]) for f in files] == [
        ("countries", world["csv"].name, sha256(world["csv"]), world["csv"].stat().st_size),
        ("grid", world["grid"].name, sha256(world["grid"]), world["grid"].stat().st_size)]
    region = rows(settings, "select * from raw.budget_value where code = 'Region_Test' and is_mean "
                            "and experiment = 'IS' and quantity = 'NBE'")
    assert len(region) == 1 and region[0]["is_region"] and region[0]["value"] == pytest.approx(
        budget_nbe("IS", None) + 1000.0)
    assert rows(settings, "select count(*) as n from raw.budget_grid")[0]["n"] == len(EXPERIMENTS) * len(YEARS_DEFAULT)


def test_products_and_product_comparison(world):
    settings, fields = world["settings"], world["fields"]
    products = {r["product"]: r for r in rows(settings, "select * from marts.products")}
    lnlgis = products[WORLD_PRODUCT]
    assert lnlgis["family"] == "oco2_mip" and lnlgis["reader"] == "netcdf" and lnlgis["experiment"] == "LNLGIS"
    assert lnlgis["members"] == sorted(fields) and lnlgis["n_members"] == 3
    assert (lnlgis["first_month"], lnlgis["last_month"]) == (datetime.date(2015, 1, 1), datetime.date(2020, 12, 1))
    assert (lnlgis["native_dx_deg"], lnlgis["native_dy_deg"]) == (1.0, 1.0)
    assert products[ENSMEAN_PRODUCT]["family"] == "oco2_mip"

    pair = rows(settings, "select * from marts.product_comparison where scope = 'national'")
    assert len(pair) == 1
    p = pair[0]
    assert (p["product_a"], p["product_b"]) == (WORLD_PRODUCT, ENSMEAN_PRODUCT)
    means = [float(np.mean(list(annual_pgc(f).values()))) for f in fields.values()]
    ens = float(np.mean(list(annual_pgc(world["ensmean"]).values())))
    headline = float(np.mean(list(annual_pgc(np.mean(np.stack(list(fields.values())), axis=0)).values())))
    assert close(p["a_mean_pgc_yr"], headline, 1e-3) and close(p["b_mean_pgc_yr"], ens, 1e-3)
    assert close(p["difference_pgc_yr"], ens - headline, 1e-3)
    assert close(p["a_member_min_pgc_yr"], min(means), 1e-3) and close(p["a_member_max_pgc_yr"], max(means), 1e-3)
    assert p["a_n_members"] == 3 and p["b_n_members"] == 1
    assert p["spreads_overlap"] == (min(means) <= ens <= max(means))


def test_build_info_and_analyst_can_read_every_new_view(world):
    settings = world["settings"]
    info = rows(settings, "select * from marts.build_info")
    assert len(info) == 1
    build = info[0]
    published = rows(settings, "select max(build_id) as b from intermediate.int_publication")[0]["b"]
    assert build["build_id"] == published and build["sinkload_version"] and build["dbt_version"]
    assert (build["period_start_year"], build["period_end_year"]) == (PERIOD[0], PERIOD[-1])
    assert build["started_at"] <= build["finished_at"]
    counts = build["view_row_counts"]
    assert counts["sink_monthly"] == rows(settings, "select count(*) as n from marts.sink_monthly")[0]["n"] > 0
    assert counts["budget_comparison"] == 2 * (len(YEARS_DEFAULT) + 1)
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(Roles(settings.role_prefix).analyst)))
        for view in ("build_info", "sink_lineage", "products", "product_comparison", "budget_comparison"):
            conn.execute(sql.SQL("select * from marts.{} limit 1").format(sql.Identifier(view))).fetchall()


def lineage_check(settings, expected_sha: dict[tuple[str, str], str]) -> None:
    """Every (product, member, month) of sink_monthly has lineage rows; each member's rows name its file's
    sha256, ensemble_mean's rows name every member's file; all published by the build marts show."""
    build_id = rows(settings, "select build_id from marts.build_info")[0]["build_id"]
    lineage = rows(settings, "select * from marts.sink_lineage")
    by_key: dict[tuple, list[dict]] = {}
    for r in lineage:
        by_key.setdefault((r["product"], r["member"], r["month"]), []).append(r)
    shown = rows(settings, "select distinct product, member, month from marts.sink_monthly")
    assert shown
    for s in shown:
        entries = by_key[(s["product"], s["member"], s["month"])]
        members = {e["source_member"]: e["sha256"] for e in entries}
        if s["member"] == "ensemble_mean":
            assert members == {m: sha for (p, m), sha in expected_sha.items() if p == s["product"]}
        else:
            assert members == {s["member"]: expected_sha[(s["product"], s["member"])]}
        assert all(e["build_id"] == build_id and e["loader_version"] and e["factor_applied"] for e in entries)


def test_lineage_follows_a_replaced_file(world):
    settings, member_file, inbox = world["settings"], world["member_file"], world["inbox"]
    files = {(WORLD_PRODUCT, m): member_file.with_name(f"{m}_gridded_fluxes_LNLGIS.nc4") for m in world["fields"]}
    files[(ENSMEAN_PRODUCT, "EnsMean")] = inbox / ENSMEAN_PRODUCT / "EnsMean_gridded_fluxes_LNLGIS.nc4"
    lineage_check(settings, {k: sha256(p) for k, p in files.items()})
    old = sha256(member_file)
    replace_atomically(member_file, world_field(seed=9, years=YEARS_DEFAULT, scale=1.2), YEARS_DEFAULT)
    assert sha256(member_file) != old
    ok(run_cli(settings, "reload", inbox))
    lineage_check(settings, {k: sha256(p) for k, p in files.items()})
    stale = rows(settings, "select count(*) as n from marts.sink_lineage where sha256 = %s", [old])[0]["n"]
    assert stale == 0
    # The reload's partial build recorded what built it too.
    info = rows(settings, "select * from marts.build_info")[0]
    assert info["started_at"] is not None and info["sinkload_version"] and info["dbt_vars"]["landcover_rule"] == "group_first"
    lineage_total = rows(settings, "select count(*) as n from marts.sink_lineage")[0]["n"]
    assert info["view_row_counts"]["sink_lineage"] == lineage_total


BAD_CASES = {
    "no_header": lambda d: (d / "no_header.csv").write_text("# only comments\nCode,Yr,Value\nCHN,2015,1.0E+2\n"),
    "missing_experiment_column": lambda d: write_budget_csv(d / "missing.csv", drop=column_name("NBE", "LNLGOGIS")),
    "text_in_value": lambda d: write_budget_csv(d / "text.csv", override={column_name("NBE", "IS"): "n/a"}),
    "duplicate_country_year": lambda d: write_budget_csv(d / "dup.csv", duplicate=True),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_budget_file_refused_and_nothing_changes(world, tmp_path, case):
    settings = world["settings"]
    bad = tmp_path / "bad"
    bad.mkdir()
    BAD_CASES[case](bad)
    path = next(bad.iterdir())
    with psycopg.connect(settings.database_url) as conn:
        before = database_fingerprint(conn)
    result = run_cli(settings, "ingest", "budgets", path, "--grid", world["grid"])
    with psycopg.connect(settings.database_url) as conn:
        after = database_fingerprint(conn)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and path.name in message, message
    assert before == after


@pytest.mark.bad_input
def test_bad_budget_grid_refused_and_nothing_changes(world, tmp_path):
    settings = world["settings"]
    grid = tmp_path / "grid_without_lnlg.nc"
    write_budget_grid(grid)
    with netCDF4.Dataset(grid, "a") as ds:
        ds.renameVariable("LNLG_NBE", "LNLG_NEE")
    with psycopg.connect(settings.database_url) as conn:
        before = database_fingerprint(conn)
    result = run_cli(settings, "ingest", "budgets", world["csv"], "--grid", grid)
    with psycopg.connect(settings.database_url) as conn:
        assert database_fingerprint(conn) == before
    message = result.stderr.strip()
    assert result.returncode != 0 and len(message.splitlines()) == 1, message
    assert grid.name in message and "LNLG_NBE" in message


def test_a_new_budget_file_replaces_the_previous_set(world, tmp_path):
    """A CSV without preamble and without a grid replaces both stored files (run last: it restores them)."""
    settings = world["settings"]
    bare = write_budget_csv(tmp_path / "copy_without_preamble.csv", preamble=False, codes=(ISO3, "DEF"))
    ok(run_cli(settings, "ingest", "budgets", bare))
    try:
        files = rows(settings, "select kind, file_name, sha256 from raw.budget_file")
        assert [(f["kind"], f["file_name"], f["sha256"]) for f in files] == [("countries", bare.name, sha256(bare))]
        codes = {r["code"] for r in rows(settings, "select distinct code from raw.budget_value")}
        assert codes == {ISO3, "DEF"}
        assert rows(settings, "select count(*) as n from raw.budget_grid")[0]["n"] == 0
        nbe = rows(settings, "select value from raw.budget_value where code = %s and year = 2017 and "
                             "experiment = 'LNLG' and quantity = 'NBE'", [ISO3])[0]["value"]
        assert nbe == pytest.approx(budget_nbe("LNLG", 2017))
    finally:
        ok(run_cli(settings, "ingest", "budgets", world["csv"], "--grid", world["grid"]))
