"""The `sinkload` command line: thin wrappers that parse options, call the package and print."""

from __future__ import annotations

import sys

import typer

# Importing a command module registers its commands on `app` / `ingest_app`.
from sinkload.cli import analyst as _analyst  # noqa: F401
from sinkload.cli import db as _db  # noqa: F401
from sinkload.cli import ingest_budgets as _ingest_budgets  # noqa: F401
from sinkload.cli import ingest_flux as _ingest_flux  # noqa: F401
from sinkload.cli import ingest_geography as _ingest_geography  # noqa: F401
from sinkload.cli import pipeline as _pipeline  # noqa: F401
from sinkload.cli import superset as _superset  # noqa: F401
from sinkload.cli.app import app, ingest_app
from sinkload.dbt.runner import DbtFailed
from sinkload.errors import SinkloadError

__all__ = ["app", "ingest_app", "main"]


def main() -> None:
    try:
        # Without standalone mode click returns the code of a `typer.Exit` instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except SinkloadError as exc:
        if isinstance(exc, DbtFailed):
            sys.stdout.write(exc.log)
        typer.secho(f"error: {exc}".replace("\n", "\\n"), err=True, fg="red")
        sys.exit(1)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code or 0)
    except Exception as exc:  # click usage errors carry their own exit code and message
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        _database_lost(exc)
        raise


def _database_lost(exc: Exception) -> None:
    """The database went away mid-command (a restart, a network cut): one line and exit 1, not a traceback.
    Each load is one transaction, so nothing half-written stays; the next run takes over."""
    import psycopg  # only on this path: it costs start-up time

    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        lines = str(exc).strip().splitlines()
        typer.secho(f"error: database connection lost: {lines[0] if lines else type(exc).__name__}", err=True,
                    fg="red")
        sys.exit(1)
