"""The embedded PostgreSQL/PostGIS cluster: a private data directory started with the system's binaries.

Root may not run PostgreSQL, so when the caller is root every server command runs as the `postgres` user
(`runuser -u postgres`) and the cluster directory belongs to that user. The server listens only on a
Unix socket in the cluster directory; the port number only names the socket, so two clusters on one
machine never collide.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sinkload.errors import SinkloadError

SUPERUSER = "sinkload"
DATABASE = "sinkload"  # also spelled literally in _ensure_database
SERVICE_USER = "postgres"


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
    def port(self) -> int:
        return socket_port(self.directory)

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@/{quote(database)}?host={quote(str(self.socket_dir))}&port={self.port}"

    # -- state -------------------------------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        result = self._run([self.bindir / "pg_ctl", "status", "-D", self.data_dir], check=False)
        return result.returncode == 0

    # -- actions -----------------------------------------------------------------------------------------
    def up(self) -> bool:
        """Initialise (once), start (if stopped) and create the database. True when it had to start."""
        if not self.initialised():
            self._initdb()
        started = False
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

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._run(
            [self._psql_binary(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir, "-p", str(self.port),
             "-U", SUPERUSER, "-d", database, "-c", sql]
        )
        return result.stdout.strip()

    # -- internals ---------------------------------------------------------------------------------------
    def _psql_binary(self) -> str:
        bundled = self.bindir / "psql"
        return str(bundled) if bundled.exists() else "psql"

    def _as_service_user(self) -> bool:
        return os.geteuid() == 0

    def _prepare_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self._as_service_user():
            try:
                entry = pwd.getpwnam(SERVICE_USER)
            except KeyError as exc:
                raise SinkloadError(
                    f"running as root needs a `{SERVICE_USER}` user to own the embedded cluster "
                    "(it comes with the postgresql package)"
                ) from exc
            for path in (self.directory, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            os.chmod(self.directory, 0o700)

    def _initdb(self) -> None:
        self._prepare_directory()
        self._run([self.bindir / "initdb", "-D", self.data_dir, "-U", SUPERUSER, "--auth=trust",
                   "-E", "UTF8", "--no-locale", "--no-sync"])
        with open(self.data_dir / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                f"port = {self.port}\n"
                "fsync = on\n"
                "shared_buffers = '512MB'\n"
                "work_mem = '64MB'\n"
                "maintenance_work_mem = '256MB'\n"
                "max_wal_size = '4GB'\n"
                "jit = off\n"
            )

    def _start(self) -> None:
        self._prepare_directory()
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
        exists = self.psql("select 1 from pg_database where datname = 'sinkload'")
        if not exists:
            self.psql("create database sinkload")
        self.psql("create extension if not exists postgis; create extension if not exists postgis_raster",
                  database=DATABASE)

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
