"""Readers: open a flux file lazily and describe it (variable, units, calendar, months, axes).
Values are read one month at a time, so files larger than memory load too."""

from __future__ import annotations

from pathlib import Path

from sinkload.catalog import Product
from sinkload.readers.base import FluxSource


def open_flux(path: Path, product: Product) -> FluxSource:
    """The reader of the product's format family."""
    if product.family == "geotiff":
        from sinkload.readers.geotiff import open_geotiff

        return open_geotiff(path, product)
    from sinkload.readers.netcdf import open_netcdf

    return open_netcdf(path, product)


__all__ = ["FluxSource", "open_flux"]
