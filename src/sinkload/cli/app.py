"""The Typer applications and the shared context (settings) of every command."""

from __future__ import annotations

import typer

from sinkload.settings import Settings

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
