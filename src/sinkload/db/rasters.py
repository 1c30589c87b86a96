"""Raster tiles for raw.flux_tile: PostGIS raster WKB built with numpy, written with COPY.

WKB raster (PostGIS RFC2): little-endian header (endianness, version, nBands, scaleX, scaleY, ipX, ipY,
skewX, skewY, srid, width, height), then per band a pixel-type byte (32BF = 10, +0x40 when it has a
NODATA value), the NODATA value and the pixels row by row. raster has no binary COPY format, so rows
go through text COPY with the WKB in hex (raster's input format).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from sinkload.normalize import Grid

NODATA = np.float32(-9999.0)
PIXTYPE_32BF_WITH_NODATA = 10 | 0x40
SRID = 4326
_HEADER = struct.Struct("<BHHddddddiHH")


@dataclass(frozen=True)
class Tile:
    tile_row: int
    tile_col: int
    row0: int
    col0: int
    values: np.ndarray  # float, NaN = missing


def tile_size(grid: Grid) -> int:
    """Pixels per tile side: about 30 degrees for coarse grids, 128 pixels at most."""
    return int(min(128, max(16, round(30.0 / grid.dx))))


def tiles(values: np.ndarray, size: int) -> Iterator[Tile]:
    """Split a north-up (row, col) array into tiles; tiles with no valid value are left out (an absent
    tile means missing, like NODATA)."""
    ny, nx = values.shape
    for tile_row, row0 in enumerate(range(0, ny, size)):
        for tile_col, col0 in enumerate(range(0, nx, size)):
            block = values[row0:row0 + size, col0:col0 + size]
            if np.isfinite(block).any():
                yield Tile(tile_row, tile_col, row0, col0, block)


def raster_wkb(block: np.ndarray, grid: Grid, row0: int, col0: int) -> bytes:
    """One-band 32BF raster WKB of `block`, georeferenced on `grid` at (row0, col0)."""
    height, width = block.shape
    header = _HEADER.pack(1, 0, 1, grid.dx, -grid.dy, grid.west + col0 * grid.dx, grid.north - row0 * grid.dy,
                          0.0, 0.0, SRID, width, height)
    pixels = np.where(np.isfinite(block), block, NODATA).astype("<f4", copy=False)
    return header + struct.pack("<Bf", PIXTYPE_32BF_WITH_NODATA, NODATA) + pixels.tobytes()


def month_digest(grid_id: int, tile_wkbs: Iterable[bytes]) -> str:
    """sha256 (hex) of a month as raw.flux_tile stores it: the grid id as text and ':', then the raster WKB of its
    tiles in (tile_row, tile_col) order (the order `tiles` yields them). Migration 0010 computes the same in SQL
    (`st_asbinary(rast)` returns these bytes)."""
    digest = hashlib.sha256(f"{grid_id}:".encode())
    for wkb in tile_wkbs:
        digest.update(wkb)
    return digest.hexdigest()


def raster_values(wkb: bytes) -> tuple[Grid, np.ndarray]:
    """The inverse of raster_wkb: the tile's grid (its own outer corner, nx × ny pixels) and its first band's
    pixels as float32 (row, col), NODATA as NaN. Only the layout raster_wkb writes (one in-db 32BF band)."""
    endian, _version, n_bands, scale_x, scale_y, west, north, _skew_x, _skew_y, _srid, width, height = \
        _HEADER.unpack_from(wkb)
    pixtype, nodata = struct.unpack_from("<Bf", wkb, _HEADER.size)
    if endian != 1 or n_bands < 1 or pixtype & 0x8F != 10:
        raise ValueError(f"not a one-band in-db 32BF little-endian raster (pixel type byte {pixtype:#x})")
    pixels = np.frombuffer(wkb, dtype="<f4", count=width * height, offset=_HEADER.size + 5).reshape(height, width)
    if pixtype & 0x40:
        pixels = np.where(pixels == nodata, np.float32(np.nan), pixels)
    return Grid(west, north, scale_x, -scale_y, width, height), pixels
