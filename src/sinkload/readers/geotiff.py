"""GeoTIFF flux files (BEPS): one file per year, band k = month k, EPSG:4326, units from the file's
`units` tag, else the catalog's default; the catalog's time rule does not apply (the year comes from the name)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from sinkload.catalog import Product
from sinkload.errors import file_error
from sinkload.normalize import AxisOrder, Grid, check_months
from sinkload.readers.base import FluxSource, resolve_units, wrap


def _order(path: Path, src) -> AxisOrder:
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise file_error(path, "rotated rasters are not supported")
    if src.crs is None or src.crs.to_epsg() != 4326:
        raise file_error(path, f"CRS must be EPSG:4326 (found {src.crs})")
    dx, dy = t.a, -t.e
    lat_index = np.arange(src.height) if dy > 0 else np.arange(src.height)[::-1]
    north = t.f if dy > 0 else t.f + src.height * t.e
    west = t.c if t.c < 180 else t.c - 360
    grid = Grid(west=round(west, 10), north=round(north, 10), dx=abs(dx), dy=abs(dy), nx=src.width, ny=src.height)
    return AxisOrder(lat_index=lat_index, lon_index=np.arange(src.width), grid=grid)


def open_geotiff(path: Path, product: Product) -> FluxSource:
    if not path.exists():
        raise file_error(path, "file not found")
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise file_error(path, f"not a readable GeoTIFF ({str(exc).splitlines()[0]})") from None
    try:
        if src.count != 12:
            raise file_error(path, f"{src.count} bands, expected 12 (one per month)")
        year = product.year_of(path)
        months = [(year, m) for m in range(1, 13)]
        wrap(path, lambda: check_months(months, None))
        order = _order(path, src)
        unit, assumed = resolve_units(path, src.tags().get("units"), product.units_default)
        nodata = src.nodata

        def read(k: int) -> np.ndarray:
            raw = src.read(k + 1).astype(np.float64)
            if nodata is not None:
                raw[raw == nodata] = np.nan
            return raw

        return FluxSource(path=path, variable=f"band 1-12 of {path.name}", units_found=src.tags().get("units"),
                          unit=unit, units_assumed=assumed, calendar="standard", months=months, order=order,
                          read_raw=read, close=src.close)
    except BaseException:
        src.close()
        raise
