"""The doors into the warehouse, tried: passwords, another OS user, and an analyst login made by
`sinkload analyst create` trying to get out of its role. Each refused attempt leaves the database as it was."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors, sql

from sinkload.roles import Roles
from tests.support import cli_argv, cli_env, database_fingerprint, fresh_database, run_cli

DBT_SCHEMAS = ("staging", "intermediate", "marts")
PASSWORD = f"doors-{uuid.uuid4().hex}"
REFUSED = (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)


def _with_user(url: str, userinfo: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc.rsplit('@', 1)[-1]}"))


@pytest.fixture(scope="module")
def doors(server_url, base_settings) -> Iterator:
    """A database of its own, with a probe table and view in each dbt schema (made as the transformer, the
    view granted to the analyst group as dbt grants the marts)."""
    with fresh_database(server_url, base_settings, "doors") as settings:
        roles = Roles(settings.role_prefix)
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(roles.transformer)))
            for schema in DBT_SCHEMAS:
                conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
                conn.execute(sql.SQL("create table {}.probe as select 1 as x").format(sql.Identifier(schema)))
                conn.execute(sql.SQL("create view {}.probe_v as select x from {}.probe").format(
                    sql.Identifier(schema), sql.Identifier(schema)))
            conn.execute(sql.SQL("grant usage on schema marts to {}").format(sql.Identifier(roles.analyst)))
            conn.execute(sql.SQL("grant select on marts.probe_v to {}").format(sql.Identifier(roles.analyst)))
        yield settings


@pytest.fixture(scope="module")
def analyst(doors, tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """An analyst login made by the real CLI -> (name, its libpq URL, the CLI's output)."""
    name = f"bi_{uuid.uuid4().hex[:8]}"
    secret = tmp_path_factory.mktemp("secret") / "password"
    secret.write_text(PASSWORD + "\n")
    result = run_cli(doors, "analyst", "create", name, "--password-file", secret)
    assert result.returncode == 0, result.stderr
    yield name, _with_user(doors.database_url, f"{name}:{PASSWORD}"), result.stdout
    run_cli(doors, "analyst", "drop", name)


@pytest.fixture()
def as_analyst(analyst) -> Iterator[psycopg.Connection]:
    with psycopg.connect(analyst[1], autocommit=True) as conn:
        yield conn


@pytest.fixture()
def unchanged(doors) -> Iterator[None]:
    """Asserts afterwards that schema raw, every mart view and the roles are as before the test."""
    def snapshot():
        with psycopg.connect(doors.database_url, autocommit=True) as conn:
            roles = conn.execute("select rolname, rolcanlogin, rolconfig, rolconnlimit from pg_roles "
                                 "order by rolname").fetchall()
            probes = [conn.execute(sql.SQL("select count(*) from {}.probe").format(sql.Identifier(s))).fetchone()
                      for s in DBT_SCHEMAS]
            return database_fingerprint(conn), roles, probes

    before = snapshot()
    yield
    assert snapshot() == before


# -- creating, listing, dropping ----------------------------------------------------------------------------

def test_analyst_create_prints_the_bi_uri_without_the_password(doors, analyst):
    name, _, output = analyst
    assert PASSWORD not in output
    database = urlsplit(doors.database_url).path.lstrip("/")
    query = dict(item.split("=", 1) for item in urlsplit(doors.database_url).query.split("&"))
    assert f"postgresql+psycopg2://{name}:***@/{database}?host={query['host']}&port={query['port']}" in output
    with psycopg.connect(doors.database_url) as conn:
        limit, config, members = conn.execute(
            "select rolconnlimit, rolconfig, array(select g.rolname from pg_auth_members m join pg_roles g "
            "on g.oid = m.roleid where m.member = r.oid) from pg_roles r where rolname = %s", [name]).fetchone()
    assert limit == 10 and members == [Roles(doors.role_prefix).analyst]
    assert {"statement_timeout=60s", "default_transaction_read_only=on"} <= set(config)


def test_analyst_list_shows_it_and_drop_removes_it(doors, tmp_path):
    name = f"bi_{uuid.uuid4().hex[:8]}"
    created = subprocess.run(  # the password on stdin: compose's analyst-login does the same
        cli_argv("analyst", "create", name), input=PASSWORD + "\n", env=cli_env(doors), capture_output=True,
        text=True, timeout=300, check=False)
    assert created.returncode == 0, created.stderr
    listed = run_cli(doors, "analyst", "list")
    assert listed.returncode == 0
    row = next(line.split() for line in listed.stdout.splitlines() if line.startswith(name + " "))
    assert row == [name, "10", "60s", "yes"]
    url = _with_user(doors.database_url, f"{name}:{PASSWORD}")
    session = psycopg.connect(url)
    assert run_cli(doors, "analyst", "drop", name).returncode == 0
    assert name not in run_cli(doors, "analyst", "list").stdout
    with pytest.raises(psycopg.OperationalError):
        session.execute("select 1")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=5)


