"""`sinkload build` skips dbt when nothing it depends on changed (sinkload.build_state, migration 0009), and
builds after each kind of change: raw data changed by hand, a dbt project file, a dbt var, a raw table added
by a later migration."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from sinkload.build_state import BOOKKEEPING, TRIGGER, BuildCheck, changed_tables, last_state
from sinkload.db.warehouse import Warehouse
from sinkload.roles import Roles
from tests.support import add_fake_batch, fresh_database, run_cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def own_db(server_url, base_settings):
    with fresh_database(server_url, base_settings, "buildstate") as settings:
        yield settings


def dbt_invocations(settings) -> int:
    """Rows of intermediate.build_run: one per dbt build/run (its on-run-start hook)."""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return conn.execute("select count(*) from intermediate.build_run").fetchone()[0]


def psql(settings, statement: str) -> None:
    """A hand fix: psql as the database owner (the migrating user), not through any sinkload role."""
    done = subprocess.run(["psql", settings.database_url, "-v", "ON_ERROR_STOP=1", "-qc", statement],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def untracked_tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("""
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'raw' and c.relkind in ('r', 'p')
          and not exists (select from pg_trigger t where t.tgrelid = c.oid and t.tgname = %s)
    """, [TRIGGER])
    return {name for (name,) in rows}


def check(settings, **kwargs) -> BuildCheck:
    return BuildCheck.read(Warehouse.of(settings, settings.database_url), None, forced=False, **kwargs)


def test_every_raw_table_but_the_bookkeeping_has_the_change_trigger(conn):
    assert untracked_tables(conn) == set(BOOKKEEPING)


def test_only_the_triggers_write_the_change_log_and_only_the_transformer_the_build_state(db_url, settings):
    roles = Roles(settings.role_prefix)
    with psycopg.connect(db_url, autocommit=True) as conn:
        for role in (roles.loader, roles.transformer, roles.reloader):
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
            for statement in ("insert into raw.raw_change (xact_id) values (1)", "delete from raw.raw_change",
                              "truncate raw.raw_change"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            if role != roles.transformer:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute("insert into raw.build_state (fingerprint, parts) values ('forged', '{}')")
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(roles.loader)))
        with conn.transaction(force_rollback=True):
            before = conn.execute("select count(*) from raw.raw_change").fetchone()[0]
            conn.execute("insert into raw.grid (west, north, dx, dy, nx, ny) values (-1, 1, 1, 1, 1, 1)")
            conn.execute("update raw.grid set nx = 1 where west = -1")  # one row per transaction
            assert conn.execute("select count(*) from raw.raw_change").fetchone()[0] == before + 1
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(roles.transformer)))
        with conn.transaction(force_rollback=True):
            conn.execute("insert into raw.build_state (fingerprint, parts) values ('x', '{}')")


def test_unchanged_build_is_skipped_without_running_dbt(own_db):
    first = run_cli(own_db, "build")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    runs = dbt_invocations(own_db)
    second = run_cli(own_db, "build")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert second.stdout.strip().splitlines() == [
        f"nothing changed since build {_last_build_id(own_db)} ({_built_at(own_db)}: raw data, dbt project, vars and "
        "versions as then); use --force to rebuild"]
    assert dbt_invocations(own_db) == runs
    forced = run_cli(own_db, "build", "--force")
    assert forced.returncode == 0, forced.stdout[-3000:] + forced.stderr
    assert dbt_invocations(own_db) == runs + 1


def test_a_hand_fix_of_raw_as_the_owner_builds_once(own_db):
    run_cli(own_db, "build")
    assert check(own_db).decision.skip
    psql(own_db, "insert into raw.grid (west, north, dx, dy, nx, ny) values (-180, 90, 2, 2, 180, 90)")
    now = check(own_db)
    assert not now.decision.skip and now.decision.message.endswith(": raw data")
    with psycopg.connect(own_db.database_url, autocommit=True) as conn:
        assert changed_tables(now.parts["raw"], last_state(conn).parts["raw"]) == ["grid"]
    runs, last = dbt_invocations(own_db), _last_build_id(own_db)
    built = run_cli(own_db, "build")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr
    assert built.stdout.startswith(f"changed since build {last}: raw data\n")
    assert dbt_invocations(own_db) == runs + 1
    assert check(own_db).decision.skip
    psql(own_db, "delete from raw.grid where dx = 2")
    assert not check(own_db).decision.skip
    run_cli(own_db, "build")
    psql(own_db, "truncate raw.budget_value")  # truncate counts, even of an empty table
    assert not check(own_db).decision.skip


def test_a_touched_dbt_file_or_another_var_builds(own_db, tmp_path):
    run_cli(own_db, "build")
    assert check(own_db).decision.skip
    copy = tmp_path / "checkout"
    for folder in ("migrations", "warehouse", "dbt_project"):
        shutil.copytree(REPO / folder, copy / folder, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
    in_copy = replace(own_db, project_root=copy)
    assert check(in_copy).decision.skip  # the same files elsewhere are the same project
    macro = copy / "dbt_project" / "macros" / "geography.sql"
    macro.write_text(macro.read_text() + "\n")
    assert check(in_copy).decision.message.endswith(": dbt project files")
    assert check(own_db, extra_vars={"period_end_year": 2018}).decision.message.endswith(": dbt vars")


def test_a_raw_table_created_later_is_tracked(own_db):
    run_cli(own_db, "build")
    assert check(own_db).decision.skip
    # what a later migration does: create a table in raw (the event trigger gives it the change trigger)
    psql(own_db, "create table raw.later_source (id integer primary key, value double precision)")
    with psycopg.connect(own_db.database_url, autocommit=True) as conn:
        assert "later_source" not in untracked_tables(conn)
    assert not check(own_db).decision.skip  # DDL in raw is a change
    run_cli(own_db, "build")
    assert check(own_db).decision.skip
    psql(own_db, "insert into raw.later_source values (1, 2.5)")
    assert check(own_db).decision.message.endswith(": raw data")
    run_cli(own_db, "build")
    psql(own_db, f"alter table raw.later_source disable trigger {TRIGGER}")
    decision = check(own_db).decision
    assert not decision.skip and "later_source" in decision.message
    psql(own_db, "drop table raw.later_source")


def _last_build_id(settings) -> int:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return conn.execute("select build_id from raw.build_state order by state_id desc limit 1").fetchone()[0]


def _built_at(settings) -> str:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return conn.execute("select to_char(built_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"') "
                            "from raw.build_state order by state_id desc limit 1").fetchone()[0]


def reload_then_build(settings, inbox) -> tuple[str, int]:
    """`sinkload reload INBOX` then `sinkload build`: the build's output and how many dbt runs it started."""
    reloaded = run_cli(settings, "reload", inbox)
    assert reloaded.returncode == 0, reloaded.stdout[-3000:] + reloaded.stderr
    runs = dbt_invocations(settings)
    built = run_cli(settings, "build")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr
    return built.stdout, dbt_invocations(settings) - runs


