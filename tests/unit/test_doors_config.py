"""Pure parts of the locks: which passwords are refused, the cluster's configuration text, the BI URI."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinkload.db import cluster_config as config
from sinkload.db.analysts import bi_uri, check_name
from sinkload.errors import SinkloadError
from sinkload.passwords import check_url_password, weakness
from sinkload.settings import Settings


@pytest.mark.parametrize("password", ["", "change-me", "changeme", "CHANGE_ME", "change-me-too", "password",
                                      "Password1234", "123456789012", "secret", "Sh0rt-pw"])
def test_placeholders_and_short_passwords_are_weak(password):
    assert weakness(password)


@pytest.mark.parametrize("password", ["correct-horse-battery", "Zr8-q2Lw-7xPp", "x" * 64])
def test_real_passwords_pass(password):
    assert weakness(password) is None


def test_url_passwords_are_checked_in_userinfo_and_query_but_never_shown():
    with pytest.raises(SinkloadError, match="placeholder") as refused:
        check_url_password("postgresql://u:change-me@db/w", "SINKLOAD_DATABASE_URL")
    assert "change-me" not in str(refused.value)
    with pytest.raises(SinkloadError):
        check_url_password("postgresql://u@db/w?sslmode=require&password=short", "X")
    check_url_password("postgresql://u@db/w", "X")  # none in the URL: left to ~/.pgpass
    check_url_password("postgresql://u:correct-horse-battery@db/w", "X")


def test_the_managed_block_replaces_itself_and_guards_the_listener():
    base = "max_connections = 100\n"
    once = config.with_managed_block(base, config.managed_block(Path("/c/run"), 25000, tcp=False))
    twice = config.with_managed_block(once, config.managed_block(Path("/c/run"), 5433, tcp=True))
    assert twice.count(config.BEGIN) == 1 and twice.startswith(base)
    assert config.managed_settings(twice)["listen_addresses"] == "127.0.0.1"
    assert config.managed_settings(twice)["port"] == "5433"
    assert config.managed_settings(once)["listen_addresses"] == ""
    assert config.managed_settings(base) is None
    auto = "# header\nlisten_addresses = '*'\nPort=1\nwork_mem = '1GB'\nstatement_timeout = 5\n"
    assert config.without_keys(auto, [*config.GUARDED_KEYS, *config.TUNING]) == "# header\nstatement_timeout = 5\n"


def test_pg_hba_never_trusts_and_tcp_is_loopback_only():
    for tcp in (False, True):
        rules = [line.split() for line in config.hba(tcp).splitlines() if line and not line.startswith("#")]
        assert all(rule[-1] == "scram-sha-256" for rule in rules)
        assert [rule[3] for rule in rules if rule[0] == "host"] == (["127.0.0.1/32"] if tcp else [])


@pytest.mark.parametrize("port", [80, 1023, 65536, -1])
def test_unusable_ports_are_refused(port):
    with pytest.raises(SinkloadError):
        config.check_tcp_port(port, "--port")


def test_db_port_setting(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "dbt_project").mkdir()
    env = {"SINKLOAD_HOME": str(tmp_path)}
    assert Settings.from_env(env).db_port is None
    assert Settings.from_env({**env, "SINKLOAD_DB_PORT": "5433"}).db_port == 5433
    with pytest.raises(SinkloadError, match="SINKLOAD_DB_PORT"):
        Settings.from_env({**env, "SINKLOAD_DB_PORT": "five"})


def test_bi_uris():
    socket = "postgresql://sinkload:s3cret-value-xyz@/wh?host=/tmp/sinkload-ab/run&port=25001"
    assert bi_uri(socket, "bob") == "postgresql+psycopg2://bob:***@/wh?host=/tmp/sinkload-ab/run&port=25001"
    assert bi_uri(socket, "bob", tcp_port=5433) == "postgresql+psycopg2://bob:***@127.0.0.1:5433/wh"
    assert bi_uri("postgresql://sinkload:pw@db:5432/sinkload", "bob") == "postgresql+psycopg2://bob:***@db:5432/sinkload"


@pytest.mark.parametrize("name", ["", "Bob", "a-b", "a;drop", "pg_x", "1a", "a" * 64, "é"])
def test_hostile_analyst_names(name):
    with pytest.raises(SinkloadError):
        check_name(name)
