"""Raster tile WKB: raster_values reads back what raster_wkb writes (pixels, NODATA, georeference)."""

import numpy as np
import pytest

from sinkload.db.rasters import raster_values, raster_wkb
from sinkload.normalize import Grid


def test_raster_values_inverts_raster_wkb():
    grid = Grid(west=70.0, north=55.0, dx=0.5, dy=0.25, nx=40, ny=80)
    rng = np.random.default_rng(3)
    block = rng.normal(size=(6, 4)).astype(np.float32)
    block[2, 1] = np.nan
    block[0, 3] = 0.0
    tile_grid, values = raster_values(raster_wkb(block, grid, row0=8, col0=12))
    assert (tile_grid.west, tile_grid.north) == (70.0 + 12 * 0.5, 55.0 - 8 * 0.25)
    assert (tile_grid.dx, tile_grid.dy, tile_grid.nx, tile_grid.ny) == (0.5, 0.25, 4, 6)
    np.testing.assert_array_equal(np.isnan(values), np.isnan(block))
    np.testing.assert_array_equal(values[~np.isnan(block)], block[~np.isnan(block)])


def test_raster_values_refuses_another_layout():
    wkb = bytearray(raster_wkb(np.ones((2, 2), dtype=np.float32), Grid(0.0, 2.0, 1.0, 1.0, 2, 2), 0, 0))
    wkb[61] = 4 | 0x40  # 16-bit integer band
    with pytest.raises(ValueError, match="32BF"):
        raster_values(bytes(wkb))