def test_a_reload_that_rebuilt_every_change_counts_as_a_complete_build(own_db, tmp_path):
    run_cli(own_db, "build")
    add_fake_batch(own_db, "reloaded")
    assert not check(own_db).decision.skip
    output, dbt_runs = reload_then_build(own_db, tmp_path)
    assert output.startswith("nothing changed since build") and dbt_runs == 0, output[-3000:]


def test_a_reload_does_not_vouch_for_changes_outside_what_it_rebuilt(own_db, tmp_path):
    run_cli(own_db, "build")
    psql(own_db, "truncate raw.budget_value")  # budgets: not a source group the reload rebuilds
    add_fake_batch(own_db, "reloaded_too")
    output, dbt_runs = reload_then_build(own_db, tmp_path)
    assert output.startswith("changed since build") and dbt_runs == 1, output[-3000:]


def test_a_failed_build_shows_dbts_log_then_one_line(own_db):
    failed = run_cli(own_db, "build", "--select", "bogus_method:x")
    assert failed.returncode == 1
    assert "Encountered an error:" in failed.stdout  # dbt's log, printed by the CLI
    assert failed.stderr.strip().splitlines() == [
        "error: dbt build failed: Runtime Error: 'bogus_method' is not a valid method name"]


def test_a_first_reload_builds_everything_and_counts_as_a_complete_build(server_url, base_settings, tmp_path):
    with fresh_database(server_url, base_settings, "firstreload") as settings:
        output, dbt_runs = reload_then_build(settings, tmp_path)
        assert output.startswith("nothing changed since build") and dbt_runs == 0, output[-3000:]
