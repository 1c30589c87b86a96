"""`sinkload analyst create | list | drop`: LOGIN users in the analyst group for people and BI tools."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from sinkload.cli.app import app, warehouse
from sinkload.errors import SinkloadError

analyst_app = typer.Typer(help="Analyst logins (read-only members of the analyst role) for SQL clients and BI tools.",
                          no_args_is_help=True)
app.add_typer(analyst_app, name="analyst")


def _read_password(password_file: Path | None) -> str:
    """From the file (first line), else from stdin (prompted, hidden, when it is a terminal)."""
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SinkloadError(f"{password_file}: cannot read the password ({getattr(exc, 'strerror', exc)})") from None
        return text.splitlines()[0] if text else ""
    if sys.stdin.isatty():
        return typer.prompt("password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _tcp_port(handle) -> int | None:
    """The embedded cluster's TCP port, or None (an external database, or no TCP listener)."""
    from sinkload.db.connection import embedded_cluster

    return embedded_cluster(handle.settings).tcp_port if handle.settings.embedded else None


@analyst_app.command("create")
def create(
    name: str = typer.Argument(..., help="The login name (lowercase letters, digits, _)."),
    password_file: Path | None = typer.Option(None, "--password-file", help="Read the password from this file "
                                              "(first line); without it, from stdin. Never on the command line."),
    statement_timeout: str = typer.Option("60s", help="Longest statement (e.g. 60s, 5min)."),
    connection_limit: int = typer.Option(10, help="Most simultaneous connections of this login."),
) -> None:
    """Create (or re-key) an analyst login: member of the analyst role only, read-only, with a statement
    timeout and a connection limit; print the SQLAlchemy URI a BI tool needs."""
    from sinkload.db.analysts import bi_uri, check_name, create_analyst

    check_name(name)
    password = _read_password(password_file)
    handle = warehouse()
    created = create_analyst(handle, name, password, statement_timeout, connection_limit)
    typer.echo(f"{'created' if created else 'updated'} analyst login {name} "
               f"(member of {handle.roles.analyst}, read-only, statement_timeout {statement_timeout}, "
               f"at most {connection_limit} connections)")
    typer.echo(f"SQLAlchemy URI (put the password in place of ***): {bi_uri(handle.url, name, _tcp_port(handle))}")


@analyst_app.command("list")
def list_logins() -> None:
    """The analyst logins with their limits."""
    from sinkload.db.analysts import list_analysts

    handle = warehouse()
    logins = list_analysts(handle)
    if not logins:
        typer.echo(f"no analyst logins (members of {handle.roles.analyst}); create one with `sinkload analyst create NAME`")
        return
    typer.echo(f"{'name':<32} {'connections':>11}  {'statement_timeout':<17}  read-only")
    for login in logins:
        typer.echo(f"{login.name:<32} {login.connection_limit:>11}  {login.statement_timeout:<17}  "
                   f"{'yes' if login.read_only else 'NO'}")


@analyst_app.command("drop")
def drop(name: str = typer.Argument(..., help="The analyst login to drop (its sessions are ended).")) -> None:
    """Drop an analyst login (refused for any role that is not one)."""
    from sinkload.db.analysts import drop_analyst

    drop_analyst(warehouse(), name)
    typer.echo(f"dropped analyst login {name}")
