"""End to end on the sample data set: files -> ingest -> regions, land cover -> dbt build -> every value of
every mart view equals the independent computation of tests/independent_marts.py, to 1e-6 relative."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import box

from sinkload.db.warehouse import Warehouse
from tests.independent import cell_area_m2, to_cea
from tests.independent_marts import expected_marts, query
from tests.support import fresh_database

pytestmark = pytest.mark.slow

RTOL = 1e-6


# 1° cells (south-west corners) inside China where the land cover is rewritten as strips of needleleaf
# forest (code 1), broadleaf forest (3) and cultivated vegetation (11): the study's order (group first) makes
# them cropland, merging first makes them forest.
DISAGREEING_CELLS = [(112, 30), (105, 34), (117, 33)]
STRIPS = [(1, 0.30), (3, 0.25), (11, 0.45)]


def with_disagreeing_cells(landcover: Path, code_field: str, out: Path) -> Path:
    """The sample's land cover with DISAGREEING_CELLS replaced by STRIPS (one feature per code)."""
    meta, _fids, wkb, field_data = pyogrio.raw.read(landcover)
    codes = [int(c) for c in field_data[list(meta["fields"]).index(code_field)]]
    cut = shapely.union_all([box(x, y, x + 1, y + 1) for x, y in DISAGREEING_CELLS])
    geoms = {code: shapely.difference(geom, cut) for code, geom in zip(codes, shapely.from_wkb(wkb), strict=True)}
    for x, y in DISAGREEING_CELLS:
        west = x
        for code, width in STRIPS:
            strip = box(west, y, west + width, y + 1)
            geoms[code] = shapely.union(geoms[code], strip) if code in geoms else strip
            west += width
    ordered = sorted(geoms)
    polygons = [shapely.multipolygons(shapely.get_parts(shapely.get_parts(geoms[c])[
        shapely.get_type_id(shapely.get_parts(geoms[c])) == 3])) for c in ordered]
    pyogrio.raw.write(out, np.array(shapely.to_wkb(polygons), dtype=object), [np.array(ordered, dtype=np.int32)],
                      fields=[code_field], geometry_type="MultiPolygon", crs="EPSG:4326", driver="GPKG")
    return out


@pytest.fixture(scope="module")
def built(server_url, base_settings, tmp_path_factory):
    from sinkload.dbt import run_dbt
    from sinkload.geography.landcover import ingest_landcover_file
    from sinkload.geography.regions import ingest_default_regions
    from sinkload.ingest.flux import ingest_manifest
    from sinkload.sample import write_sample

    directory = tmp_path_factory.mktemp("sample")
    manifest = write_sample(directory)
    manifest = replace(manifest, landcover=with_disagreeing_cells(
        manifest.landcover, manifest.landcover_code_field, directory / "landcover_disagreeing.gpkg"))
    with fresh_database(server_url, base_settings, "e2e") as settings:
        handle = Warehouse.of(settings)
        ingest_manifest(handle, manifest)
        ingest_default_regions(handle)
        ingest_landcover_file(handle, manifest.landcover, code_field=manifest.landcover_code_field)
        run_dbt(handle, ["build"])
        yield settings, manifest


@pytest.fixture(scope="module")
def expected(built):
    settings, manifest = built
    return expected_marts(settings.database_url, manifest)


# A unit is cut to the nation where their borders coincide (the default divisions are cut from China):
# there the border, densified to 0.05° before projecting, is cut in lon/lat here and on the equal-area
# projection in the warehouse, which leaves slivers of up to 9e-10 of a cell (measured) between the two.
CUT_BORDER_SLIVER = 1e-8


def _close(actual, wanted, scale=1.0, floor=0.0):
    if wanted is None:
        return actual is None
    return actual is not None and abs(actual - wanted) <= max(RTOL * max(abs(wanted), 1e-9 * scale), floor)


def _compare(got: dict, wanted: dict, floor: float = 0.0) -> None:
    assert set(got) == set(wanted), (sorted(set(got) ^ set(wanted)))[:5]
    scale = max((abs(v) for v in wanted.values() if v is not None), default=1.0)
    bad = [(k, got[k], v) for k, v in wanted.items() if not _close(got[k], v, scale, floor)]
    assert not bad, f"{len(bad)} of {len(wanted)} differ, e.g. {bad[:3]}"