# -- passwords ---------------------------------------------------------------------------------------------

@pytest.mark.fault
@pytest.mark.parametrize("password", ["", "wrong-password-0001", PASSWORD.upper()], ids=["empty", "wrong", "case"])
def test_analyst_with_a_wrong_or_empty_password_is_refused(doors, analyst, password):
    name = analyst[0]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(_with_user(doors.database_url, f"{name}:{password}" if password else name), connect_timeout=5)


@pytest.mark.fault
def test_superuser_without_a_password_is_refused(doors):
    parts = urlsplit(doors.database_url)
    if parts.password is None:
        pytest.skip("the database URL carries no password (libpq finds it elsewhere)")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(_with_user(doors.database_url, parts.username), connect_timeout=5)


@pytest.mark.bad_input
@pytest.mark.parametrize("password", ["change-me", "changeme", "password", "", "Sh0rt-pw", "change-me-too"])
def test_placeholder_passwords_are_refused(doors, tmp_path, unchanged, password):
    secret = tmp_path / "password"
    secret.write_text(password + "\n")
    result = run_cli(doors, "analyst", "create", f"bi_{uuid.uuid4().hex[:8]}", "--password-file", secret)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: analyst bi_") and "password is" in lines[0], result.stderr


@pytest.mark.bad_input
def test_a_placeholder_in_the_compose_url_is_refused(doors):
    url = urlsplit(doors.database_url)
    placeholder = _with_user(doors.database_url, f"{url.username}:change-me")
    result = run_cli(doors, "migrate", env={"SINKLOAD_DATABASE_URL": placeholder, "SINKLOAD_STRICT_PASSWORDS": "1"})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "SINKLOAD_DATABASE_URL" in result.stderr, result.stderr
    assert "placeholder" in result.stderr


@pytest.mark.bad_input
@pytest.mark.parametrize("name", ["Robert'); drop table raw.product; --", "a b", "x\ny", "pg_sneaky", "9lives",
                                  "a" * 64])
def test_hostile_analyst_names_are_one_line(doors, tmp_path, unchanged, name):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    result = run_cli(doors, "analyst", "create", name, "--password-file", secret)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr


@pytest.mark.bad_input
@pytest.mark.parametrize("which", ["superuser", "loader", "group"])
def test_existing_roles_cannot_be_rekeyed_or_dropped(doors, tmp_path, unchanged, which):
    roles = Roles(doors.role_prefix)
    name = {"superuser": urlsplit(doors.database_url).username, "loader": roles.loader,
            "group": roles.analyst}[which]
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    for args in (("create", name, "--password-file", secret), ("drop", name)):
        result = run_cli(doors, "analyst", *args)
        assert result.returncode == 1, result.stdout
        assert result.stderr.strip().count("\n") == 0 and name in result.stderr, result.stderr


# -- the analyst tries to get out -----------------------------------------------------------------------------

