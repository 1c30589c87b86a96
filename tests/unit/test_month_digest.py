"""The month digest identifies what raw.flux_tile stores for a month: equal stored values on the same grid give
equal digests, and any stored difference (a value, the missing cells, the grid) gives another."""

from __future__ import annotations

import numpy as np

from sinkload.db.rasters import month_digest, raster_wkb, tile_size, tiles
from sinkload.normalize import Grid

GRID = Grid(west=100.0, north=40.0, dx=0.5, dy=0.5, nx=80, ny=60)


def digest(values: np.ndarray, grid_id: int = 1, grid: Grid = GRID) -> str:
    return month_digest(grid_id, (raster_wkb(t.values, grid, t.row0, t.col0) for t in tiles(values, tile_size(grid))))


def month(seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).normal(0.0, 10.0, (GRID.ny, GRID.nx))
    values[:5, :7] = np.nan
    return values


def test_equal_stored_values_give_equal_digests():
    values = month()
    assert digest(values) == digest(values.copy())
    # stored as float32: a difference below its resolution is not a difference in what is stored
    assert digest(values) == digest(values.astype(np.float32).astype(np.float64) * (1 + 1e-12))


def test_any_stored_difference_gives_another_digest():
    values = month()
    one_value = values.copy()
    one_value[30, 40] += 1.0
    one_missing = values.copy()
    one_missing[30, 40] = np.nan
    shifted = Grid(GRID.west + 0.5, GRID.north, GRID.dx, GRID.dy, GRID.nx, GRID.ny)
    digests = {digest(values), digest(one_value), digest(one_missing), digest(values, grid_id=2),
               digest(values, grid=shifted), digest(month(seed=1))}
    assert len(digests) == 6
