"""Region layers (national, division) and land cover (polygons of vegetation codes + the class table).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        create table raw.region_layer (
            scope         text primary key check (scope in ('national', 'division')),
            file_name     text not null,
            sha256        text not null,
            name_field    text not null,
            source_crs    text,
            note          text,
            loaded_at     timestamptz not null default now()
        )
    """)
    op.execute("""
        create table raw.region (
            region_id     integer generated always as identity primary key,
            scope         text not null references raw.region_layer on delete cascade,
            name          text not null,
            geom          geometry(MultiPolygon, 4326) not null,
            unique (scope, name)
        )
    """)
    op.execute("create index region_geom_idx on raw.region using gist (geom)")
    op.execute("""
        create table raw.landcover_layer (
            layer_id      integer primary key default 1 check (layer_id = 1),
            file_name     text not null,
            sha256        text not null,
            code_field    text not null,
            source_kind   text not null check (source_kind in ('vector', 'raster')),
            note          text,
            loaded_at     timestamptz not null default now()
        )
    """)
    # code -> class: each vegetation group maps to a study class (forest, shrub, grassland, cropland) or to
    # a class of its own that is no ecosystem of the study (desert, swamp, alpine, ...).
    op.execute("""
        create table raw.landcover_class (
            code          integer primary key,
            group_name    text not null,
            class         text not null,
            is_ecosystem  boolean not null,
            class_rank    integer not null
        )
    """)
    op.execute("""
        create table raw.landcover (
            landcover_id  bigint generated always as identity primary key,
            code          integer not null references raw.landcover_class,
            geom          geometry(MultiPolygon, 4326) not null
        )
    """)
    op.execute("create index landcover_geom_idx on raw.landcover using gist (geom)")


def downgrade() -> None:
    for table in ("landcover", "landcover_class", "landcover_layer", "region", "region_layer"):
        op.execute(f"drop table if exists raw.{table} cascade")
