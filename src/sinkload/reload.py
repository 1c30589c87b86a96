"""`sinkload reload INBOX`: the scheduled job. Ingest what is new or changed, rebuild what depends on it.

INBOX layout: `INBOX/<product>/…` — the first folder level is the catalog's product name; below it any
layout `sinkload ingest flux` accepts (e.g. the MIP archive's `<EXP>/<Model>_gridded_fluxes_<EXP>.nc4`).
A file is already loaded when a batch of its product and member with the same sha256 still owns all its months
in raw.

One reload at a time per database: an advisory lock held by a dedicated session for the whole run (it
dies with the process, so a killed reload never leaves a stale lock).

What a reader sees never depends on this module: each ingest batch is one transaction, and the marts
switch to a new build only when dbt publishes it. This module makes sure the dbt step runs whenever raw
changed since the last successful one (also after a crash), and that it does not replace views whose
SQL has not changed (dbt replaces a view by create/rename/drop, which takes ACCESS EXCLUSIVE locks).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from sinkload.build_state import BuildCheck
from sinkload.catalog import Catalog, load_catalog
from sinkload.db.locks import advisory_lock, wait_for_dbt_sessions
from sinkload.db.raw_state import (
    changed_groups,
    last_loaded_from,
    loaded_hashes,
    raw_fingerprint,
)
from sinkload.db.run_log import last_done_run, now, start_run, update_run
from sinkload.db.warehouse import Warehouse
from sinkload.dbt.runner import DbtProcess
from sinkload.dbt.selection import rebuild
from sinkload.errors import SinkloadError, file_error, shown, unexpected_error
from sinkload.files import sha256_of
from sinkload.ingest.claims import conflicts
from sinkload.ingest.flux import IngestSummary, MonthProgress, check_metadata, ingest_paths, is_flux_file
from sinkload.ingest.status import FileStatus

LOCK_NAME = "reload"


@dataclass(frozen=True)
class InboxFile:
    product: str
    path: Path
    sha256: str
    size_bytes: int


@dataclass
class FileOutcome:
    file: InboxFile
    status: FileStatus
    seconds: float = 0.0
    message: str = ""
    ingest: IngestSummary | None = None  # what `ingest flux` loaded (LOADED files)


@dataclass
class ReloadSummary:
    run_id: int
    files: list[FileOutcome] = field(default_factory=list)
    dbt_selection: str | None = None
    dbt_result: str = ""
    dbt_seconds: float = 0.0

    def with_status(self, status: FileStatus) -> list[FileOutcome]:
        return [f for f in self.files if f.status == status]

    @property
    def loaded(self) -> list[FileOutcome]:
        """The files this run loaded."""
        return self.with_status(FileStatus.LOADED)

    @property
    def already_loaded(self) -> list[FileOutcome]:
        return self.with_status(FileStatus.ALREADY_LOADED)

    @property
    def failed(self) -> list[FileOutcome]:
        return self.with_status(FileStatus.FAILED)

    @property
    def skipped(self) -> list[FileOutcome]:
        return self.with_status(FileStatus.SKIPPED)

    @property
    def did_nothing(self) -> bool:
        return not self.loaded and not self.failed and self.dbt_selection is None

    def error(self) -> SinkloadError | None:
        """The one-line error naming the files that failed, if any did."""
        if not self.failed:
            return None
        names = ", ".join(shown(f.file.path) for f in self.failed)
        return SinkloadError(f"{names}: {len(self.failed)} file(s) failed to load: {self.failed[0].message}")


# -- the inbox (files only) -----------------------------------------------------------------------------

def scan_inbox(inbox: Path) -> list[InboxFile]:
    """Every flux file under `INBOX/<product>/`, hashed, in a stable order."""
    if not inbox.is_dir():
        raise SinkloadError(f"{inbox}: inbox folder not found")
    found = []
    for product_dir in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(product_dir.rglob("*")):
            if is_flux_file(path.relative_to(inbox)) and path.is_file():
                found.append(InboxFile(product_dir.name, path, sha256_of(path), path.stat().st_size))
    return found


# -- the job ----------------------------------------------------------------------------------------------

def is_loaded(item: InboxFile, member: str | None, current: set[tuple[str, str, str]],
              from_path: dict[tuple[str, str], tuple[str, str]]) -> bool:
    """Already in raw: a current batch of the file's product and member has the file's content, or the newest batch
    loaded from this very path has, for that member (its months were replaced since by a hand `ingest flux`,
    which stands until the inbox file changes). `member` is the one the file's name gives; None when it gives
    none (a file loaded by hand with --member): then a batch of any member counts."""
    def same(batch_member: str) -> bool:
        return member is None or batch_member == member

    last = from_path.get((item.product, str(item.path.resolve())))
    return (any(product == item.product and sha == item.sha256 and same(batch_member)
                for product, batch_member, sha in current)
            or (last is not None and last[1] == item.sha256 and same(last[0])))


def member_named(item: InboxFile, catalog: Catalog) -> str | None:
    """The member an inbox file's name gives, or None (no such product, or the name gives none)."""
    try:
        return catalog.product(item.product).member_for(item.path)
    except SinkloadError:
        return None


