"""`sinkload reload INBOX`: the scheduled job. Ingest what is new or changed, rebuild what depends on it.

INBOX layout: `INBOX/<product>/…` — the first folder level is the catalog's product name; below it any
layout `sinkload ingest flux` accepts (e.g. the MIP archive's `<EXP>/<Model>_gridded_fluxes_<EXP>.nc4`).
A file is already loaded when a batch of its product with the same sha256 still owns all its months in raw.

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
import os
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from rich.table import Table
from rich.text import Text

from sinkload.catalog import Catalog, load_catalog
from sinkload.db.connection import connect
from sinkload.db.locks import advisory_lock
from sinkload.errors import SinkloadError, file_error, shown
from sinkload.files import sha256_of
from sinkload.ingest.claims import conflicts
from sinkload.ingest.flux import BATCH_IS_CURRENT, check_metadata, is_flux_file
from sinkload.output import console as output_console
from sinkload.roles import Roles
from sinkload.settings import Settings

LOCK_NAME = "reload"
# What each kind of raw change is made of: the tables it writes (dbt rebuilds what lies downstream of
# them) and a query that changes whenever they do (load ids only grow; layers record their file's sha256
# and load time).
SOURCE_GROUPS = {
    "flux": (("flux_tile", "load_batch", "product", "member", "grid"),
             "select count(*) || ':' || coalesce(max(batch_id), 0) from raw.load_batch"),
    "regions": (("region", "region_layer"),
                "select md5(coalesce(string_agg(scope || sha256 || loaded_at, ',' order by scope), '')) "
                "from raw.region_layer"),
    "landcover": (("landcover", "landcover_layer", "landcover_class"),
                  "select md5(coalesce(string_agg(sha256 || loaded_at, ','), '') || "
                  "(select count(*) from raw.landcover_class)) from raw.landcover_layer"),
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")

console = output_console()


@dataclass(frozen=True)
class InboxFile:
    product: str
    path: Path
    sha256: str
    size_bytes: int


@dataclass
class FileOutcome:
    file: InboxFile
    status: str  # "loaded" (already), "new", "failed", "skipped" (the catalog's skip_pattern)
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
    def skipped(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "skipped"]

    @property
    def did_nothing(self) -> bool:
        return not self.loaded and not self.failed and self.dbt_selection is None


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


# -- what raw holds ---------------------------------------------------------------------------------------

def loaded_hashes(conn: psycopg.Connection) -> set[tuple[str, str]]:
    """(product, sha256) of every current batch (one that still owns all its months)."""
    rows = conn.execute(sql.SQL("""
        select p.name, b.sha256
        from raw.load_batch b join raw.product p using (product_id)
        where {}
    """).format(BATCH_IS_CURRENT))
    return {(name, sha) for name, sha in rows}


def last_loaded_from(conn: psycopg.Connection) -> dict[tuple[str, str], str]:
    """(product, absolute file path) -> sha256 of the newest batch loaded from that path."""
    rows = conn.execute("""
        select distinct on (p.name, b.file_path) p.name, b.file_path, b.sha256
        from raw.load_batch b join raw.product p using (product_id)
        order by p.name, b.file_path, b.batch_id desc
    """)
    return {(name, path): sha for name, path, sha in rows}


def raw_fingerprint(conn: psycopg.Connection) -> dict[str, str]:
    """The state of each source group of raw (SOURCE_GROUPS), as short strings."""
    return {group: conn.execute(query).fetchone()[0] for group, (_, query) in SOURCE_GROUPS.items()}


def changed_groups(now: dict[str, str], built: dict[str, str] | None) -> list[str]:
    """The source groups whose state differs from the one the last successful rebuild saw."""
    return [group for group in now if built is None or built.get(group) != now[group]]


def last_done_run(conn: psycopg.Connection) -> tuple[dict | None, dict]:
    """The raw fingerprint and view checksums of the last reload whose dbt step completed (or had nothing
    to do)."""
    row = conn.execute("""
        select built_fingerprint, view_checksums from raw.reload_run
        where built_fingerprint is not null order by run_id desc limit 1
    """).fetchone()
    return (json.loads(row[0]), row[1] or {}) if row else (None, {})


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


def dbt_selection(sources: Iterable[str]) -> str:
    """Every model downstream of the given raw tables."""
    return " ".join(f"source:raw.{table}+" for table in sources)


def list_models(settings: Settings, url: str, selection: str | None = None) -> list[DbtNode]:
    """The project's models (those `selection` picks, or all), from `dbt ls`."""
    from sinkload.dbt import run_dbt

    select = ["--select", selection] if selection else []
    result = run_dbt(settings, url, ["ls", *select, "--resource-type", "model", "--output", "json",
                                     "--output-keys", "unique_id", "name", "config", "checksum", "depends_on"],
                     quiet=True)
    nodes = []
    for line in result.stdout.splitlines():
        line = strip_ansi(line).strip()
        if not line.startswith("{"):
            continue
        item = json.loads(line)
        config = item["config"]
        nodes.append(DbtNode(item["unique_id"], config["materialized"], item["checksum"]["checksum"],
                             config.get("schema") or "", config.get("alias") or item["name"],
                             tuple(item["depends_on"]["nodes"])))
    return nodes


