"""The embedded cluster's configuration files as text (pure): the block of postgresql.conf that sinkload
manages, pg_hba.conf, and the keys taken out of postgresql.auto.conf.

The listener settings live in postgresql.conf itself, not in postgresql.auto.conf, so that
`ALTER SYSTEM RESET ALL` falls back to them (and not to PostgreSQL's default `listen_addresses = 'localhost'`).
"""

from __future__ import annotations

import re
from pathlib import Path

from sinkload.errors import SinkloadError

LOOPBACK = "127.0.0.1"
BEGIN = "# --- sinkload: managed by `sinkload db up` (rewritten before every start); edit nothing below ---"
END = "# --- end of the block managed by sinkload ---"

# Settings of the block that an ALTER SYSTEM (postgresql.auto.conf, read last) must not override.
GUARDED_KEYS = ("listen_addresses", "port", "unix_socket_directories", "unix_socket_permissions",
                "password_encryption")
TUNING = {"fsync": "on", "shared_buffers": "'512MB'", "work_mem": "'64MB'", "maintenance_work_mem": "'256MB'",
          "max_wal_size": "'4GB'", "jit": "off"}
MIN_TCP_PORT, MAX_TCP_PORT = 1024, 65535


def managed_block(socket_dir: Path, port: int, tcp: bool) -> str:
    """The settings sinkload owns: socket only, or also TCP on 127.0.0.1 (never another address)."""
    lines = [
        BEGIN,
        f"listen_addresses = '{LOOPBACK if tcp else ''}'",
        f"port = {port}",
        f"unix_socket_directories = '{socket_dir}'",
        "unix_socket_permissions = 0700",
        "password_encryption = 'scram-sha-256'",
        *(f"{key} = {value}" for key, value in TUNING.items()),
        END,
    ]
    return "\n".join(lines) + "\n"


def with_managed_block(conf: str, block: str) -> str:
    """postgresql.conf with its managed block replaced by `block` (appended: later lines win)."""
    kept = re.sub(rf"\n?{re.escape(BEGIN)}.*?{re.escape(END)}\n?", "\n", conf, flags=re.S)
    return kept.rstrip("\n") + "\n\n" + block


def managed_settings(conf: str) -> dict[str, str] | None:
    """The key = value pairs of the managed block, or None when the file has none (a cluster from before)."""
    match = re.search(rf"{re.escape(BEGIN)}(.*?){re.escape(END)}", conf, flags=re.S)
    if not match:
        return None
    pairs = (line.split("=", 1) for line in match.group(1).splitlines() if "=" in line)
    return {key.strip(): value.strip().strip("'") for key, value in pairs}


def without_keys(auto_conf: str, keys: tuple[str, ...] | list[str]) -> str:
    """postgresql.auto.conf without the lines setting `keys` (an ALTER SYSTEM cannot reopen what we close)."""
    pattern = re.compile(rf"^\s*({'|'.join(map(re.escape, keys))})\s*=", re.I)
    return "".join(line for line in auto_conf.splitlines(keepends=True) if not pattern.match(line))


def hba(tcp: bool) -> str:
    """pg_hba.conf: a SCRAM password for every role, on the socket and (when enabled) on 127.0.0.1 only."""
    lines = [
        "# Written by `sinkload db up` before every start. No `trust` anywhere: every role, the superuser",
        "# included, authenticates with a SCRAM password (the superuser's is in the cluster folder, mode 0600).",
        "# TYPE  DATABASE  USER  ADDRESS       METHOD",
        "local   all       all                 scram-sha-256",
    ]
    if tcp:
        lines.append(f"host    all       all   {LOOPBACK}/32  scram-sha-256")
    return "\n".join(lines) + "\n"


def hba_is_current(text: str, tcp: bool) -> bool:
    return text == hba(tcp)


def check_tcp_port(port: int, source: str) -> int:
    """A TCP port PostgreSQL may bind as an ordinary user; 0 means no TCP listener."""
    if port != 0 and not MIN_TCP_PORT <= port <= MAX_TCP_PORT:
        raise SinkloadError(f"{source}: {port} is not a usable port ({MIN_TCP_PORT}-{MAX_TCP_PORT}, or 0 for none)")
    return port
