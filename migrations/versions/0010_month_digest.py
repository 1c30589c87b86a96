"""The content digest of every stored month: `raw.flux_tile.month_digest`.

A (member, month) is stored as the tiles of one batch; `month_digest` is the sha256 (hex) of what is stored:
the grid id as text and ':', then the raster WKB of the month's tiles in (tile_row, tile_col) order. Every tile
of a month carries the same digest. The loader computes it from the WKB it writes (src/sinkload/db/rasters.py
`month_digest`); a new file whose month has the digest already stored re-points those tiles to its batch
instead of writing them again, and dbt uses the digest as the version of a (product, member, month), so an
unchanged month is not recomputed (docs/ingest.md, docs/architecture.md).

Rows stored before this revision are backfilled here with the same definition in SQL (`st_asbinary(rast)`
returns the bytes the loader wrote, tests/integration/test_month_digest.py checks it), so their months count
as unchanged for the next file too. Were PostGIS ever to return other bytes, such a month would only be
rewritten once by the next file that holds it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COMMENT = ("sha256 (hex) of the stored month: grid id, '':'', then the tiles'' raster WKB in (tile_row, tile_col) "
           "order; the same on every tile of a (member, month)")


def upgrade() -> None:
    op.execute("alter table raw.flux_tile add column month_digest text")
    op.execute("""
        update raw.flux_tile as t set month_digest = d.digest
        from (
            select member_id, month,
                encode(sha256(convert_to(grid_id::text || ':', 'UTF8')
                              || string_agg(st_asbinary(rast), ''::bytea order by tile_row, tile_col)), 'hex') as digest
            from raw.flux_tile
            group by member_id, month, grid_id
        ) as d
        where t.member_id = d.member_id and t.month = d.month
    """)
    op.execute("alter table raw.flux_tile alter column month_digest set not null, "
               "add constraint flux_tile_month_digest_check check (month_digest ~ '^[0-9a-f]{64}$')")
    op.execute(f"comment on column raw.flux_tile.month_digest is '{COMMENT}'")


def downgrade() -> None:
    op.execute("alter table raw.flux_tile drop column if exists month_digest")
