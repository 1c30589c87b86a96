"""Reading vector layers (GeoJSON, Shapefile, GeoPackage, ...) into valid shapely geometries in EPSG:4326.

Z and M coordinates (Shapefile PolygonZ, GeoJSON with heights) are dropped on read. Invalid (e.g.
self-intersecting) polygons are repaired with make_valid; each repair is reported with the
area it changed on the sphere, and refused when that exceeds REPAIR_TOLERANCE of the repaired area."""

from __future__ import annotations

import codecs
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio.raw
import pyproj
import shapely
from pyogrio.errors import DataSourceError

from sinkload.errors import file_error
from sinkload.geography.sphere import area_km2

REPAIR_TOLERANCE = 0.01  # share of a feature's repaired area a repair may change
GEOJSON_SUFFIXES = (".geojson", ".json")


@dataclass(frozen=True)
class Repair:
    """A feature whose geometry was invalid and repaired: the area the repair changed, km² and %."""
    label: str
    changed_km2: float
    changed_pct: float


@dataclass(frozen=True)
class Features:
    values: list[object]  # the attribute of each feature, as the file has it
    geometries: list[shapely.Geometry]  # valid (Multi)Polygons, EPSG:4326
    source_crs: str
    repairs: list[Repair] = field(default_factory=list)
    fields: dict[str, list[object]] = field(default_factory=dict)  # further attributes asked for


