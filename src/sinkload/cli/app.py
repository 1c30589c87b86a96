"""The Typer applications and the shared context (settings, the warehouse handle) of every command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from sinkload.settings import Settings

if TYPE_CHECKING:
    from sinkload.db.warehouse import Warehouse

app = typer.Typer(
    name="sinkload",
    help=(
        "A PostGIS data warehouse for terrestrial carbon-sink estimates.\n\n"
        "The database is SINKLOAD_DATABASE_URL, or when unset the embedded PostGIS cluster "
        "(`sinkload db up`). Sinks are positive for uptake by land."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Load flux files, region layers or land cover into schema raw.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")


def settings() -> Settings:
    """Settings from the environment (the only place the CLI reads it)."""
    return Settings.from_env()


def warehouse() -> Warehouse:
    """The warehouse handle of the settings' database (starts the embedded cluster when none is configured)."""
    from sinkload.db.warehouse import Warehouse

    return Warehouse.of(settings())
