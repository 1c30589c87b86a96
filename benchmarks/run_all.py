"""`make bench`: every benchmark in turn, each writing its results to benchmarks/results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = ("ingest.py", "build.py")


def main() -> None:
    here = Path(__file__).resolve().parent
    for name in BENCHMARKS:
        print(f"== benchmarks/{name}", flush=True)
        subprocess.run([sys.executable, str(here / name)], check=True)


if __name__ == "__main__":
    main()
