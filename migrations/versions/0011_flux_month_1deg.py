"""Harmonisation at the door: `raw.flux_month_1deg`, every stored month of a grid that is not the 1° grid on the
1° cells of the globe.

One row per (member, month), written by the loader with the month's tiles (same batch and digest) from the
pure definition in src/sinkload/harmonise.py: for each 1° cell with at least one valid native cell, the
overlap-area-weighted mean of the valid native cells (`sink_gc_m2`, the units of raw.flux_tile) and their
number (`n_native_cells`), as parallel arrays ordered by `cell_id`. dbt's int_flux_cell_months_harmonised reads
these rows instead of joining every native pixel to its 1° cells (docs/architecture.md "Harmonisation at the
door"). Nothing in a row depends on the regions or on the sphere's radius (it cancels in the mean).

The months stored before this revision are harmonised here from their tiles (sinkload.ingest.one_degree
`reharmonise`, the code `sinkload reharmonise` runs), so a warehouse upgraded in place builds as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from alembic import op

from sinkload.ingest.one_degree import reharmonise

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COMMENTS = {
    "month_digest": "raw.flux_tile.month_digest of the month this row harmonises",
    "harmonisation_version": "sinkload.harmonise.HARMONISATION_VERSION of the definition that computed the row",
    "cell_id": "1° cells with a valid native cell, ascending: (floor(lat) + 90) * 360 + floor(lon) + 180",
    "sink_gc_m2": "per cell_id: overlap-area-weighted mean of the valid native cells (g C m-2 per calendar month)",
    "n_native_cells": "per cell_id: valid native cells that overlap the 1° cell",
}


def upgrade() -> None:
    op.execute("""
        create table raw.flux_month_1deg (
            product_id             integer not null references raw.product (product_id) on delete cascade,
            member_id              integer not null references raw.member (member_id) on delete cascade,
            month                  date not null constraint flux_month_1deg_month_check
                                       check (extract(day from month) = 1),
            batch_id               bigint not null references raw.load_batch (batch_id) on delete cascade,
            month_digest           text not null,
            harmonisation_version  text not null,
            cell_id                integer[] not null,
            sink_gc_m2             double precision[] not null,
            n_native_cells         integer[] not null,
            primary key (member_id, month),
            constraint flux_month_1deg_arrays_check check (
                cardinality(sink_gc_m2) = cardinality(cell_id) and cardinality(n_native_cells) = cardinality(cell_id))
        )
    """)
    op.execute("create index flux_month_1deg_batch_idx on raw.flux_month_1deg (batch_id)")
    for column, comment in COMMENTS.items():
        op.execute(f"comment on column raw.flux_month_1deg.{column} is '{comment}'")
    reharmonise(op.get_bind().connection.driver_connection)


def downgrade() -> None:
    op.execute("drop table if exists raw.flux_month_1deg")
