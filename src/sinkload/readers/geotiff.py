"""GeoTIFF flux files (BEPS): one file per year, band k = month k, EPSG:4326, units from the file's
`units` tag, else the catalog's default; the catalog's time rule does not apply (the year comes from the name).

Opened with rioxarray, lazily and unmasked (`mask_and_scale=False`): the CRS, transform and nodata come from
rioxarray's `rio` accessor, the `units` from its attributes (the file's tag, or band 1's, or the bands' GDAL
unit type). Values are read one band (month) at a time with rasterio: the cells GDAL masks (nodata, else the
dataset's mask band) become NaN, then the band's own scale and offset are applied (value = raw * scale + offset),
as GDAL defines them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
import rioxarray
import xarray as xr
from rasterio.errors import RasterioIOError

from sinkload.errors import SinkloadError, file_error
from sinkload.normalize import AxisOrder, Grid, check_months
from sinkload.readers.base import FluxSource, resolve_units, wrap

if TYPE_CHECKING:
    from sinkload.catalog import Product


def _order(path: Path, raster: xr.DataArray) -> AxisOrder:
    t = raster.rio.transform()
    if t.b != 0 or t.d != 0:
        raise file_error(path, "rotated rasters are not supported")
    crs = raster.rio.crs
    if crs is None or crs.to_epsg() != 4326:
        raise file_error(path, f"CRS must be EPSG:4326 (found {crs})")
    width, height = raster.rio.width, raster.rio.height
    dx, dy = t.a, -t.e
    lat_index = np.arange(height) if dy > 0 else np.arange(height)[::-1]
    north = t.f if dy > 0 else t.f + height * t.e
    west = t.c if t.c < 180 else t.c - 360
    grid = Grid(west=round(west, 10), north=round(north, 10), dx=abs(dx), dy=abs(dy), nx=width, ny=height)
    return AxisOrder(lat_index=lat_index, lon_index=np.arange(width), grid=grid)


def _units(raster: xr.DataArray) -> str | None:
    """The `units` tag (rioxarray reads GDAL tags into attrs, numbers as numbers: give them back as text)."""
    units = raster.attrs.get("units")
    return None if units is None else str(units)


def _bands_error(path: Path, count: int) -> SinkloadError:
    return file_error(path, f"{count} bands, expected 12 (one per month)")


def _open(path: Path) -> xr.DataArray:
    if not path.exists():
        raise file_error(path, "file not found")
    try:
        # cache=False: a band read once is not kept, so a month read is the only copy in memory.
        raster = rioxarray.open_rasterio(path, mask_and_scale=False, cache=False)
    except RasterioIOError as exc:
        raise file_error(path, f"not a readable GeoTIFF ({str(exc).splitlines()[0]})") from None
    except ValueError:  # rioxarray refuses a raster without bands
        raise _bands_error(path, 0) from None
    if not isinstance(raster, xr.DataArray):  # a container of subdatasets (a NetCDF file, say): no bands of its own
        for item in raster if isinstance(raster, list) else [raster]:
            item.close()
        raise _bands_error(path, 0)
    return raster


def _band_reader(path: Path):
    """(month k -> band k+1 as float64 with the cells GDAL masks as NaN and the band's scale and offset applied,
    close). GDAL's mask is the nodata value, or the dataset's mask band when there is no nodata."""
    dataset = rasterio.open(path)
    scales, offsets = dataset.scales, dataset.offsets

    def read(k: int) -> np.ndarray:
        values = dataset.read(k + 1, masked=True)
        return values.astype(np.float64).filled(np.nan) * scales[k] + offsets[k]

    return read, dataset.close


def open_source(path: Path, product: Product) -> FluxSource:
    raster = _open(path)
    try:
        if raster.rio.count != 12:
            raise _bands_error(path, raster.rio.count)
        year = product.year_of(path)
        months = [(year, m) for m in range(1, 13)]
        wrap(path, lambda: check_months(months, None))
        order = _order(path, raster)
        units = _units(raster)
        unit, assumed = resolve_units(path, units, product.units_default, product.units)
        read, close_bands = _band_reader(path)

        def close() -> None:
            close_bands()
            raster.close()

        return FluxSource(path=path, variable=f"band 1-12 of {path.name}", units_found=units, unit=unit,
                          units_assumed=assumed, calendar="standard", months=months, order=order,
                          read_raw=read, close=close)
    except BaseException:
        raster.close()
        raise
