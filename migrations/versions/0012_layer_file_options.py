"""The reading options of a region or land-cover layer, for provenance: which layer of a multi-layer file was
loaded (`--file-layer`) and, for a region layer, the text encoding a Shapefile was read in (`--encoding`).

NULL where the option was not given: the file's only layer, and the encoding its `.cpg` (or the format) states.
Layers loaded before this revision are NULL too: they were loaded without either option.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FILE_LAYER = "the layer of the file that was loaded (--file-layer), NULL for a file of one layer"
ENCODING = "the text encoding the file was read in (--encoding), NULL when the file states its own"


def upgrade() -> None:
    for table in ("region_layer", "landcover_layer"):
        op.execute(f"alter table raw.{table} add column file_layer text")
        op.execute(f"comment on column raw.{table}.file_layer is '{FILE_LAYER}'")
    op.execute("alter table raw.region_layer add column encoding text")
    op.execute(f"comment on column raw.region_layer.encoding is '{ENCODING}'")


def downgrade() -> None:
    op.execute("alter table raw.region_layer drop column if exists encoding")
    for table in ("region_layer", "landcover_layer"):
        op.execute(f"alter table raw.{table} drop column if exists file_layer")
