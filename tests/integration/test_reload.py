"""`sinkload reload`: the lock, doing nothing twice, rebuilding when raw changed, the inbox rules."""

from __future__ import annotations

import os
import resource
import time

import psycopg
import pytest

from sinkload.db.locks import LockBusy, advisory_lock
from sinkload.db.raw_state import SOURCE_GROUPS, group_tables
from sinkload.db.warehouse import Warehouse
from sinkload.dbt.runner import MANIFEST, PROJECT_STAMP
from sinkload.dbt.selection import dbt_selection, downstream, list_models, manifest_models
from sinkload.reload import LOCK_NAME, run_reload
from tests.support import add_fake_batch, fresh_database, reload_runs, run_cli, start_cli


@pytest.fixture(scope="module")
def own_db(server_url, base_settings):
    with fresh_database(server_url, base_settings, "reload") as settings:
        yield settings


# -- against the database ---------------------------------------------------------------------------------

def test_reload_twice_does_nothing_the_second_time(own_db, tmp_path):
    first = run_cli(own_db, "reload", tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_cli(own_db, "reload", tmp_path)
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout
    runs = reload_runs(own_db)
    assert [r["status"] for r in runs[-2:]] == ["done", "done"]
    assert runs[-1]["dbt_selection"] is None


def test_a_reload_with_nothing_to_do_starts_no_dbt(own_db, tmp_path):
    """dbt's worker is started when a file is to be ingested or a build to run, not on a reload that does
    nothing (its imports would take a core for nothing). The worker is this process's only possible child,
    and a child that ran and was waited for adds its CPU time to RUSAGE_CHILDREN."""
    warehouse = Warehouse.of(own_db)
    run_reload(warehouse, tmp_path)

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    before = children_cpu()
    summary = run_reload(warehouse, tmp_path)
    assert summary.did_nothing
    assert children_cpu() == before


def test_reload_rebuilds_when_raw_changed_behind_its_back(own_db, tmp_path):
    """A batch loaded by `sinkload ingest` (or by a reload killed before its dbt step) is built next time."""
    run_cli(own_db, "reload", tmp_path)
    add_fake_batch(own_db, "behind_its_back")
    result = run_cli(own_db, "reload", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "source:raw.flux_tile+" in result.stdout
    assert reload_runs(own_db)[-1]["dbt_selection"]
    again = run_cli(own_db, "reload", tmp_path)
    assert "nothing to do" in again.stdout


def test_a_new_region_layer_rebuilds_the_geography_side_only(own_db, tmp_path):
    run_cli(own_db, "reload", tmp_path)
    with psycopg.connect(own_db.database_url, autocommit=True) as conn:
        conn.execute("insert into raw.region_layer (scope, file_name, sha256, name_field) values "
                     "('national', 'n.geojson', repeat('a', 64), 'name') on conflict (scope) do update "
                     "set loaded_at = now()")
    result = run_cli(own_db, "reload", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    selection = reload_runs(own_db)[-1]["dbt_selection"]
    assert "source:raw.region+" in selection and "flux_tile" not in selection


def test_second_reload_exits_75_naming_the_holder(own_db, tmp_path):
    with advisory_lock(own_db.database_url, LOCK_NAME):
        started = time.perf_counter()
        result = run_cli(own_db, "reload", tmp_path)
        assert time.perf_counter() - started < 60
    assert result.returncode == 75, result.stdout + result.stderr
    assert "another reload is running" in result.stderr and "pid" in result.stderr
    with pytest.raises(LockBusy), advisory_lock(own_db.database_url, LOCK_NAME), \
            advisory_lock(own_db.database_url, LOCK_NAME):
        pass


def test_waiting_reload_runs_when_the_lock_is_released(own_db, tmp_path):
    with advisory_lock(own_db.database_url, LOCK_NAME) as holder:
        process = start_cli(own_db, "reload", "--wait", tmp_path)
        deadline = time.time() + 60
        waiting = False
        while time.time() < deadline and not waiting:
            waiting = holder.execute(
                "select count(*) from pg_locks where locktype = 'advisory' and not granted "
                "and database = (select oid from pg_database where datname = current_database())").fetchone()[0] > 0
            time.sleep(0.2)
        assert waiting, "the second reload should wait on the advisory lock"
        assert process.poll() is None
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, out + err
    assert "waiting for it to finish" in out


def test_a_killed_reload_releases_the_lock(own_db, tmp_path):
    """The lock is a session lock: SIGKILL ends the session, no stale lock file blocks the schedule."""
    import os
    import signal

    with advisory_lock(own_db.database_url, LOCK_NAME):
        process = start_cli(own_db, "reload", "--wait", tmp_path)
        time.sleep(3)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    result = run_cli(own_db, "reload", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_missing_inbox_is_one_line(own_db, tmp_path):
    result = run_cli(own_db, "reload", tmp_path / "nope")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "inbox folder not found" in result.stderr


def test_interrupted_runs_are_marked_by_the_next(own_db, tmp_path):
    with psycopg.connect(own_db.database_url, autocommit=True) as conn:
        run_id = conn.execute("insert into raw.reload_run (inbox) values ('/dead') returning run_id").fetchone()[0]
    assert run_cli(own_db, "reload", tmp_path).returncode == 0
    dead = next(r for r in reload_runs(own_db) if r["run_id"] == run_id)
    assert dead["status"] == "interrupted" and dead["finished_at"] is not None


@pytest.mark.parametrize("group", sorted(SOURCE_GROUPS))
def test_the_models_downstream_of_a_group_are_what_dbt_selects(own_db, group):
    """The reload plans from one `dbt ls`: its graph walk picks exactly the models dbt's own selector does."""
    warehouse = Warehouse.of(own_db)
    every = list_models(warehouse)
    tables = group_tables([group])
    walked = {n.unique_id for n in downstream(every, tables)}
    assert walked == {n.unique_id for n in list_models(warehouse, dbt_selection(tables))}
    assert walked and len(walked) < len(every)


def test_the_reload_plans_from_the_last_manifest_while_the_project_is_unchanged(own_db):
    """The models read from the manifest a dbt run wrote are those `dbt ls` lists; a manifest written by
    another dbt run since, or project files other than those the run parsed, send the planning to `dbt ls`."""
    warehouse = Warehouse.of(own_db)
    target = own_db.dbt_project_dir / "target"
    listed = list_models(warehouse)  # a dbt run: its manifest and the project's digest
    assert sorted(manifest_models(own_db.dbt_project_dir) or [], key=str) == sorted(listed, key=str)
    later = (target / PROJECT_STAMP).stat().st_mtime + 1
    os.utime(target / MANIFEST, (later, later))
    assert manifest_models(own_db.dbt_project_dir) is None
    list_models(warehouse)
    (target / PROJECT_STAMP).write_text("the digest of other files")
    assert manifest_models(own_db.dbt_project_dir) is None
    list_models(warehouse)
    assert manifest_models(own_db.dbt_project_dir) is not None
