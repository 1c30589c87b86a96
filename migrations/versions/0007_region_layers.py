"""Region layers as data: any number of named layers (not only national and division), whether a layer
tiles the national one, the national layer's ISO 3166 code, and per unit an order (rank), an English name and
a code.

Layer names are checked in Python (sinkload.geography.names) and, as a safety net, here: lowercase letters,
digits and underscores, starting with a letter; `ecosystem` is taken by the ecosystem units of the marts.

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LAYER_NAME_CHECK = "scope ~ '^[a-z][a-z0-9_]{0,62}$' and scope <> 'ecosystem'"


def upgrade() -> None:
    op.execute("alter table raw.region_layer drop constraint region_layer_scope_check")
    op.execute(f"alter table raw.region_layer add constraint region_layer_scope_name check ({LAYER_NAME_CHECK})")
    op.execute("alter table raw.region_layer add column tiles_national boolean not null default false")
    op.execute("alter table raw.region_layer add column iso3 text")
    op.execute("update raw.region_layer set tiles_national = true where scope = 'division'")
    op.execute("update raw.region_layer set iso3 = 'CHN' where scope = 'national'")
    op.execute("alter table raw.region add column rank integer")
    op.execute("alter table raw.region add column name_en text")
    op.execute("alter table raw.region add column code text")
    op.execute("comment on column raw.region_layer.tiles_national is "
               "'true when the layer''s units are declared to tile the national layer (checked at load and by dbt)'")
    op.execute("comment on column raw.region_layer.iso3 is "
               "'national layer only: ISO 3166-1 alpha-3 code of the country (default CHN), NULL when none'")
    op.execute("comment on column raw.region.rank is 'order of the unit within its layer (NULL: by name)'")
    op.execute("comment on column raw.region.name_en is 'English or romanised name, where the layer offers one'")
    op.execute("comment on column raw.region.code is 'the unit''s code in its source (e.g. the province adcode)'")


def downgrade() -> None:
    op.execute("delete from raw.region_layer where scope not in ('national', 'division')")
    for column in ("code", "name_en", "rank"):
        # cascade: dbt's staging views select these columns (dbt recreates them on the next build)
        op.execute(f"alter table raw.region drop column {column} cascade")
    op.execute("alter table raw.region_layer drop column iso3 cascade")
    op.execute("alter table raw.region_layer drop column tiles_national cascade")
    op.execute("alter table raw.region_layer drop constraint region_layer_scope_name")
    op.execute("alter table raw.region_layer add constraint region_layer_scope_check "
               "check (scope in ('national', 'division'))")
