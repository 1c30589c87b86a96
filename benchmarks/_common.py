"""Small helpers shared by the benchmarks: wall-clock timing, peak memory of child processes, machine info.

Peak memory is the kernel's `ru_maxrss` of each measured process, read with `os.wait4`, so every process of
a pipeline is measured on its own (no polling, no /usr/bin/time needed). A child forked straight from this
(large) Python process would inherit its RSS high-water mark across exec, so each command is started by a
tiny wrapper (`python -S -I`) that forks it and reports its ru_maxrss: the floor of the figure is then the
wrapper's own few MiB (see `rss_floor_bytes`), not the benchmark's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20


@dataclass
class Timer:
    """Wall-clock seconds of a `timed()` block (set when the block ends)."""

    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    """Time a block with `time.perf_counter`: `with timed() as t: ...; t.seconds`."""
    timer = Timer()
    started = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - started


@dataclass(frozen=True)
class ProcessRun:
    """One finished child process: its command, exit code and peak resident memory."""

    argv: tuple[str, ...]
    returncode: int
    peak_rss_bytes: int

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_bytes / MIB


# Forks the command, waits for it, writes its ru_maxrss (KiB) to argv[1], exits with its exit code.
_PROBE = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def _probe_argv(argv: Sequence[str], report: Path) -> list[str]:
    return [sys.executable, "-S", "-I", "-c", _PROBE, str(report), *map(str, argv)]


def run_pipeline(commands: Sequence[Sequence[str]], env: dict[str, str] | None = None,
                 log: Path | None = None, preexec_fn=None) -> tuple[float, list[ProcessRun]]:
    """Run `cmd1 | cmd2 | ...` (one command is a pipeline of one); returns (wall seconds, one ProcessRun per
    command). stderr of all, and stdout of the last, go to `log` (appended) or are discarded. `preexec_fn`
    (e.g. a resource limit) applies to every command."""
    sink = open(log, "ab") if log else subprocess.DEVNULL  # closed in the finally below
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        reports = [Path(tmp) / f"{k}.rss" for k in range(len(commands))]
        try:
            with timed() as timer:
                stdin = None
                for k, argv in enumerate(commands):
                    last = k == len(commands) - 1
                    proc = subprocess.Popen(_probe_argv(argv, reports[k]), stdin=stdin,
                                            stdout=sink if last else subprocess.PIPE, stderr=sink, env=env,
                                            preexec_fn=preexec_fn)
                    if stdin is not None:
                        stdin.close()  # the next process owns the read end now
                    stdin = proc.stdout
                    procs.append(proc)
                codes = [proc.wait() for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if log:
                sink.close()
        runs = [ProcessRun(tuple(map(str, argv)), code, _read_kib(report) * 1024)
                for argv, code, report in zip(commands, codes, reports, strict=True)]
    return timer.seconds, runs


def rss_floor_bytes() -> int:
    """Peak RSS that `run_pipeline` reports for `true`: the wrapper's share, the smallest figure possible."""
    return run_pipeline([["true"]])[1][0].peak_rss_bytes


def _read_kib(report: Path) -> int:
    try:
        return int(report.read_text())
    except (OSError, ValueError):
        return 0


def machine_info() -> dict:
    """Host facts worth recording next to timings: CPU, cores, memory, OS, Python, load average."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kib = next((int(line.split()[1]) for line in _read_lines("/proc/meminfo")
                    if line.startswith("MemTotal:")), 0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / MIB, 1),
            "os": platform.platform(), "python": platform.python_version(),
            "loadavg": [round(x, 2) for x in os.getloadavg()]}


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def sinkload_binary() -> str:
    """The `sinkload` script next to this interpreter (the venv the benchmark runs in), else PATH."""
    beside = Path(sys.executable).with_name("sinkload")
    return str(beside) if beside.exists() else (shutil.which("sinkload") or sys.exit("sinkload: not found"))


RESULTS_DIR = Path(__file__).resolve().parent / "results"


def results_parser(description: str | None, name: str) -> argparse.ArgumentParser:
    """A benchmark's argument parser with the two options every benchmark has: --results-dir and --no-write."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR,
                        help=f"where {name}.md and {name}.json go (default benchmarks/results)")
    parser.add_argument("--no-write", action="store_true", help="print the report instead of writing results")
    return parser


def save_results(results_dir: Path, name: str, res: dict, report: str, extra: dict[str, str] | None = None) -> None:
    """Write `<name>.json` (the figures), `<name>.md` (the report made from them) and any `extra` files
    (file name -> text) to results_dir."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (results_dir / f"{name}.md").write_text(report, encoding="utf-8")
    for file_name, text in (extra or {}).items():
        (results_dir / file_name).write_text(text, encoding="utf-8")


def publish(args: argparse.Namespace, name: str, res: dict, report: str, extra: dict[str, str] | None = None) -> None:
    """Save the results (unless --no-write) and print the report."""
    if not args.no_write:
        save_results(args.results_dir, name, res, report, extra)
    print(report)


def catalog_copy(path: Path, change: Callable[[dict], None]) -> Path:
    """The shipped product catalog (warehouse/catalog.yaml) with `change` applied to its parsed YAML, written to
    `path` for `--catalog` / SINKLOAD_CATALOG."""
    import yaml

    catalog = yaml.safe_load((Path(__file__).resolve().parents[1] / "warehouse" / "catalog.yaml").read_text("utf-8"))
    change(catalog)
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
