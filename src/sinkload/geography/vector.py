"""Reading vector layers (GeoJSON, Shapefile, GeoPackage, ...) into valid shapely geometries in EPSG:4326."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio.raw
import pyproj
import shapely
from pyogrio.errors import DataSourceError

from sinkload.errors import file_error


@dataclass(frozen=True)
class Features:
    values: list[object]  # the attribute of each feature
    geometries: list[shapely.Geometry]  # valid (Multi)Polygons, EPSG:4326
    source_crs: str


def read_features(path: Path, field: str) -> Features:
    """Features with `field`, reprojected to EPSG:4326, repaired with make_valid; polygons only."""
    if not Path(path).exists():
        raise file_error(path, "file not found")
    try:
        meta, _fids, wkb, field_data = pyogrio.raw.read(path)
    except (DataSourceError, OSError, ValueError) as exc:
        raise file_error(path, f"not a readable vector file ({str(exc).splitlines()[0]})") from None
    fields = list(meta["fields"])
    if field not in fields:
        raise file_error(path, f"no field {field!r} (fields: {', '.join(fields) or 'none'})")
    if not meta.get("crs"):
        raise file_error(path, "unknown CRS (the file declares none)")
    try:
        crs = pyproj.CRS.from_user_input(meta["crs"])
    except pyproj.exceptions.CRSError:
        raise file_error(path, f"unknown CRS {meta['crs']!r}") from None
    geometries = shapely.from_wkb(wkb)
    if crs.to_epsg() != 4326:
        transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        geometries = shapely.transform(geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    values = list(field_data[fields.index(field)])
    return Features(values, [polygonal(path, g, v) for g, v in zip(geometries, values, strict=True)], crs.to_string())


def polygonal(path: Path, geom: shapely.Geometry | None, label: object) -> shapely.Geometry:
    """A valid (Multi)Polygon, or a clear error."""
    if geom is None or geom.is_empty:
        raise file_error(path, f"feature {label!r} has an empty geometry")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        raise file_error(path, f"feature {label!r} is a {geom.geom_type}, not a polygon")
    merged = shapely.union_all(parts)
    if merged.is_empty or merged.area == 0:
        raise file_error(path, f"feature {label!r} has no area")
    return merged
