"""Which database, and connections to it. Credentials come only from the settings (the environment)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from sinkload.db.cluster import Cluster
from sinkload.errors import SinkloadError
from sinkload.passwords import check_url_password
from sinkload.settings import Settings


def embedded_cluster(settings: Settings) -> Cluster:
    assert settings.cluster_dir is not None
    return Cluster.at(settings.cluster_dir, settings.pg_bindir)


def database_url(settings: Settings, start: bool = True) -> str:
    """The libpq URL of the warehouse database; starts the embedded cluster when none is configured (its URL
    carries the superuser's generated password: show it only through redact())."""
    if settings.database_url:
        if settings.strict_passwords:
            check_url_password(settings.database_url, "SINKLOAD_DATABASE_URL")
        return settings.database_url
    cluster = embedded_cluster(settings)
    if start:
        cluster.up(settings.db_port)
    elif not cluster.running():
        raise SinkloadError(f"{cluster.data_dir}: the embedded database is not running (run `sinkload db up`)")
    return cluster.url()


def redact(url: str) -> str:
    """The URL with any password (user:password@ or ?password=) replaced, for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@")
    query = "&".join(f"{key}=***" if key.lower() == "password" else f"{key}={value}" if sep else key
                     for key, sep, value in (item.partition("=") for item in parts.query.split("&") if item))
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def sqlalchemy_url(url: str) -> str:
    """libpq URL -> SQLAlchemy URL using the psycopg 3 driver."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


@contextmanager
def connect(url: str, role: str | None = None, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection; with `role`, every statement runs under that role (`SET ROLE`)."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, application_name="sinkload")
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SinkloadError(f"{redact(url)}: cannot connect: {first}") from None
    try:
        if role:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
            if not autocommit:
                conn.commit()
        yield conn
    finally:
        conn.close()
