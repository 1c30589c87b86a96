"""The embedded cluster: a second, private cluster driven through the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest


@pytest.fixture()
def private_cluster_env():
    # Directly under /tmp: as root the cluster belongs to `postgres`, who must be able to reach it.
    directory = Path("/tmp") / f"sinkload-clustertest-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k != "SINKLOAD_DATABASE_URL"}
    env["SINKLOAD_CLUSTER_DIR"] = str(directory)
    yield env
    subprocess.run([sys.executable, "-m", "sinkload", "db", "down"], env=env, capture_output=True, check=False)
    shutil.rmtree(directory, ignore_errors=True)


def _db(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sinkload", "db", *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_db_up_is_idempotent_and_down_stops_it(private_cluster_env):
    first = _db(private_cluster_env, "up")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("started")
    second = _db(private_cluster_env, "up")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("already running")

    url = _db(private_cluster_env, "url").stdout.strip()
    assert url in second.stdout
    with psycopg.connect(url) as conn:
        extensions = {row[0] for row in conn.execute("select extname from pg_extension")}
    assert {"postgis", "postgis_raster"} <= extensions
    assert _db(private_cluster_env, "status").returncode == 0

    down = _db(private_cluster_env, "down")
    assert down.stdout.strip() == "stopped"
    assert _db(private_cluster_env, "status").returncode == 3
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3)
    assert _db(private_cluster_env, "down").stdout.strip() == "not running"


def test_two_cluster_directories_get_different_sockets(tmp_path):
    from sinkload.db.cluster import socket_port

    assert socket_port(tmp_path / "a") != socket_port(tmp_path / "b")
