"""Kill the reload (SIGKILL) at several points; raw and the marts stay as they were, the next reload
completes the work."""

from __future__ import annotations

import os
import signal
import time

import psycopg
import pytest

from sinkload.db.locks import DBT_APPLICATION_NAME
from sinkload.settings import Settings
from tests.support import (
    WORLD_PRODUCT,
    YEARS_DEFAULT,
    add_fake_batch,
    assert_marts_equal,
    build_world,
    fresh_database,
    marts_rows,
    matches,
    national_monthly_tgc,
    reload_runs,
    replace_atomically,
    run_cli,
    start_cli,
    world_field,
)

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


def wait_for_dbt_build(settings: Settings, process, timeout: float = 300) -> bool:
    """Wait until the reload's dbt has connected (its sessions are named `dbt`): the build has begun. (Its
    process is started before the first file is ingested, so the process alone does not say dbt is building.)"""
    return wait_for_activity(settings, f"application_name = '{DBT_APPLICATION_NAME}'", process, timeout)


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
    assert wait_for_dbt_build(own_db, process), "dbt build never started"
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


# -- with the real ingest and marts: the small world -------------------------------------------------------

YEARS = YEARS_DEFAULT


@pytest.fixture(scope="module")
def world(server_url, base_settings, tmp_path_factory):
    with fresh_database(server_url, base_settings, "crashworld") as settings:
        inbox, member_file, field = build_world(settings, tmp_path_factory.mktemp("world"), YEARS)
        # Mutable: each case leaves the world at its new field for the next one.
        yield {"settings": settings, "inbox": inbox, "member_file": member_file, "field": field}


def national_series(settings: Settings) -> dict | None:
    """The world's national monthly series from the marts (None while there is no such mart)."""
    with psycopg.connect(settings.database_url) as conn:
        if not conn.execute("select to_regclass('marts.sink_monthly') is not null").fetchone()[0]:
            return None
        rows = conn.execute(
            "select month, sink_tgc from marts.sink_monthly where product = %s and scope = 'national' "
            "and member <> 'ensemble_mean' order by month", [WORLD_PRODUCT]).fetchall()
        return {month: float(value) for month, value in rows}


def assert_series(settings: Settings, field) -> None:
    series = national_series(settings)
    if series is not None:
        assert matches(series, national_monthly_tgc(field, YEARS)), series


@pytest.mark.parametrize(("point", "activity"), [
    ("mid-COPY", "state = 'active' and query ilike '%copy%'"),
    ("mid-dbt", "application_name = 'dbt'"),
    # the reload is incremental (the world was built before): killed once the incremental cell-months of the
    # new file were committed and an incremental model downstream is at work
    ("mid-incremental", "application_name = 'dbt' and query ilike '%int_sink_unit_months_aggregated%'"),
])
def test_kill_during_a_replacement_then_complete(world, point, activity):
    settings, inbox, member_file = world["settings"], world["inbox"], world["member_file"]
    assert_series(settings, world["field"])
    raw_before, marts_before = raw_state(settings), mart_state(settings)
    new_field = world_field(seed=10 + len(point), years=YEARS, scale=1.3)
    replace_atomically(member_file, new_field, YEARS)

    process = start_cli(settings, "reload", inbox)
    caught = wait_for_activity(settings, activity, process)
    kill_group(process)
    assert caught, f"the reload ended before it reached {point}"

    assert mart_state(settings) == marts_before, "readers still see the complete old state"
    if point == "mid-COPY":
        assert raw_state(settings) == raw_before, "the killed batch left nothing behind"
    else:
        assert raw_state(settings) != raw_before, "the ingest had committed before dbt started"

    result = run_cli(settings, "reload", inbox)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_series(settings, new_field)
    assert "nothing to do" in run_cli(settings, "reload", inbox).stdout
    world["field"] = new_field
    if point == "mid-incremental":  # what the killed build left half-done was completed, nothing lingers
        completed = marts_rows(settings)
        assert run_cli(settings, "build", "--full-refresh").returncode == 0
        assert_marts_equal(completed, marts_rows(settings))
