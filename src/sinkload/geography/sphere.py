"""Areas on the design's sphere (R = 6 371 000 m), measured on its cylindrical equal-area projection (pure).

x = R·λ, y = R·sin φ (λ, φ in radians) maps the sphere to the plane with areas preserved, so a planar area
there is the spherical area. Polygon edges are taken as lines in lon/lat, densified to 0.05° before
projecting (as the dbt models do)."""

from __future__ import annotations

import numpy as np
import shapely

R_M = 6_371_000.0
DENSIFY_DEG = 0.05


def to_cea(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry (lon/lat degrees) on the sphere's cylindrical equal-area plane (metres)."""
    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([R_M * np.radians(xy[:, 0]), R_M * np.sin(np.radians(xy[:, 1]))])

    return shapely.transform(shapely.segmentize(geom, DENSIFY_DEG), project)


def area_m2(geom: shapely.Geometry) -> float:
    """Area on the sphere in m² (for an invalid polygon: the signed-ring (shoelace) area of its rings)."""
    if geom is None or geom.is_empty:
        return 0.0
    return float(shapely.area(to_cea(geom)))


def area_km2(geom: shapely.Geometry) -> float:
    """Area on the sphere in km²."""
    return area_m2(geom) / 1e6