def existing_relations(conn: psycopg.Connection, nodes: list[DbtNode]) -> set[tuple[str, str]]:
    # pg_class, not information_schema: the latter hides relations the current role (loader) cannot read.
    rows = conn.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where (n.nspname, c.relname) in (select * from unnest(%s::text[], %s::text[]))",
        [[n.schema for n in nodes], [n.name for n in nodes]],
    )
    return {(schema, name) for schema, name in rows}


def views_to_keep(nodes: list[DbtNode], existing: set[tuple[str, str]], built: dict) -> list[DbtNode]:
    """Views that need not be replaced: they exist, their SQL is what was last built, and no table they
    read, directly or through other views, is rebuilt (dbt's `drop … cascade` of a replaced table would
    take the view, and the views on it, with it)."""
    dropped = {n.unique_id for n in nodes if n.materialized not in ("view", "incremental", "ephemeral")}
    views = [n for n in nodes if n.materialized == "view"]
    while True:
        more = {n.unique_id for n in views if n.unique_id not in dropped and dropped.intersection(n.parents)}
        if not more:
            break
        dropped |= more
    return [n for n in views
            if (n.schema, n.name) in existing and built.get(n.unique_id) == n.checksum and n.unique_id not in dropped]


def plan_selection(nodes: list[DbtNode], existing: set[tuple[str, str]], groups: list[str]) -> str | None:
    """The dbt selection for the changed source groups; None (everything) when a model that is not
    ephemeral is missing from the database (first run, or a model added to the project)."""
    if any(n.materialized != "ephemeral" and (n.schema, n.name) not in existing for n in nodes):
        return None
    return dbt_selection(table for group in groups for table in SOURCE_GROUPS[group][0])


def rebuild(settings: Settings, url: str, conn: psycopg.Connection, groups: list[str],
            built_views: dict) -> tuple[str, str, dict]:
    """dbt build of the models downstream of the changed raw tables, minus unchanged views; returns (what
    was selected, dbt's result line, checksums of the views now in the database)."""
    from sinkload.dbt import run_dbt

    every = list_models(settings, url)
    existing = existing_relations(conn, every)
    selection = plan_selection(every, existing, groups)
    nodes = list_models(settings, url, selection) if selection else every
    keep = views_to_keep(nodes, existing, built_views)
    args = ["build", *(["--select", selection] if selection else [])]
    if keep:
        args += ["--exclude", *(n.unique_id.split(".")[-1] for n in keep)]
    result = run_dbt(settings, url, args, quiet=True)
    done = [line for line in result.stdout.splitlines() if "PASS=" in line]
    view_checksums = {**built_views, **{n.unique_id: n.checksum for n in every if n.materialized == "view"}}
    shown = (selection or "all models (some were missing)") + (f", kept {len(keep)} unchanged views" if keep else "")
    return shown, strip_ansi(done[-1]).split("Done.")[-1].strip() if done else "", view_checksums


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


# -- the job ----------------------------------------------------------------------------------------------

def is_loaded(item: InboxFile, current: set[tuple[str, str]], from_path: dict[tuple[str, str], str]) -> bool:
    """Already in raw: a current batch has the file's content, or the newest batch loaded from this very path has
    (its months were replaced since by a hand `ingest flux`, which stands until the inbox file changes)."""
    return ((item.product, item.sha256) in current
            or from_path.get((item.product, str(item.path.resolve()))) == item.sha256)


def screen_inbox(files: list[InboxFile], catalog: Catalog,
                 loaded: frozenset[Path] = frozenset()) -> tuple[list[FileOutcome], list[InboxFile]]:
    """Decide what can be decided before loading: files the catalog skips, files of no known product or member
    (unless `loaded` already, e.g. by hand with an explicit --member), and members for which two files hold a
    same month (all their files refused). Returns (those outcomes, the files left to load)."""
    decided: dict[Path, FileOutcome] = {}
    members: dict[tuple[str, str], list[InboxFile]] = {}
    for item in files:
        try:
            entry = catalog.product(item.product)
            if entry.skips(item.path.name):
                decided[item.path] = FileOutcome(item, "skipped")
                continue
            members.setdefault((item.product, entry.member_for(item.path)), []).append(item)
        except SinkloadError as exc:
            if item.path not in loaded:
                message = str(exc) if shown(item.path) in str(exc) else str(file_error(item.path, str(exc)))
                decided[item.path] = FileOutcome(item, "failed", message=message)
    claims = []
    for group in (g for g in members.values() if len(g) > 1):  # a member's only file cannot conflict
        for item in group:
            try:
                claims.append(check_metadata(item.path, catalog.product(item.product)))
            except SinkloadError as exc:
                decided[item.path] = FileOutcome(item, "failed", message=str(exc))
    for key, error in conflicts(claims).items():
        for item in members[key]:
            decided[item.path] = FileOutcome(item, "failed", message=str(error))
    return list(decided.values()), [item for item in files if item.path not in decided]