def screen_inbox(files: list[InboxFile], catalog: Catalog,
                 loaded: frozenset[Path] = frozenset()) -> tuple[list[FileOutcome], list[InboxFile]]:
    """Decide what can be decided before loading: files the catalog skips, files of no known product or member
    (unless `loaded` already, e.g. by hand with an explicit --member), and members for which two files hold a
    same month (all their files refused; a member whose files are all `loaded` is not read again: each of them
    still owns its months). Returns (those outcomes, the files left to load)."""
    decided: dict[Path, FileOutcome] = {}
    members: dict[tuple[str, str], list[InboxFile]] = {}
    for item in files:
        try:
            entry = catalog.product(item.product)
            if entry.skips(item.path.name):
                decided[item.path] = FileOutcome(item, FileStatus.SKIPPED)
                continue
            members.setdefault((item.product, entry.member_for(item.path)), []).append(item)
        except SinkloadError as exc:
            if item.path not in loaded:
                message = str(exc) if shown(item.path) in str(exc) else str(file_error(item.path, str(exc)))
                decided[item.path] = FileOutcome(item, FileStatus.FAILED, message=message)
    claims = []
    # a member's only file cannot conflict, nor can files that all still own their months in raw
    for group in (g for g in members.values() if len(g) > 1 and any(item.path not in loaded for item in g)):
        for item in group:
            try:
                claims.append(check_metadata(item.path, catalog.product(item.product)))
            except SinkloadError as exc:
                decided[item.path] = FileOutcome(item, FileStatus.FAILED, message=str(exc))
    for key, error in conflicts(claims).items():
        for item in members[key]:
            decided[item.path] = FileOutcome(item, FileStatus.FAILED, message=str(error))
    return list(decided.values()), [item for item in files if item.path not in decided]


def ingest_new(warehouse: Warehouse, files: list[InboxFile], current: set[tuple[str, str, str]],
               from_path: dict[tuple[str, str], tuple[str, str]], catalog_path: Path | None,
               progress: MonthProgress | None = None,
               before_ingest: Callable[[], None] = lambda: None) -> list[FileOutcome]:
    """Ingest each new or changed file through the `ingest flux` code path, one batch (transaction) each;
    a bad file is reported and the others still load. `before_ingest` is called before each file is read."""
    catalog = load_catalog(catalog_path or warehouse.settings.catalog)
    members = {item.path: member_named(item, catalog) for item in files}
    loaded = frozenset(item.path for item in files if is_loaded(item, members[item.path], current, from_path))
    outcomes, candidates = screen_inbox(files, catalog, loaded)
    for item in candidates:
        if is_loaded(item, members[item.path], current, from_path):
            outcomes.append(FileOutcome(item, FileStatus.ALREADY_LOADED))
            continue
        before_ingest()
        started = time.perf_counter()
        try:
            ingested = ingest_paths(warehouse, [item.path], item.product, catalog_path=catalog_path,
                                    progress=progress)
            outcomes.append(FileOutcome(item, FileStatus.LOADED, time.perf_counter() - started, ingest=ingested))
            current.update((item.product, result.member, item.sha256) for result in ingested.results)
        except SinkloadError as exc:
            outcomes.append(FileOutcome(item, FileStatus.FAILED, time.perf_counter() - started, str(exc)))
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise  # the database went away: no file's fault, and no later file can load either
        except Exception as exc:  # anything else is this file's failure (its type named): the others still load
            message = str(unexpected_error(item.path, "unexpected error", exc))
            outcomes.append(FileOutcome(item, FileStatus.FAILED, time.perf_counter() - started, message))
    order = {item.path: k for k, item in enumerate(files)}
    return sorted(outcomes, key=lambda outcome: order[outcome.file.path])


