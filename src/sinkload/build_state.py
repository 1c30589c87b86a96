"""Whether `sinkload build` has anything to do: what a complete build was built from, and what it would be
built from now.

A build's inputs, each a small JSON-able value (a "part"):
- `raw`: the change counter of each raw table (migration 0009: one row of raw.raw_change per transaction
  and table written, whoever wrote it; DDL in raw counts as well) and the raw tables that lack the tracking
  trigger (while any does, the build never counts as unchanged);
- `project`: a digest of the dbt project's source files (models, macros, tests, seeds, dbt_project.yml,
  packages, profiles), not of what dbt writes (target/, logs/);
- `dbt_vars` and `selection`: the variables and the selection dbt gets (the git commit is left out: the
  files it would change are in `project`);
- `versions`: sinkload's, dbt's and the schema revision (Alembic's);
- `dbt_state`: the newest dbt invocation (intermediate.build_run) and the identity of every relation in
  dbt's schemas, read after the build: a dbt run by anyone else (a reload, a hand `dbt run`) or a dropped
  view makes the next build run.
After a complete build (no `--select`) the parts are stored in raw.build_state by the transformer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from sinkload.db.warehouse import Warehouse
from sinkload.roles import Roles

TRIGGER = "raw_change"
# Tables of raw without the trigger (migration 0009): writing them is bookkeeping, not a change of dbt's input.
BOOKKEEPING = ("raw_change", "build_state", "reload_run")
DBT_SCHEMAS = ("staging", "intermediate", "marts")
# What dbt writes into the project folder (dbt_project.yml's clean-targets) or keeps as its own cache.
PROJECT_OUTPUTS = ("target", "logs")
PART_NAMES = {"raw": "raw data", "project": "dbt project files", "dbt_vars": "dbt vars", "selection": "selection",
              "versions": "versions", "dbt_state": "dbt's relations"}

Parts = dict[str, object]


# -- pure ---------------------------------------------------------------------------------------------------

def fingerprint(parts: Mapping[str, object]) -> str:
    """sha256 (hex) of the parts, independent of key order."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def files_digest(files: Mapping[str, bytes]) -> str:
    """sha256 (hex) over relative path -> content: a rename, an edit, an added or removed file all change it."""
    outer = hashlib.sha256()
    for name in sorted(files):
        outer.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return outer.hexdigest()


def build_vars(roles: Roles, identity: Mapping[str, str], extra: Mapping[str, object] | None = None) -> dict:
    """The dbt variables a build passes that can change its result (run_dbt's, without the git commit)."""
    variables = {"analyst_role": roles.analyst, **identity, **(extra or {})}
    variables.pop("git_commit", None)
    return variables


def changed_tables(now: Mapping[str, object], built: Mapping[str, object]) -> list[str]:
    """The raw tables (and "(ddl)") written since the state `built` (both `raw` parts): what a reload would
    rebuild downstream of."""
    before, after = built.get("changes") or {}, now.get("changes") or {}
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


@dataclass(frozen=True)
class StoredState:
    """The last complete build's parts, from raw.build_state."""

    build_id: int | None
    built_at: str
    parts: Parts


def covers(now: Parts | None, stored: StoredState | None, rebuilt_tables: Collection[str]) -> bool:
    """A build downstream of `rebuilt_tables` equals a complete one when the last complete build differs from
    `now` only in raw tables among them (same project, vars, versions; every raw table tracked)."""
    if now is None or stored is None or now["raw"]["untracked"]:
        return False
    same_otherwise = all(now.get(name) == stored.parts.get(name)
                         for name in set(now) | set(stored.parts) if name not in ("raw", "dbt_state"))
    return same_otherwise and set(changed_tables(now["raw"], stored.parts["raw"])) <= set(rebuilt_tables)


@dataclass(frozen=True)
class Decision:
    skip: bool
    message: str


def decide(now: Parts, stored: StoredState | None, *, forced: bool = False) -> Decision:
    """Skip the build when every part equals the last complete build's and no raw table is untracked.
    `forced`: --force, --select or --full-refresh (always build)."""
    if forced:
        return Decision(False, "")
    if stored is None:
        return Decision(False, "no complete build recorded yet")
    untracked = now["raw"]["untracked"]
    if untracked:
        return Decision(False, f"raw tables without change tracking ({', '.join(untracked)}): building")
    label = f"build {stored.build_id}" if stored.build_id is not None else "the last build"
    changed = [PART_NAMES.get(name, name) for name in sorted(set(now) | set(stored.parts))
               if now.get(name) != stored.parts.get(name)]
    if changed:
        return Decision(False, f"changed since {label}: {', '.join(changed)}")
    return Decision(True, f"nothing changed since {label} ({stored.built_at}: raw data, dbt project, vars and "
                          "versions as then); use --force to rebuild")


# -- files --------------------------------------------------------------------------------------------------

def project_digest(project_dir: Path) -> str:
    """files_digest of the dbt project's source files (every file except dbt's outputs and hidden ones)."""
    files = {}
    for path in project_dir.rglob("*"):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in PROJECT_OUTPUTS or any(p.startswith(".") for p in relative.parts):
            continue
        if path.is_file():
            files[relative.as_posix()] = path.read_bytes()
    return files_digest(files)


