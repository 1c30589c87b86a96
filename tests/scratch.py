"""Throw-away databases on the same server: for tests and benchmarks that need a database of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from sinkload.db import migrate as migrations
from sinkload.roles import Roles
from sinkload.settings import Settings


@contextmanager
def fresh_database(server_url: str, base: Settings, label: str) -> Iterator[Settings]:
    """A new database `sinkload_<label>_<id>` migrated to head with role prefix `<label[0]><id>`; dropped
    (with its roles) afterwards."""
    token = uuid.uuid4().hex[:8]
    name = f"sinkload_{label}_{token}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    settings = replace(base, database_url=url, role_prefix=f"{label[0]}{token}")
    try:
        migrations.upgrade(settings, url)
        yield settings
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            for role in Roles(settings.role_prefix).all():
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
