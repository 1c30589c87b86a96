"""Run dbt (a subprocess of this environment's dbt, `sinkload.dbt.worker`) against the warehouse, as the transformer
role."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sinkload.build_state import project_digest
from sinkload.db.warehouse import Warehouse
from sinkload.errors import SinkloadError
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


# dbt's environment flags of every run (the worker is started with them, before dbt is imported).
DBT_FLAGS = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


class DbtProcess:
    """A dbt process (`sinkload.dbt.worker`) started before its one command is known, so that dbt's imports
    (about 2 s) overlap the caller's own work: `with DbtProcess() as dbt: ...; run_dbt(..., process=dbt)`.
    `DbtProcess(start=False)` waits for `start()` (or the command), for a caller that may have nothing to
    run. Left unused, it is stopped when the block ends."""

    def __init__(self, start: bool = True) -> None:
        self._process: subprocess.Popen | None = None
        self._used = False
        if start:
            self.start()

    def start(self) -> None:
        """Start the worker (dbt begins importing); a no-op once started."""
        if self._process is None:
            self._process = subprocess.Popen([sys.executable, "-m", "sinkload.dbt.worker"], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                             env={**os.environ, **DBT_FLAGS})

    @property
    def started(self) -> bool:
        return self._process is not None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the DbtProcess has not been started")
        return self._process.pid

    def run(self, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        """Run `dbt <args>` with `env` added to the environment; wait for it and return its output."""
        if self._used:
            raise RuntimeError("a DbtProcess runs one dbt command")
        self._used = True
        self.start()
        stdout, stderr = self._process.communicate(json.dumps({"args": args, "env": env}) + "\n")
        return subprocess.CompletedProcess(["dbt", *args], self._process.returncode, stdout, stderr)

    def close(self) -> None:
        if self._process is None:
            return
        if not self._used:
            self._process.kill()
        self._process.communicate()

    def __enter__(self) -> DbtProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


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


# Written next to dbt's manifest.json after each dbt run that succeeded: the digest of the project's files
# (build_state.project_digest) taken before the run, i.e. of what that run parsed unless a file changed meanwhile
# (then it no longer matches the files). selection.manifest_models plans from that manifest when it matches.
MANIFEST = "manifest.json"
PROJECT_STAMP = "sinkload_project_digest"


def target_dir(project_dir: Path) -> Path:
    """Where dbt writes its outputs (manifest.json, run_results.json) for this project."""
    return project_dir / "target"


def run_dbt(warehouse: Warehouse, args: list[str], dbt_vars: dict | None = None,
            process: DbtProcess | None = None) -> subprocess.CompletedProcess:
    """Run `dbt <args>` in the project as the transformer, in `process` (started earlier) or a new one, and
    return it (its log in `.stdout`, for the CLI to show); raise `DbtFailed` (a one-line message, with dbt's
    log) when it fails."""
    settings, roles = warehouse.settings, warehouse.roles
    variables = {"analyst_role": roles.analyst, **build_identity(settings), **(dbt_vars or {})}
    target = target_dir(settings.dbt_project_dir)
    argv = [*args, "--project-dir", str(settings.dbt_project_dir),
            "--profiles-dir", str(settings.dbt_project_dir), "--target-path", str(target),
            "--vars", json.dumps(variables)]
    parsed = project_digest(settings.dbt_project_dir)
    env = {**dbt_environment(warehouse.url, roles.transformer), **DBT_FLAGS}
    result = (process or DbtProcess()).run(argv, env)
    if result.returncode != 0:
        raise DbtFailed(f"dbt {args[0]} failed: {failure_detail(result.stdout, result.stderr)}", result.stdout)
    if (target / MANIFEST).exists():
        (target / PROJECT_STAMP).write_text(parsed)
    return result


class DbtFailed(SinkloadError):
    """dbt failed: the message is one line; `log` is dbt's whole output, which the CLI shows before it."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOG_PREFIX = re.compile(r"^\d\d:\d\d:\d\d\s+")


def strip_ansi(text: str) -> str:
    """dbt's output without its colour codes."""
    return ANSI.sub("", text)


def failure_detail(stdout: str, stderr: str) -> str:
    """One line for a failed dbt run: the first failing node and dbt's message about it (a failing data
    test's own message, e.g. a partition gap), else dbt's last ERROR/FAIL line."""
    lines = [LOG_PREFIX.sub("", strip_ansi(line)).strip() for line in stdout.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Failure in ") or line.startswith("Error in "):
            node = line.split("(")[0].strip()
            message = next((text for text in lines[index + 1:]
                            if text and " Error in " not in f" {text}" and not text.startswith("compiled code")
                            and not text.startswith("See test failures")), "")
            return f"{node}: {message}" if message else node
    if "Encountered an error:" in lines:  # dbt stopped before running any node (selection, parsing)
        after = [line for line in lines[lines.index("Encountered an error:") + 1:] if line]
        if after:
            return ": ".join(after[:2])
    failures = [line for line in lines if "ERROR" in line or "FAIL" in line]
    return failures[-1] if failures else (stderr.strip().splitlines() or ["unknown"])[-1]