# -- the database -------------------------------------------------------------------------------------------

def is_tracked(conn: psycopg.Connection) -> bool:
    """Migration 0009 is applied (raw.raw_change and raw.build_state exist)."""
    return conn.execute("select to_regclass('raw.raw_change') is not null "
                        "and to_regclass('raw.build_state') is not null").fetchone()[0]


def raw_state(conn: psycopg.Connection) -> dict:
    """The change counter of each raw table written since migration 0009 ("<transactions>:<newest id>") and
    the raw tables without the trigger."""
    changes = dict(conn.execute("select table_name, count(*) || ':' || max(xact_id) from raw.raw_change "
                                "group by table_name order by table_name").fetchall())
    untracked = [name for (name,) in conn.execute("""
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'raw' and c.relkind in ('r', 'p') and c.relname <> all(%s)
          and not exists (select from pg_trigger t
                          where t.tgrelid = c.oid and t.tgname = %s and t.tgenabled <> 'D')
        order by 1
    """, [list(BOOKKEEPING), TRIGGER])]
    return {"changes": changes, "untracked": untracked}


def dbt_state(conn: psycopg.Connection) -> dict:
    """The newest dbt invocation's build id and a digest of the relations (name, kind, oid) in dbt's schemas."""
    last = None
    if conn.execute("select to_regclass('intermediate.build_run') is not null").fetchone()[0]:
        last = conn.execute("select max(build_id) from intermediate.build_run").fetchone()[0]
    relations = conn.execute("""
        select md5(coalesce(string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text || ':' || c.oid::text, ','
                                       order by n.nspname, c.relname), ''))
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')
    """, [list(DBT_SCHEMAS)]).fetchone()[0]
    return {"last_build": last, "relations": relations}


def schema_revision(conn: psycopg.Connection) -> str | None:
    if not conn.execute("select to_regclass('public.alembic_version') is not null").fetchone()[0]:
        return None
    row = conn.execute("select version_num from public.alembic_version").fetchone()
    return row[0] if row else None


def current_parts(conn: psycopg.Connection, project_dir: Path, variables: Mapping[str, object],
                  selection: str | None) -> Parts:
    """Every part, as of now (the connection's role must read raw and dbt's schemas: the transformer)."""
    from importlib.metadata import version

    return {
        "raw": raw_state(conn),
        "project": project_digest(project_dir),
        "dbt_vars": dict(variables),
        "selection": selection,
        "versions": {"dbt": version("dbt-core"), "dbt_postgres": version("dbt-postgres"),
                     "schema_revision": schema_revision(conn)},
        "dbt_state": dbt_state(conn),
    }


def last_state(conn: psycopg.Connection) -> StoredState | None:
    row = conn.execute("select build_id, to_char(built_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), "
                       "parts from raw.build_state order by state_id desc limit 1").fetchone()
    return StoredState(row[0], row[1], row[2]) if row else None


def record(conn: psycopg.Connection, before: Parts) -> int | None:
    """Store a complete build: the parts read before it ran, with dbt's state as it left it. Returns its
    build id (the newest dbt invocation)."""
    parts = {**before, "dbt_state": dbt_state(conn)}
    build_id = parts["dbt_state"]["last_build"]
    conn.execute("insert into raw.build_state (build_id, fingerprint, parts) values (%s, %s, %s)",
                 [build_id, fingerprint(parts), json.dumps(parts)])
    return build_id


# -- what `sinkload build` calls ------------------------------------------------------------------------------

@dataclass
class BuildCheck:
    """The inputs of the build about to run, read before it, and the decision whether it is needed."""

    parts: Parts | None
    decision: Decision

    @classmethod
    def read(cls, warehouse: Warehouse, selection: str | None, forced: bool,
             extra_vars: Mapping[str, object] | None = None) -> BuildCheck:
        from sinkload.dbt.runner import build_identity

        with warehouse.connect(warehouse.roles.transformer, autocommit=True) as conn:
            if not is_tracked(conn):
                return cls(None, Decision(False, ""))
            variables = build_vars(warehouse.roles, build_identity(warehouse.settings), extra_vars)
            parts = current_parts(conn, warehouse.settings.dbt_project_dir, variables, selection)
            return cls(parts, decide(parts, last_state(conn), forced=forced))

    def record(self, warehouse: Warehouse) -> int | None:
        """After a successful complete build: store what it was built from."""
        if self.parts is None:
            return None
        with warehouse.connect(warehouse.roles.transformer, autocommit=True) as conn:
            return record(conn, self.parts)

    def record_if_covered(self, warehouse: Warehouse, rebuilt_tables: Collection[str] | None) -> int | None:
        """After a successful build of what lies downstream of `rebuilt_tables` (a reload; None: of every
        model): store it as a complete build when that was everything changed since the last complete one
        (`covers`)."""
        if rebuilt_tables is None:
            return self.record(warehouse)
        with warehouse.connect(warehouse.roles.transformer, autocommit=True) as conn:
            stored = last_state(conn)
        return self.record(warehouse) if covers(self.parts, stored, rebuilt_tables) else None
