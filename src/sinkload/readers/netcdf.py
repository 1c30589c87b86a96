"""NetCDF flux files: the OCO-2 MIP archive (start_date, n_months), TRENDY/CMIP `nbp`, BEPS `nep`.

Opened with xarray, lazily and undecoded (`decode_cf=False`): the attributes (`units`, `_FillValue`,
`missing_value`, `scale_factor`, `start_date`, the time axis's units and calendar) are read as the file
writes them, and months are decoded by `normalize` with cftime, which also takes the "months since" axes
xarray refuses. `isel` on the time dimension reads one month, so memory does not grow with the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from sinkload.errors import file_error
from sinkload.normalize import (
    Coordinate,
    Dimensions,
    as_cf_integers,
    axis_order,
    calendar_name,
    cf_integer_dtype,
    check_monthly_steps,
    check_months,
    mask_outside,
    match_dimensions,
    months_from_cf_bounds,
    months_from_cf_time,
    months_from_first,
    months_from_start_date,
    valid_interval,
)
from sinkload.readers.base import FluxSource, resolve_units, wrap

if TYPE_CHECKING:
    from sinkload.catalog import Product


def _coordinates(ds: xr.Dataset, dims: tuple[str, ...], names: tuple[str, ...]) -> dict[str, list[Coordinate]]:
    """Each dimension's 1-D coordinate variables: the one named like it, else those along it (file order)."""
    def described(name: str) -> Coordinate:
        attrs = ds.variables[name].attrs
        return Coordinate(name, attrs.get("units"), attrs.get("standard_name"), attrs.get("axis"))

    return {dim: [described(dim)] if dim in ds.variables and ds.variables[dim].dims == (dim,)
            else [described(n) for n in names if n in ds.variables and ds.variables[n].dims == (dim,)]
            for dim in dims}


def _open(path: Path) -> tuple[xr.Dataset, tuple[str, ...]]:
    """The dataset, undecoded, and its variable names in file order (xarray lists coordinates last)."""
    if not path.exists():
        raise file_error(path, "file not found")
    try:
        store = xr.backends.NetCDF4DataStore.open(path)
    except OSError as exc:
        raise file_error(path, f"not a readable NetCDF file ({exc.strerror or exc})") from None
    try:
        # engine named: guessing it loads every installed backend (rioxarray's too: +30 MiB, +0.5 s).
        # cache=False: a variable read once is not kept, so a month read is the only copy in memory.
        ds = xr.open_dataset(store, engine="store", decode_cf=False, mask_and_scale=False, decode_times=False,
                             cache=False)
        return ds, tuple(store.get_variables())
    except ValueError as exc:  # xarray refuses some layouts netCDF-C reads (conflicting dimension names)
        store.close()
        raise file_error(path, f"not a readable NetCDF file ({str(exc).splitlines()[0]})") from None


def _scaled(variable: xr.Variable) -> np.ndarray:
    """A small variable's values with its scale_factor and add_offset applied (coordinates)."""
    values = np.asarray(variable.values)
    scale, offset = variable.attrs.get("scale_factor"), variable.attrs.get("add_offset")
    if scale is None and offset is None:
        return values
    return values * (1.0 if scale is None else scale) + (0.0 if offset is None else offset)


def _bounds(ds: xr.Dataset, name: object, path: Path) -> np.ndarray:
    """The time variable's CF bounds (its `bounds` attribute names them; they share its units and calendar)."""
    if str(name) not in ds.variables:
        raise file_error(path, f"time bounds variable {str(name)!r} (the time's bounds attribute) is missing")
    return _scaled(ds.variables[str(name)])


def _text(variable: xr.Variable, label: str, name: str, path: Path) -> str | None:
    """A text attribute (`units`, `calendar`, `bounds`) or None; one stored as a number is refused (CF: text)."""
    value = variable.attrs.get(name)
    if value is None or isinstance(value, str):
        return value
    raise file_error(path, f"{label}'s {name} attribute is the number {np.asarray(value).tolist()!r}, not text")


def _refuse_misnamed_units(variable: xr.Variable, label: str, path: Path) -> None:
    """Without `units`, a units-like attribute (`unit`, `Units`, `UNITS`...) means the file does say its units,
    only not where CF reads them: refused, rather than given the catalog's default, which may not be those."""
    for name, value in variable.attrs.items():
        if name != "units" and name.lower().rstrip("s") == "unit":
            raise file_error(path, f"{label} has no `units` attribute but has `{name}` = {str(value)!r}, which CF "
                                   "does not read as units; give the product's units in the catalog (`units:`)")


