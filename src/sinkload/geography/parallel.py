"""Shapely overlays on all cores: shapely 2 releases the GIL inside GEOS, so threads run overlays of
country-sized polygons side by side. Each call is independent and reads its geometries only (no
`shapely.prepare` on a shared geometry, which is not thread-safe)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_overlays(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """[function(item) for item in items], computed in threads (one per core), in the items' order."""
    items = list(items)
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))
