"""Which dbt models a change of raw needs rebuilt (the reload's planning), from the manifest the last dbt
run wrote (or `dbt ls` when the project changed since) and the database; and the build of that selection, leaving unchanged views in place (dbt replaces a view by create/rename/drop,
which takes ACCESS EXCLUSIVE locks)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from sinkload.build_state import project_digest
from sinkload.db.raw_state import group_tables
from sinkload.db.warehouse import Warehouse
from sinkload.dbt.runner import MANIFEST, PROJECT_STAMP, DbtProcess, run_dbt, strip_ansi, target_dir


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


def node_of(item: dict) -> DbtNode:
    """A model as `dbt ls --output json` and manifest.json describe it."""
    config = item["config"]
    return DbtNode(item["unique_id"], config["materialized"], item["checksum"]["checksum"],
                   config.get("schema") or "", config.get("alias") or item["name"], tuple(item["depends_on"]["nodes"]))


def parse_ls(stdout: str) -> list[DbtNode]:
    """The models of `dbt ls --output json` (log lines and colours passed over)."""
    lines = (strip_ansi(line).strip() for line in stdout.splitlines())
    return [node_of(json.loads(line)) for line in lines if line.startswith("{")]


def manifest_models(project_dir: Path) -> list[DbtNode] | None:
    """The project's models from the manifest.json of the last dbt run `run_dbt` completed, when the project's
    files are still those that run parsed (runner.PROJECT_STAMP) and no other dbt run wrote a manifest since;
    else None (ask `dbt ls`). Saves a dbt start-up (about 2 s) per reload."""
    target = target_dir(project_dir)
    try:
        stamp, manifest = target / PROJECT_STAMP, target / MANIFEST
        if stamp.stat().st_mtime < manifest.stat().st_mtime or stamp.read_text() != project_digest(project_dir):
            return None
        nodes = json.loads(manifest.read_text())["nodes"].values()
        return [node_of(item) for item in nodes if item["resource_type"] == "model"]
    except (OSError, ValueError, KeyError, TypeError):  # missing, being rewritten, or another dbt's format
        return None


def reading(nodes: list[DbtNode], seed: set[str]) -> set[str]:
    """`seed` and the ids of the `nodes` that read one of them, directly or through other such nodes."""
    reached = set(seed)
    while more := {n.unique_id for n in nodes if n.unique_id not in reached and reached.intersection(n.parents)}:
        reached |= more
    return reached


def downstream(nodes: list[DbtNode], tables: Iterable[str]) -> list[DbtNode]:
    """The nodes that `dbt_selection(tables)` selects: those reading one of the raw tables, directly or through
    other nodes (from the one `dbt ls` of every model, instead of a second `dbt ls`)."""
    sources = {f"raw.{table}" for table in tables}  # a source's unique_id: source.<project>.raw.<table>
    selected = reading(nodes, {n.unique_id for n in nodes
                               if any(p.startswith("source.") and p.split(".", 2)[2] in sources for p in n.parents)})
    return [n for n in nodes if n.unique_id in selected]


def list_models(warehouse: Warehouse, selection: str | None = None) -> list[DbtNode]:
    """The project's models (those `selection` picks, or all), from `dbt ls`."""
    select = ["--select", selection] if selection else []
    result = run_dbt(warehouse, ["ls", *select, "--resource-type", "model", "--output", "json",
                                 "--output-keys", "unique_id", "name", "config", "checksum", "depends_on"])
    return parse_ls(result.stdout)


def existing_relations(conn: psycopg.Connection, nodes: list[DbtNode]) -> set[tuple[str, str]]:
    """(schema, name) of the nodes' relations that exist in the database."""
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
    views = [n for n in nodes if n.materialized == "view"]
    dropped = reading(views, {n.unique_id for n in nodes if n.materialized not in ("view", "incremental", "ephemeral")})
    return [n for n in views
            if (n.schema, n.name) in existing and built.get(n.unique_id) == n.checksum and n.unique_id not in dropped]


def plan_selection(nodes: list[DbtNode], existing: set[tuple[str, str]], groups: list[str]) -> str | None:
    """The dbt selection for the changed source groups; None (everything) when a model that is not
    ephemeral is missing from the database (first run, or a model added to the project)."""
    if any(n.materialized != "ephemeral" and (n.schema, n.name) not in existing for n in nodes):
        return None
    return dbt_selection(group_tables(groups))


@dataclass(frozen=True)
class Rebuilt:
    """What `rebuild` did: the raw tables whose downstream models it built (None: every model), what it
    selected (as shown to the user), dbt's result line, and the checksums of the views now in the database."""

    tables: frozenset[str] | None
    shown: str
    result: str
    view_checksums: dict


def rebuild(warehouse: Warehouse, conn: psycopg.Connection, groups: list[str], built_views: dict,
            process: DbtProcess | None = None) -> Rebuilt:
    """dbt build of the models downstream of the changed raw tables (of every model when one is missing),
    minus unchanged views; in `process` when one was started ahead."""
    every = manifest_models(warehouse.settings.dbt_project_dir) or list_models(warehouse)
    existing = existing_relations(conn, every)
    selection = plan_selection(every, existing, groups)
    nodes = downstream(every, group_tables(groups)) if selection else every
    keep = views_to_keep(nodes, existing, built_views)
    args = ["build", *(["--select", selection] if selection else [])]
    if keep:
        args += ["--exclude", *(n.unique_id.split(".")[-1] for n in keep)]
    result = run_dbt(warehouse, args, process=process)
    done = [line for line in result.stdout.splitlines() if "PASS=" in line]
    view_checksums = {**built_views, **{n.unique_id: n.checksum for n in every if n.materialized == "view"}}
    shown = (selection or "all models (some were missing)") + (f", kept {len(keep)} unchanged views" if keep else "")
    return Rebuilt(frozenset(group_tables(groups)) if selection else None, shown,
                   strip_ansi(done[-1]).split("Done.")[-1].strip() if done else "", view_checksums)