def _months(ds: xr.Dataset, time_dim: str, n: int, product: Product, path: Path) -> tuple[list, str]:
    time_var = ds.variables.get(time_dim) if time_dim in ds.variables else ds.variables.get("time")
    units, calendar, bounds = ((_text(time_var, "time", a, path) for a in ("units", "calendar", "bounds"))
                               if time_var is not None else (None, None, None))
    calendar = calendar_name(calendar) if time_var is not None else "standard"
    if product.time_rule == "start_date" and "start_date" in ds.variables:
        months = months_from_start_date(ds.variables["start_date"].values)
    elif units and " since " in units and bounds:
        months = months_from_cf_bounds(time_bounds := _bounds(ds, bounds, path), units, calendar)
        check_monthly_steps(time_bounds, units, calendar, bounds=True)
    elif units and " since " in units:
        months = months_from_cf_time(stamps := _scaled(time_var), units, calendar)
        check_monthly_steps(stamps, units, calendar)
    elif product.time_rule == "start_date" and product.first_month:
        months = months_from_first(product.first_month, n)
    else:
        raise file_error(path, "no start_date, no decodable time variable and no first_month in the catalog")
    if len(months) != n:
        raise file_error(path, f"{len(months)} time stamps for {n} time steps")
    return months, calendar


def _month_reader(var: xr.Variable, dims: Dimensions) -> tuple[Callable[[int], np.ndarray], tuple[float, ...]]:
    """Month k's raw values as the file stores them, as (lat, lon) whatever the file's order, and the fill
    values normalisation is to mask. Values outside CF's valid range (valid_interval, in stored units; a
    malformed one raises NormalisationError) are missing. A packed variable (scale_factor / add_offset) is unpacked here, its fill values and invalid values masked
    before unpacking. Integers with CF's `_Unsigned` are read as their unsigned (or signed) type first, their
    fill values too, as netCDF4 and xarray do."""
    rest = [d for d in var.dims if d != dims.time]
    axes = (rest.index(dims.lat), rest.index(dims.lon))
    read_as = cf_integer_dtype(var.dtype, var.attrs.get("_Unsigned"))
    valid = valid_interval(var.attrs, var.dtype, read_as)

    def stored(k: int) -> np.ndarray:
        return np.transpose(as_cf_integers(var.isel({dims.time: k}).values, var.dtype, read_as), axes)

    # CF: missing_value may be a vector, every value of which is missing
    fills = tuple(float(v) for a in ("_FillValue", "missing_value") if a in var.attrs
                  for v in np.atleast_1d(as_cf_integers(var.attrs[a], var.dtype, read_as)))
    scale, offset = float(var.attrs.get("scale_factor", 1.0)), float(var.attrs.get("add_offset", 0.0))
    if scale == 1.0 and offset == 0.0:
        # + 0.0 turns a stored -0.0 into 0.0, as unpacking does: zeros keep one sign after the sign flip.
        return lambda k: mask_outside(np.add(stored(k), 0.0, dtype=np.float64), valid), fills

    def unpack(k: int) -> np.ndarray:
        raw = mask_outside(stored(k).astype(np.float64), valid)
        for fill in fills:
            raw[raw == fill] = np.nan
        return raw * scale + offset

    return unpack, ()


def open_source(path: Path, product: Product) -> FluxSource:
    ds, names = _open(path)
    try:
        if product.variable not in ds.variables:
            raise file_error(path, f"no variable {product.variable!r} (has: {', '.join(names)})")
        var = ds.variables[product.variable]
        dims = wrap(path, lambda: match_dimensions(product.variable, var.dims,
                                                   _coordinates(ds, var.dims, names)))
        n_steps = var.sizes[dims.time]
        if n_steps == 0:
            raise file_error(path, f"{product.variable} has no time steps (0 records along {dims.time})")
        order = wrap(path, lambda: axis_order(_scaled(ds.variables[dims.lat_coordinate]),
                                              _scaled(ds.variables[dims.lon_coordinate])))
        months, calendar = wrap(path, lambda: _months(ds, dims.time, n_steps, product, path))
        wrap(path, lambda: check_months(months, product.n_months))
        units = _text(var, product.variable, "units", path)
        if units is None and not product.units:
            _refuse_misnamed_units(var, product.variable, path)
        unit, assumed = resolve_units(path, units, product.units_default, product.units)
        read, fills = wrap(path, lambda: _month_reader(var, dims))
        return FluxSource(path=path, variable=product.variable, units_found=units, unit=unit,
                          units_assumed=assumed, calendar=calendar, months=months, order=order, read_raw=read,
                          close=ds.close, fill_values=fills)
    except BaseException:
        ds.close()
        raise
