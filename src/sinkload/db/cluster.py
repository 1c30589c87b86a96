"""The embedded PostgreSQL/PostGIS cluster: a private data directory started with the system's binaries.

Root may not run PostgreSQL, so when the caller is root every server command runs as the `postgres` user
(`runuser -u postgres`) and the cluster directory belongs to that user. The server listens on a Unix socket
in the cluster directory (folder and socket mode 0700) and, only when asked (`sinkload db up --port N`), on
127.0.0.1:N; without TCP the port number only names the socket, so two clusters never collide.

Nothing is trusted: every role authenticates with a SCRAM password, the superuser with a generated one kept
in `superuser.password` (mode 0600) in the cluster folder. The folder is created by sinkload alone: an
existing one owned by another user, a symlink, or a foreign non-empty folder is refused, never followed or
chowned (see private_dir.py).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from sinkload.db import cluster_config as config
from sinkload.db.private_dir import (
    Owner,
    check_parent,
    exists,
    open_private_dir,
    private_dir,
    read_file,
    read_secret,
    rewrite_file,
    write_secret,
)
from sinkload.errors import SinkloadError

SUPERUSER = "sinkload"
DATABASE = "sinkload"
SERVICE_USER = "postgres"
PASSWORD_FILE = "superuser.password"
MARKER = ".sinkload-cluster"  # written into every cluster folder sinkload creates or adopts


def find_bindir(preferred: Path | None = None) -> Path:
    """The newest PostgreSQL bin directory whose installation also has PostGIS."""
    if preferred:
        if not (preferred / "pg_ctl").exists():
            raise SinkloadError(f"{preferred}: no pg_ctl in SINKLOAD_PG_BINDIR")
        return preferred
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    for pg_ctl in reversed(candidates):
        version = pg_ctl.parts[-3]
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            return pg_ctl.parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise SinkloadError(
        "PostgreSQL with PostGIS not found: install it (Debian/Ubuntu: apt-get install postgresql "
        "postgresql-15-postgis-3), set SINKLOAD_DATABASE_URL to a PostGIS server, or run `docker compose up`"
    )


def socket_port(cluster_dir: Path) -> int:
    """A stable port number per cluster directory (it only names the socket file)."""
    return 20000 + int(hashlib.sha1(str(cluster_dir.resolve()).encode()).hexdigest(), 16) % 20000


@dataclass(frozen=True)
class Cluster:
    directory: Path
    bindir: Path

    @classmethod
    def at(cls, directory: Path, bindir: Path | None = None) -> Cluster:
        return cls(directory=directory, bindir=find_bindir(bindir))

    @property
    def data_dir(self) -> Path:
        return self.directory / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.directory / "run"

    @property
    def log_file(self) -> Path:
        return self.directory / "postgres.log"

    @property
    def password_file(self) -> Path:
        """The superuser's generated password (mode 0600, owned by the cluster's OS user)."""
        return self.directory / PASSWORD_FILE

    @property
    def owner(self) -> Owner:
        """The OS user the cluster's files belong to: `postgres` when running as root, else the caller."""
        if not self._as_service_user():
            return Owner.current()
        try:
            return Owner.of_user(SERVICE_USER)
        except KeyError as exc:
            raise SinkloadError(
                f"running as root needs a `{SERVICE_USER}` user to own the embedded cluster "
                "(it comes with the postgresql package)"
            ) from exc

    @property
    def port(self) -> int:
        """The configured port: the TCP port when a listener is enabled, else the socket's stable number."""
        managed = self._managed_settings()
        return int(managed["port"]) if managed and managed.get("port", "").isdigit() else socket_port(self.directory)

    @property
    def tcp_port(self) -> int | None:
        """The TCP port on 127.0.0.1 when the listener is enabled, else None."""
        managed = self._managed_settings()
        return self.port if managed and managed.get("listen_addresses") == config.LOOPBACK else None

    def password(self) -> str | None:
        """The superuser's password (None before the first `db up`)."""
        with self._folder(create=False) as fd:
            if fd is None:
                return None
            text = read_secret(PASSWORD_FILE, fd, self.owner, self.password_file)
        return text.strip() if text else None

    def url(self, database: str = DATABASE) -> str:
        """The superuser's libpq URL over the socket, password included (show it only through redact())."""
        secret = self.password()
        user = f"{SUPERUSER}:{quote(secret, safe='')}" if secret else SUPERUSER
        return f"postgresql://{user}@/{quote(database)}?host={quote(str(self.socket_dir))}&port={self.port}"

    # -- state -------------------------------------------------------------------------------------------
    def initialised(self) -> bool:
        with self._folder(create=False) as fd:
            return fd is not None and self._initialised(fd)

    def running(self) -> bool:
        if not self.initialised():
            return False
        result = self._run([self.bindir / "pg_ctl", "status", "-D", self.data_dir], check=False)
        return result.returncode == 0

    # -- actions -----------------------------------------------------------------------------------------
    def up(self, tcp_port: int | None = None) -> bool:
        """Initialise (once), upgrade a cluster from before password authentication, start (if stopped) and
        create the database. `tcp_port`: None keeps the configured listener, 0 closes TCP, N listens on
        127.0.0.1:N (a running server is restarted when this changes). True when it had to start."""
        if tcp_port is not None:
            config.check_tcp_port(tcp_port, "TCP port")
        with self._folder(create=True) as fd:
            with private_dir(self.socket_dir, self.owner, dir_fd=fd):
                pass
            if not self._initialised(fd):
                self._initdb(fd)
            elif self._needs_password_upgrade(fd):
                self._upgrade_to_passwords(fd)
            current = self.tcp_port
            wanted = current if tcp_port is None else (tcp_port or None)
            changed = self._write_config(fd, wanted)
        started = False
        if self.running() and changed:
            self.down()
        if not self.running():
            self._start()
            started = True
        self._ensure_database()
        return started

    def down(self) -> bool:
        """Stop the server. True when it was running."""
        if not self.running():
            return False
        self._run([self.bindir / "pg_ctl", "stop", "-D", self.data_dir, "-m", "fast", "-w"])
        return True

    # -- the folder ----------------------------------------------------------------------------------------
    @contextmanager
    def _folder(self, create: bool) -> Iterator[int | None]:
        """The verified cluster folder's descriptor (None when it does not exist and `create` is False)."""
        owner = self.owner
        if create:
            check_parent(self.directory, owner)
        try:
            fd, created = open_private_dir(self.directory, owner, create=create)
        except FileNotFoundError:
            yield None
            return
        try:
            self._claim(fd, created)
            yield fd
        finally:
            os.close(fd)

    def _claim(self, fd: int, created: bool) -> None:
        """Write the marker into a folder sinkload created, or adopt one from before the marker (it holds a
        cluster) or an empty one; refuse any other folder."""
        if exists(MARKER, fd):
            return
        if not (created or exists("pgdata", fd) or not os.listdir(fd)):
            raise SinkloadError(f"{self.directory}: not a sinkload cluster folder (not empty, no pgdata): choose "
                                "another SINKLOAD_CLUSTER_DIR")
        write_secret(MARKER, "created by sinkload db up\n", fd, self.owner, self.directory / MARKER, exist_ok=True)

    def _initialised(self, fd: int) -> bool:
        return exists("pgdata", fd) and (self.data_dir / "PG_VERSION").exists()

    @contextmanager
    def _pgdata(self, fd: int) -> Iterator[int]:
        with private_dir(self.data_dir, self.owner, dir_fd=fd, create=False) as data_fd:
            yield data_fd

    def _managed_settings(self) -> dict[str, str] | None:
        with self._folder(create=False) as fd:
            if fd is None or not self._initialised(fd):
                return None
            with self._pgdata(fd) as data_fd:
                return config.managed_settings(read_file("postgresql.conf", data_fd, self.data_dir / "postgresql.conf"))

    def _ensure_password(self, fd: int) -> str:
        existing = read_secret(PASSWORD_FILE, fd, self.owner, self.password_file)
        if existing and existing.strip():
            return existing.strip()
        password = secrets.token_urlsafe(32)
        write_secret(PASSWORD_FILE, password + "\n", fd, self.owner, self.password_file)
        return password

    # -- configuration -------------------------------------------------------------------------------------
    def _initdb(self, fd: int) -> None:
        self._ensure_password(fd)
        self._run([self.bindir / "initdb", "-D", self.data_dir, "-U", SUPERUSER, "--auth=scram-sha-256",
                   f"--pwfile={self.password_file}", "-E", "UTF8", "--no-locale", "--no-sync"])

    def _needs_password_upgrade(self, fd: int) -> bool:
        """A cluster from before password authentication: `trust` in pg_hba.conf or no password file."""
        with self._pgdata(fd) as data_fd:
            rules = read_file("pg_hba.conf", data_fd, self.data_dir / "pg_hba.conf")
        trusting = any(line.split()[-1:] == ["trust"] for line in rules.splitlines() if not line.lstrip().startswith("#"))
        return trusting or read_secret(PASSWORD_FILE, fd, self.owner, self.password_file) is None

    def _upgrade_to_passwords(self, fd: int) -> None:
        """Give the superuser a generated password while the old `trust` rules still let us in (over the
        socket, whose folder is already 0700); the caller then rewrites the configuration and restarts."""
        password = self._ensure_password(fd)
        if not self.running():
            self._start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            set_password(conn, SUPERUSER, password)
        self.down()

    def _write_config(self, fd: int, tcp_port: int | None) -> bool:
        """Rewrite the managed block of postgresql.conf, pg_hba.conf, and take the guarded keys out of
        postgresql.auto.conf. True when a file changed (the server must restart to apply it)."""
        port = tcp_port or socket_port(self.directory)
        wanted = {
            "postgresql.conf": lambda text: config.with_managed_block(
                text, config.managed_block(self.socket_dir, port, tcp_port is not None)),
            "pg_hba.conf": lambda _text: config.hba(tcp_port is not None),
            "postgresql.auto.conf": lambda text: config.without_keys(
                text, [*config.GUARDED_KEYS, *config.TUNING]),
        }
        changed = False
        with self._pgdata(fd) as data_fd:
            for name, rewrite in wanted.items():
                shown = self.data_dir / name
                text = read_file(name, data_fd, shown)
                new = rewrite(text)
                if new != text:
                    rewrite_file(name, new, data_fd, shown)
                    changed = True
        return changed

    # -- internals ---------------------------------------------------------------------------------------
    def _as_service_user(self) -> bool:
        return os.geteuid() == 0

    def _start(self) -> None:
        result = self._run(
            [self.bindir / "pg_ctl", "start", "-D", self.data_dir, "-l", self.log_file, "-w", "-t", "60"],
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace").splitlines()[-3:] if self.log_file.exists() else []
            raise SinkloadError(f"{self.data_dir}: PostgreSQL did not start: {' | '.join(tail) or result.stderr}")
        for _ in range(50):
            if (self.socket_dir / f".s.PGSQL.{self.port}").exists():
                return
            time.sleep(0.1)

    def _ensure_database(self) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if not conn.execute("select 1 from pg_database where datname = %s", [DATABASE]).fetchone():
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
        with psycopg.connect(self.url(DATABASE), autocommit=True) as conn:
            conn.execute("create extension if not exists postgis")
            conn.execute("create extension if not exists postgis_raster")

    def _run(self, argv: list, check: bool = True) -> subprocess.CompletedProcess:
        argv = [str(a) for a in argv]
        if self._as_service_user():
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/")
        if check and result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            detail = lines[-1] if lines else f"exit code {result.returncode}"
            raise SinkloadError(f"{self.data_dir}: {Path(argv[argv.index('--') + 1] if '--' in argv else argv[0]).name} failed: {detail}")
        return result


def set_password(conn: psycopg.Connection, role: str, password: str) -> None:
    """Set a role's password as a SCRAM verifier computed here: the clear text never reaches the server
    (nor its logs)."""
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
    conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(verifier)))
