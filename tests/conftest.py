"""Shared fixtures: a real PostGIS (the embedded cluster, or SINKLOAD_DATABASE_URL's server) with one fresh
database and its own role prefix per test session, migrated to head. The helpers live in tests/support.py."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import psycopg
import pytest

from sinkload.db.connection import database_url
from sinkload.settings import Settings
from tests.support import fresh_database
from tests.support import run_cli as run_settings_cli


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def server_url(base_settings: Settings) -> str:
    """URL of the server's maintenance database (starts the embedded cluster if needed)."""
    return database_url(base_settings)


@pytest.fixture(scope="session")
def settings(base_settings: Settings, server_url: str) -> Iterator[Settings]:
    """Settings for a fresh, migrated database `sinkload_test_<id>` with roles `t<id>_*`."""
    with fresh_database(server_url, base_settings, "test") as test_settings:
        yield test_settings


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
