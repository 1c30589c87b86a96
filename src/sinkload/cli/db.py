"""`sinkload db up|down|status|url` and `sinkload migrate`."""

from __future__ import annotations

import typer

from sinkload.cli.app import app, settings, warehouse
from sinkload.db.connection import embedded_cluster, redact

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
def db_up(
    port: int | None = typer.Option(
        None, "--port", help="Also listen on 127.0.0.1:PORT (for tools running as another OS user); 0 closes "
        "it again. Default: SINKLOAD_DB_PORT, else as configured before (socket only at first)."),
) -> None:
    """Initialise (first time) and start the embedded cluster; create the database and PostGIS."""
    if _external_note():
        return
    s = settings()
    cluster = embedded_cluster(s)
    started = cluster.up(port if port is not None else s.db_port)
    typer.echo(f"{'started' if started else 'already running'}: {cluster.data_dir}")
    typer.echo(redact(cluster.url()))
    if cluster.tcp_port:
        typer.echo(f"also listening on 127.0.0.1:{cluster.tcp_port} (password authentication)")


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
        tcp = f", TCP 127.0.0.1:{cluster.tcp_port}" if cluster.tcp_port else ""
        typer.echo(f"running: {cluster.data_dir} (socket {cluster.socket_dir}, port {cluster.port}{tcp})")
    else:
        typer.echo(f"not running: {cluster.data_dir}")
        raise typer.Exit(3)


@db_app.command("url")
def db_url(
    show_password: bool = typer.Option(False, "--show-password",
                                       help="Print the URL with the password (for a script; keep it out of logs)."),
) -> None:
    """Print the database URL that every command uses (password shown as ***)."""
    s = settings()
    url = s.database_url or embedded_cluster(s).url()
    typer.echo(url if show_password else redact(url))
    if not show_password and not s.database_url:
        typer.echo(f"the password is in {embedded_cluster(s).password_file} (mode 0600); "
                   "`sinkload db url --show-password` prints the whole URL", err=True)


@app.command("migrate")
def migrate(
    revision: str = typer.Option("head", help="Target revision (upgrade)."),
    downgrade: str | None = typer.Option(None, help="Downgrade to this revision instead (e.g. base)."),
) -> None:
    """Alembic upgrade to head: schema raw, roles, extensions. Running it twice is harmless."""
    from sinkload.db import migrate as migrations  # alembic + SQLAlchemy: 0.4 s of start-up, only here

    handle = warehouse()
    if downgrade:
        migrations.downgrade(handle, downgrade)
    else:
        migrations.upgrade(handle, revision)
    typer.echo(f"database at revision {migrations.current_revision(handle.url) or 'base'}")
