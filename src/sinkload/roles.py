"""The database roles of the warehouse, named from one prefix so that databases can share a cluster."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class Roles:
    prefix: str = "sinkload"

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.prefix):
            raise ValueError(f"role prefix {self.prefix!r}: use lowercase letters, digits and _ (max 41)")

    @property
    def loader(self) -> str:
        """Writes `raw` (the Python loaders)."""
        return f"{self.prefix}_loader"

    @property
    def transformer(self) -> str:
        """Reads `raw`, owns `staging`, `intermediate`, `marts` (dbt)."""
        return f"{self.prefix}_transformer"

    @property
    def analyst(self) -> str:
        """Reads `marts`, nothing else."""
        return f"{self.prefix}_analyst"

    @property
    def reloader(self) -> str:
        """Writes the run log `raw.reload_run` and reads raw (the reload's bookkeeping); the loader may not
        write the log that the reload trusts (migration 0005)."""
        return f"{self.prefix}_reloader"

    def all(self) -> tuple[str, ...]:
        return (self.loader, self.transformer, self.analyst, self.reloader)
