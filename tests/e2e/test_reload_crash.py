"""Kill the reload (SIGKILL) at several points; raw and the marts stay as they were, the next reload
completes the work."""

from __future__ import annotations

import os
import signal
import time

import psycopg
import pytest

from reload_support import add_fake_batch, fresh_database, reload_runs, run_cli, start_cli
from sinkload.settings import Settings

POLL_S = 0.02


@pytest.fixture(scope="module")
def own_db(server_url, base_settings):
    with fresh_database(server_url, base_settings, "crash") as settings:
        yield settings


def wait_for_activity(settings: Settings, predicate_sql: str, process, timeout: float = 300) -> bool:
    """Poll pg_stat_activity of the settings' database until `predicate_sql` matches a session."""
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        deadline = time.time() + timeout
        while time.time() < deadline and process.poll() is None:
            hit = conn.execute(
                f"select count(*) from pg_stat_activity where datname = current_database() and ({predicate_sql})"
            ).fetchone()[0]
            if hit:
                return True
            time.sleep(POLL_S)
    return False


def raw_state(settings: Settings) -> dict[str, tuple]:
    """Row counts and content checksums of the raw tables a reload writes."""
    assert settings.database_url
    queries = {
        "load_batch": "select count(*), md5(coalesce(string_agg(sha256 || batch_id, ',' order by batch_id), '')) "
                      "from raw.load_batch",
        "flux_tile": "select count(*), md5(coalesce(string_agg(md5(rast::text), ',' "
                     "order by member_id, month, tile_row, tile_col), '')) from raw.flux_tile",
        "product": "select count(*), md5(coalesce(string_agg(name, ',' order by name), '')) from raw.product",
    }
    with psycopg.connect(settings.database_url) as conn:
        return {name: conn.execute(query).fetchone() for name, query in queries.items()}


def mart_state(settings: Settings) -> dict[str, list]:
    """Every row of every view in schema marts (sorted), i.e. what a reader would see."""
    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        views = [r[0] for r in conn.execute(
            "select table_name from information_schema.views where table_schema = 'marts' order by 1")]
        state = {}
        for view in views:
            cur = conn.execute(psycopg.sql.SQL("select * from marts.{}").format(psycopg.sql.Identifier(view)))
            columns = [c.name for c in cur.description if c.name != "geom"]
            rows = [tuple(row[i] for i, c in enumerate(cur.description) if c.name != "geom") for row in cur]
            state[view] = [columns, sorted(rows, key=repr)]
        return state


def kill_group(process) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


@pytest.mark.parametrize("whole_group", [True, False], ids=["reload+dbt", "reload-only"])
def test_kill_mid_dbt_then_next_reload_completes(own_db, tmp_path, whole_group):
    assert run_cli(own_db, "reload", tmp_path).returncode == 0
    before = mart_state(own_db)
    add_fake_batch(own_db, f"kill_mid_dbt_{whole_group}")
    process = start_cli(own_db, "reload", tmp_path)
    assert wait_for_activity(own_db, "application_name = 'dbt'", process), "dbt never connected"
    if whole_group:
        kill_group(process)
        assert mart_state(own_db) == before
    else:
        # Only the reload process: its dbt child lives on (an orphan) and may finish the build on its own;
        # the next reload waits for it (wait_for_dbt_sessions) so that two builds never overlap.
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert reload_runs(own_db)[-1]["status"] == "running"

    result = run_cli(own_db, "reload", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    runs = reload_runs(own_db)
    assert runs[-2]["status"] == "interrupted"
    assert runs[-1]["status"] == "done" and runs[-1]["dbt_selection"], "the next reload rebuilds"
    assert "nothing to do" in run_cli(own_db, "reload", tmp_path).stdout