def _refused(conn: psycopg.Connection, statement: str | sql.Composable) -> None:
    with pytest.raises(REFUSED):
        conn.execute(statement)


@pytest.mark.fault
def test_analyst_reads_the_marts_and_nothing_under_them(as_analyst, unchanged):
    assert as_analyst.execute("select x from marts.probe_v").fetchone() == (1,)
    assert as_analyst.execute("show default_transaction_read_only").fetchone() == ("on",)
    assert as_analyst.execute("show statement_timeout").fetchone() == ("1min",)
    for table in ("product", "load_batch", "flux_tile", "reload_run"):
        _refused(as_analyst, f"select * from raw.{table} limit 1")
    for schema in ("staging", "intermediate"):
        _refused(as_analyst, f"select * from {schema}.probe")
        _refused(as_analyst, f"select * from {schema}.probe_v")
    _refused(as_analyst, "select * from marts.probe")


@pytest.mark.fault
@pytest.mark.parametrize("read_only", ["on", "off"])
def test_analyst_writes_nothing_anywhere(as_analyst, unchanged, read_only):
    # read-only is a default the analyst may switch off; the privileges refuse the writes anyway.
    as_analyst.execute(sql.SQL("set default_transaction_read_only = {}").format(sql.Literal(read_only)))
    for schema in DBT_SCHEMAS:
        _refused(as_analyst, f"insert into {schema}.probe values (2)")
        _refused(as_analyst, f"update {schema}.probe set x = 3")
        _refused(as_analyst, f"delete from {schema}.probe")
        _refused(as_analyst, f"create table {schema}.mine (x int)")
    _refused(as_analyst, "insert into raw.grid (west, north, dx, dy, nx, ny) values (0, 0, 1, 1, 1, 1)")
    _refused(as_analyst, "delete from raw.reload_run")
    _refused(as_analyst, "create table public.mine (x int)")
    _refused(as_analyst, "create schema mine")
    _refused(as_analyst, "drop view marts.probe_v")


@pytest.mark.fault
def test_analyst_cannot_copy_to_files_or_programs_or_read_files(as_analyst, unchanged):
    target = Path("/tmp") / f"sinkload-analyst-was-here-{uuid.uuid4().hex[:6]}"
    _refused(as_analyst, f"copy (select 1) to '{target}'")
    _refused(as_analyst, f"copy (select 1) to program 'touch {target}'")
    _refused(as_analyst, "select pg_read_file('/etc/passwd')")
    _refused(as_analyst, "select pg_read_binary_file('/etc/hostname')")
    _refused(as_analyst, "select pg_ls_dir('.')")
    _refused(as_analyst, "select lo_import('/etc/passwd')")
    assert not target.exists()


@pytest.mark.fault
def test_analyst_cannot_become_another_role(doors, as_analyst, unchanged):
    roles = Roles(doors.role_prefix)
    for other in (roles.loader, roles.transformer, roles.reloader, urlsplit(doors.database_url).username):
        _refused(as_analyst, sql.SQL("set role {}").format(sql.Identifier(other)))
        _refused(as_analyst, sql.SQL("set session authorization {}").format(sql.Identifier(other)))
    _refused(as_analyst, sql.SQL("alter role {} superuser").format(sql.Identifier(roles.analyst)))
    _refused(as_analyst, sql.SQL("grant {} to current_user").format(sql.Identifier(roles.loader)))


# -- another OS user ----------------------------------------------------------------------------------------

@pytest.mark.fault
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (to act as another OS user)")
def test_another_os_user_cannot_use_the_socket_even_with_the_password(doors, analyst):
    if "host=/" not in doors.database_url:
        pytest.skip("needs the embedded cluster (a Unix socket)")
    result = subprocess.run(["runuser", "-u", "nobody", "--", "psql", "-w", analyst[1], "-c", "select 1"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0 and "Permission denied" in result.stderr, result.stderr
