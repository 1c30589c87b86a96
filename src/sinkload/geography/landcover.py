"""`sinkload ingest landcover`: the vegetation map (polygons, or a GeoTIFF of codes) -> raw.landcover."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import shapely
import yaml
from rasterio.errors import RasterioIOError
from rasterio.features import shapes
from shapely.geometry import shape

from sinkload.db.geometry import insert_polygons
from sinkload.db.warehouse import Warehouse
from sinkload.errors import SinkloadError, file_error
from sinkload.files import sha256_of
from sinkload.geography import checks
from sinkload.geography.layers import Unit
from sinkload.geography.names import integer_value
from sinkload.geography.regions import stored_nation
from sinkload.geography.sphere import area_km2
from sinkload.geography.vector import Repair, polygonal, read_features

RASTER_SUFFIXES = (".tif", ".tiff")


def load_classes(path: Path) -> dict[int, dict]:
    """code -> {group, class, is_ecosystem, rank} from warehouse/landcover_classes.yaml."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))["classes"]
        return {int(e["code"]): {"group": str(e["group"]), "class": str(e["class"]),
                                 "is_ecosystem": bool(e["is_ecosystem"]), "rank": int(e["rank"])} for e in entries}
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise file_error(path, f"not a valid land-cover class table ({exc})") from None


@dataclass(frozen=True)
class LandcoverSummary:
    """What a land-cover load stored: per code its group, class, polygon count and area (km², sphere)."""
    file_name: str
    rows: list[tuple[int, str, str, int, float]]
    repairs: list[Repair]
    findings: list[str] = field(default_factory=list)  # plain-text lines: the checks against the nation


def _code(file: Path, value: object, known: dict[int, dict]) -> int:
    code = integer_value(file, value, "vegetation code")
    if code not in known:
        raise file_error(file, f"unknown vegetation code {code} (known: {', '.join(map(str, sorted(known)))})")
    return code


def read_vector_codes(file: Path, code_field: str, known: dict[int, dict], file_layer: str | None = None
                      ) -> tuple[dict[int, shapely.Geometry], list[Repair], list[str]]:
    """Per code the union of its features, the repairs, and the findings of the overlap check (features of
    different codes may not overlap; features of one code are merged)."""
    features = read_features(file, code_field, file_layer=file_layer)
    codes = [_code(file, value, known) for value in features.values]
    findings = checks.check_overlaps(str(file), [Unit(f"code {code} (feature {k})", geom) for k, (code, geom)
                                                 in enumerate(zip(codes, features.geometries, strict=True), start=1)],
                                     groups=codes, what="land-cover features")
    grouped: dict[int, list] = {}
    for code, geom in zip(codes, features.geometries, strict=True):
        grouped.setdefault(code, []).append(geom)
    return {code: shapely.union_all(geoms) for code, geoms in grouped.items()}, features.repairs, findings


def read_raster_codes(file: Path, known: dict[int, dict]) -> dict[int, shapely.Geometry]:
    """Polygons of equal code from band 1 of a GeoTIFF in EPSG:4326 (NODATA, NaN and 0 are no land cover)."""
    try:
        with rasterio.open(file) as src:
            if src.crs is None or src.crs.to_epsg() != 4326:
                raise file_error(file, f"a land-cover raster must be in EPSG:4326 (found {src.crs})")
            codes = src.read(1)
            valid = codes != 0
            if src.nodata is not None and not np.isnan(src.nodata):
                valid &= codes != src.nodata
            if not np.issubdtype(codes.dtype, np.integer):
                valid &= ~np.isnan(codes)  # NaN is no code: missing, whatever the declared NODATA
                fractional = codes[valid & ~(np.isfinite(codes) & (codes == np.floor(codes)))]
                if fractional.size:
                    raise file_error(file, f"vegetation code {float(fractional[0])!r} is not an integer "
                                           f"(band 1 is {codes.dtype})")
            grouped: dict[int, list] = {}
            integers = np.where(valid, codes, 0).astype(np.int32)  # NaN cast to an integer warns
            for geometry, value in shapes(integers, mask=valid, transform=src.transform):
                grouped.setdefault(_code(file, value, known), []).append(shape(geometry))
    except RasterioIOError as exc:
        raise file_error(file, f"not a readable GeoTIFF ({str(exc).splitlines()[0]})") from None
    return {code: polygonal(file, shapely.union_all(geoms), code) for code, geoms in grouped.items()}


def ingest_landcover_file(warehouse: Warehouse, file: Path, code_field: str = "code",
                          before_commit: Callable[[LandcoverSummary], None] | None = None,
                          file_layer: str | None = None) -> LandcoverSummary:
    """Replace the land-cover layer (and the class table) in one transaction with `file` (its layer
    `file_layer`, for a vector file of several); `before_commit` sees the summary before the commit."""
    file = Path(file)
    known = load_classes(warehouse.settings.warehouse_dir / "landcover_classes.yaml")
    is_raster = file.suffix.lower() in RASTER_SUFFIXES
    if is_raster and file_layer is not None:
        raise file_error(file, "--file-layer is for vector files (a GeoTIFF's codes are band 1)")
    # a raster's polygons of different codes cannot overlap
    polygons, repairs, overlaps = ((read_raster_codes(file, known), [], []) if is_raster
                                   else read_vector_codes(file, code_field, known, file_layer))
    if not polygons:
        raise file_error(file, "no land-cover polygons")
    checks.check_landcover_ecosystems(str(file), list(polygons), known)
    digest = sha256_of(file)
    with warehouse.loading() as conn:
        findings = overlaps + checks.check_landcover_coverage(str(file), list(polygons.values()), stored_nation(conn))
        conn.execute("delete from raw.landcover")
        conn.execute("delete from raw.landcover_layer")
        conn.execute("delete from raw.landcover_class")
        with conn.cursor() as cur:
            cur.executemany("insert into raw.landcover_class (code, group_name, class, is_ecosystem, class_rank) "
                            "values (%s, %s, %s, %s, %s)",
                            [(c, e["group"], e["class"], e["is_ecosystem"], e["rank"]) for c, e in known.items()])
        insert_polygons(conn, "landcover", ("code",),
                        ((code, shapely.to_wkb(geom)) for code, geom in sorted(polygons.items())))
        conn.execute("insert into raw.landcover_layer (file_name, sha256, code_field, source_kind, file_layer) "
                     "values (%s, %s, %s, %s, %s)",
                     [file.name, digest, "band 1" if is_raster else code_field, "raster" if is_raster else "vector",
                      file_layer])
        summary = LandcoverSummary(file.name, [
            (code, known[code]["group"], known[code]["class"], len(getattr(geom, "geoms", [geom])), area_km2(geom))
            for code, geom in sorted(polygons.items())], repairs, findings)
        if before_commit is not None:
            before_commit(summary)
    return summary


__all__ = ["LandcoverSummary", "SinkloadError", "ingest_landcover_file", "load_classes"]
