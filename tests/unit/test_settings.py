from pathlib import Path

import pytest

from sinkload.db.connection import redact, sqlalchemy_url
from sinkload.dbt import dbt_environment
from sinkload.roles import Roles
from sinkload.settings import Settings, default_cluster_dir


def test_settings_come_from_the_given_environment(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "dbt_project").mkdir()
    s = Settings.from_env({"SINKLOAD_HOME": str(tmp_path), "SINKLOAD_DATABASE_URL": "postgresql://u@h/db",
                           "SINKLOAD_CATALOG": "/x/cat.yaml", "SINKLOAD_ROLE_PREFIX": "abc"})
    assert s.project_root == tmp_path
    assert s.database_url == "postgresql://u@h/db"
    assert s.catalog == Path("/x/cat.yaml")
    assert s.role_prefix == "abc"
    assert not s.embedded


def test_root_clusters_live_under_tmp_and_users_in_the_checkout(tmp_path):
    assert default_cluster_dir(tmp_path, running_as_root=False) == tmp_path / ".sinkload"
    as_root = default_cluster_dir(tmp_path, running_as_root=True)
    assert as_root.parent == Path("/tmp") and as_root.name.startswith("sinkload-")
    assert default_cluster_dir(tmp_path / "other", running_as_root=True) != as_root


def test_passwords_are_redacted():
    assert redact("postgresql://bob:s3cr3t@db:5432/w") == "postgresql://bob:***@db:5432/w"
    assert redact("postgresql://bob@db/w") == "postgresql://bob@db/w"
    assert sqlalchemy_url("postgresql://bob@db/w") == "postgresql+psycopg://bob@db/w"


def test_dbt_environment_reads_socket_urls():
    env = dbt_environment("postgresql://sinkload@/wh?host=/tmp/x/run&port=25000", "r_transformer")
    assert env["SINKLOAD_DBT_HOST"] == "/tmp/x/run"
    assert env["SINKLOAD_DBT_PORT"] == "25000"
    assert env["SINKLOAD_DBT_DBNAME"] == "wh"
    assert env["SINKLOAD_DBT_ROLE"] == "r_transformer"
    tcp = dbt_environment("postgresql://u:p%40ss@db.example:6543/w", "t")
    assert (tcp["SINKLOAD_DBT_HOST"], tcp["SINKLOAD_DBT_PORT"], tcp["SINKLOAD_DBT_PASSWORD"]) == ("db.example", "6543", "p@ss")


@pytest.mark.parametrize("prefix", ["", "Bad", "a;drop", "x" * 50])
def test_role_prefix_is_validated(prefix):
    with pytest.raises(ValueError):
        Roles(prefix)
