"""Schema `raw` as SQLAlchemy Core tables: the typed description of what migrations 0001-0011 create.

The migrations stay hand-written; tests/integration/test_schema_drift.py runs Alembic's autogenerate
comparison between a database at head and this metadata, so the two cannot drift apart. Constraint names
follow PostgreSQL's own defaults (`<table>_pkey`, `<table>_<columns>_key`, `<table>_<column>_fkey`,
`<table>_<column>_check`), so they are the names the database has.
"""

from __future__ import annotations

from collections.abc import Mapping

from geoalchemy2 import Geometry, Raster
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

SCHEMA = "raw"

metadata = MetaData(
    schema=SCHEMA,
    naming_convention={
        "pk": "%(table_name)s_pkey",
        "uq": "%(table_name)s_%(column_0_N_name)s_key",
        "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    },
)

SHA256_CHECK = "sha256 ~ '^[0-9a-f]{64}$'"
NOW = text("now()")
FALSE = text("false")

# The spatial types declare no index of their own: the migrations name theirs (`..._geom_idx`, the
# raster's convex-hull index), declared below like any other index.
MULTIPOLYGON = Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)


def _identity_pk(name: str, kind: type = Integer) -> Column:
    """An identity primary key (`generated always as identity`)."""
    return Column(name, kind, Identity(always=True), primary_key=True)


def _loaded_at() -> Column:
    return Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=NOW)


# --- 0002: flux products, members, grids, load batches, tiles -------------------------------------

