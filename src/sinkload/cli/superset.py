"""`sinkload superset bundle` (regenerate deploy/superset/bundle from the dbt yml) and `bootstrap` (import it)."""

from __future__ import annotations

from pathlib import Path

import typer

from sinkload.cli.app import app, settings
from sinkload.errors import SinkloadError

superset_app = typer.Typer(help="Apache Superset: the bundle of datasets, charts and dashboard for the marts.",
                           no_args_is_help=True)
app.add_typer(superset_app, name="superset")


def _bundle_dir(option: Path | None) -> Path:
    return option or settings().project_root / "deploy" / "superset" / "bundle"


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SinkloadError(f"{path}: cannot read the password file: {exc.strerror}") from None


@superset_app.command("bundle")
def bundle(out: Path | None = typer.Option(None, help="Bundle directory (default deploy/superset/bundle).")) -> None:
    """Write the bundle (database, six datasets, charts, dashboard) from dbt_project/models/marts/_marts.yml."""
    from sinkload.superset.files import write_bundle

    s = settings()
    written = write_bundle(s.dbt_project_dir / "models" / "marts" / "_marts.yml", _bundle_dir(out))
    typer.echo(f"wrote {written} files to {_bundle_dir(out)}")


@superset_app.command("bootstrap")
def bootstrap(
    url: str = typer.Option(..., help="Superset's base URL, e.g. http://127.0.0.1:8088"),
    user: str = typer.Option(..., help="A Superset admin user."),
    password_file: Path = typer.Option(..., help="File holding that user's password."),
    database_uri: str = typer.Option(..., help="SQLAlchemy URI of the warehouse as an analyst login "
                                     "(postgresql+psycopg2://NAME@/sinkload?host=SOCKETDIR&port=N)."),
    database_password_file: Path | None = typer.Option(None, help="File holding the analyst's password."),
    bundle_dir: Path | None = typer.Option(None, help="Bundle directory (default deploy/superset/bundle)."),
) -> None:
    """Import the bundle into a running Superset (REST API) and refresh its datasets' columns."""
    from sinkload.superset.client import bootstrap as run_bootstrap

    db_password = _read_secret(database_password_file) if database_password_file else None
    refreshed = run_bootstrap(url, user, _read_secret(password_file), _bundle_dir(bundle_dir), database_uri,
                              db_password)
    typer.echo(f"imported the bundle into {url}; refreshed {len(refreshed)} datasets: {', '.join(refreshed)}")
