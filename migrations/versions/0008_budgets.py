"""The MIP's national CO2 budgets (country CSV and optional 1-degree grid, stored as read) and the catalog's
comparison family of each product.

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Which products are comparable (e.g. the releases and experiments of one inversion ensemble); distinct
    # from `family`, the reader's format family.
    op.execute("alter table raw.product add column comparison_family text")
    # One row per budget file (the country CSV, and the grid when one was given); a new `ingest budgets`
    # replaces all rows in one transaction.
    op.execute("""
        create table raw.budget_file (
            file_id         integer generated always as identity primary key,
            kind            text not null unique check (kind in ('countries', 'grid')),
            file_name       text not null,
            file_path       text not null,
            sha256          text not null check (sha256 ~ '^[0-9a-f]{64}$'),
            size_bytes      bigint not null,
            units_found     text,
            n_values        bigint not null,
            loader_version  text not null,
            loaded_at       timestamptz not null default now()
        )
    """)
    # Values of the country CSV as read: Tg CO2 per year, positive = to the atmosphere. `year` is NULL for
    # the `mean` row; `experiment` is NULL for the lateral fluxes (Rivers, Wood+Crop, FF).
    op.execute("""
        create table raw.budget_value (
            file_id     integer not null references raw.budget_file on delete cascade,
            code        text not null,
            is_region   boolean not null,
            year        integer,
            is_mean     boolean not null,
            experiment  text,
            quantity    text not null,
            value       double precision,
            unc         double precision,
            check (is_mean = (year is null)),
            unique nulls not distinct (code, year, experiment, quantity)
        )
    """)
    # The grid, one row per experiment and year: g CO2 m-2 yr-1, positive = to the atmosphere, as arrays of
    # 180 x 360 values whose element cell_id + 1 is the warehouse's 1-degree cell cell_id (rows from the
    # south, columns from -180); NULL = missing.
    op.execute("""
        create table raw.budget_grid (
            file_id     integer not null references raw.budget_file on delete cascade,
            experiment  text not null,
            year        integer not null,
            nbe         double precision[] not null check (cardinality(nbe) = 64800),
            nbe_std     double precision[] check (cardinality(nbe_std) = 64800),
            primary key (experiment, year)
        )
    """)


def downgrade() -> None:
    for table in ("budget_grid", "budget_value", "budget_file"):
        op.execute(f"drop table if exists raw.{table} cascade")
    # cascade: dbt's views read the column (as the other downgrades drop tables with their dependants).
    op.execute("alter table raw.product drop column if exists comparison_family cascade")
