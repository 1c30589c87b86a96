"""The reload's run log `raw.reload_run` (written as the reloader role, migration 0005)."""

from __future__ import annotations

import datetime
import json
import os
import socket
from pathlib import Path

import psycopg
from psycopg import sql


def start_run(conn: psycopg.Connection, inbox: Path) -> int:
    """Close the rows of runs that died (the caller holds the reload lock, so none is running) and open ours."""
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
    """Set columns of a run's row (dicts are stored as JSON)."""
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in values
    )
    conn.execute(sql.SQL("update raw.reload_run set {} where run_id = {}").format(assignments, sql.Literal(run_id)),
                 {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()})


def last_done_run(conn: psycopg.Connection) -> tuple[dict | None, dict]:
    """The raw fingerprint and view checksums of the last reload whose dbt step completed (or had nothing
    to do)."""
    row = conn.execute("""
        select built_fingerprint, view_checksums from raw.reload_run
        where built_fingerprint is not null order by run_id desc limit 1
    """).fetchone()
    return (json.loads(row[0]), row[1] or {}) if row else (None, {})


def now(conn: psycopg.Connection) -> datetime.datetime:
    """The database's clock (for finished_at)."""
    return conn.execute("select clock_timestamp()").fetchone()[0]