def _reload_locked(warehouse: Warehouse, inbox: Path, catalog_path: Path | None,
                   progress: MonthProgress | None) -> ReloadSummary:
    # The run log is written as the reloader (migration 0005): the loader may not rewrite what this trusts.
    # dbt starts importing when the first file is to be ingested (its imports overlap the ingest), or when
    # the build is run; never when nothing changed.
    with warehouse.as_reloader() as conn, DbtProcess(start=False) as dbt:
        run_id = start_run(conn, inbox)
        summary = ReloadSummary(run_id)
        try:
            files = scan_inbox(inbox)
            summary.files = ingest_new(warehouse, files, loaded_hashes(conn), last_loaded_from(conn),
                                       catalog_path, progress, before_ingest=dbt.start)
            update_run(conn, run_id, files_seen=len(files), files_loaded=len(summary.loaded),
                       files_failed=len(summary.failed),
                       products=sorted({f.file.product for f in summary.loaded}))
            fingerprint = raw_fingerprint(conn)
            built_fingerprint, built_views = last_done_run(conn)
            groups = changed_groups(fingerprint, built_fingerprint)
            if groups:
                before = BuildCheck.read(warehouse, None, forced=False)
                started = time.perf_counter()
                rebuilt = rebuild(warehouse, conn, groups, built_views, dbt)
                summary.dbt_seconds = time.perf_counter() - started
                summary.dbt_selection, summary.dbt_result, views = rebuilt.shown, rebuilt.result, rebuilt.view_checksums
                before.record_if_covered(warehouse, rebuilt.tables)
                update_run(conn, run_id, dbt_selection=summary.dbt_selection, view_checksums=views)
            else:
                views = built_views
            failed = "; ".join(f.message for f in summary.failed) or None
            update_run(conn, run_id, status="failed" if failed else "done", message=failed,
                       built_fingerprint=json.dumps(fingerprint), view_checksums=views, finished_at=now(conn))
        except BaseException as exc:
            with contextlib.suppress(psycopg.Error):  # the database may be what failed: the next run marks ours
                update_run(conn, run_id, status="failed", message=str(exc).splitlines()[0] if str(exc) else
                           type(exc).__name__, finished_at=now(conn))
            raise
    return summary


def run_reload(warehouse: Warehouse, inbox: Path, wait: bool = False, catalog_path: Path | None = None,
               note: Callable[[str], None] | None = None,
               progress: MonthProgress | None = None) -> ReloadSummary:
    """Bring INBOX into the warehouse: ingest new/changed files, rebuild the dbt models downstream of raw
    when raw changed since the last complete rebuild; returns what happened to each file and to dbt (files
    that failed are in it: `summary.error()`). Raises `LockBusy` when another reload runs (unless `wait`).
    `note` receives one-line notices (waiting for another reload or dbt run)."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise SinkloadError(f"{inbox}: inbox folder not found")
    say = note or (lambda _text: None)

    def waiting(holder) -> None:
        who = holder.describe() if holder else "another session"
        say(f"another reload is running ({who}); waiting for it to finish")

    with advisory_lock(warehouse.url, LOCK_NAME, wait=wait, on_wait=waiting) as lock_session:
        wait_for_dbt_sessions(lock_session, on_wait=lambda: say(
            "a dbt run is still working on this database; waiting for it to finish"))
        return _reload_locked(warehouse, inbox, catalog_path, progress)
