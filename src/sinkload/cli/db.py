"""`sinkload db up|down|status|url` and `sinkload migrate`."""

from __future__ import annotations

import typer

from sinkload.cli.app import app, settings
from sinkload.db.connection import database_url, embedded_cluster, redact

db_app = typer.Typer(help="The embedded PostGIS cluster (a private data directory, the system's binaries).",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")


def _external_note() -> bool:
    s = settings()
    if s.database_url:
        typer.echo(f"SINKLOAD_DATABASE_URL is set ({redact(s.database_url)}): the embedded cluster is not used.")
        return True
    return False


@db_app.command("up")
def db_up() -> None:
    """Initialise (first time) and start the embedded cluster; create the database and PostGIS."""
    if _external_note():
        return
    cluster = embedded_cluster(settings())
    started = cluster.up()
    typer.echo(f"{'started' if started else 'already running'}: {cluster.data_dir}")
    typer.echo(cluster.url())


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded cluster (its data stays)."""
    if _external_note():
        return
    cluster = embedded_cluster(settings())
    typer.echo("stopped" if cluster.down() else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the embedded cluster runs (exit 0) or not (exit 3)."""
    if _external_note():
        return
    cluster = embedded_cluster(settings())
    if cluster.running():
        typer.echo(f"running: {cluster.data_dir} (socket {cluster.socket_dir}, port {cluster.port})")
    else:
        typer.echo(f"not running: {cluster.data_dir}")
        raise typer.Exit(3)


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (password redacted) that every command uses."""
    s = settings()
    typer.echo(redact(s.database_url) if s.database_url else embedded_cluster(s).url())


@app.command("migrate")
def migrate(
    revision: str = typer.Option("head", help="Target revision (upgrade)."),
    downgrade: str | None = typer.Option(None, help="Downgrade to this revision instead (e.g. base)."),
) -> None:
    """Alembic upgrade to head: schema raw, roles, extensions. Running it twice is harmless."""
    from sinkload.db import migrate as migrations  # alembic + SQLAlchemy: 0.4 s of start-up, only here

    s = settings()
    url = database_url(s)
    if downgrade:
        migrations.downgrade(s, url, downgrade)
    else:
        migrations.upgrade(s, url, revision)
    typer.echo(f"database at revision {migrations.current_revision(url) or 'base'}")
