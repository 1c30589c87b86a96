"""Member files that come back with a month appended, one old month corrected, or a month fewer: the months whose
values did not change keep their tiles (re-pointed to the new file's batch) and their rows in the incremental
models, lineage names the new file, and every mart view equals that of `sinkload build --full-refresh`."""

from __future__ import annotations

import datetime
import hashlib

import numpy as np
import psycopg
import pytest

from tests.support import (
    WORLD_PRODUCT,
    any_length_world,
    equals_full_refresh,
    marts_rows,
    replace_atomically,
    world_field,
    write_mip_member,
)
from tests.support import run_cli_ok as cli

pytestmark = pytest.mark.slow

YEARS = range(2015, 2018)  # inside the default period 2015..2019, with room for appended months
APPENDED_YEARS = range(2015, 2019)  # write_mip_member's start dates for up to 48 months
N_MONTHS = 12 * len(YEARS)
CORRECTED_MONTH = 5  # index of the old month a correction changes (2015-06)
MODELS = ("CAMS", "OU")
# The tables of the incremental models whose rows per (member, month) are compared.
HARMONISED = "intermediate.int_flux_cell_months_harmonised"
WITH_ENSEMBLE = "intermediate.int_flux_cell_months_with_ensemble"


def month_of(k: int) -> datetime.date:
    return datetime.date(2015 + k // 12, k % 12 + 1, 1)


def harmonised_versions(settings) -> dict[tuple[str, datetime.date], frozenset[str]]:
    """(member, month) -> the transaction ids that wrote its harmonised rows (unchanged = not recomputed)."""
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(f"select m.name, h.month, array_agg(distinct h.xmin::text) from {HARMONISED} h "
                            "join raw.member m using (member_id) group by 1, 2").fetchall()
    return {(member, month): frozenset(xmins) for member, month, xmins in rows}


def ensemble_versions(settings) -> dict[datetime.date, frozenset[str]]:
    """month -> the transaction ids that wrote the ensemble_mean rows of that month."""
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(f"select month, array_agg(distinct xmin::text) from {WITH_ENSEMBLE} "
                            "where member = 'ensemble_mean' group by 1").fetchall()
    return {month: frozenset(xmins) for month, xmins in rows}


def lineage(settings, member: str) -> dict[datetime.date, str]:
    """month -> sha256 of the file marts.sink_lineage names for a member's month."""
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("select month, sha256 from marts.sink_lineage where product = %s and member = %s",
                            [WORLD_PRODUCT, member]).fetchall()
    assert len({month for month, _ in rows}) == len(rows)
    return dict(rows)


def tile_batches(settings, member: str) -> dict[datetime.date, set[str]]:
    """month -> sha256 of the batches owning the member's stored tiles."""
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("select t.month, b.sha256 from raw.flux_tile t join raw.load_batch b using (batch_id) "
                            "join raw.member m on m.member_id = t.member_id where m.name = %s group by 1, 2",
                            [member]).fetchall()
    found: dict[datetime.date, set[str]] = {}
    for month, sha in rows:
        found.setdefault(month, set()).add(sha)
    return found


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def world(server_url, base_settings, tmp_path_factory):
    """Two members of the MIP product, 36 months each, loaded and built; their files and rate fields."""
    directory = tmp_path_factory.mktemp("incremental_append")
    with any_length_world(server_url, base_settings, directory, "append", YEARS) as (settings, inbox, cams_file, cams):
        ou_file = cams_file.with_name("OU_gridded_fluxes_LNLGIS.nc4")
        ou = world_field(seed=7, years=YEARS, scale=0.8)
        write_mip_member(ou_file, ou, YEARS)
        cli(settings, "reload", inbox)
        yield settings, inbox, {"CAMS": (cams_file, cams), "OU": (ou_file, ou)}


def test_a_month_appended_to_every_member(world):
    settings, inbox, members = world
    before = harmonised_versions(settings)
    assert len(before) == len(MODELS) * N_MONTHS
    for k, model in enumerate(MODELS):
        path, field = members[model]
        appended = np.concatenate([field, world_field(seed=30 + k, years=range(2018, 2019))[:1]])
        replace_atomically(path, appended, APPENDED_YEARS)
        members[model] = (path, appended)
    cli(settings, "reload", inbox)

    after = harmonised_versions(settings)
    assert set(after) == set(before) | {(model, month_of(N_MONTHS)) for model in MODELS}
    assert {key: after[key] for key in before} == before  # no old month was harmonised again
    for model, (path, _field) in members.items():
        new_file = sha256(path)
        assert tile_batches(settings, model) == {month_of(k): {new_file} for k in range(N_MONTHS + 1)}
        assert lineage(settings, model) == {month_of(k): new_file for k in range(N_MONTHS + 1)}
    equals_full_refresh(settings)


def test_one_old_month_corrected(world):
    settings, inbox, members = world
    before, ensemble_before = harmonised_versions(settings), ensemble_versions(settings)
    path, field = members["CAMS"]
    corrected = field.copy()
    corrected[CORRECTED_MONTH] *= 1.25
    replace_atomically(path, corrected, APPENDED_YEARS)
    sink_before = marts_rows(settings)["sink_monthly"]
    cli(settings, "reload", inbox)

    after, ensemble_after = harmonised_versions(settings), ensemble_versions(settings)
    changed = month_of(CORRECTED_MONTH)
    assert [key for key in before if after[key] != before[key]] == [("CAMS", changed)]
    assert not after[("CAMS", changed)] & before[("CAMS", changed)]
    assert [month for month in ensemble_before if ensemble_after[month] != ensemble_before[month]] == [changed]
    assert lineage(settings, "CAMS") == {month_of(k): sha256(path) for k in range(N_MONTHS + 1)}
    sink_after = marts_rows(settings)["sink_monthly"]
    assert {row for row in sink_after if row[1] == "CAMS"} ^ {row for row in sink_before if row[1] == "CAMS"}
    assert all(row[4] == changed for row in set(sink_after) ^ set(sink_before))  # (product, member, scope, unit, month, …)
    members["CAMS"] = (path, corrected)
    equals_full_refresh(settings)


def test_a_file_without_its_last_month(world):
    """A new file replaces the months it holds; a month it no longer has stays with the file that brought it
    (as before month digests: a year-per-file layout relies on it), and that file is no longer current."""
    settings, inbox, members = world
    path, field = members["OU"]
    previous = sha256(path)
    before = harmonised_versions(settings)
    replace_atomically(path, field[:N_MONTHS], YEARS)
    cli(settings, "reload", inbox)

    assert harmonised_versions(settings) == before  # nothing recomputed: the months it holds did not change
    expected = {month_of(k): sha256(path) for k in range(N_MONTHS)} | {month_of(N_MONTHS): previous}
    assert lineage(settings, "OU") == expected
    assert tile_batches(settings, "OU") == {month: {sha} for month, sha in expected.items()}
    equals_full_refresh(settings)
