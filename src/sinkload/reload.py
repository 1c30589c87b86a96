"""`sinkload reload INBOX`: the scheduled job. Ingest what is new or changed, rebuild what depends on it.

INBOX layout: `INBOX/<product>/…` — the first folder level is the catalog's product name; below it any
layout `sinkload ingest flux` accepts (e.g. the MIP archive's `<EXP>/<Model>_gridded_fluxes_<EXP>.nc4`).
A file is already loaded when a batch of its product with the same sha256 still owns tiles in raw.

One reload at a time per database: an advisory lock held by a dedicated session for the whole run (it
dies with the process, so a killed reload never leaves a stale lock).

What a reader sees never depends on this module: each ingest batch is one transaction, and the marts
switch to a new build only when dbt publishes it. This module makes sure the dbt step runs whenever raw
changed since the last successful one (also after a crash), and that it does not replace views whose
SQL has not changed (dbt replaces a view by create/rename/drop, which takes ACCESS EXCLUSIVE locks).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from sinkload.db.connection import connect
from sinkload.db.locks import advisory_lock
from sinkload.errors import SinkloadError
from sinkload.roles import Roles
from sinkload.settings import Settings

LOCK_NAME = "reload"
FLUX_SUFFIXES = (".nc", ".nc4", ".tif", ".tiff")
# The raw tables a flux ingest writes: dbt rebuilds what lies downstream of them.
FLUX_SOURCES = ("flux_tile", "load_batch", "product", "member", "grid")
HASH_CHUNK = 1 << 20

console = Console()


@dataclass(frozen=True)
class InboxFile:
    product: str
    path: Path
    sha256: str
    size_bytes: int


@dataclass
class FileOutcome:
    file: InboxFile
    status: str  # "loaded", "new", "failed"
    seconds: float = 0.0
    message: str = ""


@dataclass
class ReloadSummary:
    run_id: int
    files: list[FileOutcome] = field(default_factory=list)
    dbt_selection: str | None = None
    dbt_result: str = ""
    dbt_seconds: float = 0.0

    @property
    def loaded(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "new"]

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def did_nothing(self) -> bool:
        return not self.loaded and not self.failed and self.dbt_selection is None


# -- the inbox (files only) -----------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_flux_file(relative: Path) -> bool:
    """Flux files by suffix; hidden files or folders and partial uploads (`*.part`, `*.tmp`) are not."""
    return not any(part.startswith(".") for part in relative.parts) and relative.suffix.lower() in FLUX_SUFFIXES


def scan_inbox(inbox: Path) -> list[InboxFile]:
    """Every flux file under `INBOX/<product>/`, hashed, in a stable order."""
    if not inbox.is_dir():
        raise SinkloadError(f"{inbox}: inbox folder not found")
    found = []
    for product_dir in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(product_dir.rglob("*")):
            if is_flux_file(path.relative_to(inbox)) and path.is_file():
                found.append(InboxFile(product_dir.name, path, sha256_file(path), path.stat().st_size))
    return found


# -- what raw holds ---------------------------------------------------------------------------------------

def loaded_hashes(conn: psycopg.Connection) -> set[tuple[str, str]]:
    """(product, sha256) of every batch that still owns tiles (a replaced file's batch no longer does)."""
    rows = conn.execute("""
        select p.name, b.sha256
        from raw.load_batch b join raw.product p using (product_id)
        where exists (select from raw.flux_tile t where t.batch_id = b.batch_id)
    """)
    return {(name, sha) for name, sha in rows}


def batch_fingerprint(conn: psycopg.Connection) -> str:
    """Changes whenever a batch is added or removed (ids only grow)."""
    count, top = conn.execute("select count(*), coalesce(max(batch_id), 0) from raw.load_batch").fetchone()
    return f"{count}:{top}"


def last_done_run(conn: psycopg.Connection) -> tuple[str | None, dict]:
    """The fingerprint and view checksums of the last reload whose dbt step completed (or had nothing to do)."""
    row = conn.execute("""
        select built_fingerprint, view_checksums from raw.reload_run
        where built_fingerprint is not null order by run_id desc limit 1
    """).fetchone()
    return (row[0], row[1] or {}) if row else (None, {})


def wait_for_dbt_sessions(conn: psycopg.Connection, poll_seconds: float = 2.0) -> None:
    """Wait while a dbt process still works on this database (e.g. orphaned by a killed reload: killing a
    process does not kill its children), so that two builds never overlap."""
    query = ("select count(*) from pg_stat_activity where datname = current_database() "
             "and application_name = 'dbt' and pid <> pg_backend_pid()")
    announced = False
    while conn.execute(query).fetchone()[0]:
        if not announced:
            console.print("a dbt run is still working on this database; waiting for it to finish")
            announced = True
        time.sleep(poll_seconds)


# -- the run log ------------------------------------------------------------------------------------------

def start_run(conn: psycopg.Connection, inbox: Path) -> int:
    """Close the rows of runs that died (we hold the lock, so none is running) and open ours."""
    conn.execute("""
        update raw.reload_run set status = 'interrupted', finished_at = clock_timestamp(),
               message = coalesce(message, 'the process ended before finishing')
        where status = 'running'
    """)
    return conn.execute(
        "insert into raw.reload_run (inbox, host, pid) values (%s, %s, %s) returning run_id",
        [str(inbox), socket.gethostname(), os.getpid()],
    ).fetchone()[0]


def update_run(conn: psycopg.Connection, run_id: int, **values: object) -> None:
    from psycopg import sql

    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in values
    )
    conn.execute(sql.SQL("update raw.reload_run set {} where run_id = {}").format(assignments, sql.Literal(run_id)),
                 {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()})


