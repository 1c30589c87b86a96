"""Helpers shared by the reload, hostile-name, concurrency and crash tests (importable: tests/ is on sys.path).

Reload tests take a database of their own (fresh, migrated, own role prefix): they run dbt and rely on the
reload log, which other tests' loads in the session database would disturb.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from sinkload.db import migrate as migrations
from sinkload.roles import Roles
from sinkload.settings import Settings


@contextmanager
def fresh_database(server_url: str, base: Settings, label: str) -> Iterator[Settings]:
    """A new database `sinkload_<label>_<id>` migrated to head with role prefix `<label[0]><id>`; dropped after."""
    token = uuid.uuid4().hex[:8]
    name = f"sinkload_{label}_{token}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    settings = replace(base, database_url=url, role_prefix=f"{label[0]}{token}")
    migrations.upgrade(settings, url)
    try:
        yield settings
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            for role in Roles(settings.role_prefix).all():
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def cli_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    assert settings.database_url
    return {**os.environ, "SINKLOAD_DATABASE_URL": settings.database_url,
            "SINKLOAD_ROLE_PREFIX": settings.role_prefix, **(extra or {})}


def cli_argv(*args: object) -> list[str]:
    return [sys.executable, "-m", "sinkload", *map(str, args)]


def run_cli(settings: Settings, *args: object, timeout: float = 900,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cli_argv(*args), env=cli_env(settings, env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def start_cli(settings: Settings, *args: object, env: dict[str, str] | None = None) -> subprocess.Popen:
    """The CLI in the background, in a process group of its own (so a test can kill it with its children)."""
    return subprocess.Popen(cli_argv(*args), env=cli_env(settings, env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def add_fake_batch(settings: Settings, label: str) -> int:
    """A provenance row without tiles (as the loader): changes raw.load_batch's state without the ingest
    code, so that the reload's rebuild decision can be tested on its own."""
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(Roles(settings.role_prefix).loader)))
        product_id = conn.execute(
            "insert into raw.product (name, family, kind) values (%s, 'test', 'bottom-up') "
            "on conflict (name) do update set family = excluded.family returning product_id", [label]).fetchone()[0]
        member_id = conn.execute(
            "insert into raw.member (product_id, name) values (%s, %s) on conflict (product_id, name) "
            "do update set name = excluded.name returning member_id", [product_id, label]).fetchone()[0]
        grid_id = conn.execute(
            "insert into raw.grid (west, north, dx, dy, nx, ny) values (-180, 90, 1, 1, 360, 180) "
            "on conflict (west, north, dx, dy, nx, ny) do update set nx = excluded.nx returning grid_id").fetchone()[0]
        return conn.execute(
            """insert into raw.load_batch (product_id, member_id, grid_id, file_name, file_path, sha256, size_bytes,
                   variable, factor_applied, sign_applied, first_month, last_month, n_months, n_values, loader_version)
               values (%s, %s, %s, 'fake.nc', '/fake.nc', %s, 0, 'x', '1', 1, '2015-01-01', '2015-01-01', 1, 0, 'test')
               returning batch_id""",
            [product_id, member_id, grid_id, uuid.uuid4().hex * 2]).fetchone()[0]


def reload_runs(settings: Settings) -> list[dict]:
    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        cur = conn.execute("select * from raw.reload_run order by run_id")
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]


def write_file(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
