"""A native month on the global 1° grid (pure): the one definition of harmonisation.

A 1° cell's value is the overlap-area-weighted mean of the valid native cells under it (missing cells skipped),
and `n_native_cells` the number of valid native cells that overlap it; a cell with none has no value. Both grids
are lon/lat grids, so the overlap of native cell (col c, row r) with the 1° cell whose south-west corner is
(λ, φ) is the spherical rectangle R² · Δλ(c, λ) · Δsin φ(r, φ): a product of a column weight and a row weight.
The weighted sums are therefore two sparse reductions (rows, then columns) instead of a pixel-by-cell join, and
the sphere's radius cancels in the mean, so it is left out.

The loader stores the result of every grid that is not itself the 1° grid in raw.flux_month_1deg
(ingest/flux.py); dbt's int_flux_cell_months_harmonised reads it, and reads a 1° grid's tiles as they are (one
native cell per 1° cell, its value unchanged: the mean of one value).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sinkload.normalize import Grid

# Stored with every row of raw.flux_month_1deg; dbt's var `harmonisation_version` (dbt_project.yml) must equal
# it. Change both when the definition above changes: the build then refuses rows of another version until
# `sinkload reharmonise` has recomputed them from raw.flux_tile.
HARMONISATION_VERSION = "1deg-sphere-overlap/1"

# A grid is the 1° analysis grid itself when its steps are 1° and its edges whole degrees (the same tolerances
# as dbt's `is_one_degree_grid` macro).
STEP_TOLERANCE = 1e-9
EDGE_TOLERANCE = 1e-6


def is_one_degree(grid: Grid) -> bool:
    """The grid's cells are the 1° cells: nothing to harmonise."""
    return (abs(grid.dx - 1) < STEP_TOLERANCE and abs(grid.dy - 1) < STEP_TOLERANCE
            and abs(grid.west - round(grid.west)) < EDGE_TOLERANCE
            and abs(grid.north - round(grid.north)) < EDGE_TOLERANCE)


@dataclass(frozen=True)
class AxisOverlaps:
    """The overlaps of one axis's native cells with the 1° cells, as pairs ordered by 1° index: the native
    index, the 1° index (λ + 180 west to east, or φ + 90 south to north, of the 1° cell's south-west corner) and
    the overlap's measure (> 0: radians of longitude, or the difference of sin φ)."""

    native: np.ndarray
    target: np.ndarray
    weight: np.ndarray


def _axis_overlaps(low: np.ndarray, high: np.ndarray, offset: int,
                   measure: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> AxisOverlaps:
    """Pairs of native intervals [low, high] (degrees) and 1° intervals [d, d + 1] that overlap with a positive
    measure; `offset` turns a whole degree d into a 1° index."""
    first = np.floor(low).astype(np.int64)
    counts = np.ceil(high).astype(np.int64) - first
    native = np.repeat(np.arange(low.size), counts)
    step = np.arange(native.size) - np.repeat(np.cumsum(counts) - counts, counts)
    degree = first[native] + step
    weight = measure(np.maximum(low[native], degree), np.minimum(high[native], degree + 1))
    keep = weight > 0
    order = np.argsort(degree[keep], kind="stable")  # each 1° index one contiguous run of pairs
    return AxisOverlaps(native[keep][order], degree[keep][order] + offset, weight[keep][order])


def _longitude_measure(west: np.ndarray, east: np.ndarray) -> np.ndarray:
    return np.radians(east - west)


def _latitude_measure(south: np.ndarray, north: np.ndarray) -> np.ndarray:
    return np.sin(np.radians(north)) - np.sin(np.radians(south))


def column_overlaps(grid: Grid) -> AxisOverlaps:
    """Native column c spans lon west + c·dx .. west + (c + 1)·dx."""
    col = np.arange(grid.nx, dtype=np.float64)
    return _axis_overlaps(grid.west + col * grid.dx, grid.west + (col + 1) * grid.dx, 180, _longitude_measure)


def row_overlaps(grid: Grid) -> AxisOverlaps:
    """Native row r spans lat north - (r + 1)·dy .. north - r·dy (rows run south)."""
    row = np.arange(grid.ny, dtype=np.float64)
    return _axis_overlaps(grid.north - (row + 1) * grid.dy, grid.north - row * grid.dy, 90, _latitude_measure)


def _reduce(values: np.ndarray, pairs: AxisOverlaps, weight: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Σ over each 1° index of the native slices along `axis` times their weight: (sums, the 1° indices)."""
    if pairs.native.size == 0:
        shape = list(values.shape)
        shape[axis] = 0
        return np.zeros(shape), pairs.target
    starts = np.flatnonzero(np.r_[True, pairs.target[1:] != pairs.target[:-1]])
    taken = np.take(values, pairs.native, axis=axis)
    weighted = taken * (weight[None, :] if axis == 1 else weight[:, None])
    return np.add.reduceat(weighted, starts, axis=axis), pairs.target[starts]


@dataclass(frozen=True)
class OneDegreeMonth:
    """A month on the 1° grid: the cells with at least one valid native cell, ascending, their weighted mean
    (in the month's units) and their number of valid native cells."""

    cell_id: np.ndarray  # int32: (φ + 90)·360 + (λ + 180) of the cell's south-west corner (λ, φ)
    value: np.ndarray  # float64
    n_native_cells: np.ndarray  # int32


def _two_way_sums(values: np.ndarray, rows: AxisOverlaps, cols: AxisOverlaps, row_weight: np.ndarray,
                  col_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    by_row, lat_index = _reduce(values, rows, row_weight, axis=0)
    sums, lon_index = _reduce(by_row, cols, col_weight, axis=1)
    return sums, lat_index, lon_index


def one_degree_month(values: np.ndarray, grid: Grid) -> OneDegreeMonth:
    """Harmonise a north-up (row, col) month (NaN = missing) of `grid` to the 1° cells of the globe. The values
    are taken at float32 precision, as raw.flux_tile stores them."""
    stored = values.astype(np.float32).astype(np.float64)
    valid = np.isfinite(stored)
    rows, cols = row_overlaps(grid), column_overlaps(grid)
    weighted, lat_index, lon_index = _two_way_sums(np.where(valid, stored, 0.0), rows, cols, rows.weight, cols.weight)
    weights, _, _ = _two_way_sums(valid.astype(np.float64), rows, cols, rows.weight, cols.weight)
    counts, _, _ = _two_way_sums(valid.astype(np.float64), rows, cols, np.ones_like(rows.weight),
                                 np.ones_like(cols.weight))
    inside = ((lat_index >= 0) & (lat_index < 180))[:, None] & ((lon_index >= 0) & (lon_index < 360))[None, :]
    has_value = inside & (counts > 0.5)
    lat, lon = np.nonzero(has_value)
    cell_id = (lat_index[lat] * 360 + lon_index[lon]).astype(np.int32)
    order = np.argsort(cell_id, kind="stable")
    value = weighted[lat, lon] / weights[lat, lon]
    return OneDegreeMonth(cell_id[order], value[order], np.rint(counts[lat, lon][order]).astype(np.int32))
