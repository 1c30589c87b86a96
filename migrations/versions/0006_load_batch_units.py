"""Units as UDUNITS-2 parsed them: the canonical unit and the carbon species of every load batch.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `parsed_unit`: the unit as cf-units (UDUNITS-2) defines it once the species is taken off, e.g.
    # '3.16887646408185e-11 m-2.kg.s-1' for 'gC m-2 yr-1'; `species`: 'C', 'CO2' or NULL (the text named none).
    # NULL parsed_unit: a batch loaded before this revision.
    op.execute("alter table raw.load_batch add column parsed_unit text, add column species text "
               "check (species in ('C', 'CO2'))")


def downgrade() -> None:
    op.execute("alter table raw.load_batch drop column if exists species cascade, drop column if exists parsed_unit cascade")
