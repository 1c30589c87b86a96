"""Run dbt (a subprocess of this environment's dbt) against the warehouse, as the transformer role."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sinkload.errors import SinkloadError
from sinkload.roles import Roles
from sinkload.settings import Settings


def dbt_environment(url: str, role: str) -> dict[str, str]:
    """The SINKLOAD_DBT_* variables that dbt_project/profiles.yml reads (never written to a file)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "localhost"])[0]
    port = query.get("port", [str(parts.port or 5432)])[0]
    return {
        "SINKLOAD_DBT_HOST": unquote(host),
        "SINKLOAD_DBT_PORT": port,
        "SINKLOAD_DBT_USER": unquote(parts.username or ""),
        "SINKLOAD_DBT_PASSWORD": unquote(parts.password or ""),
        "SINKLOAD_DBT_DBNAME": unquote(parts.path.lstrip("/")),
        "SINKLOAD_DBT_ROLE": role,
    }


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def build_identity(settings: Settings) -> dict[str, str]:
    """What builds the marts, for marts.build_info: the package version and, in a git checkout, the commit."""
    from sinkload import __version__

    identity = {"sinkload_version": __version__}
    try:
        commit = subprocess.run(["git", "-C", str(settings.project_root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=False, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    if len(commit) == 40:
        identity["git_commit"] = commit
    return identity


def run_dbt(settings: Settings, url: str, args: list[str], dbt_vars: dict | None = None,
            quiet: bool = False) -> subprocess.CompletedProcess:
    """Run `dbt <args>` in the project; raise a one-line SinkloadError when it fails."""
    roles = Roles(settings.role_prefix)
    variables = {"analyst_role": roles.analyst, **build_identity(settings), **(dbt_vars or {})}
    env = {**os.environ, **dbt_environment(url, roles.transformer), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    target_dir = settings.dbt_project_dir / "target"
    argv = [dbt_executable(), *args, "--project-dir", str(settings.dbt_project_dir),
            "--profiles-dir", str(settings.dbt_project_dir), "--target-path", str(target_dir),
            "--vars", json.dumps(variables)]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if not quiet:
        sys.stdout.write(result.stdout)
    if result.returncode != 0:
        failures = [line for line in result.stdout.splitlines() if "ERROR" in line or "FAIL" in line]
        detail = failures[-1].strip() if failures else (result.stderr.strip().splitlines() or ["unknown"])[-1]
        if quiet:
            sys.stdout.write(result.stdout)
        raise SinkloadError(f"dbt {args[0]} failed: {detail}")
    return result
