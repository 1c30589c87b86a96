"""Settings: the one place that reads the environment. Everything else takes parameters."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sinkload.errors import SinkloadError

PACKAGE_DIR = Path(__file__).resolve().parent


def _find_project_root() -> Path:
    """The checkout holding migrations/ and dbt_project/ (the package is installed editable from it)."""
    for candidate in (PACKAGE_DIR.parents[1], Path.cwd(), *Path.cwd().parents):
        if (candidate / "migrations").is_dir() and (candidate / "dbt_project").is_dir():
            return candidate
    return PACKAGE_DIR.parents[1]


def default_cluster_dir(project_root: Path, running_as_root: bool) -> Path:
    """Where the embedded cluster lives. Root cannot run PostgreSQL, so as root the cluster belongs to the
    `postgres` user and lives under /tmp (a private clone dir is often not traversable by another user)."""
    if running_as_root:
        digest = hashlib.sha1(str(project_root).encode()).hexdigest()[:10]
        return Path("/tmp") / f"sinkload-{digest}"
    return project_root / ".sinkload"


@dataclass(frozen=True)
class Settings:
    project_root: Path
    database_url: str | None = None
    cluster_dir: Path | None = None
    catalog_path: Path | None = None
    role_prefix: str = "sinkload"
    pg_bindir: Path | None = None
    # The embedded cluster's opt-in TCP listener on 127.0.0.1 (None: keep what `db up` configured).
    db_port: int | None = None
    # Refuse a placeholder or short password in the database URL (compose sets it).
    strict_passwords: bool = False

    @property
    def migrations_dir(self) -> Path:
        return self.project_root / "migrations"

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @property
    def warehouse_dir(self) -> Path:
        return self.project_root / "warehouse"

    @property
    def catalog(self) -> Path:
        return self.catalog_path or self.warehouse_dir / "catalog.yaml"

    @property
    def embedded(self) -> bool:
        """True when no external database was configured and the embedded cluster is used."""
        return not self.database_url

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        root = Path(env["SINKLOAD_HOME"]).resolve() if env.get("SINKLOAD_HOME") else _find_project_root()
        cluster_dir = Path(env["SINKLOAD_CLUSTER_DIR"]) if env.get("SINKLOAD_CLUSTER_DIR") else None
        return cls(
            project_root=root,
            database_url=env.get("SINKLOAD_DATABASE_URL") or None,
            cluster_dir=cluster_dir or default_cluster_dir(root, os.geteuid() == 0),
            catalog_path=Path(env["SINKLOAD_CATALOG"]) if env.get("SINKLOAD_CATALOG") else None,
            role_prefix=env.get("SINKLOAD_ROLE_PREFIX", "sinkload"),
            pg_bindir=Path(env["SINKLOAD_PG_BINDIR"]) if env.get("SINKLOAD_PG_BINDIR") else None,
            db_port=_port(env.get("SINKLOAD_DB_PORT")),
            strict_passwords=env.get("SINKLOAD_STRICT_PASSWORDS", "").lower() in ("1", "true", "yes", "on"),
        )


def _port(value: str | None) -> int | None:
    """SINKLOAD_DB_PORT: the embedded cluster's TCP port on 127.0.0.1 (0 = none, unset = as configured)."""
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit():
        raise SinkloadError(f"SINKLOAD_DB_PORT={value!r}: not a port number")
    return int(value)
