"""Publication carries every published model: a partial rebuild (only what lies downstream of a changed
source) leaves no mart view empty, and its marts equal those of a full build. Build ids come from a
sequence. A region layer that should tile the nation but leaves a gap fails the build, naming the gap."""

from __future__ import annotations

import math

import psycopg
import pytest

from tests.support import (
    DIVISIONS,
    LANDCOVER_CODES,
    build_world,
    cell_area_m2,
    fresh_database,
    rectangle_feature,
    reload_runs,
    run_cli,
    write_geojson,
)

pytestmark = pytest.mark.slow


def mart_views(conn: psycopg.Connection) -> list[str]:
    return [name for (name,) in conn.execute(
        "select table_name from information_schema.views where table_schema = 'marts' order by 1")]


def _plain(value):
    if isinstance(value, float):
        return float(f"{value:.9g}")
    return value


# Empty in this world whatever is published: it has no budget file and no second product of its family.
EMPTY_HERE = {"budget_comparison", "product_comparison"}
# They describe the build itself (its id and times), which differs between any two builds of the same data.
ABOUT_THE_BUILD = {"build_info", "sink_lineage"}


def empty_views(snapshot: dict[str, list[tuple]]) -> list[str]:
    """The views that must hold rows but hold none."""
    return [view for view, rows in snapshot.items() if not rows and view not in EMPTY_HERE]


def marts_snapshot(settings) -> dict[str, list[tuple]]:
    """Every mart view's rows (floats to 9 significant digits, geometries as WKT), sorted."""
    with psycopg.connect(settings.database_url) as conn:
        snapshot = {}
        for view in set(mart_views(conn)) - ABOUT_THE_BUILD:
            cur = conn.execute(f'select * from marts."{view}"')
            geometry = [i for i, column in enumerate(cur.description) if column.name == "geom"]
            rows = [tuple(_plain(v) for k, v in enumerate(row) if k not in geometry) for row in cur.fetchall()]
            snapshot[view] = sorted(rows, key=repr)
        return snapshot


def rotated_landcover(directory, shift: int):
    names = list(DIVISIONS)
    codes = [LANDCOVER_CODES[name] for name in names]
    return write_geojson(directory / f"landcover_{shift}.geojson", [
        rectangle_feature(name, *DIVISIONS[name], code=codes[(k + shift) % len(codes)])
        for k, name in enumerate(names)])


def ingest_landcover(settings, path) -> None:
    result = run_cli(settings, "ingest", "landcover", path, "--code-field", "code")
    assert result.returncode == 0, result.stdout + result.stderr


def reload_partially(settings, inbox) -> None:
    result = run_cli(settings, "reload", inbox)
    assert result.returncode == 0, result.stdout + result.stderr
    selection = reload_runs(settings)[-1]["dbt_selection"] or ""
    assert "landcover" in selection and "flux" not in selection, selection


def build_ids(settings) -> list[int]:
    with psycopg.connect(settings.database_url) as conn:
        return [row[0] for row in conn.execute("select distinct build_id from intermediate.int_publication order by 1")]


def test_partial_rebuilds_publish_every_view_like_a_full_build(server_url, base_settings, tmp_path):
    with fresh_database(server_url, base_settings, "publish") as settings:
        inbox, _member, _field = build_world(settings, tmp_path)
        original = marts_snapshot(settings)
        assert original and not empty_views(original), empty_views(original)

        ingest_landcover(settings, rotated_landcover(tmp_path, 1))
        reload_partially(settings, inbox)
        changed = marts_snapshot(settings)
        assert not empty_views(changed), empty_views(changed)
        assert changed["sink_cell_mean"] == original["sink_cell_mean"]  # not downstream of land cover
        assert changed["unit_cell_weights"] != original["unit_cell_weights"]  # ecosystems moved

        # a second partial build: the copies the first one carried forward must survive the pruning
        ingest_landcover(settings, rotated_landcover(tmp_path, 2))
        reload_partially(settings, inbox)
        partial = marts_snapshot(settings)
        assert not empty_views(partial), empty_views(partial)

        ids = build_ids(settings)
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        # the reloads rebuilt everything that changed: a plain build has nothing to do, a forced one rebuilds all
        skipped = run_cli(settings, "build")
        assert skipped.returncode == 0 and skipped.stdout.startswith("nothing changed since build"), skipped.stdout
        result = run_cli(settings, "build", "--force")
        assert result.returncode == 0, result.stdout + result.stderr
        assert build_ids(settings)[-1] > ids[-1]
        assert marts_snapshot(settings) == partial


def test_a_layer_with_a_gap_fails_the_build_naming_it(server_url, base_settings, tmp_path):
    with fresh_database(server_url, base_settings, "gap") as settings:
        build_world(settings, tmp_path)
        before = marts_snapshot(settings)
        west, south, east, north = DIVISIONS["North"]
        shrunk = {**DIVISIONS, "North": (west, south, east - 0.5, north)}
        layer = write_geojson(tmp_path / "divisions_with_gap.geojson", [
            rectangle_feature(name, *box) for name, box in shrunk.items()])
        result = run_cli(settings, "ingest", "regions", layer, "--scope", "division", "--name-field", "name",
                         "--tiles-national")
        assert result.returncode == 0, result.stdout + result.stderr

        result = run_cli(settings, "build")
        assert result.returncode != 0
        message = [line for line in (result.stdout + result.stderr).splitlines() if "does not add up" in line]
        assert message, result.stdout[-2000:] + result.stderr
        line = message[-1]
        assert "layer division" in line and "North" in line and "Qinghai-Tibet" in line
        gap_km2 = cell_area_m2(south, north, 0.5) / 1e6
        stated = float(line.split(" km2 of the nation in no unit")[0].split()[-1])
        assert math.isclose(stated, gap_km2, abs_tol=0.1), (stated, gap_km2)
        assert marts_snapshot(settings) == before  # the failed build published nothing

        with psycopg.connect(settings.database_url) as conn:
            quality = conn.execute("select count(*) from marts.region_layer_quality").fetchone()[0]
        assert quality == 1
