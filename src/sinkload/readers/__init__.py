"""Readers: open a flux file lazily and describe it (variable, units, calendar, months, axes).
Values are read one month at a time, so files larger than memory load too.

The registry below is the one place that says which format families exist and which files each reads:
the catalog's `family:` values and the folder walk's flux suffixes are derived from it. A reader's module
is imported on first use (xarray and rioxarray add 0.2 to 0.6 s to a process's start-up), so this module
stays light enough for the catalog to import."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from sinkload.errors import SinkloadError, file_error, unexpected_error

if TYPE_CHECKING:
    from sinkload.catalog import Product
    from sinkload.readers.base import FluxSource


@dataclass(frozen=True)
class Reader:
    """A format family: the file suffixes it reads in a walked folder (lower case) and the module whose
    `open_source(path, product)` returns a `FluxSource`."""

    family: str
    suffixes: tuple[str, ...]
    module: str

    def open(self, path: Path, product: Product) -> FluxSource:
        return self.opener()(path, product)

    def opener(self):
        """The module's `open_source` (importing the module on first use)."""
        return import_module(self.module).open_source


READERS = (
    Reader("netcdf", (".nc", ".nc4"), "sinkload.readers.netcdf"),
    Reader("geotiff", (".tif", ".tiff"), "sinkload.readers.geotiff"),
)
FAMILIES = tuple(reader.family for reader in READERS)
FLUX_SUFFIXES = tuple(suffix for reader in READERS for suffix in reader.suffixes)
_BY_FAMILY = {reader.family: reader for reader in READERS}


def reader_for(family: str) -> Reader:
    """The reader of a format family (the catalog has checked the name against FAMILIES)."""
    return _BY_FAMILY[family]


def open_flux(path: Path, product: Product) -> FluxSource:
    """Open a file with the reader of the product's format family. A file named on the command line is
    opened whatever its suffix: a file that is not of the family fails with that reader's error. Whatever else a
    reader raises while opening and describing the file (a library's error on content it does not expect) is
    the file's one-line error, naming the exception (`errors.unexpected_error`)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise file_error(path, "the path is not valid UTF-8 (a file or folder name in another encoding, "
                               "which netCDF-C cannot open and raw cannot record): rename it") from None
    open_source = reader_for(product.family).opener()  # an import error is no file's fault: outside the try
    try:
        return open_source(path, product)
    except SinkloadError:
        raise
    except Exception as exc:
        raise unexpected_error(path, "cannot read the file", exc) from exc


__all__ = ["FAMILIES", "FLUX_SUFFIXES", "READERS", "Reader", "open_flux", "reader_for"]
