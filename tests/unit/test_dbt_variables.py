"""`sinkload build --var NAME=VALUE`: parsed against the project's declared vars, refused in one line otherwise."""

import subprocess

import pytest

from sinkload.dbt.variables import declared_vars, parse_vars
from sinkload.errors import SinkloadError
from sinkload.settings import Settings
from tests.support import cli_argv

DECLARED = {"period_start_year": 2001, "landcover_rule": "group_first", "earth_radius_m": 1.0,
            "analyst_role": "analyst", "harmonisation_version": "1deg/1"}


def test_values_take_their_default_type():
    assert parse_vars(["period_start_year=2003", "landcover_rule=merge_first"], DECLARED) == {
        "period_start_year": 2003, "landcover_rule": "merge_first"}


@pytest.mark.parametrize(("assignment", "message"), [
    ("period_start_year", "give NAME=VALUE"),
    ("=2003", "give NAME=VALUE"),
    ("period_start=2003", "not a variable of the project"),
    ("analyst_role=postgres", "not a variable of the project"),
    ("period_start_year=twenty", "expected int"),
    ("landcover_rule=3", "expected str"),
])
def test_bad_assignments_are_refused(assignment, message):
    with pytest.raises(SinkloadError, match=message):
        parse_vars([assignment], DECLARED)


def test_the_project_declares_the_documented_vars():
    declared = declared_vars(Settings.from_env().dbt_project_dir)
    assert {"period_start_year", "period_end_year", "landcover_rule"} <= set(declared)


def test_the_cli_refuses_an_unknown_var_in_one_line():
    result = subprocess.run(cli_argv("build", "--var", "periode=2003"), capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "--var periode" in result.stderr, result.stderr
