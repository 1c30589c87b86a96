"""The build fingerprint (sinkload.build_state): pure parts, file digests and the skip decision."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sinkload.build_state import (
    Decision,
    StoredState,
    build_vars,
    changed_tables,
    covers,
    decide,
    files_digest,
    fingerprint,
    project_digest,
)
from sinkload.roles import Roles

REPO = Path(__file__).resolve().parents[2]


def _parts(**changes) -> dict:
    parts = {"raw": {"changes": {"grid": "3:741"}, "untracked": []}, "project": "p" * 64, "dbt_vars": {"analyst_role": "a"},
             "selection": None, "versions": {"dbt": "1.11.0", "schema_revision": "0009"},
             "dbt_state": {"last_build": 7, "relations": "r"}}
    return {**parts, **changes}


def test_fingerprint_ignores_key_order_and_sees_every_value():
    parts = _parts()
    assert fingerprint(parts) == fingerprint(dict(reversed(list(parts.items()))))
    assert fingerprint(parts) == hashlib.sha256(
        b'{"dbt_state": {"last_build": 7, "relations": "r"}, "dbt_vars": {"analyst_role": "a"}, "project": "'
        + b"p" * 64 + b'", "raw": {"changes": {"grid": "3:741"}, "untracked": []}, "selection": null, '
        b'"versions": {"dbt": "1.11.0", "schema_revision": "0009"}}').hexdigest()
    assert fingerprint(parts) != fingerprint(_parts(raw={"changes": {"grid": "4:742"}, "untracked": []}))


def test_files_digest_sees_edits_renames_additions_and_removals():
    files = {"models/a.sql": b"select 1", "macros/m.sql": b"{% macro m() %}{% endmacro %}"}
    digest = files_digest(files)
    assert files_digest(dict(reversed(list(files.items())))) == digest
    assert files_digest({**files, "models/a.sql": b"select 2"}) != digest
    assert files_digest({"models/b.sql": b"select 1", "macros/m.sql": files["macros/m.sql"]}) != digest
    assert files_digest({**files, "tests/t.sql": b""}) != digest
    assert files_digest({"models/a.sql": b"select 1"}) != digest
    # path and content are delimited: moving bytes between them is a change
    assert files_digest({"ab": b"c"}) != files_digest({"a": b"bc"})


def test_project_digest_follows_source_files_not_dbt_outputs(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", ".*"))
    digest = project_digest(project)
    assert digest == project_digest(REPO / "dbt_project")
    for output in ("target/manifest.json", "logs/dbt.log", ".user.yml"):
        (project / output).parent.mkdir(exist_ok=True)
        (project / output).write_text("written by dbt")
    assert project_digest(project) == digest
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- touched\n")
    assert project_digest(project) != digest
    model.write_text(model.read_text().removesuffix("\n-- touched\n"))
    assert project_digest(project) == digest
    (project / "packages.yml").write_text("packages: []\n")
    assert project_digest(project) != digest


def test_build_vars_leave_out_the_git_commit_only():
    identity = {"sinkload_version": "0.1.0", "git_commit": "c" * 40}
    assert build_vars(Roles("x"), identity, {"period_end_year": 2020}) == {
        "analyst_role": "x_analyst", "sinkload_version": "0.1.0", "period_end_year": 2020}


def test_equal_parts_skip_naming_the_build():
    decision = decide(_parts(), StoredState(7, "2026-11-27 05:00:00 UTC", _parts()))
    assert decision.skip
    assert decision.message.startswith("nothing changed since build 7 (2026-11-27 05:00:00 UTC")
    assert decision.message.endswith("use --force to rebuild")


def test_any_changed_part_builds_and_is_named():
    stored = StoredState(7, "t", _parts())
    cases = {"raw data": _parts(raw={"changes": {"grid": "3:741", "region": "1:800"}, "untracked": []}), "dbt project files": _parts(project="q"),
             "dbt vars": _parts(dbt_vars={"analyst_role": "a", "period_end_year": 2020}),
             "selection": _parts(selection="marts"), "versions": _parts(versions={"dbt": "1.11.1"}),
             "dbt's relations": _parts(dbt_state={"last_build": 8, "relations": "r"})}
    for name, now in cases.items():
        decision = decide(now, stored)
        assert decision == Decision(False, f"changed since build 7: {name}"), name


def test_untracked_raw_table_never_skips_and_force_always_builds():
    untracked = _parts(raw={"changes": {"grid": "3:741"}, "untracked": ["new_table"]})
    assert not decide(untracked, StoredState(7, "t", untracked)).skip
    assert "new_table" in decide(untracked, StoredState(7, "t", untracked)).message
    assert decide(_parts(), StoredState(7, "t", _parts()), forced=True) == Decision(False, "")
    assert decide(_parts(), None) == Decision(False, "no complete build recorded yet")


def test_changed_tables_are_those_whose_counter_moved():
    built = {"changes": {"grid": "3:741", "load_batch": "2:741", "flux_tile": "2:741"}, "untracked": []}
    now = {"changes": {"grid": "3:741", "load_batch": "3:802", "flux_tile": "3:802", "region": "1:790"},
           "untracked": []}
    assert changed_tables(now, built) == ["flux_tile", "load_batch", "region"]
    assert changed_tables(built, built) == []
    assert changed_tables({"changes": {}}, {"changes": {"grid": "1:5"}}) == ["grid"]  # the log was emptied


def test_a_partial_build_covers_only_raw_changes_inside_what_it_rebuilt():
    stored = StoredState(7, "then", _parts())
    flux_changed = _parts(raw={"changes": {"grid": "3:741", "load_batch": "1:800"}, "untracked": []},
                          dbt_state={"last_build": 8, "relations": "s"})
    assert covers(flux_changed, stored, {"load_batch", "flux_tile"})
    assert not covers(flux_changed, stored, {"region"})
    assert not covers(_parts(raw={"changes": {"budget_value": "1:9"}, "untracked": []}), stored, {"load_batch"})
    assert not covers(_parts(project="q" * 64), stored, {"grid"})
    assert not covers(_parts(dbt_vars={"analyst_role": "b"}), stored, {"grid"})
    assert not covers(_parts(raw={"changes": {"grid": "3:741"}, "untracked": ["new_table"]}), stored, {"grid"})
    assert not covers(flux_changed, None, {"load_batch"})
