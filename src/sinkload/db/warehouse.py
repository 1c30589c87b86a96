"""The warehouse handle: which database (settings, URL) and its roles, built once, with the connections the
code opens as those roles. Loaders, the reload, dbt and the report take one `Warehouse` instead of a
`(settings, url)` pair."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import psycopg

from sinkload.db.connection import connect, database_url
from sinkload.roles import Roles
from sinkload.settings import Settings


@dataclass(frozen=True)
class Warehouse:
    settings: Settings
    url: str
    roles: Roles

    @classmethod
    def of(cls, settings: Settings, url: str | None = None) -> Warehouse:
        """The handle of the settings' database (`url`, else `database_url(settings)`, which starts the
        embedded cluster when no database is configured)."""
        return cls(settings, url or database_url(settings), Roles(settings.role_prefix))

    def connect(self, role: str | None = None, autocommit: bool = False) -> AbstractContextManager[psycopg.Connection]:
        """A connection (context manager) acting as `role` (one of `self.roles`), or as the login user."""
        return connect(self.url, role=role, autocommit=autocommit)

    @contextmanager
    def loading(self) -> Iterator[psycopg.Connection]:
        """Connected as the loader, inside one transaction: committed when the block ends, rolled back
        (the database as before) when it raises."""
        with connect(self.url, role=self.roles.loader, autocommit=True) as conn, conn.transaction():
            yield conn

    def as_analyst(self) -> AbstractContextManager[psycopg.Connection]:
        """Read-only on `marts` (a context manager)."""
        return connect(self.url, role=self.roles.analyst)

    def as_transformer(self) -> AbstractContextManager[psycopg.Connection]:
        """Reads `raw` (a context manager)."""
        return connect(self.url, role=self.roles.transformer)

    def as_reloader(self) -> AbstractContextManager[psycopg.Connection]:
        """The reload's bookkeeping connection, autocommit (a context manager)."""
        return connect(self.url, role=self.roles.reloader, autocommit=True)
