"""Incremental models equal a full rebuild: after each change (a new member, a corrected file, appended months,
an older file restored, a land-cover change, a region change, a product on another grid, a period change, a member
removed) every mart view after the incremental reload or build equals that of `sinkload build --full-refresh`,
and the harmonised rows of the (product, member, month) that did not change were not rewritten."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from tests.support import (
    DIVISIONS,
    LANDCOVER_CODES,
    WORLD_EAST,
    WORLD_NORTH,
    WORLD_PRODUCT,
    WORLD_SOUTH,
    WORLD_WEST,
    any_length_world,
    assert_marts_equal,
    equals_full_refresh,
    marts_rows,
    rectangle_feature,
    replace_atomically,
    run_cli,
    world_field,
    write_geojson,
    write_mip_member,
)
from tests.support import run_cli_ok as cli

pytestmark = pytest.mark.slow

YEARS = range(2015, 2019)  # 2019 is appended later, inside the default period 2015..2019
HARMONISED = "intermediate.int_flux_cell_months_harmonised"


def row_versions(settings, member: str) -> set[str]:
    """The transaction ids that wrote the harmonised rows of one member (unchanged = not rewritten)."""
    with psycopg.connect(settings.database_url) as conn:
        return {xmin for (xmin,) in conn.execute(
            f"select distinct h.xmin::text from {HARMONISED} h join raw.member m using (member_id) "
            "where m.name = %s", [member])}


def harmonised_months(settings, member: str) -> int:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(f"select count(distinct month) from {HARMONISED} h join raw.member m using (member_id) "
                            "where m.name = %s", [member]).fetchone()[0]


@pytest.fixture(scope="module")
def world(server_url, base_settings, tmp_path_factory):
    directory = tmp_path_factory.mktemp("incremental")
    with any_length_world(server_url, base_settings, directory, "incremental", YEARS) as (settings, inbox, member_file,
                                                                                          field):
        yield settings, directory, inbox, member_file, field


def test_a_new_member(world):
    settings, _directory, inbox, _member_file, _field = world
    cams = row_versions(settings, "CAMS")
    write_mip_member(inbox / WORLD_PRODUCT / "LNLGIS" / "OU_gridded_fluxes_LNLGIS.nc4",
                     world_field(seed=7, years=YEARS, scale=0.8), YEARS)
    cli(settings, "reload", inbox)
    assert harmonised_months(settings, "OU") == 12 * len(YEARS)
    assert row_versions(settings, "CAMS") == cams  # the unchanged member was not harmonised again
    snapshot = equals_full_refresh(settings)
    assert any(row[1] == "OU" for row in snapshot["sink_monthly"])


def test_a_corrected_file(world):
    settings, _directory, inbox, member_file, _field = world
    ou, cams = row_versions(settings, "OU"), row_versions(settings, "CAMS")
    before = marts_rows(settings)
    replace_atomically(member_file, world_field(seed=2, years=YEARS), YEARS)
    cli(settings, "reload", inbox)
    assert row_versions(settings, "OU") == ou
    assert not row_versions(settings, "CAMS") & cams  # every month of the corrected member rewritten
    assert marts_rows(settings)["sink_monthly"] != before["sink_monthly"]
    equals_full_refresh(settings)


def test_appended_months(world):
    settings, _directory, inbox, _member_file, _field = world
    cams = row_versions(settings, "CAMS")
    appended = range(2019, 2020)
    write_mip_member(inbox / WORLD_PRODUCT / "LNLGIS" / "2019" / "CAMS_gridded_fluxes_LNLGIS.nc4",
                     world_field(seed=3, years=appended), appended)
    cli(settings, "reload", inbox)
    assert harmonised_months(settings, "CAMS") == 12 * (len(YEARS) + 1)
    assert cams <= row_versions(settings, "CAMS")  # the months already there kept their rows
    equals_full_refresh(settings)


def test_an_older_file_restored(world):
    settings, _directory, inbox, member_file, field = world
    replace_atomically(member_file, world_field(seed=5, years=YEARS), YEARS)
    cli(settings, "reload", inbox)
    newer = marts_rows(settings)
    replace_atomically(member_file, field, YEARS)  # the first version again
    cli(settings, "reload", inbox)
    restored = equals_full_refresh(settings)
    assert restored["sink_monthly"] != newer["sink_monthly"]


def test_a_land_cover_change(world):
    settings, directory, inbox, _member_file, _field = world
    names = list(DIVISIONS)
    rotated = write_geojson(directory / "landcover_rotated.geojson", [
        rectangle_feature(name, *DIVISIONS[name], code=LANDCOVER_CODES[names[(k + 1) % len(names)]])
        for k, name in enumerate(names)])
    cams = row_versions(settings, "CAMS")
    cli(settings, "ingest", "landcover", rotated, "--code-field", "code")
    cli(settings, "reload", inbox)
    assert row_versions(settings, "CAMS") == cams  # harmonisation does not depend on land cover
    equals_full_refresh(settings)


def test_a_region_change(world):
    settings, directory, inbox, _member_file, _field = world
    east = WORLD_EAST + 1  # the nation grows by a column of cells; the eastern divisions with it
    national = write_geojson(directory / "national_wider.geojson", [
        rectangle_feature("China", WORLD_WEST, WORLD_SOUTH, east, WORLD_NORTH)])
    divisions = write_geojson(directory / "divisions_wider.geojson", [
        rectangle_feature(name, west, south, east if right == WORLD_EAST else right, north)
        for name, (west, south, right, north) in DIVISIONS.items()])
    cams = row_versions(settings, "CAMS")
    cli(settings, "ingest", "regions", national, "--scope", "national", "--name-field", "name")
    cli(settings, "ingest", "regions", divisions, "--scope", "division", "--name-field", "name", "--tiles-national")
    cli(settings, "reload", inbox)
    assert not row_versions(settings, "CAMS") & cams  # the analysis cells changed: everything rebuilt
    with psycopg.connect(settings.database_url) as conn:
        cells = conn.execute(f"select count(distinct cell_id) from {HARMONISED}").fetchone()[0]
    assert cells == (east - WORLD_WEST) * (WORLD_NORTH - WORLD_SOUTH)
    equals_full_refresh(settings)


def test_a_product_on_another_grid(world):
    """A product on a grid that is not the 1° grid (0.5°, edges off the half degrees) is harmonised at the door: its
    1° values equal an independent overlap computation from the file, the 1° member's rows are not rewritten, and
    the marts equal a full refresh."""
    from tests.flux_files import field, write_trendy
    from tests.independent import read_trendy, to_one_degree

    settings, _directory, inbox, _member_file, _field = world
    cams = row_versions(settings, "CAMS")
    # centres a quarter off the half degrees, exact in the file's float32 coordinates
    lats = np.arange(WORLD_SOUTH - 0.375, WORLD_NORTH + 0.5, 0.5)
    lons = np.arange(WORLD_WEST - 0.375, WORLD_EAST + 0.5, 0.5)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    mid_month = np.cumsum(days) - days / 2
    times = np.concatenate([(year - 1700) * 365 + mid_month for year in YEARS])
    path = inbox / "vegas" / "VEGAS_S3_nbp.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    values = field(times.size, lats, lons, 2e-8, seed=9)
    values[:, 0, :3] = 1e-8  # the field's missing corner would leave the world's corner cell without a value
    values[5, 2, 2] = np.nan
    write_trendy(path, values, lats, lons, times, "days since 1700-01-01", "noleap")
    cli(settings, "reload", inbox)
    assert harmonised_months(settings, "VEGAS") == 12 * len(YEARS)
    assert row_versions(settings, "CAMS") == cams  # a new grid no longer rebuilds every product's harmonisation

    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(f"select h.month, h.cell_id, h.sink_gc_m2 from {HARMONISED} h join raw.member m "
                            "using (member_id) where m.name = 'VEGAS'").fetchall()
        cells, east = conn.execute("select count(*), max(west) + 1 from intermediate.int_analysis_cells").fetchone()
    # the world, or one column wider after the region change above
    assert cells == (east - WORLD_WEST) * (WORLD_NORTH - WORLD_SOUTH)
    assert len(rows) == 12 * len(YEARS) * cells  # every analysis cell has a valid native cell every month
    expected = to_one_degree(read_trendy(path), WORLD_WEST, int(east), WORLD_SOUTH, WORLD_NORTH)
    for month, cell_id, value in rows:
        k = (month.year - YEARS[0]) * 12 + month.month - 1
        lat, lon = divmod(cell_id, 360)
        assert value == pytest.approx(expected[k, lat - 90 - WORLD_SOUTH, lon - 180 - WORLD_WEST], rel=1e-9, abs=1e-12)
    equals_full_refresh(settings)


def test_a_period_change(world):
    settings, _directory, _inbox, _member_file, _field = world
    period = ("--var", f"period_start_year={YEARS[1]}", "--var", f"period_end_year={YEARS[-1] + 1}")
    cli(settings, "build", *period)
    assert harmonised_months(settings, "OU") == 12 * (len(YEARS) - 1)  # the first year left the period
    incremental = marts_rows(settings)
    cli(settings, "build", "--full-refresh", *period)
    assert_marts_equal(incremental, marts_rows(settings))
    # and back: the months of the first year return
    cli(settings, "build")
    assert harmonised_months(settings, "OU") == 12 * len(YEARS)
    equals_full_refresh(settings)


def test_a_member_removed(world):
    settings, _directory, inbox, _member_file, _field = world
    (inbox / WORLD_PRODUCT / "LNLGIS" / "OU_gridded_fluxes_LNLGIS.nc4").unlink()
    with psycopg.connect(settings.database_url) as conn:  # its batches deleted (the tiles go with them)
        conn.execute("delete from raw.load_batch where member_id in (select member_id from raw.member "
                     "where name = 'OU')")
    cams = row_versions(settings, "CAMS")
    cli(settings, "reload", inbox)
    assert harmonised_months(settings, "OU") == 0
    assert row_versions(settings, "CAMS") == cams
    incremental = marts_rows(settings)
    assert not any("OU" in row for view in incremental.values() for row in view)
    assert_marts_equal(incremental, equals_full_refresh(settings))


def test_a_table_indexed_before_versions(world):
    """A cell-months table indexed on its key alone (a warehouse built before the key index took the version)
    finds its stale keys by a scan once, gets the (key, version) index, and still equals a full refresh."""
    settings, _directory, inbox, member_file, _field = world
    table = "intermediate.int_flux_cell_months_with_ensemble"
    with psycopg.connect(settings.database_url) as conn:
        for (name,) in conn.execute("select indexrelid::regclass::text from pg_index "
                                    f"where indrelid = '{table}'::regclass").fetchall():
            conn.execute(f"drop index {name}")
        conn.execute(f"create index on {table} (product, member, month)")
    replace_atomically(member_file, world_field(seed=11, years=YEARS), YEARS)
    cli(settings, "reload", inbox)
    with psycopg.connect(settings.database_url) as conn:
        indexes = {definition.split(" USING btree ")[1] for (definition,) in conn.execute(
            f"select pg_get_indexdef(indexrelid) from pg_index where indrelid = '{table}'::regclass")}
    assert "(product, member, month, source_version)" in indexes
    equals_full_refresh(settings)


def version_types(settings) -> dict[str, str]:
    """The type of `source_version` in each table of intermediate that has one (the incremental models)."""
    with psycopg.connect(settings.database_url) as conn:
        return dict(conn.execute("select table_name, data_type from information_schema.columns "
                                 "where table_schema = 'intermediate' and column_name = 'source_version'").fetchall())


def test_tables_with_text_versions(world):
    """Cell-month tables written when the versions were the digests as text (65 bytes a row, not 16) are
    emptied and rebuilt with uuid versions by the next incremental run, and equal a full refresh."""
    settings, _directory, inbox, member_file, _field = world
    tables = ("int_flux_cell_months_harmonised", "int_flux_cell_months_with_ensemble")
    with psycopg.connect(settings.database_url) as conn:
        for table in tables:
            conn.execute(f"alter table intermediate.{table} alter column source_version type text "
                         "using encode(sha256(source_version::text::bytea), 'hex')")
    assert {version_types(settings)[table] for table in tables} == {"text"}
    replace_atomically(member_file, world_field(seed=13, years=YEARS), YEARS)
    cli(settings, "reload", inbox)
    types = version_types(settings)
    assert len(types) >= 2 and set(types.values()) == {"uuid"}, types
    equals_full_refresh(settings)


def test_scoped_data_tests_still_fail(world):
    """The cell-months' dbt tests check the rows written since the last publication: a bad row among them
    fails the build and nothing is published; once it is gone the next build publishes."""
    settings, _directory, _inbox, _member_file, _field = world
    before = marts_rows(settings)
    columns = "product_id, member_id, month, cell_id, sink_gc_m2, n_native_cells, source_version, inputs_fingerprint"
    bad_row = (f"insert into {HARMONISED} ({columns}, written_by_build) select {columns.replace('sink_gc_m2', 'null')}, "
               f"(select max(build_id) + 1 from intermediate.build_run) from {HARMONISED} limit 1")
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(bad_row)
    result = run_cli(settings, "build", "--force")  # raw did not change: without --force the build is skipped
    assert result.returncode != 0
    assert "not_null_int_flux_cell_months_harmonised_sink_gc_m2" in result.stdout + result.stderr
    assert marts_rows(settings) == before
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(f"delete from {HARMONISED} where sink_gc_m2 is null")
    cli(settings, "build")
    assert_marts_equal(marts_rows(settings), before)