def test_sink_monthly(built, expected):
    rows = query(built[0].database_url,
                  "select product, member, scope, unit, extract(year from month)::int, extract(month from month)::int, "
                  "sink_tgc from marts.sink_monthly")
    _compare({(p, m, s, u, (y, mo)): v for p, m, s, u, y, mo, v in rows}, expected["monthly"])


def test_sink_annual(built, expected):
    rows = query(built[0].database_url, "select product, member, scope, unit, year, sink_pgc from marts.sink_annual")
    _compare({(p, m, s, u, y): v for p, m, s, u, y, v in rows}, expected["annual"])


@pytest.mark.parametrize("column", ["mean", "sd", "share", "n_years", "first_year", "last_year"])
def test_sink_summary(built, expected, column):
    sql_column = {"mean": "mean_pgc_yr", "sd": "interannual_sd_pgc_yr", "share": "share_pct"}.get(column, column)
    rows = query(built[0].database_url, f"select product, member, scope, unit, {sql_column} from marts.sink_summary")
    _compare({(p, m, s, u): v for p, m, s, u, v in rows},
             {k: row[column] for k, row in expected["summary"].items()})


def test_sink_zonal_monthly(built, expected):
    rows = query(built[0].database_url,
                  "select product, member, lat, extract(year from month)::int, extract(month from month)::int, "
                  "sink_gc_m2_day from marts.sink_zonal_monthly")
    _compare({(p, m, lat, (y, mo)): v for p, m, lat, y, mo, v in rows}, expected["zonal"])


def test_sink_cell_mean(built, expected):
    rows = query(built[0].database_url,
                  "select product, member, lon, lat, sink_gc_m2_yr, st_area(st_transform(st_setsrid(geom, 990000), 990001)) "
                  "from marts.sink_cell_mean")
    _compare({(p, m, lon, lat): v for p, m, lon, lat, v, _a in rows}, expected["cell_mean"])
    for _p, _m, _lon, lat, _v, area in rows:
        assert area == pytest.approx(cell_area_m2(lat - 0.5, lat + 0.5), rel=1e-9)


@pytest.mark.parametrize("column", ["n", "mean", "sd", "min", "max"])
def test_ensemble_spread(built, expected, column):
    sql_column = {"n": "n_members", "mean": "member_mean_pgc_yr", "sd": "member_sd_pgc_yr",
                  "min": "member_min_pgc_yr", "max": "member_max_pgc_yr"}[column]
    rows = query(built[0].database_url, f"select product, scope, unit, {sql_column} from marts.ensemble_spread")
    _compare({(p, s, u): v for p, s, u, v in rows}, {k: row[column] for k, row in expected["spread"].items()})
    assert all(row["n"] == 14 for row in expected["spread"].values())


def test_land_cover_follows_the_study_where_the_orders_disagree(built, expected):
    group_first, merge_first = expected["dominant"]["group_first"], expected["dominant"]["merge_first"]
    rows = query(built[0].database_url,
                 "select d.rule, c.west, c.south, d.class from intermediate.int_landcover_cell_dominants d "
                 "join intermediate.int_analysis_cells c using (cell_id)")
    stored = {(rule, int(west), int(south)): cls for rule, west, south, cls in rows}
    (lon0, lat0), = query(built[0].database_url,
                          "select min(west)::int, min(south)::int from intermediate.int_analysis_cells")
    for x, y in DISAGREEING_CELLS:
        assert group_first[y - lat0, x - lon0] == "cropland" and merge_first[y - lat0, x - lon0] == "forest"
        assert stored[("group_first", x, y)] == "cropland" and stored[("merge_first", x, y)] == "forest"
    for rule, grid in expected["dominant"].items():
        got = {(w, s): cls for (r, w, s), cls in stored.items() if r == rule}
        assert all(grid[s - lat0, w - lon0] == cls for (w, s), cls in got.items()), rule
    ecosystem_cells = query(built[0].database_url,
                            "select lon, lat from marts.unit_cell_weights where scope = 'ecosystem' and unit = 'cropland'")
    assert {(x + 0.5, y + 0.5) for x, y in DISAGREEING_CELLS} <= set(ecosystem_cells)


