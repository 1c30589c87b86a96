"""Which passwords are refused: empty, a placeholder (`change-me`, `password`, …) or shorter than 12 characters."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from sinkload.errors import SinkloadError

MIN_LENGTH = 12
# Compared with the password lowercased and stripped of everything but letters, so `Change-Me-Too`,
# `password1234` and `123456789012` are placeholders too.
PLACEHOLDER_WORDS = frozenset({
    "", "changeme", "changemetoo", "changemeaswell", "changemetoalongrandomstring", "password", "passwd",
    "secret", "postgres", "postgis", "sinkload", "superset", "admin", "analyst", "letmein", "qwerty",
    "example", "default", "test", "pass",
})


def weakness(password: str) -> str | None:
    """Why a password is refused, or None when it is acceptable."""
    if not password:
        return "empty"
    letters = re.sub(r"[^a-z]", "", password.lower())
    if letters in PLACEHOLDER_WORDS or letters.startswith("changeme"):
        return "a placeholder"
    if len(password) < MIN_LENGTH:
        return f"shorter than {MIN_LENGTH} characters"
    return None


def check_password(password: str, source: str) -> str:
    """The password, or a one-line SinkloadError naming `source` (never the password)."""
    reason = weakness(password)
    if reason:
        raise SinkloadError(f"{source}: the password is {reason}; choose a random one of {MIN_LENGTH}+ characters "
                            "(e.g. `openssl rand -base64 24`)")
    return password


def check_url_password(url: str, source: str) -> None:
    """Refuse a URL whose password (user-info or ?password=) is weak; a URL without one is left to libpq
    (~/.pgpass, PGPASSFILE)."""
    parts = urlsplit(url)
    query = dict(item.partition("=")[::2] for item in parts.query.split("&") if item)
    password = parts.password if parts.password is not None else query.get("password")
    if password is not None:
        check_password(unquote(password), source)
