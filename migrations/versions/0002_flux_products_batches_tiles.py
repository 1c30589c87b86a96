"""Flux products, their members, native grids, load batches (provenance) and the tiled raster table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        create table raw.product (
            product_id    integer generated always as identity primary key,
            name          text not null unique,
            family        text not null,
            kind          text not null check (kind in ('bottom-up', 'top-down')),
            release       text,
            experiment    text,
            is_ensemble   boolean not null default false,
            description   text,
            config        jsonb not null default '{}'::jsonb,
            created_at    timestamptz not null default now()
        )
    """)
    op.execute("""
        create table raw.member (
            member_id     integer generated always as identity primary key,
            product_id    integer not null references raw.product on delete cascade,
            name          text not null,
            unique (product_id, name)
        )
    """)
    # A native grid: regular lon/lat cells; (west, north) is the outer corner of cell (col 0, row 0),
    # rows run southwards. Cell (c, r) spans lon west + c*dx .. +dx, lat north - (r+1)*dy .. north - r*dy.
    op.execute("""
        create table raw.grid (
            grid_id       integer generated always as identity primary key,
            west          double precision not null check (west >= -180 and west < 180),
            north         double precision not null check (north <= 90 and north > -90),
            dx            double precision not null check (dx > 0),
            dy            double precision not null check (dy > 0),
            nx            integer not null check (nx > 0),
            ny            integer not null check (ny > 0),
            unique (west, north, dx, dy, nx, ny)
        )
    """)
    op.execute("""
        create table raw.load_batch (
            batch_id        bigint generated always as identity primary key,
            product_id      integer not null references raw.product on delete cascade,
            member_id       integer not null references raw.member on delete cascade,
            grid_id         integer not null references raw.grid,
            file_name       text not null,
            file_path       text not null,
            sha256          text not null check (sha256 ~ '^[0-9a-f]{64}$'),
            size_bytes      bigint not null,
            release         text,
            experiment      text,
            variable        text not null,
            units_found     text,
            units_assumed   boolean not null default false,
            factor_applied  text not null,
            sign_applied    smallint not null check (sign_applied in (-1, 1)),
            first_month     date not null,
            last_month      date not null,
            n_months        integer not null,
            n_values        bigint not null,
            loader_version  text not null,
            loaded_at       timestamptz not null default now()
        )
    """)
    op.execute("create index load_batch_member_idx on raw.load_batch (member_id, sha256)")
    # One row per product x member x month x tile; values in g C m-2 per calendar month, positive = sink,
    # missing = NODATA. (col0, row0) is the grid cell of the tile's upper-left pixel.
    op.execute("""
        create table raw.flux_tile (
            product_id    integer not null references raw.product on delete cascade,
            member_id     integer not null references raw.member on delete cascade,
            month         date not null check (extract(day from month) = 1),
            grid_id       integer not null references raw.grid,
            tile_row      integer not null,
            tile_col      integer not null,
            col0          integer not null,
            row0          integer not null,
            batch_id      bigint not null references raw.load_batch on delete cascade,
            rast          raster not null,
            primary key (member_id, month, tile_row, tile_col)
        )
    """)
    op.execute("create index flux_tile_product_month_idx on raw.flux_tile (product_id, month)")
    op.execute("create index flux_tile_batch_idx on raw.flux_tile (batch_id)")
    op.execute("create index flux_tile_hull_idx on raw.flux_tile using gist (st_convexhull(rast))")


def downgrade() -> None:
    for table in ("flux_tile", "load_batch", "grid", "member", "product"):
        op.execute(f"drop table if exists raw.{table} cascade")
