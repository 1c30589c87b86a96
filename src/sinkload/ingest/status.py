"""What happened to one input file: the one set of outcome words of `ingest flux` and `reload`."""

from __future__ import annotations

from enum import StrEnum


class FileStatus(StrEnum):
    LOADED = "loaded"  # written to raw by this run
    ALREADY_LOADED = "already loaded"  # a current batch has the same content: nothing written
    FAILED = "failed"  # refused (the message says why); nothing of it written
    SKIPPED = "skipped"  # the catalog's skip_pattern: not a flux file of the product