def test_sink_monthly_coverage(built, expected):
    rows = query(built[0].database_url,
                 "select product, member, scope, unit, extract(year from month)::int, extract(month from month)::int, "
                 "valid_area_km2, coverage_pct from marts.sink_monthly")
    _compare({(p, m, s, u, (y, mo)): a for p, m, s, u, y, mo, a, _c in rows},
             {k: v[0] for k, v in expected["coverage"].items()})
    _compare({(p, m, s, u, (y, mo)): c for p, m, s, u, y, mo, _a, c in rows},
             {k: v[1] for k, v in expected["coverage"].items()})
    assert any(v[1] < 100 - 1e-6 for v in expected["coverage"].values())  # some unit is partly covered


def test_min_coverage_of_annual_and_summary(built, expected):
    rows = query(built[0].database_url, "select product, member, scope, unit, year, min_coverage_pct from marts.sink_annual")
    _compare({(p, m, s, u, y): v for p, m, s, u, y, v in rows}, expected["annual_coverage"])
    rows = query(built[0].database_url, "select product, member, scope, unit, min_coverage_pct from marts.sink_summary")
    _compare({(p, m, s, u): v for p, m, s, u, v in rows},
             {k: row["min_coverage"] for k, row in expected["summary"].items()})


def test_unit_cell_weights(built, expected):
    rows = query(built[0].database_url,
                 "select scope, unit, lon, lat, cell_fraction, weight_m2, earth_model, "
                 "st_area(st_transform(st_setsrid(geom, 990000), 990001)) from marts.unit_cell_weights")
    _compare({(s, u, lon, lat): f for s, u, lon, lat, f, *_rest in rows}, {k: v[0] for k, v in expected["weights"].items()},
             floor=CUT_BORDER_SLIVER)
    _compare({(s, u, lon, lat): w / cell_area_m2(lat - 0.5, lat + 0.5) for s, u, lon, lat, _f, w, *_rest in rows},
             {(s, u, lon, lat): v[1] / cell_area_m2(lat - 0.5, lat + 0.5) for (s, u, lon, lat), v in expected["weights"].items()},
             floor=CUT_BORDER_SLIVER)
    assert {row[6] for row in rows} == {"sphere R=6371000 m"}
    for _s, _u, _lon, lat, _f, _w, _e, area in rows:
        assert area == pytest.approx(cell_area_m2(lat - 0.5, lat + 0.5), rel=1e-9)


def test_region_layer_quality(built):
    url = built[0].database_url
    regions = {(scope, name): to_cea(shapely.from_wkb(bytes(wkb)))
               for scope, name, wkb in query(url, "select scope, name, st_asbinary(geom) from raw.region")}
    national = shapely.union_all([g for (scope, _n), g in regions.items() if scope == "national"])
    rows = query(url, "select scope, n_units, national_area_km2, uncovered_km2, multiply_covered_km2, "
                      "outside_national_km2 from marts.region_layer_quality")
    assert {row[0] for row in rows} == {scope for scope, _n in regions if scope != "national"}
    for scope, n_units, national_km2, uncovered, multiple, outside in rows:
        units = [g for (s, _n), g in regions.items() if s == scope]
        union = shapely.union_all(units)
        pairs = [shapely.intersection(a, b) for k, a in enumerate(units) for b in units[k + 1:]]
        tolerance = 1e-6 * national.area / 1e6
        assert n_units == len(units)
        assert national_km2 == pytest.approx(national.area / 1e6, rel=1e-6)
        assert uncovered == pytest.approx(shapely.difference(national, union).area / 1e6, abs=tolerance)
        assert multiple == pytest.approx(shapely.intersection(shapely.union_all(pairs), national).area / 1e6, abs=tolerance)
        assert outside == pytest.approx(shapely.difference(union, national).area / 1e6, abs=tolerance)


def test_method_comparison(built, expected):
    rows = query(built[0].database_url,
                 "select product, member, scope, unit, method, mean_pgc_yr, difference_pct from marts.method_comparison")
    _compare({(p, m, s, u, method): v for p, m, s, u, method, v, _d in rows}, expected["methods"])
    wanted = expected["methods"]
    for p, m, s, u, method, _v, difference in rows:
        reference = wanted[(p, m, s, u, "exact_overlap")]
        assert difference == pytest.approx(100 * (wanted[(p, m, s, u, method)] - reference) / abs(reference),
                                           rel=1e-5, abs=1e-6)
    # the disagreeing cells move cropland and forest between the two land-cover orders
    assert any(abs(d) > 1e-3 for p, m, s, u, method, _v, d in rows if method == "merge_first" and u == "cropland")
