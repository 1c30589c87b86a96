"""raw.flux_month_1deg: every stored month of a grid that is not the 1° grid, harmonised to the 1° cells of the
globe at the door (sinkload.harmonise) and kept with the month's tiles (same batch, same digest).

The loader writes a month's row with its tiles (`write_one_degree`) and re-points it with them; `reharmonise`
recomputes, from the stored tiles (no file needed), the rows that are missing or of another harmonisation
version: migration 0011 runs it for the months stored before it, `sinkload reharmonise` after a change of the
definition.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import psycopg

from sinkload.db.rasters import raster_values
from sinkload.harmonise import HARMONISATION_VERSION, is_one_degree, one_degree_month
from sinkload.normalize import Grid

INSERT = ("insert into raw.flux_month_1deg (product_id, member_id, month, batch_id, month_digest, "
          "harmonisation_version, cell_id, sink_gc_m2, n_native_cells) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)")


@dataclass(frozen=True)
class StoredMonth:
    """Which stored month a row of raw.flux_month_1deg is the harmonisation of."""

    product_id: int
    member_id: int
    month: datetime.date
    batch_id: int
    month_digest: str


def write_one_degree(conn: psycopg.Connection, stored: StoredMonth, values: np.ndarray, grid: Grid) -> None:
    """Replace the member's month's row with the harmonisation of `values` (north-up, NaN missing) on `grid`;
    nothing for a 1° grid, whose tiles dbt reads as they are."""
    if is_one_degree(grid):
        return
    month = one_degree_month(values, grid)
    conn.execute("delete from raw.flux_month_1deg where member_id = %s and month = %s",
                 [stored.member_id, stored.month])
    conn.execute(INSERT, [stored.product_id, stored.member_id, stored.month, stored.batch_id, stored.month_digest,
                          HARMONISATION_VERSION, month.cell_id.tolist(), month.value.tolist(),
                          month.n_native_cells.tolist()])


def repoint_one_degree(conn: psycopg.Connection, member_id: int, months: list[datetime.date], batch_id: int) -> None:
    """The months' rows follow their tiles to a newer batch whose months have the same digest."""
    conn.execute("update raw.flux_month_1deg set batch_id = %s where member_id = %s and month = any(%s)",
                 [batch_id, member_id, months])


# -- recomputed from the stored tiles ----------------------------------------------------------------------

def months_to_reharmonise(conn: psycopg.Connection) -> list[tuple[StoredMonth, Grid]]:
    """The stored months of grids other than the 1° grid without a row of the current version and digest."""
    rows = conn.execute("""
        select distinct t.product_id, t.member_id, t.month, t.batch_id, t.month_digest,
            g.west, g.north, g.dx, g.dy, g.nx, g.ny
        from raw.flux_tile as t
        join raw.grid as g using (grid_id)
        where not exists (
            select from raw.flux_month_1deg as d
            where d.member_id = t.member_id and d.month = t.month and d.month_digest = t.month_digest
                and d.harmonisation_version = %s)
        order by t.member_id, t.month
    """, [HARMONISATION_VERSION]).fetchall()
    found = [(StoredMonth(*row[:5]), Grid(*row[5:])) for row in rows]
    return [(stored, grid) for stored, grid in found if not is_one_degree(grid)]


def stored_values(conn: psycopg.Connection, stored: StoredMonth, grid: Grid) -> np.ndarray:
    """The member's month as raw.flux_tile holds it: the whole grid, NaN where missing or no tile."""
    values = np.full((grid.ny, grid.nx), np.nan, dtype=np.float32)
    tiles = conn.execute("select row0, col0, st_asbinary(rast) from raw.flux_tile where member_id = %s "
                         "and month = %s", [stored.member_id, stored.month])
    for row0, col0, wkb in tiles:
        _, block = raster_values(bytes(wkb))
        values[row0:row0 + block.shape[0], col0:col0 + block.shape[1]] = block
    return values


def reharmonise(conn: psycopg.Connection, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every row `months_to_reharmonise` finds, in the caller's transaction; returns how many."""
    todo = months_to_reharmonise(conn)
    for done, (stored, grid) in enumerate(todo, start=1):
        write_one_degree(conn, stored, stored_values(conn, stored, grid), grid)
        if progress is not None:
            progress(done, len(todo))
    return len(todo)
