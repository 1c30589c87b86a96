"""NetCDF flux files: the OCO-2 MIP archive (start_date, n_months), TRENDY/CMIP `nbp`, BEPS `nep`."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np

from sinkload.catalog import Product
from sinkload.errors import file_error
from sinkload.normalize import (
    axis_order,
    calendar_name,
    check_months,
    months_from_cf_time,
    months_from_first,
    months_from_start_date,
)
from sinkload.readers.base import FluxSource, resolve_units, wrap

LAT_NAMES = ("latitude", "lat", "lat_FULL", "y")
LON_NAMES = ("longitude", "lon", "lon_FULL", "x")


def _first(names: tuple[str, ...], available) -> str | None:
    lowered = {name.lower(): name for name in available}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def _open(path: Path) -> netCDF4.Dataset:
    if not path.exists():
        raise file_error(path, "file not found")
    try:
        return netCDF4.Dataset(path)
    except OSError as exc:
        raise file_error(path, f"not a readable NetCDF file ({exc.strerror or exc})") from None


def _months(ds: netCDF4.Dataset, time_dim: str, n: int, product: Product, path: Path) -> tuple[list, str]:
    time_var = ds.variables.get(time_dim) if time_dim in ds.variables else ds.variables.get("time")
    calendar = calendar_name(getattr(time_var, "calendar", None)) if time_var is not None else "standard"
    if product.time_rule == "start_date" and "start_date" in ds.variables:
        months = months_from_start_date(ds["start_date"][:])
    elif time_var is not None and getattr(time_var, "units", None) and " since " in time_var.units:
        months = months_from_cf_time(time_var[:], time_var.units, calendar)
    elif product.time_rule == "start_date" and product.first_month:
        months = months_from_first(product.first_month, n)
    else:
        raise file_error(path, "no start_date, no decodable time variable and no first_month in the catalog")
    if len(months) != n:
        raise file_error(path, f"{len(months)} time stamps for {n} time steps")
    return months, calendar


def open_netcdf(path: Path, product: Product) -> FluxSource:
    ds = _open(path)
    try:
        if product.variable not in ds.variables:
            raise file_error(path, f"no variable {product.variable!r} (has: {', '.join(ds.variables)})")
        var = ds[product.variable]
        var.set_auto_maskandscale(False)
        dims = var.dimensions
        if len(dims) != 3:
            raise file_error(path, f"{product.variable} has dimensions {dims}, expected (time, lat, lon)")
        time_dim, lat_dim, lon_dim = dims
        lat_name = lat_dim if lat_dim in ds.variables else _first(LAT_NAMES, ds.variables)
        lon_name = lon_dim if lon_dim in ds.variables else _first(LON_NAMES, ds.variables)
        if not lat_name or not lon_name:
            raise file_error(path, "no latitude/longitude coordinate variables")
        order = wrap(path, lambda: axis_order(np.asarray(ds[lat_name][:]), np.asarray(ds[lon_name][:])))
        months, calendar = wrap(path, lambda: _months(ds, time_dim, var.shape[0], product, path))
        wrap(path, lambda: check_months(months, product.n_months))
        unit, assumed = resolve_units(path, getattr(var, "units", None), product.units_default)
        fills = tuple(float(getattr(var, a)) for a in ("_FillValue", "missing_value") if hasattr(var, a))
        scale, offset = float(getattr(var, "scale_factor", 1.0)), float(getattr(var, "add_offset", 0.0))

        def read(k: int) -> np.ndarray:
            raw = np.asarray(var[k, :, :], dtype=np.float64)
            for fill in fills:
                raw[raw == fill] = np.nan
            return raw * scale + offset

        return FluxSource(path=path, variable=product.variable, units_found=getattr(var, "units", None),
                          unit=unit, units_assumed=assumed, calendar=calendar, months=months, order=order,
                          read_raw=read, close=ds.close)
    except BaseException:
        ds.close()
        raise
