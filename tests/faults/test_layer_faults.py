"""Bad region and land-cover layers (issue 10, item 5; issue 11, names as data): each is refused through the
CLI with exit 1 and one line naming the file and the problem, and schema `raw` and every mart view are
byte-identical afterwards (database_fingerprint). The database holds the small world of tests/support.py
(national, division, land cover, one MIP member), built, so the marts are not empty and the flux data give the
national layer's land check something to check against.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import psycopg
import pyogrio.raw
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely.geometry import Polygon, box, mapping

from tests.support import (
    DIVISIONS,
    LANDCOVER_CODES,
    build_world,
    database_fingerprint,
    fresh_database,
    run_cli,
    world_regions,
)

WORLD = box(110, 30, 114, 32)  # the small world's nation ("China"), tests.support.world_regions


@pytest.fixture(scope="module")
def world(server_url, base_settings, tmp_path_factory):
    with fresh_database(server_url, base_settings, "layerfaults") as settings:
        build_world(settings, tmp_path_factory.mktemp("world"))
        yield settings


def geojson(path: Path, features: list[tuple[dict, object]]) -> Path:
    """A FeatureCollection written as text, so that property values keep their JSON types (true, 3.9)."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": mapping(geom)} for props, geom in features]},
        ensure_ascii=False), encoding="utf-8")
    return path


def regions(layer: str, *extra: str) -> list[str]:
    return ["regions", "--layer", layer, "--name-field", "name", *extra]


BOWTIE = Polygon([(111, 30), (113, 32), (113, 30), (111, 32)])  # self-intersecting: make_valid halves its area
ATLANTIC = box(-31, 30, -30, 31)

