"""Each role's limits, proved by trying what it must not do.

Two ways to be a role: `SET ROLE` from the migrating user (how the loaders and dbt act) and a LOGIN user
that is a member of the role and nothing else (how Superset or an analyst connects: it cannot `SET ROLE`
its way out). Schemas staging/intermediate/marts are created here as the transformer (as dbt would).
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors, sql

from sinkload.db.connection import redact
from sinkload.db.warehouse import Warehouse
from sinkload.roles import Roles
from tests.support import cli_argv

DBT_SCHEMAS = ("staging", "intermediate", "marts")
RAW_TABLES = ("product", "member", "grid", "load_batch", "flux_tile", "region_layer", "region",
              "landcover_layer", "landcover_class", "landcover", "reload_run", "budget_file", "budget_value",
              "budget_grid")
DENIED = (errors.InsufficientPrivilege,)


@pytest.fixture(scope="module")
def roles(settings) -> Roles:
    return Roles(settings.role_prefix)


@pytest.fixture(scope="module")
def probe(db_url, roles) -> str:
    """A transformer-owned probe table and view in each dbt schema, the view granted to the analyst the
    way dbt grants marts (model grants + the schema-usage hook)."""
    token = f"probe_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(roles.transformer)))
        for schema in DBT_SCHEMAS:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("create table {}.{} as select 1 as x").format(
                sql.Identifier(schema), sql.Identifier(f"{token}_t")))
            conn.execute(sql.SQL("create view {}.{} as select x, (select count(*) from raw.product) as n from {}.{}")
                         .format(sql.Identifier(schema), sql.Identifier(f"{token}_v"),
                                 sql.Identifier(schema), sql.Identifier(f"{token}_t")))
        conn.execute(sql.SQL("grant select on marts.{} to {}").format(sql.Identifier(f"{token}_v"),
                                                                      sql.Identifier(roles.analyst)))
        conn.execute(sql.SQL("grant usage on schema marts to {}").format(sql.Identifier(roles.analyst)))
    yield token
    with psycopg.connect(db_url, autocommit=True) as conn:
        for schema in DBT_SCHEMAS:
            conn.execute(sql.SQL("drop table if exists {}.{} cascade").format(
                sql.Identifier(schema), sql.Identifier(f"{token}_t")))


def _with_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@pytest.fixture(scope="module")
def login_members(db_url, roles) -> Iterator[dict[str, str]]:
    """LOGIN users (with a password) that are members of exactly one role each -> their connection URLs."""
    token = uuid.uuid4().hex[:6]
    users = {role: f"{role}_login_{token}" for role in roles.all()}
    password = f"pw-{uuid.uuid4().hex}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        for role, user in users.items():
            conn.execute(sql.SQL("create role {} login password {} in role {}").format(
                sql.Identifier(user), sql.Literal(password), sql.Identifier(role)))
    yield {role: _with_user(db_url, f"{user}:{password}") for role, user in users.items()}
    with psycopg.connect(db_url, autocommit=True) as conn:
        for user in users.values():
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(user)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(user)))


@pytest.fixture(params=["set role", "login member"])
def as_role(request, db_url, login_members):
    """as_role(role) -> a context manager yielding an autocommit connection acting as that role."""

    @contextmanager
    def open_as(role: str) -> Iterator[psycopg.Connection]:
        if request.param == "login member":
            with psycopg.connect(login_members[role], autocommit=True) as conn:
                yield conn
        else:
            with psycopg.connect(db_url, autocommit=True) as conn:
                conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
                yield conn

    return open_as


def assert_denied(conn: psycopg.Connection, statement: str | sql.Composable) -> None:
    with pytest.raises(DENIED):
        conn.execute(statement)


def _q(template: str, *names: str) -> sql.Composed:
    return sql.SQL(template).format(*map(sql.Identifier, names))


# -- analyst ----------------------------------------------------------------------------------------------

def test_analyst_cannot_read_raw(as_role, roles):
    with as_role(roles.analyst) as conn:
        for table in RAW_TABLES:
            assert_denied(conn, _q("select * from raw.{} limit 1", table))


def test_analyst_cannot_write_anything(as_role, roles, probe):
    with as_role(roles.analyst) as conn:
        assert_denied(conn, "insert into raw.grid (west, north, dx, dy, nx, ny) values (0, 0, 1, 1, 1, 1)")
        assert_denied(conn, "delete from raw.product")
        assert_denied(conn, "truncate raw.flux_tile")
        for schema in DBT_SCHEMAS:
            assert_denied(conn, _q("insert into {}.{} values (2)", schema, f"{probe}_t"))
            assert_denied(conn, _q("update {}.{} set x = 3", schema, f"{probe}_t"))
            assert_denied(conn, _q("delete from {}.{}", schema, f"{probe}_t"))
        assert_denied(conn, "copy (select 1) to '/tmp/sinkload-analyst-was-here'")


def test_analyst_cannot_create_or_drop_anything(as_role, roles, probe):
    with as_role(roles.analyst) as conn:
        for schema in ("raw", "public", *DBT_SCHEMAS):
            assert_denied(conn, _q("create table {}.analyst_table (x int)", schema))
            assert_denied(conn, _q("create view {}.analyst_view as select 1", schema))
            assert_denied(conn, _q("create function {}.analyst_f() returns int language sql as 'select 1'", schema))
        assert_denied(conn, "create schema analyst_schema")
        assert_denied(conn, "create temporary table analyst_tmp (x int)")
        assert_denied(conn, _q("drop view marts.{}", f"{probe}_v"))
        assert_denied(conn, _q("alter view marts.{} rename to hijacked", f"{probe}_v"))
        assert_denied(conn, "drop table raw.product")


def test_analyst_reads_marts_views_but_not_what_is_under_them(as_role, roles, probe):
    with as_role(roles.analyst) as conn:
        # The view reads raw and a transformer table with its owner's rights: the analyst gets the answer.
        assert conn.execute(_q("select x, n from marts.{}", f"{probe}_v")).fetchone()[0] == 1
        assert_denied(conn, _q("select * from marts.{}", f"{probe}_t"))
        for schema in ("staging", "intermediate"):
            assert_denied(conn, _q("select * from {}.{}", schema, f"{probe}_v"))


def test_analyst_reads_every_dbt_built_mart(as_role, roles, conn, run_cli):
    """Every view dbt builds in marts is readable by the analyst (grants + usage hook)."""
    run_cli("build", check=True)
    views = [row[0] for row in conn.execute(
        "select table_name from information_schema.views where table_schema = 'marts' and table_name not like 'probe_%'")]
    assert set(views) == {"sink_cell_mean", "sink_monthly", "sink_annual", "sink_summary", "sink_zonal_monthly",
                          "ensemble_spread", "build_info", "sink_lineage", "products", "product_comparison",
                          "budget_comparison", "unit_cell_weights", "region_layer_quality", "method_comparison"}
    with as_role(roles.analyst) as analyst:
        for view in views:
            analyst.execute(_q("select * from marts.{} limit 1", view))


def test_login_analyst_cannot_become_another_role(login_members, roles):
    with psycopg.connect(login_members[roles.analyst], autocommit=True) as conn:
        for other in (roles.loader, roles.transformer):
            assert_denied(conn, _q("set role {}", other))
        conn.execute("reset role")
        assert_denied(conn, "select * from raw.product limit 1")


# -- loader -----------------------------------------------------------------------------------------------

def test_loader_cannot_touch_what_dbt_owns(as_role, roles, probe):
    with as_role(roles.loader) as conn:
        for schema in DBT_SCHEMAS:
            assert_denied(conn, _q("select * from {}.{}", schema, f"{probe}_t"))
            assert_denied(conn, _q("insert into {}.{} values (2)", schema, f"{probe}_t"))
            assert_denied(conn, _q("drop table {}.{}", schema, f"{probe}_t"))
            assert_denied(conn, _q("create table {}.loader_table (x int)", schema))


def test_loader_cannot_create_schemas_or_change_raw_ddl(as_role, roles):
    with as_role(roles.loader) as conn:
        assert_denied(conn, "create schema loader_schema")
        assert_denied(conn, "create table raw.loader_table (x int)")
        assert_denied(conn, "create table public.loader_table (x int)")
        assert_denied(conn, "alter table raw.product add column sneaky int")
        assert_denied(conn, "drop table raw.flux_tile")
        assert_denied(conn, "truncate raw.product")


def test_loader_writes_raw(as_role, roles):
    with as_role(roles.loader) as conn, conn.transaction(force_rollback=True):
        conn.execute("insert into raw.grid (west, north, dx, dy, nx, ny) values (-1, 1, 1, 1, 1, 1)")
        assert conn.execute("select count(*) from raw.grid where west = -1 and north = 1").fetchone()[0] == 1


# -- transformer ------------------------------------------------------------------------------------------

def test_transformer_cannot_write_raw(as_role, roles):
    with as_role(roles.transformer) as conn:
        assert conn.execute("select count(*) from raw.product").fetchone()[0] >= 0
        assert_denied(conn, "insert into raw.grid (west, north, dx, dy, nx, ny) values (0, 0, 1, 1, 1, 1)")
        assert_denied(conn, "update raw.product set name = name")
        assert_denied(conn, "delete from raw.load_batch")
        assert_denied(conn, "truncate raw.flux_tile")
        assert_denied(conn, "create table raw.transformer_table (x int)")
        assert_denied(conn, "alter table raw.product add column sneaky int")
        assert_denied(conn, "drop table raw.product")


# -- credentials ------------------------------------------------------------------------------------------

SECRET = "Sup3r-s3cret-" + uuid.uuid4().hex[:8]


def _cli(args: list[str], env_url: str) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "SINKLOAD_DATABASE_URL": env_url}
    return subprocess.run(cli_argv(*args), env=env, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.parametrize("url", [
    pytest.param(f"postgresql://warehouse:{SECRET}@db.example:5432/sinkload", id="userinfo"),
    pytest.param(f"postgresql://warehouse:{SECRET}@db.example/sinkload?sslmode=require", id="userinfo-query"),
    pytest.param(f"postgresql://warehouse@db.example/sinkload?password={SECRET}", id="query"),
    pytest.param(f"postgresql://warehouse@db.example/sinkload?sslmode=require&password={SECRET}&application_name=x",
                 id="query-middle"),
])
def test_redact_hides_the_password(url):
    shown = redact(url)
    assert SECRET not in shown
    assert "warehouse" in shown and "db.example" in shown


def test_db_url_never_prints_the_password():
    result = _cli(["db", "url"], f"postgresql://warehouse:{SECRET}@db.example:5432/sinkload")
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "warehouse" in result.stdout


REFUSING = f"postgresql://warehouse:{SECRET}@127.0.0.1:1/sinkload?connect_timeout=3"
REFUSING_QUERY = f"postgresql://warehouse@127.0.0.1:1/sinkload?connect_timeout=3&password={SECRET}"


@pytest.mark.parametrize(("command", "url"), [
    *[pytest.param(command, REFUSING, id=f"{command}-userinfo") for command in ("migrate", "build", "reload")],
    pytest.param("migrate", REFUSING_QUERY, id="migrate-query"),
    pytest.param("reload", REFUSING_QUERY, id="reload-query"),
    # dbt_environment() drops a query password: dbt never sees it
    pytest.param("build", REFUSING_QUERY, id="build-query"),
])
def test_failing_connection_does_not_print_the_password(command, url, tmp_path):
    # Port 1 on localhost: refused at once, the error message is about the server.
    result = _cli([command, str(tmp_path)] if command == "reload" else [command], url)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert SECRET not in output
    assert output.strip(), "an error must be reported"


def test_wrong_password_is_reported_without_it(server_url, tmp_path):
    """A real server refusing a password (the embedded cluster too: it trusts nobody): the one-line error
    names the user, never the password."""
    user = urlsplit(server_url).username or "sinkload"
    result = _cli(["migrate"], _with_user(server_url, f"{user}:{SECRET}"))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert re.search(rf"password authentication failed for user \"?{user}", lines[0]), lines[0]


def test_dbt_never_writes_the_password(db_url, settings):
    """dbt gets the password through SINKLOAD_DBT_PASSWORD only: nothing in its output, target/ or logs/."""
    from sinkload.dbt import run_dbt

    secret = urlsplit(db_url).password
    if not secret:
        pytest.skip("the database URL carries no password")
    result = run_dbt(Warehouse.of(settings, db_url), ["run", "--select", "stg_raw__products"])
    assert secret not in result.stdout + result.stderr
    for folder in ("target", "logs"):
        for path in (settings.dbt_project_dir / folder).rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                assert secret.encode() not in path.read_bytes(), path


# -- the run log ------------------------------------------------------------------------------------------

def test_only_the_reloader_writes_the_run_log(as_role, roles, conn):
    assert not conn.execute("select pg_has_role(%s, %s, 'member')", [roles.loader, roles.reloader]).fetchone()[0]
    with as_role(roles.loader) as loader:
        assert loader.execute("select count(*) from raw.reload_run").fetchone()[0] >= 0
        assert_denied(loader, "insert into raw.reload_run (inbox) values ('/forged')")
        assert_denied(loader, "update raw.reload_run set built_fingerprint = null")
        assert_denied(loader, "delete from raw.reload_run")
    with as_role(roles.reloader) as reloader:
        assert reloader.execute("select count(*) from raw.load_batch").fetchone()[0] >= 0
        assert_denied(reloader, "delete from raw.reload_run")
        assert_denied(reloader, "insert into raw.grid (west, north, dx, dy, nx, ny) values (0, 0, 1, 1, 1, 1)")
        with reloader.transaction(force_rollback=True):
            run_id = reloader.execute("insert into raw.reload_run (inbox) values ('/x') returning run_id").fetchone()[0]
            reloader.execute("update raw.reload_run set status = 'done' where run_id = %s", [run_id])
