"""Alembic environment: online migrations only, serialised by an advisory lock."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, text

from sinkload.db import schema
from sinkload.db.connection import sqlalchemy_url

config = context.config
x_args = context.get_x_argument(as_dictionary=True)
url = config.attributes.get("url") or x_args.get("url")
if not url:
    raise SystemExit("alembic: no database URL (use `sinkload migrate` or `alembic -x url=...`)")
config.attributes.setdefault("role_prefix", x_args.get("role_prefix", "sinkload"))

MIGRATION_LOCK = 7_240_001

# For `alembic revision --autogenerate` (the migrations themselves stay hand-written): schema raw only, and
# GeoAlchemy2's types rendered with their import.
target_metadata = schema.metadata


def run_migrations_online() -> None:
    engine = create_engine(sqlalchemy_url(url), future=True)
    with engine.connect() as connection:
        connection.execute(text("select pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()
        try:
            context.configure(connection=connection, transactional_ddl=True, version_table_schema="public",
                              target_metadata=target_metadata, render_item=alembic_helpers.render_item,
                              **schema.COMPARE_OPTIONS)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
    engine.dispose()


run_migrations_online()