# -- dbt --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DbtNode:
    unique_id: str
    materialized: str
    checksum: str
    schema: str
    name: str
    parents: tuple[str, ...]


def dbt_selection(sources: Iterable[str] = FLUX_SOURCES) -> str:
    """Every model downstream of the raw tables an ingest writes."""
    return " ".join(f"source:raw.{table}+" for table in sources)


def list_models(settings: Settings, url: str, selection: str) -> list[DbtNode]:
    from sinkload.dbt import run_dbt

    result = run_dbt(settings, url, ["ls", "--select", selection, "--resource-type", "model", "--output", "json",
                                     "--output-keys", "unique_id", "name", "config", "checksum", "depends_on"],
                     quiet=True)
    nodes = []
    for line in result.stdout.splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
        if not line.startswith("{"):
            continue
        item = json.loads(line)
        config = item["config"]
        nodes.append(DbtNode(item["unique_id"], config["materialized"], item["checksum"]["checksum"],
                             config.get("schema") or "", config.get("alias") or item["name"],
                             tuple(item["depends_on"]["nodes"])))
    return nodes


def existing_relations(conn: psycopg.Connection, nodes: list[DbtNode]) -> set[tuple[str, str]]:
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where (table_schema, table_name) in (select * from unnest(%s::text[], %s::text[]))",
        [[n.schema for n in nodes], [n.name for n in nodes]],
    )
    return {(schema, name) for schema, name in rows}


def views_to_keep(nodes: list[DbtNode], existing: set[tuple[str, str]], built: dict) -> list[DbtNode]:
    """Views that need not be replaced: they exist, their SQL is what was last built, and no table they
    read is rebuilt (dbt's `drop … cascade` of a replaced table would take the view with it)."""
    rebuilt_tables = {n.unique_id for n in nodes if n.materialized not in ("view", "incremental", "ephemeral")}
    return [n for n in nodes
            if n.materialized == "view" and (n.schema, n.name) in existing
            and built.get(n.unique_id) == n.checksum and not rebuilt_tables.intersection(n.parents)]


def rebuild(settings: Settings, url: str, conn: psycopg.Connection, built_views: dict) -> tuple[str, str, dict]:
    """dbt build of the models downstream of raw, minus unchanged views; returns (selection, result line,
    checksums of the views now in the database)."""
    from sinkload.dbt import run_dbt

    selection = dbt_selection()
    nodes = list_models(settings, url, selection)
    keep = views_to_keep(nodes, existing_relations(conn, nodes), built_views)
    args = ["build", "--select", selection]
    if keep:
        args += ["--exclude", *(n.unique_id.split(".")[-1] for n in keep)]
    result = run_dbt(settings, url, args, quiet=True)
    done = [line for line in result.stdout.splitlines() if "PASS=" in line]
    view_checksums = {**built_views, **{n.unique_id: n.checksum for n in nodes if n.materialized == "view"}}
    shown = selection + (f" (kept {len(keep)} unchanged views)" if keep else "")
    return shown, re.sub(r"\x1b\[[0-9;]*m", "", done[-1]).split("Done.")[-1].strip() if done else "", view_checksums


# -- the job ----------------------------------------------------------------------------------------------

