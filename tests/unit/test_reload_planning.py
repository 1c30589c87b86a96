"""The reload's pure parts: lock keys, the inbox rules and scan, dbt selection planning and the inbox
screening (files and the catalog only; no database)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sinkload.catalog import load_catalog
from sinkload.db.locks import lock_key
from sinkload.db.raw_state import changed_groups
from sinkload.dbt.selection import DbtNode, plan_selection, views_to_keep
from sinkload.files import sha256_of
from sinkload.ingest.flux import is_flux_file
from sinkload.reload import scan_inbox, screen_inbox
from sinkload.settings import Settings
from tests.flux_files import LAT_1DEG, LON_1DEG, field, write_mip
from tests.support import write_file

# -- pure parts -------------------------------------------------------------------------------------------

def test_lock_keys_are_stable_and_distinct():
    assert lock_key("reload") == lock_key("reload")
    assert lock_key("reload") != lock_key("build")
    assert -(2**63) <= lock_key("reload") < 2**63


@pytest.mark.parametrize(("relative", "expected"), [
    ("vegas/VEGAS_S3_nbp.nc", True),
    ("oco2/LNLGIS/CAMS_gridded_fluxes_LNLGIS.nc4", True),
    ("beps/beps_2015.TIF", True),
    ("vegas/.VEGAS_S3_nbp.nc", False),       # hidden: an upload in progress
    ("vegas/.tmp/VEGAS_S3_nbp.nc", False),
    ("vegas/VEGAS_S3_nbp.nc.part", False),
    ("vegas/README.txt", False),
])
def test_inbox_file_rules(relative, expected):
    assert is_flux_file(Path(relative)) is expected


def _node(uid: str, materialized: str, checksum: str = "c", parents: tuple[str, ...] = ()) -> DbtNode:
    return DbtNode(f"model.sinkload.{uid}", materialized, checksum, "marts", uid, parents)


def test_unchanged_views_are_kept_changed_or_missing_ones_rebuilt():
    nodes = [_node("same", "view"), _node("changed", "view", "new"), _node("missing", "view"),
             _node("published", "incremental"), _node("on_inc", "view", parents=("model.sinkload.published",)),
             _node("replaced", "table"), _node("on_table", "view", parents=("model.sinkload.replaced",)),
             _node("on_view_on_table", "view", parents=("model.sinkload.on_table", "model.sinkload.same"))]
    existing = {("marts", n.name) for n in nodes if n.name != "missing"}
    built = {n.unique_id: "c" for n in nodes}
    kept = {n.name for n in views_to_keep(nodes, existing, built)}
    # A view on a table that dbt replaces would be dropped by its `drop ... cascade`, and so would a view on
    # that view: both must be rebuilt.
    assert kept == {"same", "on_inc"}


def test_selection_follows_what_changed_and_builds_all_when_a_model_is_missing():
    built = {"flux": "3:7", "regions": "a", "landcover": "b"}
    assert changed_groups(built, built) == []
    assert changed_groups({**built, "flux": "4:8"}, built) == ["flux"]
    assert changed_groups(built, None) == ["flux", "regions", "landcover"]
    nodes = [_node("cells", "table"), _node("published", "incremental"), _node("cte", "ephemeral")]
    everything_there = {("marts", "cells"), ("marts", "published")}
    assert plan_selection(nodes, everything_there, ["flux"]) == (
        "source:raw.flux_tile+ source:raw.flux_month_1deg+ source:raw.load_batch+ source:raw.product+ "
        "source:raw.member+ source:raw.grid+")
    assert "source:raw.region+" in plan_selection(nodes, everything_there, ["regions"])
    assert plan_selection(nodes, {("marts", "cells")}, ["flux"]) is None


def test_scan_hashes_every_flux_file_under_its_product(tmp_path):
    a = write_file(tmp_path / "vegas" / "VEGAS_S3_nbp.nc", b"one")
    b = write_file(tmp_path / "oco2" / "LNLGIS" / "CT_gridded_fluxes_LNLGIS.nc4", b"two")
    write_file(tmp_path / "oco2" / "LNLGIS" / ".CT_gridded_fluxes_LNLGIS.nc4.part", b"partial")
    write_file(tmp_path / "loose.nc", b"no product folder")
    found = scan_inbox(tmp_path)
    assert [(f.product, f.path) for f in found] == [("oco2", b), ("vegas", a)]
    assert found[1].sha256 == hashlib.sha256(b"one").hexdigest() == sha256_of(a)


def _mip_file(path: Path, months) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mip(path, field(len(months), LAT_1DEG, LON_1DEG, 300.0, seed=1), LAT_1DEG, LON_1DEG, months)
    return path


def test_screening_skips_refuses_and_passes_files(tmp_path):
    """EnsMean/EnsStd skipped as `ingest flux` skips them; two files holding a month of one member refuse
    that member (both named); a member whose files hold different months, and other members, pass."""
    months = [(2015 + k // 12, k % 12 + 1) for k in range(72)]
    product = tmp_path / "oco2_v10_mip_lnlgis"
    old = _mip_file(product / "LNLGIS" / "Ames_gridded_fluxes_LNLGIS.nc4", months)
    new = _mip_file(product / "LNLGIS_v2" / "Ames_gridded_fluxes_LNLGIS.nc4", months)
    other = _mip_file(product / "LNLGIS" / "CT_gridded_fluxes_LNLGIS.nc4", months)
    ens = write_file(product / "LNLGIS" / "EnsStd_gridded_fluxes_LNLGIS.nc4", b"not even NetCDF")
    unknown = write_file(tmp_path / "no_such_product" / "x.nc", b"x")
    vegas = tmp_path / "vegas"
    parts = [_mip_file(vegas / f"VEGAS_{k}.nc", months[12 * k:12 * (k + 1)]) for k in range(2)]
    catalog = Settings.from_env().catalog
    text = catalog.read_text(encoding="utf-8").replace("time: {rule: cf}", "time: {rule: start_date}").replace(
        "variable: nbp", "variable: land").replace("resolution: [0.5, 0.5]", "resolution: [1.0, 1.0]")
    (tmp_path / "catalog.yaml").write_text(text, encoding="utf-8")
    decided, left = screen_inbox(scan_inbox(tmp_path), load_catalog(tmp_path / "catalog.yaml"))
    status = {outcome.file.path: (outcome.status, outcome.message) for outcome in decided}
    assert status[ens][0] == "skipped"
    assert status[unknown][0] == "failed" and str(unknown) in status[unknown][1]
    for path in (old, new):
        assert status[path][0] == "failed"
        assert str(old) in status[path][1] and str(new) in status[path][1] and "both hold" in status[path][1]
    assert {item.path for item in left} == {other, *parts}


def test_screening_reads_a_members_files_only_when_one_of_them_is_new(tmp_path):
    """Files that all still own their months in raw (`loaded`) are not opened again on every reload; a new file
    beside them has every file of its member read (here: not NetCDF, so all refused)."""
    parts = [write_file(tmp_path / "vegas" / f"VEGAS_{k}.nc", b"not NetCDF") for k in range(3)]
    catalog = load_catalog(Settings.from_env().catalog)
    decided, left = screen_inbox(scan_inbox(tmp_path), catalog, frozenset(parts))
    assert decided == [] and {item.path for item in left} == set(parts)
    decided, left = screen_inbox(scan_inbox(tmp_path), catalog, frozenset(parts[:2]))
    assert {outcome.file.path for outcome in decided if outcome.status == "failed"} == set(parts) and left == []