def ingest_new(settings: Settings, url: str, files: list[InboxFile], current: set[tuple[str, str]],
               from_path: dict[tuple[str, str], str], catalog_path: Path | None) -> list[FileOutcome]:
    """Ingest each new or changed file through the `ingest flux` code path, one batch (transaction) each;
    a bad file is reported and the others still load."""
    from sinkload.ingest.flux import ingest_paths

    loaded = frozenset(item.path for item in files if is_loaded(item, current, from_path))
    outcomes, candidates = screen_inbox(files, load_catalog(catalog_path or settings.catalog), loaded)
    for item in candidates:
        if is_loaded(item, current, from_path):
            outcomes.append(FileOutcome(item, "loaded"))
            continue
        started = time.perf_counter()
        try:
            ingest_paths(settings, url, [item.path], item.product, catalog_path=catalog_path)
            outcomes.append(FileOutcome(item, "new", time.perf_counter() - started))
            current.add((item.product, item.sha256))
        except SinkloadError as exc:
            outcomes.append(FileOutcome(item, "failed", time.perf_counter() - started, str(exc)))
    order = {item.path: k for k, item in enumerate(files)}
    return sorted(outcomes, key=lambda outcome: order[outcome.file.path])


def _reload_locked(settings: Settings, url: str, inbox: Path, catalog_path: Path | None) -> ReloadSummary:
    # The run log is written as the reloader (migration 0005): the loader may not rewrite what this trusts.
    with connect(url, role=Roles(settings.role_prefix).reloader, autocommit=True) as conn:
        run_id = start_run(conn, inbox)
        summary = ReloadSummary(run_id)
        try:
            files = scan_inbox(inbox)
            summary.files = ingest_new(settings, url, files, loaded_hashes(conn), last_loaded_from(conn),
                                       catalog_path)
            update_run(conn, run_id, files_seen=len(files), files_loaded=len(summary.loaded),
                       files_failed=len(summary.failed),
                       products=sorted({f.file.product for f in summary.loaded}))
            fingerprint = raw_fingerprint(conn)
            built_fingerprint, built_views = last_done_run(conn)
            groups = changed_groups(fingerprint, built_fingerprint)
            if groups:
                started = time.perf_counter()
                summary.dbt_selection, summary.dbt_result, views = rebuild(settings, url, conn, groups,
                                                                           built_views)
                summary.dbt_seconds = time.perf_counter() - started
                update_run(conn, run_id, dbt_selection=summary.dbt_selection, view_checksums=views)
            else:
                views = built_views
            failed = "; ".join(f.message for f in summary.failed) or None
            update_run(conn, run_id, status="failed" if failed else "done", message=failed,
                       built_fingerprint=json.dumps(fingerprint), view_checksums=views, finished_at=_now(conn))
        except BaseException as exc:
            with contextlib.suppress(psycopg.Error):  # the database may be what failed: the next run marks ours
                update_run(conn, run_id, status="failed", message=str(exc).splitlines()[0] if str(exc) else
                           type(exc).__name__, finished_at=_now(conn))
            raise
    return summary


def _now(conn: psycopg.Connection):
    return conn.execute("select clock_timestamp()").fetchone()[0]


def print_summary(summary: ReloadSummary, out=console) -> None:
    skipped = f", {len(summary.skipped)} skipped (catalog skip_pattern)" if summary.skipped else ""
    already = len(summary.files) - len(summary.loaded) - len(summary.failed) - len(summary.skipped)
    if summary.did_nothing:
        out.print(f"reload {summary.run_id}: nothing to do — {already} files already loaded{skipped}, "
                  "marts up to date")
        return
    table = Table(title=f"reload {summary.run_id}")
    for column in ("product", "file", "status", "seconds", "note"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for item in summary.files:
        if item.status in ("new", "failed"):
            table.add_row(Text(shown(item.file.product)), Text(shown(item.file.path.name)), item.status,
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
        names = ", ".join(shown(f.file.path) for f in summary.failed)
        raise SinkloadError(f"{names}: {len(summary.failed)} file(s) failed to load: {summary.failed[0].message}")
    return summary
