"""sinkload.db.schema describes schema raw as the migrations build it: Alembic's autogenerate finds no drift."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import Geometry
from sqlalchemy import Column, MetaData, Text, create_engine

from sinkload.db import schema
from sinkload.db.connection import sqlalchemy_url


def _diff(db_url: str, metadata: MetaData) -> list:
    """Alembic's autogenerate operations that would turn the database at `db_url` into `metadata`."""
    engine = create_engine(sqlalchemy_url(db_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts=dict(schema.COMPARE_OPTIONS))
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _copy() -> MetaData:
    copy = MetaData(schema=schema.SCHEMA, naming_convention=schema.metadata.naming_convention)
    for table in schema.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_metadata_matches_migrated_database(db_url):
    assert _diff(db_url, schema.metadata) == []


def test_an_extra_column_is_drift(db_url):
    changed = _copy()
    changed.tables["raw.region_layer"].append_column(Column("colour", Text))
    diff = _diff(db_url, changed)
    assert [(op[0], op[2], op[3].name) for op in diff] == [("add_column", "region_layer", "colour")]


def test_a_geometry_of_another_srid_is_drift(db_url):
    changed = _copy()
    changed.tables["raw.region"].c.geom.type = Geometry("MULTIPOLYGON", srid=990000, spatial_index=False)
    diff = _diff(db_url, changed)
    assert [(op[0][0], op[0][2], op[0][3]) for op in diff] == [("modify_type", "region", "geom")]