def ingest_new(settings: Settings, url: str, files: list[InboxFile], known: set[tuple[str, str]],
               catalog_path: Path | None) -> list[FileOutcome]:
    """Ingest each new or changed file through the `ingest flux` code path, one batch (transaction) each;
    a bad file is reported and the others still load."""
    outcomes = []
    for item in files:
        if (item.product, item.sha256) in known:
            outcomes.append(FileOutcome(item, "loaded"))
            continue
        from sinkload.ingest.flux import ingest_paths

        started = time.perf_counter()
        try:
            ingest_paths(settings, url, [item.path], item.product, catalog_path=catalog_path)
            outcomes.append(FileOutcome(item, "new", time.perf_counter() - started))
            known.add((item.product, item.sha256))
        except SinkloadError as exc:
            outcomes.append(FileOutcome(item, "failed", time.perf_counter() - started, str(exc)))
    return outcomes


def _reload_locked(settings: Settings, url: str, inbox: Path, catalog_path: Path | None) -> ReloadSummary:
    loader = Roles(settings.role_prefix).loader
    with connect(url, role=loader, autocommit=True) as conn:
        run_id = start_run(conn, inbox)
        summary = ReloadSummary(run_id)
        try:
            files = scan_inbox(inbox)
            summary.files = ingest_new(settings, url, files, loaded_hashes(conn), catalog_path)
            update_run(conn, run_id, files_seen=len(files), files_loaded=len(summary.loaded),
                       files_failed=len(summary.failed),
                       products=sorted({f.file.product for f in summary.loaded}))
            fingerprint = batch_fingerprint(conn)
            built_fingerprint, built_views = last_done_run(conn)
            if fingerprint != built_fingerprint:
                started = time.perf_counter()
                summary.dbt_selection, summary.dbt_result, views = rebuild(settings, url, conn, built_views)
                summary.dbt_seconds = time.perf_counter() - started
                update_run(conn, run_id, dbt_selection=summary.dbt_selection, view_checksums=views)
            else:
                views = built_views
            failed = "; ".join(f.message for f in summary.failed) or None
            update_run(conn, run_id, status="failed" if failed else "done", message=failed,
                       built_fingerprint=fingerprint, view_checksums=views, finished_at=_now(conn))
        except BaseException as exc:
            update_run(conn, run_id, status="failed", message=str(exc).splitlines()[0] if str(exc) else
                       type(exc).__name__, finished_at=_now(conn))
            raise
    return summary


def _now(conn: psycopg.Connection):
    return conn.execute("select clock_timestamp()").fetchone()[0]


def print_summary(summary: ReloadSummary, out: Console = console) -> None:
    if summary.did_nothing:
        out.print(f"reload {summary.run_id}: nothing to do — {len(summary.files)} files already loaded, "
                  "marts up to date")
        return
    table = Table(title=f"reload {summary.run_id}")
    for column in ("product", "file", "status", "seconds", "note"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for item in summary.files:
        if item.status != "loaded":
            table.add_row(item.file.product, item.file.path.name, item.status, f"{item.seconds:.1f}", item.message)
    skipped = len(summary.files) - len(summary.loaded) - len(summary.failed)
    if skipped:
        table.add_row("", f"{skipped} files", "already loaded", "", "")
    if summary.dbt_selection:
        table.add_row("dbt", "build", summary.dbt_result or "ok", f"{summary.dbt_seconds:.1f}", summary.dbt_selection)
    else:
        table.add_row("dbt", "build", "skipped", "", "marts already up to date")
    out.print(table)


def run_reload(settings: Settings, url: str, inbox: Path, wait: bool = False,
               catalog_path: Path | None = None) -> ReloadSummary:
    """Bring INBOX into the warehouse: ingest new/changed files, rebuild the dbt models downstream of raw
    when raw changed since the last complete rebuild. Raises `LockBusy` when another reload runs (unless
    `wait`), and `SinkloadError` naming the files that failed (after loading and building the others)."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise SinkloadError(f"{inbox}: inbox folder not found")

    def waiting(holder) -> None:
        who = holder.describe() if holder else "another session"
        console.print(f"another reload is running ({who}); waiting for it to finish")

    with advisory_lock(url, LOCK_NAME, wait=wait, on_wait=waiting) as lock_session:
        wait_for_dbt_sessions(lock_session)
        summary = _reload_locked(settings, url, inbox, catalog_path)
    print_summary(summary)
    if summary.failed:
        names = ", ".join(str(f.file.path) for f in summary.failed)
        raise SinkloadError(f"{names}: {len(summary.failed)} file(s) failed to load: {summary.failed[0].message}")
    return summary
