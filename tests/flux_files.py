"""Small flux files in the real formats (MIP NetCDF, TRENDY NetCDF, BEPS GeoTIFF / NetCDF) for the ingest tests.

Every writer returns the raw array it wrote (time, lat, lon) in the file's own order, units and sign, so the
tests can compute the expected normalised values independently with numpy.
"""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import rasterio
from rasterio.transform import from_origin

# A 1-degree window over China (cell centres), small enough for fast tests.
LON_1DEG = np.arange(70.5, 140.0, 1.0)
LAT_1DEG = np.arange(15.5, 55.0, 1.0)


def field(n_time: int, lats: np.ndarray, lons: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """A smooth-ish random field (time, lat, lon) with a few NaN cells (ocean)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, scale, (n_time, lats.size, lons.size)).astype(np.float32)
    values[:, 0, :3] = np.nan
    return values


def write_mip(path: Path, values: np.ndarray, lats: np.ndarray, lons: np.ndarray, months: list[tuple[int, int]],
              *, start_day: int | None = 1, time_units: str | None = "days since 2000-01-01",
              time_values: np.ndarray | None = None, time_dim: str = "time", units: str | None = "gC per m2 per year",
              variable: str = "land") -> np.ndarray:
    """An OCO-2 MIP-style file: land(time, latitude, longitude), optional start_date(time, 3)."""
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension(time_dim, len(months))
        ds.createDimension("latitude", lats.size)
        ds.createDimension("longitude", lons.size)
        ds.createVariable("latitude", "f8", ("latitude",))[:] = lats
        ds.createVariable("longitude", "f8", ("longitude",))[:] = lons
        if time_units is not None:
            t = ds.createVariable("time", "f8", (time_dim,))
            t.units = time_units
            t[:] = time_values if time_values is not None else np.arange(len(months)) * 30.0 + 5500.0
        if start_day is not None:
            ds.createDimension("date_components", 3)
            sd = ds.createVariable("start_date", "i4", (time_dim, "date_components"))
            sd[:] = np.array([(y, m, start_day) for y, m in months])
        var = ds.createVariable(variable, "f4", (time_dim, "latitude", "longitude"), fill_value=np.float32(-99999.0))
        if units is not None:
            var.units = units
        var[:] = np.where(np.isnan(values), -99999.0, values)
    return values


def write_trendy(path: Path, values: np.ndarray, lats: np.ndarray, lons: np.ndarray, time_values: np.ndarray,
                 time_units: str, calendar: str, *, units: str = "kg m-2 s-1", variable: str = "nbp",
                 dims: tuple[str, str, str] = ("time", "lat", "lon")) -> np.ndarray:
    """A TRENDY-style file: nbp(time, lat, lon), _FillValue 1e20, CF time with a calendar; `dims` another order
    of the three dimensions (`values` are given as (time, lat, lon) and written in that order)."""
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", lats.size)
        ds.createDimension("lon", lons.size)
        ds.createVariable("lat", "f4", ("lat",))[:] = lats
        ds.createVariable("lon", "f4", ("lon",))[:] = lons
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar = time_units, calendar
        t[:] = time_values
        var = ds.createVariable(variable, "f4", dims, fill_value=np.float32(1e20))
        var.units = units
        var[:] = np.ma.masked_invalid(np.transpose(values, [("time", "lat", "lon").index(d) for d in dims]))
    return values


def beps_window(nx: int = 40, ny: int = 30, col0: int = 3500, row0: int = 500) -> tuple[float, float, float]:
    """(west, north, dx) of a window of the global 4950-column BEPS grid with origin (-180, 90)."""
    dx = 360.0 / 4950
    return -180.0 + col0 * dx, 90.0 - row0 * dx, dx


def write_beps_tif(path: Path, values: np.ndarray, west: float, north: float, dx: float) -> np.ndarray:
    """A BEPS GeoTIFF: 12 float32 bands (month k = band k), nodata -9999, north-up, EPSG:4326."""
    _, ny, nx = values.shape
    profile = {"driver": "GTiff", "width": nx, "height": ny, "count": values.shape[0], "dtype": "float32",
               "crs": "EPSG:4326", "transform": from_origin(west, north, dx, dx), "nodata": -9999.0}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.where(np.isnan(values), -9999.0, values).astype(np.float32))
    return values
