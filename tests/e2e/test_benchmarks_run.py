"""Every benchmark of benchmarks/ still runs to the end, as `make bench` runs it, against the test server.

Timing is not checked (tests are for correctness); what is checked is that each script completes against
today's schema and CLI and prints its report. The ingest benchmark's reset had been broken since migration 0011
added a table referencing raw.load_batch, unnoticed because nothing ran it. The baseline benchmark also exits
non-zero unless its independent totals equal marts.sink_monthly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.ingest import find_tool
from sinkload.settings import Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

# (benchmark, arguments of its shortest complete run, a line its report prints)
RUNS = [
    ("reload", ["--no-write"], "Share of each incremental model's rows that the step wrote"),
    ("reload_append", ["--no-write"], "Appended month inside the period"),
    ("baseline", ["--no-write"], "Equal to `marts.sink_monthly`: **True**"),
    ("build", ["--no-write", "--repeats", "2"], "# Build benchmark"),
    ("views", ["--no-write", "--repeats", "2"], "# Views benchmark"),
    ("scale", ["--no-write", "--scales", "1", "2"], "# Scale benchmark"),  # two scales: the least a line fits
]


@pytest.mark.parametrize(("name", "args", "expected"), RUNS, ids=[run[0] for run in RUNS])
def test_benchmark_runs(server_url: str, name: str, args: list[str], expected: str) -> None:
    done = run_benchmark(name, *args)
    assert expected in done.stdout, done.stdout[-3000:]


def test_ingest_benchmark_quick_run(server_url: str, base_settings: Settings, tmp_path: Path) -> None:
    try:
        find_tool("raster2pgsql", None, base_settings)  # where the benchmark itself looks
    except SystemExit as missing:
        pytest.skip(str(missing))
    done = run_benchmark("ingest", "--quick", "--skip-streaming", "--results-dir", str(tmp_path))
    assert "values equal: True" in done.stdout, done.stdout[-3000:]
    assert (tmp_path / "ingest.md").exists()


def run_benchmark(name: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800, check=False)
    assert done.returncode == 0, f"benchmarks/{name}.py failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done
