"""Shared fixtures: a real PostGIS (the embedded cluster, or SINKLOAD_DATABASE_URL's server) with one fresh
database and its own role prefix per test session, migrated to head."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from reload_support import run_cli as run_settings_cli
from sinkload.db import migrate as migrations
from sinkload.db.connection import database_url
from sinkload.db.warehouse import Warehouse
from sinkload.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def server_url(base_settings: Settings) -> str:
    """URL of the server's maintenance database (starts the embedded cluster if needed)."""
    return database_url(base_settings)


@pytest.fixture(scope="session")
def session_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def settings(base_settings: Settings, server_url: str, session_id: str) -> Iterator[Settings]:
    """Settings for a fresh, migrated database `sinkload_test_<id>` with roles `t<id>_*`."""
    name = f"sinkload_test_{session_id}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = _with_database(server_url, name)
    test_settings = replace(base_settings, database_url=url, role_prefix=f"t{session_id}")
    migrations.upgrade(Warehouse.of(test_settings, url))
    yield test_settings
    migrations.downgrade(Warehouse.of(test_settings, url), "base")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def db_url(settings: Settings) -> str:
    assert settings.database_url
    return settings.database_url


@pytest.fixture()
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def run_cli(settings: Settings):
    """Run the real `sinkload` command against the test database; returns the CompletedProcess."""

    def run(*args: str, check: bool = False, env: dict[str, str] | None = None,
            timeout: float = 1800) -> subprocess.CompletedProcess:
        result = run_settings_cli(settings, *args, env=env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"sinkload {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
        return result

    return run
