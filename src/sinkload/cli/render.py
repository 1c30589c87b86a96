"""How the commands show what the package returns: tables and notes for the flux ingest and the reload, and
the months progress bar of long loads (the report and the demo: `render_report.py`). User data (file, unit, member names) always as plain
text (`Text`), never as rich markup."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from sinkload.cli.output import console as output_console
from sinkload.errors import shown
from sinkload.ingest.flux import IngestSummary, MonthProgress
from sinkload.ingest.status import FileStatus
from sinkload.reload import ReloadSummary

# The reload's table calls a file it loaded "new" (and leaves already loaded files to one count line).
RELOAD_WORDS = {FileStatus.LOADED: "new", FileStatus.FAILED: "failed"}


# -- progress -----------------------------------------------------------------------------------------------

@contextmanager
def month_progress(console: Console) -> Iterator[MonthProgress]:
    """A months bar per file being loaded, on `console`; off a terminal a bar is noise (and leaves a blank
    line on stderr): none then."""
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                  TextColumn("months"), TimeElapsedColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        tasks: dict[Path, TaskID] = {}

        def advance(path: Path, done: int, total: int) -> None:
            if path not in tasks:
                tasks[path] = progress.add_task(path.name, total=total)
            progress.update(tasks[path], completed=done)
            if done >= total:
                progress.remove_task(tasks.pop(path))

        yield advance


# -- ingest flux --------------------------------------------------------------------------------------------

def print_flux_notes(summary: IngestSummary, err: Console) -> None:
    """The files the catalog skipped and those already loaded, one line each."""
    for path in summary.skipped:
        err.print(f"skipped {shown(path)} (not a flux of product {summary.product}: catalog skip_pattern)",
                  soft_wrap=True, markup=False)
    for r in summary.results:
        if r.status == FileStatus.ALREADY_LOADED:
            err.print(f"{shown(r.path)}: already loaded (same sha256 for {r.product}/{r.member}), nothing to do "
                      "(--force loads it again)",
                      soft_wrap=True, markup=False)


def flux_table(summary: IngestSummary) -> Table:
    table = Table(title="flux ingest")
    for column in ("file", "product", "member", "status", "months", "cells", "seconds"):
        table.add_column(column, justify="right" if column in ("months", "cells", "seconds") else "left")
    for r in summary.results:
        table.add_row(Text(shown(r.path.name)), Text(r.product), Text(r.member), str(r.status), str(r.months),
                      f"{r.values:,}", f"{r.seconds:.1f}")
    loaded = sum(r.status == FileStatus.LOADED for r in summary.results)
    table.add_row("total", "", "", f"{loaded} loaded",
                  str(sum(r.months for r in summary.results)), f"{sum(r.values for r in summary.results):,}",
                  f"{sum(r.seconds for r in summary.results):.1f}")
    return table


def print_ingest(summary: IngestSummary, out: Console | None = None, err: Console | None = None) -> None:
    """Notes on stderr, then the table on stdout."""
    print_flux_notes(summary, err or output_console(stderr=True))
    (out or output_console()).print(flux_table(summary))


# -- reload -------------------------------------------------------------------------------------------------

def print_reload(summary: ReloadSummary, out: Console | None = None, err: Console | None = None) -> None:
    """The flux ingest of each file loaded, then the reload's table (or its one line when it did nothing)."""
    out = out or output_console()
    for outcome in summary.loaded:
        if outcome.ingest is not None:
            print_ingest(outcome.ingest, out, err)
    skipped = f", {len(summary.skipped)} skipped (catalog skip_pattern)" if summary.skipped else ""
    already = len(summary.already_loaded)
    if summary.did_nothing:
        out.print(f"reload {summary.run_id}: nothing to do — {already} files already loaded{skipped}, "
                  "marts up to date")
        return
    table = Table(title=f"reload {summary.run_id}")
    for column in ("product", "file", "status", "seconds", "note"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for item in summary.files:
        if item.status in RELOAD_WORDS:
            table.add_row(Text(shown(item.file.product)), Text(shown(item.file.path.name)), RELOAD_WORDS[item.status],
                          f"{item.seconds:.1f}", Text(shown(item.message)))
    if already:
        table.add_row("", f"{already} files", "already loaded", "", "")
    if summary.skipped:
        table.add_row("", f"{len(summary.skipped)} files", "skipped", "", "catalog skip_pattern")
    if summary.dbt_selection:
        table.add_row("dbt", "build", summary.dbt_result or "ok", f"{summary.dbt_seconds:.1f}", summary.dbt_selection)
    else:
        table.add_row("dbt", "build", "skipped", "", "marts already up to date")
    out.print(table)
