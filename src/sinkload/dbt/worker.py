"""`python -m sinkload.dbt.worker`: a dbt process started before its command is known.

It imports dbt (most of a dbt command's start-up, about 2 s) while the caller is still ingesting, then reads one
JSON line from stdin, `{"args": [...], "env": {...}}`, and runs that command exactly as the `dbt` script does
(same output, same exit code). End of input without a line: nothing to run, it exits 0. `runner.DbtProcess`
is the caller's side.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    from dbt.cli.main import cli

    line = sys.stdin.readline()
    if not line:
        return
    job = json.loads(line)
    os.environ.update(job["env"])
    sys.argv = ["dbt", *job["args"]]
    cli()


if __name__ == "__main__":
    main()
