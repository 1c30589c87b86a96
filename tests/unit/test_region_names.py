"""Names and integer attributes of layers (pure rules of sinkload.geography.names)."""

from __future__ import annotations

import numpy as np
import pytest

from sinkload.errors import SinkloadError
from sinkload.geography.names import MAX_NAME_CHARS, check_layer_name, check_unique, integer_value, unit_name


@pytest.mark.parametrize("name", ["national", "province", "basins_2024", "z"])
def test_layer_names_accepted(name):
    assert check_layer_name("f.geojson", name) == name


@pytest.mark.parametrize("name", ["", "Province", "2zones", "my-zones", "zones ", "ecosystem", "a" * 64, "région"])
def test_layer_names_refused_naming_the_file(name):
    with pytest.raises(SinkloadError, match="^f.geojson: layer name"):
        check_layer_name("f.geojson", name)


def test_unit_names_are_trimmed_and_kept_verbatim():
    for raw, kept in [("  North ", "North"), ('a "b"; c', 'a "b"; c'), ("North[/]", "North[/]"), ("北方\u3000", "北方"),
                      (7, "7")]:
        assert unit_name("f", raw, "name") == kept


@pytest.mark.parametrize("raw", [None, "", "   ", float("nan"), "a\nb", "a\u2028b"])
def test_empty_or_multiline_names_refused(raw):
    with pytest.raises(SinkloadError, match="^f: "):
        unit_name("f", raw, "name")


def test_duplicates_after_normalisation_refused():
    check_unique("f", ["North", "north", "South"])  # case differs: two names
    with pytest.raises(SinkloadError, match="duplicate unit name"):
        check_unique("f", ["Cafe\u0301", "Caf\u00e9"])  # NFD and NFC of the same name


@pytest.mark.parametrize("value, expected", [(3, 3), (np.int16(3), 3), (3.0, 3), (np.float32(11.0), 11), ("4", 4)])
def test_integer_values(value, expected):
    assert integer_value("f", value, "code") == expected


@pytest.mark.parametrize("value", [3.9, True, np.bool_(False), "3.9", "true", None, float("inf"), np.float64("nan")])
def test_non_integers_refused(value):
    with pytest.raises(SinkloadError, match="^f: code"):
        integer_value("f", value, "code")


def test_names_longer_than_the_limit_refused():
    assert unit_name("f", "长" * MAX_NAME_CHARS, "name") == "长" * MAX_NAME_CHARS
    with pytest.raises(SinkloadError, match=f"^f: unit name '长+'... has 3,000 characters, more than {MAX_NAME_CHARS}"):
        unit_name("f", "长" * 3000, "name")


@pytest.mark.parametrize("raw, shown", [("\x1b[2J\x1b[31mRED", "'\\x1b'"), ("back\bspace", "'\\x08'"),
                                        ("bell\x07", "'\\x07'"), ("tab\there", "'\\t'"), ("csi\x9b2J", "'\\x9b'"),
                                        ("del\x7f", "'\\x7f'")])
def test_names_with_control_characters_refused_with_the_character_escaped(raw, shown):
    with pytest.raises(SinkloadError, match="control character") as refused:
        unit_name("f", raw, "name")
    message = str(refused.value)
    assert shown in message and message.isprintable(), message


@pytest.mark.parametrize("raw, kind", [({"zh": "北", "en": "N"}, "a JSON object"), (["北", "N"], "a JSON array")])
def test_json_objects_and_arrays_are_no_names(raw, kind):
    with pytest.raises(SinkloadError, match=f"^f: a feature's name in field 'name' is {kind}, not text"):
        unit_name("f", raw, "name")
