"""Session-level advisory locks: one holder per database at a time (e.g. one reload).

PostgreSQL scopes advisory locks to the current database and releases them when the holding session ends,
so a killed process never leaves a stale lock behind (unlike a lock file).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from sinkload.db.connection import connect


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lock name."""
    return int.from_bytes(hashlib.sha256(f"sinkload:{name}".encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class LockHolder:
    """Who holds an advisory lock (from pg_locks / pg_stat_activity)."""

    pid: int
    application_name: str
    backend_start: str
    client: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.application_name or 'no name'}, {self.client}, since {self.backend_start})"


class LockBusy(Exception):
    """The lock is held by another session."""

    def __init__(self, name: str, holder: LockHolder | None) -> None:
        self.name = name
        self.holder = holder
        who = holder.describe() if holder else "another session"
        super().__init__(f"{name}: already held by {who}")


def _split(key: int) -> tuple[int, int]:
    """The (classid, objid) pair pg_locks shows for a bigint advisory key."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


def lock_holder(conn: psycopg.Connection, name: str) -> LockHolder | None:
    """The session holding advisory lock `name` in the current database, if any."""
    classid, objid = _split(lock_key(name))
    row = conn.execute(
        """
        select a.pid, coalesce(a.application_name, ''), a.backend_start::text,
               coalesce(a.client_addr::text, 'local socket')
        from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.objsubid = 1
          and l.database = (select oid from pg_database where datname = current_database())
          and l.classid::bigint = %s and l.objid::bigint = %s
        """,
        [classid, objid],
    ).fetchone()
    return LockHolder(*row) if row else None


def try_lock(conn: psycopg.Connection, name: str) -> bool:
    """Take advisory lock `name` for the session of `conn` without waiting; False when held elsewhere."""
    return bool(conn.execute("select pg_try_advisory_lock(%s)", [lock_key(name)]).fetchone()[0])


def wait_lock(conn: psycopg.Connection, name: str) -> None:
    """Take advisory lock `name`, waiting as long as another session holds it."""
    conn.execute("select pg_advisory_lock(%s)", [lock_key(name)])


def unlock(conn: psycopg.Connection, name: str) -> None:
    conn.execute("select pg_advisory_unlock(%s)", [lock_key(name)])


@contextmanager
def advisory_lock(url: str, name: str, wait: bool = False, on_wait=None) -> Iterator[psycopg.Connection]:
    """Hold advisory lock `name` on a dedicated autocommit session for the duration of the block.

    Without `wait`, raise `LockBusy` (naming the holder) when another session has it. With `wait`, call
    `on_wait(holder)` once and block until it is free.
    """
    with connect(url, autocommit=True) as conn:
        conn.execute("select set_config('application_name', %s, false)", [f"sinkload {name}"])
        if not try_lock(conn, name):
            holder = lock_holder(conn, name)
            if not wait:
                raise LockBusy(name, holder)
            if on_wait:
                on_wait(holder)
            wait_lock(conn, name)
        try:
            yield conn
        finally:
            if not conn.closed:
                unlock(conn, name)


# The application_name of dbt's sessions (dbt-postgres's default).
DBT_APPLICATION_NAME = "dbt"


def wait_for_dbt_sessions(conn: psycopg.Connection, on_wait: Callable[[], None] | None = None,
                          poll_seconds: float = 2.0) -> None:
    """Wait while a dbt process still works on this database (e.g. orphaned by a killed reload: killing a
    process does not kill its children), so that two builds never overlap; `on_wait` is called once, when
    there is something to wait for."""
    query = ("select count(*) from pg_stat_activity where datname = current_database() "
             "and application_name = %s and pid <> pg_backend_pid()")
    announced = False
    while conn.execute(query, (DBT_APPLICATION_NAME,)).fetchone()[0]:
        if not announced and on_wait is not None:
            on_wait()
        announced = True
        time.sleep(poll_seconds)