CASES = {
    "duplicate names": (regions("division"), [({"name": "North"}, box(110, 31, 112, 32)),
                                              ({"name": " North "}, box(112, 31, 114, 32))], "duplicate unit name"),
    "empty name": (regions("division"), [({"name": "North"}, box(110, 31, 112, 32)),
                                         ({"name": "   "}, box(112, 31, 114, 32))], "empty name"),
    "missing name": (regions("division"), [({"name": None}, box(110, 31, 112, 32))], "empty name"),
    "multi-line name": (regions("division"), [({"name": "North\nSouth"}, box(110, 31, 112, 32))], "one line"),
    "name clearing the terminal": (regions("zones"), [({"name": "\x1b[2J\x1b[31mRED\x1b[0m"}, WORLD)],
                                   "'\\x1b[2J\\x1b[31mRED\\x1b[0m' holds the control character '\\x1b'"),
    "name with a bell and a backspace": (regions("zones"), [({"name": "back\bspace\x07bell"}, WORLD)],
                                         "holds the control character '\\x08'"),
    "name that is a JSON object": (regions("zones"), [({"name": {"zh": "北", "en": "N"}}, WORLD)],
                                   "is a JSON object, not text"),
    "Atlantic nation": (regions("national"), [({"name": "China"}, ATLANTIC)], "outline of CHN"),
    "Atlantic nation without a code": (regions("national", "--iso3", "none"), [({"name": "Atlantis"}, ATLANTIC)],
                                       "land of the loaded flux data"),
    "nation larger than any country": (regions("national", "--iso3", "none"),
                                       [({"name": "Pangaea"}, box(-170, -80, 170, 80))], "larger than any country"),
    "two national units": (regions("national"), [({"name": "A"}, box(110, 30, 112, 32)),
                                                 ({"name": "B"}, box(112, 30, 114, 32))], "exactly one unit"),
    "division outside the nation": (regions("division", "--tiles-national"),
                                    [({"name": "North"}, box(110, 30, 114, 32)), ({"name": "Far"}, box(120, 40, 121, 41))],
                                    "outside the national unit"),
    "overlapping units": (regions("zones"), [({"name": "A"}, box(110, 30, 113, 32)), ({"name": "B"}, box(112, 30, 114, 32))],
                          "overlap"),
    "self-intersecting polygon": (regions("zones"), [({"name": "Bowtie"}, BOWTIE)], "self-intersecting"),
    "coordinates off the globe": (regions("zones"), [({"name": "Metres"}, box(12e6, 3e6, 12.5e6, 3.5e6))],
                                  "outside longitude"),
    "layer name with a dash": (regions("my-zones"), [({"name": "A"}, WORLD)], "layer name"),
    "reserved layer name": (regions("ecosystem"), [({"name": "forest"}, WORLD)], "reserved"),
    "fractional rank": (regions("zones", "--rank-field", "rank"), [({"name": "A", "rank": 2.5}, WORLD)], "rank"),
    "iso3 on another layer": (regions("zones", "--iso3", "CHN"), [({"name": "A"}, WORLD)], "national layer only"),
    "fractional land-cover code": (["landcover", "--code-field", "code"],
                                   [({"code": 3}, box(110, 30, 112, 32)), ({"code": 3.9}, box(112, 30, 114, 32))],
                                   "3.9 is not an integer"),
    "land cover elsewhere": (["landcover", "--code-field", "code"],
                             [({"code": c}, box(10 + k, 30, 11 + k, 32)) for k, c in enumerate((1, 4, 6, 11))],
                             "covers 0 % of the national unit's area, less than 25 %"),
    "boolean land-cover code": (["landcover", "--code-field", "code"],
                                [({"code": 3}, box(110, 30, 112, 32)), ({"code": True}, box(112, 30, 114, 32))],
                                "boolean"),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("case", list(CASES))
def test_bad_layer_is_refused_and_changes_nothing(world, tmp_path, case):
    args, features, words = CASES[case]
    path = geojson(tmp_path / f"{case.replace(' ', '_')}.geojson", features)
    with psycopg.connect(world.database_url) as conn:
        before = database_fingerprint(conn)
    result = run_cli(world, "ingest", args[0], path, *args[1:])
    assert result.returncode == 1, (case, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and path.name in lines[0] and words.lower() in lines[0].lower(), (case, result.stderr)
    assert lines[0].isprintable(), (case, result.stderr)  # no control character reaches the terminal
    with psycopg.connect(world.database_url) as conn:
        assert database_fingerprint(conn) == before, case


@pytest.mark.bad_input
def test_boolean_code_column_of_a_geopackage_is_refused(world, tmp_path):
    path = tmp_path / "bool_codes.gpkg"
    pyogrio.raw.write(path, np.array([shapely.to_wkb(shapely.multipolygons([WORLD]))], dtype=object),
                      [np.array([True])], fields=["code"], geometry_type="MultiPolygon", crs="EPSG:4326", driver="GPKG")
    with psycopg.connect(world.database_url) as conn:
        before = database_fingerprint(conn)
    result = run_cli(world, "ingest", "landcover", path, "--code-field", "code")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert path.name in result.stderr and "boolean" in result.stderr
    with psycopg.connect(world.database_url) as conn:
        assert database_fingerprint(conn) == before


def test_a_name_rich_would_read_as_markup_is_stored_and_printed_verbatim(world, tmp_path):
    """`North[/]` made rich raise after the commit (issue 10): names are data, printed as plain text."""
    names = ["North[/]", "[red]South[/red]", "[/]"]
    path = geojson(tmp_path / "markup[v2].geojson",
                   [({"name": n}, box(110 + k, 30, 111 + k, 31)) for k, n in enumerate(names)])
    result = run_cli(world, "ingest", "regions", path, *regions("markup_names")[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    for name in names:
        assert name in result.stdout
    assert "markup[v2].geojson" in result.stdout
    with psycopg.connect(world.database_url) as conn:
        stored = {r[0] for r in conn.execute("select name from raw.region where scope = 'markup_names'")}
    assert stored == set(names)


def test_a_small_repair_is_reported_with_the_area_it_changed(world, tmp_path):
    # a ring that touches itself in one point: valid after repair with the same area (0 km² changed)
    ring = [(110, 30), (112, 30), (112, 31), (111, 30), (110, 31), (110, 30)]
    path = geojson(tmp_path / "touching.geojson", [({"name": "Touching"}, Polygon(ring))])
    assert not Polygon(ring).is_valid
    result = run_cli(world, "ingest", "regions", path, *regions("repaired")[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "repaired feature 'Touching': area changed by" in result.stdout


def test_three_dimensional_layers_load_as_two_dimensional(world, tmp_path):
    """A Shapefile PolygonZ region layer and a GeoJSON land cover with heights: Z dropped on read, the same
    polygons stored in 2-D (PostGIS refused Z in the 2-D columns with a traceback)."""
    zones = {"Z1": box(110, 30, 112, 32), "Z2": box(112, 30, 114, 32)}
    shp = tmp_path / "zones_z.shp"
    pyogrio.raw.write(shp, np.array([shapely.to_wkb(shapely.force_3d(g, 50.0)) for g in zones.values()], dtype=object),
                      [np.array(list(zones), dtype=object)], fields=["name"], geometry_type="Polygon Z",
                      crs="EPSG:4326", driver="ESRI Shapefile")
    result = run_cli(world, "ingest", "regions", shp, *regions("zones_z")[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    landcover = [({"code": code}, shapely.force_3d(geom, 100.0)) for geom, code in
                 ((box(110, 31, 112, 32), 1), (box(110, 30, 112, 31), 4), (box(112, 31, 114, 32), 6),
                  (box(112, 30, 114, 31), 11))]  # the small world's land cover (tests.support), with heights
    result = run_cli(world, "ingest", "landcover", geojson(tmp_path / "landcover_z.geojson", landcover),
                     "--code-field", "code")
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(world.database_url) as conn:
        stored = conn.execute("select name, st_ndims(geom), st_asbinary(geom) from raw.region "
                              "where scope = 'zones_z'").fetchall()
        covers = conn.execute("select code, st_ndims(geom), st_asbinary(geom) from raw.landcover").fetchall()
    assert {name: dims for name, dims, _ in stored} == {"Z1": 2, "Z2": 2}
    for name, _, wkb in stored:
        assert shapely.equals(shapely.from_wkb(bytes(wkb)), zones[name]), name
    assert {code: dims for code, dims, _ in covers} == {1: 2, 4: 2, 6: 2, 11: 2}
    for code, _, wkb in covers:
        assert shapely.equals(shapely.from_wkb(bytes(wkb)),
                              next(shapely.force_2d(g) for p, g in landcover if p["code"] == code)), code


def _nan_vertex(folder: Path) -> Path:
    path = folder / "nan_vertex.gpkg"
    with np.errstate(invalid="ignore"):
        polygon = shapely.Polygon([(110, 30), (111, 30), (float("nan"), 31), (110, 31)])
    pyogrio.raw.write(path, np.array([shapely.to_wkb(polygon)], dtype=object), [np.array(["N"], dtype=object)],
                      fields=["name"], geometry_type="Polygon", crs="EPSG:4326", driver="GPKG")
    return path


def _unclosed_ring(folder: Path) -> Path:
    path = folder / "unclosed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "Open"},
        "geometry": {"type": "Polygon", "coordinates": [[[110, 30], [111, 30], [111, 31], [110, 31]]]}}]}))
    return path


def _empty_collection(folder: Path) -> Path:
    path = folder / "empty_collection.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    return path


def _directory(folder: Path) -> Path:
    geojson(folder / "inside.geojson", [({"name": "A"}, WORLD)])
    pyogrio.raw.write(folder / "inside.shp", np.array([shapely.to_wkb(WORLD)], dtype=object),
                      [np.array(["A"], dtype=object)], fields=["name"], geometry_type="Polygon", crs="EPSG:4326",
                      driver="ESRI Shapefile")  # GDAL reads a folder of Shapefiles as a data set
    return folder


def _long_name(folder: Path) -> Path:
    return geojson(folder / "long_name.geojson", [({"name": "长" * 3000}, WORLD)])


MALFORMED = {
    "NaN vertex": (regions("zones"), _nan_vertex, "feature 'N' has a vertex that is not a number"),
    "unclosed ring": (regions("zones"), _unclosed_ring, "feature 'Open' is not a valid geometry"),
    "empty FeatureCollection": (regions("zones"), _empty_collection, "no features"),
    "empty land-cover FeatureCollection": (["landcover", "--code-field", "code"], _empty_collection, "no features"),
    "directory": (regions("zones"), _directory, "is a directory"),
    "name of 3,000 characters": (regions("zones"), _long_name, "has 3,000 characters, more than 200"),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_file_is_refused_in_one_line_and_changes_nothing(world, tmp_path, case):
    args, make, words = MALFORMED[case]
    path = make(tmp_path)
    with psycopg.connect(world.database_url) as conn:
        before = database_fingerprint(conn)
    result = run_cli(world, "ingest", args[0], path, *args[1:])
    assert result.returncode == 1, (case, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and path.name in lines[0] and words in lines[0], (case, result.stderr)
    with psycopg.connect(world.database_url) as conn:
        assert database_fingerprint(conn) == before, case


def test_float_landcover_raster_with_nan_nodata_loads_nan_as_missing(world, tmp_path):
    """A float32 GeoTIFF whose NODATA is NaN (NaN != NaN: the NaN cells were cast to -2147483648 and refused
    as an unknown code). The small world's land cover on a 0.25° grid in a NaN frame: stored as the world's."""
    west, north, step = 109.0, 33.0, 0.25
    codes = np.full((int(4 / step) + 8, int(6 / step)), np.nan, np.float32)  # 109..115 E x 29..33 N
    for name, (w, s, e, n) in DIVISIONS.items():
        codes[int((north - n) / step):int((north - s) / step), int((w - west) / step):int((e - west) / step)] = \
            LANDCOVER_CODES[name]
    path = tmp_path / "landcover_nan.tif"
    with rasterio.open(path, "w", driver="GTiff", height=codes.shape[0], width=codes.shape[1], count=1,
                       dtype="float32", crs="EPSG:4326", transform=from_origin(west, north, step, step),
                       nodata=float("nan")) as dst:
        dst.write(codes, 1)
    result = run_cli(world, "ingest", "landcover", path)
    assert result.returncode == 0 and not result.stderr, result.stdout + result.stderr  # no cast warning either
    with psycopg.connect(world.database_url) as conn:
        stored = {code: shapely.from_wkb(bytes(wkb))
                  for code, wkb in conn.execute("select code, st_asbinary(geom) from raw.landcover")}
    assert set(stored) == set(LANDCOVER_CODES.values())
    for name, bounds in DIVISIONS.items():
        assert shapely.equals(stored[LANDCOVER_CODES[name]], box(*bounds)), name


def two_layer_geopackage(path: Path) -> Path:
    """Layer 'first' holds unit A (the west half of the nation), layer 'second' units B and C (the east half)."""
    for layer, units in (("first", {"A": box(110, 30, 112, 32)}),
                         ("second", {"B": box(112, 30, 113, 32), "C": box(113, 30, 114, 32)})):
        pyogrio.raw.write(path, np.array([shapely.to_wkb(g) for g in units.values()], dtype=object),
                          [np.array(list(units), dtype=object)], fields=["name"], geometry_type="Polygon",
                          crs="EPSG:4326", driver="GPKG", layer=layer, append=path.exists())
    return path


@pytest.mark.bad_input
@pytest.mark.parametrize("choice, words", [((), "has 2 layers ('first', 'second'): choose one with --file-layer NAME"),
                                           (("--file-layer", "third"), "no layer 'third' (layers: 'first', 'second')")])
def test_a_file_of_several_layers_is_refused_unless_one_is_chosen(world, tmp_path, choice, words):
    path = two_layer_geopackage(tmp_path / "two_layers.gpkg")
    with psycopg.connect(world.database_url) as conn:
        before = database_fingerprint(conn)
    for args in (regions("two_layers", *choice), ["landcover", "--code-field", "name", *choice]):
        result = run_cli(world, "ingest", args[0], path, *args[1:])
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and path.name in lines[0] and words in lines[0], (args, result.stderr)
    with psycopg.connect(world.database_url) as conn:
        assert database_fingerprint(conn) == before


def test_the_chosen_layer_of_a_geopackage_is_loaded(world, tmp_path):
    path = two_layer_geopackage(tmp_path / "two_layers.gpkg")
    result = run_cli(world, "ingest", "regions", path, *regions("chosen", "--file-layer", "second")[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(world.database_url) as conn:
        stored = {name: shapely.from_wkb(bytes(wkb)) for name, wkb in
                  conn.execute("select name, st_asbinary(geom) from raw.region where scope = 'chosen'")}
    assert set(stored) == {"B", "C"}
    assert shapely.equals(stored["B"], box(112, 30, 113, 32)) and shapely.equals(stored["C"], box(113, 30, 114, 32))
    with psycopg.connect(world.database_url) as conn:
        recorded = conn.execute("select file_layer, encoding from raw.region_layer where scope = 'chosen'").fetchone()
    assert recorded == ("second", None)  # provenance: which layer of the file


def test_the_chosen_layer_of_a_land_cover_geopackage_is_recorded(world, tmp_path):
    path = tmp_path / "landcover_layers.gpkg"
    for layer, code in (("barren", 5), ("forest", 1)):
        pyogrio.raw.write(path, np.array([shapely.to_wkb(WORLD)], dtype=object), [np.array([code])],
                          fields=["code"], geometry_type="Polygon", crs="EPSG:4326", driver="GPKG", layer=layer,
                          append=path.exists())
    try:
        result = run_cli(world, "ingest", "landcover", path, "--code-field", "code", "--file-layer", "forest")
        assert result.returncode == 0, result.stdout + result.stderr
        with psycopg.connect(world.database_url) as conn:
            assert conn.execute("select file_layer from raw.landcover_layer").fetchone() == ("forest",)
            assert [r[0] for r in conn.execute("select code from raw.landcover")] == [1]
    finally:
        restore_world_landcover(world, tmp_path)


def test_a_nested_geometry_collection_keeps_its_inner_polygons(world, tmp_path):
    """GC(GC(A), B) stored only B: every polygonal part is kept, at any depth."""
    inner, outer = box(110, 30, 111, 31), box(111, 30, 112, 31)
    path = tmp_path / "nested.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "GC"},
        "geometry": {"type": "GeometryCollection", "geometries": [
            {"type": "GeometryCollection", "geometries": [mapping(inner)]}, mapping(outer)]}}]}))
    result = run_cli(world, "ingest", "regions", path, *regions("nested")[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(world.database_url) as conn:
        (wkb,) = conn.execute("select st_asbinary(geom) from raw.region where scope = 'nested'").fetchone()
    assert shapely.equals(shapely.from_wkb(bytes(wkb)), shapely.union_all([inner, outer]))


TO_SPHERE_CEA = pyproj.Transformer.from_crs("+proj=longlat +R=6371000 +no_defs", "+proj=cea +R=6371000 +no_defs",
                                            always_xy=True)


def covered_share(nation: shapely.Geometry, cover: shapely.Geometry) -> float:
    """Independent: the share of the nation's area (sphere, pyproj's cylindrical equal-area) inside cover."""
    return equal_area_km2(shapely.intersection(nation, cover)) / equal_area_km2(nation)


def equal_area_km2(geom: shapely.Geometry) -> float:
    """Independent: the area on the sphere (pyproj's cylindrical equal-area, edges densified to 0.05°), km²."""
    dense = shapely.segmentize(geom, 0.05)
    return shapely.transform(dense, lambda xy: np.column_stack(TO_SPHERE_CEA.transform(xy[:, 0], xy[:, 1]))).area / 1e6


def refused_landcover(world, path: Path) -> str:
    """`ingest landcover path` refused: exit 1, one line naming the file (returned), the database unchanged."""
    with psycopg.connect(world.database_url) as conn:
        before = database_fingerprint(conn)
    result = run_cli(world, "ingest", "landcover", path, "--code-field", "code")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and path.name in lines[0], result.stderr
    with psycopg.connect(world.database_url) as conn:
        assert database_fingerprint(conn) == before
    return lines[0]


def restore_world_landcover(world, tmp_path: Path) -> None:
    """The small world's land cover back, for the other tests of the module."""
    whole = [({"code": code}, box(*DIVISIONS[name])) for name, code in LANDCOVER_CODES.items()]
    assert run_cli(world, "ingest", "landcover", geojson(tmp_path / "world.geojson", whole),
                   "--code-field", "code").returncode == 0


def reported_share(text: str, after: str) -> float:
    return float(text.split(after)[1].split(" %")[0])


@pytest.mark.bad_input
def test_a_land_cover_of_a_small_part_of_the_nation_is_refused_with_its_share(world, tmp_path):
    """1 % of the nation: each of its cells would count whole for its class in the marts."""
    cover = box(110, 30, 110.2, 30.4)
    line = refused_landcover(world, geojson(tmp_path / "landcover_corner.geojson", [({"code": 11}, cover)]))
    assert "less than 25 %" in line, line
    assert reported_share(line, "covers ") == pytest.approx(100 * covered_share(WORLD, cover), abs=0.1)


@pytest.mark.bad_input
def test_a_land_cover_without_ecosystem_classes_is_refused(world, tmp_path):
    """Desert and swamp over the whole nation: every ecosystem row of the next build was empty."""
    west, east = box(100, 25, 110, 45), box(110, 25, 125, 45)
    line = refused_landcover(world, geojson(tmp_path / "landcover_barren.geojson",
                                            [({"code": 5}, west), ({"code": 9}, east)]))
    assert "none of its classes (desert, swamp) is an ecosystem class" in line, line


def test_the_land_cover_reports_the_share_of_the_nation_it_covers(world, tmp_path):
    covers = [({"code": 1}, box(110, 30, 112, 32)), ({"code": 11}, box(112, 30, 113, 31.5))]  # not the whole nation
    result = run_cli(world, "ingest", "landcover", geojson(tmp_path / "landcover_part.geojson", covers),
                     "--code-field", "code")
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        expected = 100 * covered_share(WORLD, shapely.union_all([g for _, g in covers]))
        assert reported_share(result.stdout, "the land cover covers ") == pytest.approx(expected, abs=0.2)
    finally:
        restore_world_landcover(world, tmp_path)


def test_a_new_nation_reports_the_share_the_stored_land_cover_covers(server_url, base_settings, tmp_path):
    """Replacing the national layer reports the stored land cover's coverage of the new nation, without
    refusing (the land cover is replaced next)."""
    with fresh_database(server_url, base_settings, "lcnation") as settings:
        national, _divisions, landcover = world_regions(tmp_path)
        for args in (["regions", national, "--layer", "national", "--name-field", "name"],
                     ["landcover", landcover, "--code-field", "code"]):
            assert run_cli(settings, "ingest", *args).returncode == 0
        larger = box(100, 25, 120, 40)  # the land cover (the old nation) is a few per cent of it
        path = geojson(tmp_path / "larger.geojson", [({"name": "China"}, larger)])
        result = run_cli(settings, "ingest", "regions", path, "--layer", "national", "--name-field", "name")
        assert result.returncode == 0, result.stdout + result.stderr
        share = reported_share(result.stdout, "land cover: the land cover covers ")
        assert share == pytest.approx(100 * covered_share(larger, WORLD), abs=0.2) and share < 25


@pytest.mark.bad_input
def test_land_cover_features_of_different_codes_may_not_overlap(world, tmp_path):
    """Forest over the whole nation and cropland over its west half: ecosystems added up to more than the
    nation. Refused naming both features and the km² (pyproj's equal-area, independent of the package)."""
    forest, cropland = WORLD, box(110, 30, 112, 32)
    line = refused_landcover(world, geojson(tmp_path / "landcover_overlap.geojson",
                                            [({"code": 1}, forest), ({"code": 11}, cropland)]))
    assert "land-cover features 'code 1 (feature 1)' and 'code 11 (feature 2)' overlap by" in line, line
    km2 = float(line.split("overlap by ")[1].split(" km²")[0].replace(",", ""))
    assert km2 == pytest.approx(covered_share(WORLD, cropland) * equal_area_km2(WORLD), abs=0.1)


def test_land_cover_features_of_one_code_may_overlap(world, tmp_path):
    """Features of one code are merged: their overlap is no double count."""
    covers = [({"code": c}, box(*DIVISIONS[name])) for name, c in LANDCOVER_CODES.items()]
    covers.append(({"code": LANDCOVER_CODES["North"]}, box(110.5, 31, 111.5, 32)))  # inside North, same code
    result = run_cli(world, "ingest", "landcover", geojson(tmp_path / "landcover_same_code.geojson", covers),
                     "--code-field", "code")
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(world.database_url) as conn:
        (wkb,) = conn.execute("select st_asbinary(geom) from raw.landcover where code = %s",
                              [LANDCOVER_CODES["North"]]).fetchone()
    assert shapely.equals(shapely.from_wkb(bytes(wkb)), box(*DIVISIONS["North"]))


PROVINCES = {"湖北省": box(110, 30, 112, 32), "湖南省": box(112, 30, 114, 32)}


def shapefile_without_cpg(path: Path, encoding: str) -> Path:
    pyogrio.raw.write(path, np.array([shapely.to_wkb(g) for g in PROVINCES.values()], dtype=object),
                      [np.array(list(PROVINCES), dtype=object)], fields=["name"], geometry_type="Polygon",
                      crs="EPSG:4326", driver="ESRI Shapefile", encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


@pytest.mark.bad_input
def test_a_shapefile_of_undeclared_non_utf8_text_is_refused(world, tmp_path):
    """GBK names without a .cpg were read as ISO-8859-1 and stored as mojibake ('ºþ±±Ê¡')."""
    path = shapefile_without_cpg(tmp_path / "gbk.shp", "GBK")
    with psycopg.connect(world.database_url) as conn:
        before = database_fingerprint(conn)
    result = run_cli(world, "ingest", "regions", path, *regions("gbk")[1:])
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and path.name in lines[0] and "is not UTF-8" in lines[0] and "--encoding" in lines[0], \
        result.stderr
    with psycopg.connect(world.database_url) as conn:
        assert database_fingerprint(conn) == before


@pytest.mark.parametrize("encoding, args", [("GBK", ("--encoding", "GBK")), ("UTF-8", ())])
def test_a_shapefile_without_cpg_stores_its_names_in_the_given_or_utf8_encoding(world, tmp_path, encoding, args):
    path = shapefile_without_cpg(tmp_path / "provinces.shp", encoding)
    scope = f"provinces_{encoding.replace('-', '').lower()}"
    result = run_cli(world, "ingest", "regions", path, *regions(scope, *args)[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(world.database_url) as conn:
        stored = {r[0] for r in conn.execute("select name from raw.region where scope = %s", [scope])}
        recorded = conn.execute("select encoding from raw.region_layer where scope = %s", [scope]).fetchone()[0]
    assert stored == set(PROVINCES)
    assert recorded == (args[1] if args else None)  # provenance: the encoding the names were read in