product = Table(
    "product", metadata,
    _identity_pk("product_id"),
    Column("name", Text, nullable=False, unique=True),
    Column("family", Text, nullable=False),
    Column("kind", Text, CheckConstraint("kind in ('bottom-up', 'top-down')", name="product_kind_check"),
           nullable=False),
    Column("release", Text),
    Column("experiment", Text),
    Column("is_ensemble", Boolean, nullable=False, server_default=FALSE),
    Column("description", Text),
    Column("config", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("comparison_family", Text),  # 0008
)

member = Table(
    "member", metadata,
    _identity_pk("member_id"),
    Column("product_id", Integer, ForeignKey(product.c.product_id, ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    UniqueConstraint("product_id", "name"),
)

grid = Table(
    "grid", metadata,
    _identity_pk("grid_id"),
    Column("west", Double, CheckConstraint("west >= -180 and west < 180", name="grid_west_check"), nullable=False),
    Column("north", Double, CheckConstraint("north <= 90 and north > -90", name="grid_north_check"), nullable=False),
    Column("dx", Double, CheckConstraint("dx > 0", name="grid_dx_check"), nullable=False),
    Column("dy", Double, CheckConstraint("dy > 0", name="grid_dy_check"), nullable=False),
    Column("nx", Integer, CheckConstraint("nx > 0", name="grid_nx_check"), nullable=False),
    Column("ny", Integer, CheckConstraint("ny > 0", name="grid_ny_check"), nullable=False),
    UniqueConstraint("west", "north", "dx", "dy", "nx", "ny"),
)

load_batch = Table(
    "load_batch", metadata,
    _identity_pk("batch_id", BigInteger),
    Column("product_id", Integer, ForeignKey(product.c.product_id, ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey(member.c.member_id, ondelete="CASCADE"), nullable=False),
    Column("grid_id", Integer, ForeignKey(grid.c.grid_id), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_path", Text, nullable=False),
    Column("sha256", Text, CheckConstraint(SHA256_CHECK, name="load_batch_sha256_check"), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("release", Text),
    Column("experiment", Text),
    Column("variable", Text, nullable=False),
    Column("units_found", Text),
    Column("units_assumed", Boolean, nullable=False, server_default=FALSE),
    Column("factor_applied", Text, nullable=False),
    Column("sign_applied", SmallInteger, CheckConstraint("sign_applied in (-1, 1)", name="load_batch_sign_applied_check"),
           nullable=False),
    Column("first_month", Date, nullable=False),
    Column("last_month", Date, nullable=False),
    Column("n_months", Integer, nullable=False),
    Column("n_values", BigInteger, nullable=False),
    Column("loader_version", Text, nullable=False),
    _loaded_at(),
    # 0006: the unit as UDUNITS-2 parsed it, and the carbon species ('C', 'CO2', NULL: none named)
    Column("parsed_unit", Text),
    Column("species", Text, CheckConstraint("species in ('C', 'CO2')", name="load_batch_species_check")),
    Index("load_batch_member_idx", "member_id", "sha256"),
)

flux_tile = Table(
    "flux_tile", metadata,
    Column("product_id", Integer, ForeignKey(product.c.product_id, ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey(member.c.member_id, ondelete="CASCADE"), nullable=False),
    Column("month", Date, CheckConstraint("extract(day from month) = 1", name="flux_tile_month_check"),
           nullable=False),
    Column("grid_id", Integer, ForeignKey(grid.c.grid_id), nullable=False),
    Column("tile_row", Integer, nullable=False),
    Column("tile_col", Integer, nullable=False),
    Column("col0", Integer, nullable=False),
    Column("row0", Integer, nullable=False),
    Column("batch_id", BigInteger, ForeignKey(load_batch.c.batch_id, ondelete="CASCADE"), nullable=False),
    Column("rast", Raster(spatial_index=False), nullable=False),
    # 0010: the content digest of the stored month (rasters.month_digest), the version dbt compares.
    Column("month_digest", Text, CheckConstraint("month_digest ~ '^[0-9a-f]{64}$'", name="flux_tile_month_digest_check"),
           nullable=False,
           comment="sha256 (hex) of the stored month: grid id, ':', then the tiles' raster WKB in (tile_row, tile_col) "
                   "order; the same on every tile of a (member, month)"),
    PrimaryKeyConstraint("member_id", "month", "tile_row", "tile_col"),
    Index("flux_tile_product_month_idx", "product_id", "month"),
    Index("flux_tile_batch_idx", "batch_id"),
)
Index("flux_tile_hull_idx", func.st_convexhull(flux_tile.c.rast), postgresql_using="gist")

# 0011: each stored month of a grid other than the 1° grid, harmonised to the 1° cells at the door.
flux_month_1deg = Table(
    "flux_month_1deg", metadata,
    Column("product_id", Integer, ForeignKey(product.c.product_id, ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey(member.c.member_id, ondelete="CASCADE"), nullable=False),
    Column("month", Date, CheckConstraint("extract(day from month) = 1", name="flux_month_1deg_month_check"),
           nullable=False),
    Column("batch_id", BigInteger, ForeignKey(load_batch.c.batch_id, ondelete="CASCADE"), nullable=False),
    Column("month_digest", Text, nullable=False, comment="raw.flux_tile.month_digest of the month this row harmonises"),
    Column("harmonisation_version", Text, nullable=False,
           comment="sinkload.harmonise.HARMONISATION_VERSION of the definition that computed the row"),
    Column("cell_id", ARRAY(Integer), nullable=False,
           comment="1° cells with a valid native cell, ascending: (floor(lat) + 90) * 360 + floor(lon) + 180"),
    Column("sink_gc_m2", ARRAY(Double), nullable=False,
           comment="per cell_id: overlap-area-weighted mean of the valid native cells (g C m-2 per calendar month)"),
    Column("n_native_cells", ARRAY(Integer), nullable=False,
           comment="per cell_id: valid native cells that overlap the 1° cell"),
    PrimaryKeyConstraint("member_id", "month"),
    CheckConstraint("cardinality(sink_gc_m2) = cardinality(cell_id) and cardinality(n_native_cells) = cardinality(cell_id)",
                    name="flux_month_1deg_arrays_check"),
    Index("flux_month_1deg_batch_idx", "batch_id"),
)

# --- 0003 and 0007: region layers and their units; 0003: land cover --------------------------------

region_layer = Table(
    "region_layer", metadata,
    Column("scope", Text, primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("name_field", Text, nullable=False),
    Column("source_crs", Text),
    Column("note", Text),
    _loaded_at(),
    Column("tiles_national", Boolean, nullable=False, server_default=FALSE,
           comment="true when the layer's units are declared to tile the national layer (checked at load and by dbt)"),
    Column("iso3", Text,
           comment="national layer only: ISO 3166-1 alpha-3 code of the country (default CHN), NULL when none"),
    Column("file_layer", Text,
           comment="the layer of the file that was loaded (--file-layer), NULL for a file of one layer"),
    Column("encoding", Text,
           comment="the text encoding the file was read in (--encoding), NULL when the file states its own"),
    CheckConstraint("scope ~ '^[a-z][a-z0-9_]{0,62}$' and scope <> 'ecosystem'", name="region_layer_scope_name"),
)

region = Table(
    "region", metadata,
    _identity_pk("region_id"),
    Column("scope", Text, ForeignKey(region_layer.c.scope, ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("geom", MULTIPOLYGON, nullable=False),
    Column("rank", Integer, comment="order of the unit within its layer (NULL: by name)"),
    Column("name_en", Text, comment="English or romanised name, where the layer offers one"),
    Column("code", Text, comment="the unit's code in its source (e.g. the province adcode)"),
    UniqueConstraint("scope", "name"),
    Index("region_geom_idx", "geom", postgresql_using="gist"),
)

landcover_layer = Table(
    "landcover_layer", metadata,
    Column("layer_id", Integer, CheckConstraint("layer_id = 1", name="landcover_layer_layer_id_check"),
           primary_key=True, server_default=text("1"), autoincrement=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("code_field", Text, nullable=False),
    Column("source_kind", Text,
           CheckConstraint("source_kind in ('vector', 'raster')", name="landcover_layer_source_kind_check"),
           nullable=False),
    Column("note", Text),
    _loaded_at(),
    Column("file_layer", Text,
           comment="the layer of the file that was loaded (--file-layer), NULL for a file of one layer"),
)

landcover_class = Table(
    "landcover_class", metadata,
    Column("code", Integer, primary_key=True, autoincrement=False),
    Column("group_name", Text, nullable=False),
    Column("class", Text, nullable=False),
    Column("is_ecosystem", Boolean, nullable=False),
    Column("class_rank", Integer, nullable=False),
)

landcover = Table(
    "landcover", metadata,
    _identity_pk("landcover_id", BigInteger),
    Column("code", Integer, ForeignKey(landcover_class.c.code), nullable=False),
    Column("geom", MULTIPOLYGON, nullable=False),
    Index("landcover_geom_idx", "geom", postgresql_using="gist"),
)

# --- 0004: the reload log -------------------------------------------------------------------------

reload_run = Table(
    "reload_run", metadata,
    _identity_pk("run_id", BigInteger),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=text("clock_timestamp()")),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", Text,
           CheckConstraint("status in ('running', 'done', 'failed', 'interrupted')", name="reload_run_status_check"),
           nullable=False, server_default=text("'running'")),
    Column("inbox", Text, nullable=False),
    Column("host", Text),
    Column("pid", Integer),
    Column("files_seen", Integer, nullable=False, server_default=text("0")),
    Column("files_loaded", Integer, nullable=False, server_default=text("0")),
    Column("files_failed", Integer, nullable=False, server_default=text("0")),
    Column("products", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("dbt_selection", Text),
    Column("built_fingerprint", Text),
    Column("view_checksums", JSONB),
    Column("message", Text),
    Index("reload_run_status_idx", "status", "run_id"),
)

# --- 0008: the MIP's national budgets --------------------------------------------------------------

budget_file = Table(
    "budget_file", metadata,
    _identity_pk("file_id"),
    Column("kind", Text, CheckConstraint("kind in ('countries', 'grid')", name="budget_file_kind_check"),
           nullable=False, unique=True),
    Column("file_name", Text, nullable=False),
    Column("file_path", Text, nullable=False),
    Column("sha256", Text, CheckConstraint(SHA256_CHECK, name="budget_file_sha256_check"), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("units_found", Text),
    Column("n_values", BigInteger, nullable=False),
    Column("loader_version", Text, nullable=False),
    _loaded_at(),
)

budget_value = Table(
    "budget_value", metadata,
    Column("file_id", Integer, ForeignKey(budget_file.c.file_id, ondelete="CASCADE"), nullable=False),
    Column("code", Text, nullable=False),
    Column("is_region", Boolean, nullable=False),
    Column("year", Integer),
    Column("is_mean", Boolean, nullable=False),
    Column("experiment", Text),
    Column("quantity", Text, nullable=False),
    Column("value", Double),
    Column("unc", Double),
    CheckConstraint("is_mean = (year is null)", name="budget_value_check"),
    UniqueConstraint("code", "year", "experiment", "quantity", postgresql_nulls_not_distinct=True),
)

budget_grid = Table(
    "budget_grid", metadata,
    Column("file_id", Integer, ForeignKey(budget_file.c.file_id, ondelete="CASCADE"), nullable=False),
    Column("experiment", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("nbe", ARRAY(Double), CheckConstraint("cardinality(nbe) = 64800", name="budget_grid_nbe_check"),
           nullable=False),
    Column("nbe_std", ARRAY(Double), CheckConstraint("cardinality(nbe_std) = 64800", name="budget_grid_nbe_std_check")),
    PrimaryKeyConstraint("experiment", "year"),
)


# --- 0009: change tracking of raw and the state of the last complete build -----------------------------

raw_change = Table(
    "raw_change", metadata,
    Column("xact_id", BigInteger, nullable=False),
    Column("table_name", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=text("clock_timestamp()")),
    PrimaryKeyConstraint("xact_id", "table_name"),
)

build_state = Table(
    "build_state", metadata,
    _identity_pk("state_id", BigInteger),
    Column("build_id", BigInteger),
    Column("fingerprint", Text, nullable=False),
    Column("parts", JSONB, nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False, server_default=text("clock_timestamp()")),
)

def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic's name filter: compare schema raw only (not dbt's schemas, PostGIS's tables or alembic_version)."""
    if type_ == "schema":
        return name == SCHEMA
    if type_ == "table":
        return parent_names.get("schema_name") == SCHEMA
    return True


# How autogenerate compares the database with `metadata` (migrations/env.py and the drift test).
COMPARE_OPTIONS = {
    "include_schemas": True,
    "include_name": include_name,
    "compare_type": True,
    "compare_server_default": True,
}