def read_features(path: Path, field_name: str, extra_fields: tuple[str, ...] = (),
                  file_layer: str | None = None, encoding: str | None = None) -> Features:
    """Features with `field_name` (and `extra_fields`) of the file's one layer (or of `file_layer`), reprojected
    to EPSG:4326, repaired; polygons only. `encoding`: the text encoding of a Shapefile's .dbf (a .cpg file
    says it otherwise; without either, UTF-8 text is read as UTF-8 and other bytes are refused)."""
    path = Path(path)
    if not path.exists():
        raise file_error(path, "file not found")
    if path.is_dir():
        raise file_error(path, "is a directory, not a file")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise file_error(path, f"unknown encoding {encoding!r} (--encoding)") from None
    try:
        with warnings.catch_warnings():  # GDAL's warnings (an unclosed ring) would print lines of their own
            warnings.simplefilter("ignore", RuntimeWarning)
            layer = _chosen_layer(path, [str(name) for name in pyogrio.list_layers(path)[:, 0]], file_layer)
            meta, _fids, wkb, field_data = pyogrio.raw.read(path, layer=layer, encoding=encoding)
            if encoding is None and _undeclared_shapefile_text(path, meta, field_data, (field_name, *extra_fields)):
                meta, _fids, wkb, field_data = pyogrio.raw.read(path, layer=layer, encoding="UTF-8")
    except (DataSourceError, OSError, ValueError) as exc:
        raise file_error(path, f"not a readable vector file ({str(exc).splitlines()[0]})") from None
    if len(wkb) == 0:
        raise file_error(path, "no features")
    fields = list(meta["fields"])
    for name in (field_name, *extra_fields):
        if name not in fields:
            raise file_error(path, f"no field {name!r} (fields: {', '.join(fields) or 'none'})")
    if not meta.get("crs"):
        raise file_error(path, "unknown CRS (the file declares none)")
    try:
        crs = pyproj.CRS.from_user_input(meta["crs"])
    except pyproj.exceptions.CRSError:
        raise file_error(path, f"unknown CRS {meta['crs']!r}") from None
    geometries = shapely.force_2d(_geometries(path, wkb, list(field_data[fields.index(field_name)])))
    if crs.to_epsg() != 4326:
        transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        geometries = shapely.transform(geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    columns = {name: _values(path, name, list(field_data[fields.index(name)])) for name in (field_name, *extra_fields)}
    values = columns[field_name]
    repairs: list[Repair] = []
    polygons = [polygonal(path, g, v, repairs) for g, v in zip(geometries, values, strict=True)]
    return Features(values, polygons, crs.to_string(), repairs, {k: columns[k] for k in extra_fields})


def _undeclared_shapefile_text(path: Path, meta: dict, field_data: list, names: tuple[str, ...]) -> bool:
    """For a Shapefile without .cpg (GDAL then reads its .dbf as ISO-8859-1): whether the fields' text is
    UTF-8 (read it again as UTF-8); text that is neither ASCII nor UTF-8 is refused."""
    if path.suffix.lower() != ".shp" or any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")) \
            or str(meta.get("encoding", "")).upper() != "ISO-8859-1":
        return False
    fields = list(meta["fields"])
    texts = [v for name in names if name in fields for v in field_data[fields.index(name)]
             if isinstance(v, str) and not v.isascii()]
    for text in texts:
        try:
            text.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            raise file_error(path, f"text {text.encode('latin-1')[:24]!r} is not UTF-8 and the Shapefile has no .cpg "
                                   "file: give its encoding with --encoding (e.g. GBK, BIG5, ISO-8859-1)") from None
    return bool(texts)


def _chosen_layer(path: Path, layers: list[str], file_layer: str | None) -> str | None:
    """The layer to read: `file_layer` if the file has it, else the file's only layer."""
    listed = ", ".join(map(repr, layers)) or "none"
    if file_layer is not None:
        if file_layer not in layers:
            raise file_error(path, f"no layer {file_layer!r} (layers: {listed})")
        return file_layer
    if len(layers) > 1:
        raise file_error(path, f"has {len(layers)} layers ({listed}): choose one with --file-layer NAME")
    return None


def _geometries(path: Path, wkb: np.ndarray, labels: list[object]) -> np.ndarray:
    """The features' geometries from WKB; one GEOS refuses (an unclosed ring) is named by its label. Z and M
    are dropped afterwards (the warehouse is 2-D)."""
    try:
        with np.errstate(invalid="ignore"):  # a NaN vertex (refused by polygonal) would print a warning
            return shapely.from_wkb(wkb)
    except shapely.errors.GEOSException:
        for one, label in zip(wkb, labels, strict=True):
            try:
                shapely.from_wkb(one)
            except shapely.errors.GEOSException as exc:
                raise file_error(path, f"feature {label!r} is not a valid geometry ({_geos_message(exc)})") from None
        raise


def _geos_message(exc: Exception) -> str:
    return str(exc).splitlines()[0].removeprefix("IllegalArgumentException: ")


def _values(path: Path, name: str, from_gdal: list[object]) -> list[object]:
    """A GeoJSON attribute as the JSON has it (GDAL coerces a column of `3` and `true` to integers 3 and 1);
    other formats' typed columns as GDAL reads them."""
    if path.suffix.lower() not in GEOJSON_SUFFIXES:
        return from_gdal
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        raw = [(feature.get("properties") or {}).get(name) for feature in document["features"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return from_gdal
    return raw if len(raw) == len(from_gdal) else from_gdal


def polygonal(path: Path, geom: shapely.Geometry | None, label: object,
              repairs: list[Repair] | None = None) -> shapely.Geometry:
    """A valid (Multi)Polygon in lon/lat bounds, or a clear error; a repair is appended to `repairs`."""
    if geom is None or geom.is_empty:
        raise file_error(path, f"feature {label!r} has an empty geometry")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise file_error(path, f"feature {label!r} has a vertex that is not a number (NaN or infinity)")
    west, south, east, north = geom.bounds
    if not (-180 - 1e-9 <= west and east <= 180 + 1e-9 and -90 - 1e-9 <= south and north <= 90 + 1e-9):
        raise file_error(path, f"feature {label!r} lies outside longitude -180..180 / latitude -90..90 "
                               f"(bounds {west:.6g}, {south:.6g}, {east:.6g}, {north:.6g}): is the declared CRS right?")
    original = geom
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = polygon_parts(geom)
    if not parts:
        raise file_error(path, f"feature {label!r} is a {geom.geom_type}, not a polygon")
    merged = shapely.union_all(parts)
    if merged.is_empty or merged.area == 0:
        raise file_error(path, f"feature {label!r} has no area")
    if original is not geom:
        _record_repair(path, label, original, merged, repairs)
    return merged


def polygon_parts(geom: shapely.Geometry) -> list[shapely.Geometry]:
    """The (Multi)Polygons of a geometry, inside GeometryCollections at any depth; lines and points dropped."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return [geom]
    if geom.geom_type == "GeometryCollection":
        return [part for member in geom.geoms for part in polygon_parts(member)]
    return []


def _record_repair(path: Path, label: object, original: shapely.Geometry, repaired: shapely.Geometry,
                   repairs: list[Repair] | None) -> None:
    after = area_km2(repaired)
    changed = abs(after - area_km2(original))
    share = changed / after if after > 0 else 1.0
    if share > REPAIR_TOLERANCE:
        raise file_error(path, f"feature {label!r} is an invalid (self-intersecting) polygon: repairing it changes "
                               f"its area by {changed:,.1f} km² ({100 * share:.3g} %, more than "
                               f"{100 * REPAIR_TOLERANCE:g} %); fix the polygon")
    if repairs is not None:
        repairs.append(Repair(str(label), changed, 100 * share))
