"""Readers query the marts in parallel threads while a reload replaces a product's months (an incremental
build): every answer is the complete old or the complete new series (both computed independently from the
files), never a mix, never an error.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import psycopg
import pytest
from psycopg import sql

from sinkload.roles import Roles
from tests.support import (
    WORLD_PRODUCT,
    YEARS_DEFAULT,
    build_world,
    fresh_database,
    matches,
    national_monthly_tgc,
    replace_atomically,
    start_cli,
    world_field,
)

PRODUCT = WORLD_PRODUCT
YEARS = YEARS_DEFAULT
REPLACED_YEAR = 2017
READERS = 4
QUERY = """
    select month, sink_tgc from marts.sink_monthly
    where product = %s and scope = 'national' and unit = 'China' and member = %s order by month
"""


def _requires_marts(settings) -> None:
    with psycopg.connect(settings.database_url) as conn:
        exists = conn.execute("select to_regclass('marts.sink_monthly') is not null").fetchone()[0]
    assert exists, "the dbt project built no marts.sink_monthly"


@pytest.fixture(scope="module")
def world(server_url, base_settings, tmp_path_factory):
    """A fresh database holding the small world: regions, land cover, one MIP member, built."""
    with fresh_database(server_url, base_settings, "concurrency") as settings:
        inbox, member_file, before = build_world(settings, tmp_path_factory.mktemp("world"), YEARS)
        yield settings, inbox, member_file, before


# Incremental models (dbt_project/macros/incremental.sql): an incremental run keeps their tables (same oid),
# a table rebuild or a full refresh replaces them.
INCREMENTAL_MODELS = ["int_flux_cell_months_harmonised", "int_flux_cell_months_with_ensemble",
                      "int_sink_unit_months_aggregated", "int_sink_zonal_months_averaged", "int_sink_cell_means"]


def _table_oids(conn: psycopg.Connection) -> dict[str, int]:
    return {name: conn.execute("select to_regclass(%s)::oid", [f"intermediate.{name}"]).fetchone()[0]
            for name in INCREMENTAL_MODELS}


def _member(conn: psycopg.Connection) -> str:
    members = [r[0] for r in conn.execute(
        "select distinct member from marts.sink_monthly where product = %s and member <> 'ensemble_mean'",
        [PRODUCT])]
    assert len(members) == 1, members
    return members[0]


def test_readers_see_old_or_new_never_a_mix(world):
    settings, inbox, member_file, before_field = world
    _requires_marts(settings)
    after_field = before_field.copy()
    months = slice(12 * (REPLACED_YEAR - YEARS.start), 12 * (REPLACED_YEAR - YEARS.start + 1))
    after_field[months] = world_field(seed=2, years=range(REPLACED_YEAR, REPLACED_YEAR + 1), scale=1.5)
    expected = {"before": national_monthly_tgc(before_field, YEARS),
                "after": national_monthly_tgc(after_field, YEARS)}
    assert not matches(expected["before"], expected["after"])

    analyst = Roles(settings.role_prefix).analyst
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        member = _member(conn)
        oids = _table_oids(conn)
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(analyst)))
        answer = {month: float(v) for month, v in conn.execute(QUERY, [PRODUCT, member])}
    assert matches(answer, expected["before"]), "the marts before the reload equal the independent computation"

    seen: Counter = Counter()
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(analyst)))
            while not stop.is_set():
                try:
                    values = {month: float(v) for month, v in conn.execute(QUERY, [PRODUCT, member])}
                except psycopg.Error as exc:
                    seen[f"error: {type(exc).__name__}: {str(exc).splitlines()[0]}"] += 1
                    continue
                label = next((name for name, series in expected.items() if matches(values, series)), "mixed")
                seen[label] += 1

    threads = [threading.Thread(target=reader) for _ in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        replace_atomically(member_file, after_field, YEARS)
        started = time.perf_counter()
        process = start_cli(settings, "reload", inbox)
        out, err = process.communicate(timeout=1800)
        reload_seconds = time.perf_counter() - started
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert process.returncode == 0, out + err
    print(f"\n{sum(seen.values())} reads by {READERS} readers during a {reload_seconds:.1f} s reload: {dict(seen)}")
    assert set(seen) <= {"before", "after"}, dict(seen)
    assert seen["before"] > 0 and seen["after"] > 0
    with psycopg.connect(settings.database_url) as conn:
        assert _table_oids(conn) == oids, "the reload was incremental: the models kept their tables"
