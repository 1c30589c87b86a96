"""Run the Alembic migrations that own schema `raw`, the roles and the extensions."""

from __future__ import annotations

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from sinkload.db.connection import redact, sqlalchemy_url
from sinkload.db.warehouse import Warehouse
from sinkload.errors import SinkloadError
from sinkload.roles import Roles


def alembic_config(warehouse: Warehouse) -> Config:
    config = Config()
    config.set_main_option("script_location", str(warehouse.settings.migrations_dir))
    config.attributes["url"] = warehouse.url
    config.attributes["role_prefix"] = warehouse.roles.prefix
    return config


def _run(action, warehouse: Warehouse, revision: str) -> None:
    try:
        action(alembic_config(warehouse), revision)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise SinkloadError(f"{redact(warehouse.url)}: migration to {revision} failed: {detail}") from None


def upgrade(warehouse: Warehouse, revision: str = "head") -> None:
    """Alembic upgrade (idempotent: at head it does nothing)."""
    _run(command.upgrade, warehouse, revision)


def downgrade(warehouse: Warehouse, revision: str = "base") -> None:
    """Alembic downgrade; `base` removes schema raw (and what depends on it) and the roles."""
    _run(command.downgrade, warehouse, revision)


def current_revision(url: str) -> str | None:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection, opts={"version_table_schema": "public"}).get_current_revision()
    finally:
        engine.dispose()


def migration_roles() -> Roles:
    """Inside a migration: the roles for the prefix `sinkload migrate` passed in."""
    return Roles(context.config.attributes.get("role_prefix", "sinkload"))
