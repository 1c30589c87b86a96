"""Alembic migrations on a database of their own: up, down, up; roles and their first limits."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from sinkload.db import migrate as migrations
from sinkload.db.warehouse import Warehouse
from sinkload.roles import Roles
from tests.support import fresh_database

RAW_TABLES = {"product", "member", "grid", "load_batch", "flux_tile", "flux_month_1deg", "region_layer", "region",
              "landcover_layer", "landcover_class", "landcover", "reload_run",
              "budget_file", "budget_value", "budget_grid", "raw_change", "build_state"}


@pytest.fixture()
def scratch(server_url, base_settings):
    with fresh_database(server_url, base_settings, "migration", migrate=False) as settings:
        yield settings, settings.database_url


def _raw_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select table_name from information_schema.tables where table_schema = 'raw'")
        return {row[0] for row in rows}


def _roles(url: str, names: tuple[str, ...]) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("select rolname from pg_roles where rolname = any(%s)", [list(names)])}


def test_up_down_up(scratch):
    settings, url = scratch
    roles = Roles(settings.role_prefix)

    migrations.upgrade(Warehouse.of(settings, url))
    assert _raw_tables(url) == RAW_TABLES
    assert _roles(url, roles.all()) == set(roles.all())
    assert migrations.current_revision(url) is not None

    migrations.upgrade(Warehouse.of(settings, url))  # at head: harmless
    assert _raw_tables(url) == RAW_TABLES

    migrations.downgrade(Warehouse.of(settings, url), "base")
    assert _raw_tables(url) == set()
    assert _roles(url, roles.all()) == set()
    assert migrations.current_revision(url) is None

    migrations.upgrade(Warehouse.of(settings, url))
    assert _raw_tables(url) == RAW_TABLES


def test_sphere_srids_are_a_pure_projection(db_url):
    """SRID 990000 -> 990001 is the cea of the design's sphere: x = R*lon, y = R*sin(lat), no datum shift."""
    import math

    with psycopg.connect(db_url) as conn:
        x, y = conn.execute(
            "select st_x(g), st_y(g) from (select st_transform(st_setsrid(st_point(%s, %s), 990000), 990001) g) t",
            [117.25, 38.5],
        ).fetchone()
    radius = 6371000.0
    assert x == pytest.approx(radius * math.radians(117.25), rel=1e-12)
    assert y == pytest.approx(radius * math.sin(math.radians(38.5)), rel=1e-12)


def test_analyst_can_neither_read_nor_write_raw(db_url, settings):
    analyst = Roles(settings.role_prefix).analyst
    with psycopg.connect(db_url) as conn:
        conn.execute(f'set role "{analyst}"')
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("select count(*) from raw.product")
        conn.rollback()
        conn.execute(f'set role "{analyst}"')
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("insert into raw.grid (west, north, dx, dy, nx, ny) values (0, 0, 1, 1, 1, 1)")
        conn.rollback()
        conn.execute(f'set role "{analyst}"')
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("create schema analyst_was_here")


def test_loader_writes_raw_and_transformer_only_reads_it(db_url, settings):
    roles = Roles(settings.role_prefix)
    with psycopg.connect(db_url) as conn:
        conn.execute(f'set role "{roles.loader}"')
        conn.execute("insert into raw.grid (west, north, dx, dy, nx, ny) values (-180, 90, 1, 1, 360, 180)")
        conn.execute(f'set role "{roles.transformer}"')
        assert conn.execute("select count(*) from raw.grid").fetchone()[0] >= 1
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("delete from raw.grid")
        conn.rollback()


def test_month_digest_backfill_equals_the_loaders_digest(scratch, tmp_path):
    """0010 computes the digest of months stored before it in SQL; it must equal what the loader writes, so that
    a month loaded before the upgrade counts as unchanged when a newer file holds the same values."""
    import numpy as np

    from sinkload.ingest.flux import ingest_paths
    from tests.flux_files import field, write_trendy

    settings, url = scratch
    warehouse = Warehouse.of(settings, url)
    migrations.upgrade(warehouse)
    lats, lons = np.arange(30.25, 33, 0.5), np.arange(110.25, 113, 0.5)
    path = tmp_path / "vegas.nc"
    write_trendy(path, field(3, lats, lons, 2e-8, seed=4), lats, lons, np.array([15.5, 45.0, 74.5]) + 365 * 300,
                 "days since 1700-01-01", "noleap")
    ingest_paths(warehouse, [path], "vegas")
    query = "select member_id, month, tile_row, tile_col, month_digest from raw.flux_tile order by 1, 2, 3, 4"
    with psycopg.connect(url) as conn:
        written = conn.execute(query).fetchall()
    assert len({row[1] for row in written}) == 3 and len({row[4] for row in written}) == 3

    migrations.downgrade(warehouse, "0009")
    with psycopg.connect(url) as conn:
        columns = {r[0] for r in conn.execute("select column_name from information_schema.columns "
                                              "where table_schema = 'raw' and table_name = 'flux_tile'")}
    assert "month_digest" not in columns
    migrations.upgrade(warehouse)
    with psycopg.connect(url) as conn:
        assert conn.execute(query).fetchall() == written


def test_one_degree_backfill_equals_what_the_loader_writes(scratch, tmp_path):
    """0011 harmonises the months stored before it from their tiles (ingest/one_degree.py reharmonise); the rows
    must equal those the loader writes from the file, so an upgraded warehouse builds the same marts."""
    import numpy as np

    from sinkload.ingest.flux import ingest_paths
    from tests.flux_files import field, write_trendy

    settings, url = scratch
    warehouse = Warehouse.of(settings, url)
    migrations.upgrade(warehouse)
    lats, lons = np.arange(30.25, 33, 0.5), np.arange(110.25, 113, 0.5)
    path = tmp_path / "vegas.nc"
    values = field(3, lats, lons, 2e-8, seed=5)
    values[1, 2, 3] = np.nan
    write_trendy(path, values, lats, lons, np.array([15.5, 45.0, 74.5]) + 365 * 300, "days since 1700-01-01", "noleap")
    ingest_paths(warehouse, [path], "vegas")
    query = ("select member_id, month, batch_id, month_digest, harmonisation_version, cell_id, sink_gc_m2, "
             "n_native_cells from raw.flux_month_1deg order by 1, 2")
    with psycopg.connect(url) as conn:
        written = conn.execute(query).fetchall()
    assert len(written) == 3 and all(len(row[5]) == 9 for row in written)  # 3 x 3 cells of 2 x 2 native cells
    # the field's first row has 3 missing cells (tests/flux_files.field), month 2 one more
    assert sorted(written[0][7]) == [2, 3] + [4] * 7 and sorted(written[1][7]) == [2, 3, 3] + [4] * 6

    migrations.downgrade(warehouse, "0010")
    migrations.upgrade(warehouse)
    with psycopg.connect(url) as conn:
        assert conn.execute(query).fetchall() == written
