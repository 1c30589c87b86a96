"""`make bench` (`python -m benchmarks.run_all`): every benchmark in turn, each writing its results to
benchmarks/results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = ("ingest", "build", "baseline", "reload", "reload_append", "views", "scale")


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    for name in BENCHMARKS:
        print(f"== benchmarks/{name}.py", flush=True)
        subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=root, check=True)


if __name__ == "__main__":
    main()
