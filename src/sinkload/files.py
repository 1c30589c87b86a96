"""Content fingerprints of input files (provenance, and "already loaded" decisions)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def sha256_of(*paths: Path) -> str:
    """Hex SHA-256 of the files' bytes, one after the other (read in 1 MiB chunks: memory stays flat)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
