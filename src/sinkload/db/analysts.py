"""Analyst logins: LOGIN roles in the analyst group (read-only, time-limited), for people and BI tools.

An analyst login is recognised by what it is, not by its name: a LOGIN role that is a member of the analyst
group and of nothing else, with no attribute beyond LOGIN. `create` refuses to touch any other role (the
superuser, the group roles, a person's own login), so it cannot be used to change their passwords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

import psycopg
from psycopg import sql

from sinkload.db.cluster import set_password
from sinkload.db.warehouse import Warehouse
from sinkload.errors import SinkloadError
from sinkload.passwords import check_password
from sinkload.roles import Roles

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TIMEOUT = re.compile(r"^[1-9][0-9]{0,6}(ms|s|min|h)$")
MAX_CONNECTIONS = 1000
DEFAULT_TIMEOUT = "60s"
DEFAULT_CONNECTIONS = 10
SEARCH_PATH = "marts, public"  # the views, then PostGIS's functions


@dataclass(frozen=True)
class AnalystLogin:
    """One analyst login as the database has it."""

    name: str
    connection_limit: int
    settings: dict[str, str]

    @property
    def statement_timeout(self) -> str:
        return self.settings.get("statement_timeout", "")

    @property
    def read_only(self) -> bool:
        return self.settings.get("default_transaction_read_only", "") == "on"


def check_name(name: str) -> str:
    """A login name: lowercase letters, digits and _ (max 63), starting with a letter."""
    if not NAME.match(name) or name.startswith("pg_"):
        shown = name.encode("unicode_escape").decode("ascii")
        raise SinkloadError(f"analyst name {shown!r}: use lowercase letters, digits and _ (a letter first, "
                            "at most 63, not pg_…)")
    return name


def check_timeout(value: str) -> str:
    if not TIMEOUT.match(value):
        raise SinkloadError(f"statement timeout {value!r}: use a number and ms, s, min or h (e.g. 60s)")
    return value


def check_connection_limit(value: int) -> int:
    if not 1 <= value <= MAX_CONNECTIONS:
        raise SinkloadError(f"connection limit {value}: use 1 to {MAX_CONNECTIONS}")
    return value


# -- reading ----------------------------------------------------------------------------------------------

_LOGINS = """
    select r.rolname, r.rolconnlimit, coalesce(r.rolconfig, '{}')
    from pg_roles r
    where r.rolcanlogin and not (r.rolsuper or r.rolcreaterole or r.rolcreatedb or r.rolreplication
                                 or r.rolbypassrls)
      and (select array_agg(g.rolname) from pg_auth_members m join pg_roles g on g.oid = m.roleid
           where m.member = r.oid) = array[%(group)s]::name[]
    order by r.rolname
"""


def list_analysts(warehouse: Warehouse) -> list[AnalystLogin]:
    """The analyst logins (members of the analyst group and of nothing else)."""
    with warehouse.connect() as conn:
        rows = conn.execute(_LOGINS, {"group": warehouse.roles.analyst}).fetchall()
    return [AnalystLogin(name, limit, dict(item.split("=", 1) for item in config)) for name, limit, config in rows]


def _role_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select 1 from pg_roles where rolname = %s", [name]).fetchone() is not None


def _is_analyst(conn: psycopg.Connection, roles: Roles, name: str) -> bool:
    return any(row[0] == name for row in conn.execute(_LOGINS, {"group": roles.analyst}))


# -- writing ----------------------------------------------------------------------------------------------

def create_analyst(warehouse: Warehouse, name: str, password: str, statement_timeout: str = DEFAULT_TIMEOUT,
                   connection_limit: int = DEFAULT_CONNECTIONS) -> bool:
    """Create the login `name` in the analyst group (or set a new password and limits on an existing analyst
    login), read-only by default, in one transaction. True when it was created."""
    check_name(name)
    check_password(password, f"analyst {name}")
    check_timeout(statement_timeout)
    check_connection_limit(connection_limit)
    roles = warehouse.roles
    if name in roles.all():
        raise SinkloadError(f"analyst name {name!r}: that is one of the warehouse's own roles")
    with warehouse.connect() as conn:
        if not _role_exists(conn, roles.analyst):
            raise SinkloadError(f"{roles.analyst}: role not found; run `sinkload migrate` first")
        created = not _role_exists(conn, name)
        if not created and not _is_analyst(conn, roles, name):
            raise SinkloadError(f"role {name!r} exists and is not an analyst login (a member of {roles.analyst} "
                                "only); nothing changed")
        role = sql.Identifier(name)
        if created:
            conn.execute(sql.SQL("create role {} login in role {}").format(role, sql.Identifier(roles.analyst)))
        set_password(conn, name, password)
        conn.execute(sql.SQL("alter role {} connection limit {}").format(role, sql.Literal(connection_limit)))
        for key, value in (("statement_timeout", statement_timeout), ("default_transaction_read_only", "on"),
                           ("search_path", SEARCH_PATH), ("idle_in_transaction_session_timeout", "10min")):
            conn.execute(sql.SQL("alter role {} set {} = {}").format(role, sql.Identifier(key), sql.Literal(value)))
        conn.commit()
    return created


def drop_analyst(warehouse: Warehouse, name: str) -> None:
    """Drop an analyst login and end its sessions; any other role is refused."""
    check_name(name)
    roles = warehouse.roles
    with warehouse.connect(autocommit=True) as conn:
        if not _role_exists(conn, name):
            raise SinkloadError(f"analyst {name!r}: no such login")
        if not _is_analyst(conn, roles, name):
            raise SinkloadError(f"role {name!r} is not an analyst login (a member of {roles.analyst} only); "
                                "not dropped")
        conn.execute(sql.SQL("alter role {} nologin").format(sql.Identifier(name)))
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where usename = %s", [name])
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


# -- what a BI tool needs ---------------------------------------------------------------------------------

def bi_uri(url: str, name: str, tcp_port: int | None = None) -> str:
    """The SQLAlchemy URI (psycopg2 driver, as Superset uses) of login `name` on the database of `url`,
    password elided as ***: over 127.0.0.1:`tcp_port` when given, else over the URL's socket or host."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    database = quote(unquote(parts.path.lstrip("/")), safe="")
    user = f"{quote(name, safe='')}:***"
    if tcp_port:
        return f"postgresql+psycopg2://{user}@127.0.0.1:{tcp_port}/{database}"
    host = query.get("host", [parts.hostname or "localhost"])[0]
    port = query.get("port", [str(parts.port or 5432)])[0]
    if host.startswith("/"):
        return f"postgresql+psycopg2://{user}@/{database}?host={quote(host, safe='/')}&port={port}"
    return f"postgresql+psycopg2://{user}@{host}:{port}/{database}"
