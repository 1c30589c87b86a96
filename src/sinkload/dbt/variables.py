"""`--var NAME=VALUE` for `sinkload build`: the dbt variables a user may set for one build, checked against
those the project declares (dbt_project.yml `vars:`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from sinkload.errors import SinkloadError

# Set by the build itself (runner.run_dbt), not by users.
INTERNAL_VARS = frozenset({"analyst_role", "harmonisation_version"})


def declared_vars(project_dir: Path) -> dict[str, object]:
    """The `vars:` of the dbt project, with their defaults."""
    path = project_dir / "dbt_project.yml"
    try:
        return dict(yaml.safe_load(path.read_text(encoding="utf-8")).get("vars") or {})
    except (OSError, AttributeError, yaml.YAMLError) as exc:
        raise SinkloadError(f"{path}: cannot read the project's vars ({exc})") from None


def parse_vars(assignments: Iterable[str], declared: dict[str, object]) -> dict[str, object]:
    """NAME=VALUE pairs -> {NAME: VALUE}, VALUE read as a YAML scalar (2016 is a number, merge_first text), of
    the same type as the declared default."""
    chosen: dict[str, object] = {}
    settable = sorted(set(declared) - INTERNAL_VARS)
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SinkloadError(f"--var {assignment!r}: give NAME=VALUE")
        if name not in settable:
            raise SinkloadError(f"--var {name}: not a variable of the project (settable: {', '.join(settable)})")
        value = yaml.safe_load(text) if text.strip() else ""
        default = declared[name]
        if type(value) is not type(default) and not (isinstance(default, float) and isinstance(value, int)):
            raise SinkloadError(f"--var {name}={text}: expected {type(default).__name__} like its default {default!r}")
        chosen[name] = value
    return chosen
