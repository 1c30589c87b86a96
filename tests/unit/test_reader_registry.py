"""The reader registry: the one list of format families, their suffixes and reader modules."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
import yaml

from sinkload.catalog import load_catalog
from sinkload.errors import SinkloadError
from sinkload.ingest.flux import is_flux_file
from sinkload.readers import FAMILIES, FLUX_SUFFIXES, READERS, reader_for


def test_every_family_has_one_reader_with_an_opener():
    assert len(FAMILIES) == len(set(FAMILIES)) == len(READERS)
    for family in FAMILIES:
        reader = reader_for(family)
        assert reader.family == family
        assert callable(import_module(reader.module).open_source)


def test_suffixes_belong_to_one_family_and_drive_the_folder_walk():
    assert len(FLUX_SUFFIXES) == len(set(FLUX_SUFFIXES))
    for suffix in FLUX_SUFFIXES:
        assert suffix == suffix.lower() and suffix.startswith(".")
        assert len([r for r in READERS if suffix in r.suffixes]) == 1
        assert is_flux_file(Path(f"folder/file{suffix.upper()}"))
    assert not is_flux_file(Path("folder/file.txt"))


@pytest.mark.parametrize("family", ["netcdf", "geotiff", "zarr"])
def test_catalog_families_come_from_the_registry(tmp_path, family):
    entry = {"family": family, "kind": "bottom-up", "sign": 1, "time": {"rule": "cf"}, "members": ["M"],
             "variable": "nbp"}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"products": {"p": entry}}), encoding="utf-8")
    if family in FAMILIES:
        assert load_catalog(path).product("p").family == family
    else:
        with pytest.raises(SinkloadError, match=f"family must be one of {', '.join(FAMILIES)}"):
            load_catalog(path)
