"""The polygonal parts of a feature's geometry (sinkload.geography.vector.polygon_parts, pure)."""

from __future__ import annotations

import shapely
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, box

from sinkload.geography.vector import polygon_parts

A, B, C = box(0, 0, 1, 1), box(2, 0, 3, 1), box(4, 0, 5, 1)


def test_nested_collections_keep_every_polygon():
    nested = GeometryCollection([GeometryCollection([A, GeometryCollection([C, Point(9, 9)])]), B,
                                 LineString([(0, 0), (5, 5)])])
    parts = polygon_parts(nested)
    assert len(parts) == 3
    assert shapely.equals(shapely.union_all(parts), MultiPolygon([A, B, C]))


def test_polygons_and_non_polygons():
    assert polygon_parts(A) == [A]
    assert polygon_parts(MultiPolygon([A, B])) == [MultiPolygon([A, B])]
    assert polygon_parts(LineString([(0, 0), (1, 1)])) == []
    assert polygon_parts(GeometryCollection([Point(0, 0)])) == []
