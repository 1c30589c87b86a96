"""Layer names, unit names and integer attributes as data: the rules they must follow (pure)."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable

import numpy as np

from sinkload.errors import file_error

NATIONAL = "national"
RESERVED_LAYER_NAMES = ("ecosystem",)  # the marts' scope of the ecosystem units
MAX_NAME_CHARS = 200  # a unit name's length (the name's index takes at most 8191 bytes a row)
_LAYER_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def check_layer_name(source: object, name: str) -> str:
    """A layer (scope) name: lowercase letters, digits and underscores, starting with a letter, at most 63
    characters, not a reserved scope. `source` (the file) starts the error message."""
    if not _LAYER_NAME.fullmatch(name or ""):
        raise file_error(source, f"layer name {name!r}: use lowercase letters, digits and underscores, starting "
                                 "with a letter (at most 63 characters)")
    if name in RESERVED_LAYER_NAMES:
        raise file_error(source, f"layer name {name!r} is reserved for the ecosystem units of the marts")
    return name


def unit_name(file: object, value: object, field: str) -> str:
    """The unit name a feature's attribute gives: any Unicode text, surrounding white space trimmed; empty,
    missing and multi-line names, names with control characters (C0, C1: ESC would drive the terminal), names
    longer than MAX_NAME_CHARS, and JSON objects or arrays are refused."""
    if isinstance(value, dict | list):
        kind = "a JSON object" if isinstance(value, dict) else "a JSON array"
        raise file_error(file, f"a feature's name in field {field!r} is {kind}, not text: "
                               f"{json.dumps(value, ensure_ascii=False)[:60]!r}")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = ""
    elif isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
    else:
        text = str(value)
    text = text.strip()
    if not text:
        raise file_error(file, f"a feature has an empty name in field {field!r}")
    if len(text.splitlines()) > 1 or "\x00" in text:
        raise file_error(file, f"unit name {text.splitlines()[0]!r}... spans several lines (a name must be one line)")
    control = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        raise file_error(file, f"unit name {text[:40]!r} holds the control character {control!r} (field {field!r}; "
                               "a name is printable text)")
    if len(text) > MAX_NAME_CHARS:
        raise file_error(file, f"unit name {text[:40]!r}... has {len(text):,} characters, more than "
                               f"{MAX_NAME_CHARS} (field {field!r})")
    return text


def check_unique(file: object, names: Iterable[str]) -> None:
    """Unit names must be unique within a layer; names equal after Unicode normalisation (NFC) are the same
    name. One feature per unit: dissolve multi-part units before loading."""
    seen: dict[str, str] = {}
    for name in names:
        key = unicodedata.normalize("NFC", name)
        if key in seen:
            raise file_error(file, f"duplicate unit name {name!r} (one feature per unit: dissolve multi-part "
                                   "units first)")
        seen[key] = name


def integer_value(file: object, value: object, what: str) -> int:
    """An integer attribute (a vegetation code, a rank): integers, integral floats (3.0) and digit strings are
    accepted; booleans, fractions (3.9) and anything else are refused."""
    if isinstance(value, bool | np.bool_):
        raise file_error(file, f"{what} {value!r} is a boolean, not an integer")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if math.isfinite(value) and float(value).is_integer():
            return int(value)
        raise file_error(file, f"{what} {float(value)!r} is not an integer")
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise file_error(file, f"{what} {value!r} is not an integer")
