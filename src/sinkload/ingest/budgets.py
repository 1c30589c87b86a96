"""`sinkload ingest budgets`: the MIP's national CO2 budgets (country CSV, optional 1-degree grid) into
raw.budget_file / raw.budget_value / raw.budget_grid, stored as read, replacing the previous budget set in one
transaction. Both files are read and checked completely before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np

from sinkload import __version__
from sinkload.budgets import EXPERIMENTS, BudgetValue, grid_values, parse_countries
from sinkload.db.warehouse import Warehouse
from sinkload.errors import file_error
from sinkload.files import sha256_of

COUNTRIES_UNITS = "Tg CO2 yr-1 (positive = to the atmosphere)"


@dataclass(frozen=True)
class GridYear:
    """One experiment-year of the gridded budget: (180, 360) arrays in g CO2 m-2 yr-1, rows south -> north,
    positive = to the atmosphere, NaN = missing."""

    experiment: str
    year: int
    nbe: np.ndarray
    nbe_std: np.ndarray | None


@dataclass(frozen=True)
class BudgetSummary:
    countries: int
    regions: int
    years: tuple[int, ...]
    has_mean: bool
    values: int
    grid_years: int


def read_countries(path: Path) -> list[BudgetValue]:
    """The values of the country CSV (see `sinkload.budgets.parse_countries`)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise file_error(path, "file not found") from None
    except UnicodeDecodeError:
        raise file_error(path, "not a UTF-8 text file") from None
    return parse_countries(text, str(path))


def read_grid(path: Path) -> tuple[list[GridYear], str | None]:
    """Every experiment-year of `<E>_NBE` (and `<E>_NBE_std` when present) and the units found."""
    try:
        ds = netCDF4.Dataset(path)
    except (OSError, FileNotFoundError) as exc:
        raise file_error(path, f"not a readable NetCDF file ({exc})") from None
    with ds:
        ds.set_auto_mask(True)
        grids: list[GridYear] = []
        units = None
        for experiment in EXPERIMENTS:
            name = f"{experiment}_NBE"
            if name not in ds.variables:
                raise file_error(path, f"missing variable {name!r}")
            variable = ds.variables[name]
            units = getattr(variable, "units", units)
            years = _years(path, ds, variable)
            lat, lon = (_coordinate(ds, dim) for dim in variable.dimensions[1:])
            nbe = grid_values(str(path), name, variable[:], lat, lon)
            std_name = f"{name}_std"
            std = (grid_values(str(path), std_name, ds.variables[std_name][:], lat, lon)
                   if std_name in ds.variables else None)
            grids += [GridYear(experiment, year, nbe[k], None if std is None else std[k])
                      for k, year in enumerate(years)]
    return grids, units


def _coordinate(ds: netCDF4.Dataset, dimension: str) -> np.ndarray | None:
    return np.asarray(ds.variables[dimension][:]) if dimension in ds.variables else None


def _years(path: Path, ds: netCDF4.Dataset, variable: netCDF4.Variable) -> list[int]:
    """The year of each step of the variable's first dimension (a year axis, or a CF time axis)."""
    dimension = variable.dimensions[0] if variable.dimensions else None
    name = dimension if dimension in ds.variables else ("year" if "year" in ds.variables else None)
    if name is None:
        raise file_error(path, f"{variable.name}: cannot tell the year of each step (no {dimension!r} or 'year' variable)")
    axis = ds.variables[name]
    if "since" in str(getattr(axis, "units", "")):
        dates = netCDF4.num2date(axis[:], axis.units, getattr(axis, "calendar", "standard"))
        years = [int(d.year) for d in np.atleast_1d(dates)]
    else:
        raw = np.atleast_1d(np.asarray(axis[:], dtype=np.float64))
        if not np.all((raw == np.round(raw)) & (raw >= 1000) & (raw <= 9999)):
            raise file_error(path, f"{name}: values are neither years nor a CF time axis")
        years = [int(v) for v in raw]
    if len(set(years)) != len(years):
        raise file_error(path, f"{name}: a year appears twice")
    return years


def summarise(values: list[BudgetValue], grids: list[GridYear]) -> BudgetSummary:
    codes = {v.code: v.is_region for v in values}
    return BudgetSummary(countries=sum(not r for r in codes.values()), regions=sum(codes.values()),
                         years=tuple(sorted({v.year for v in values if v.year is not None})),
                         has_mean=any(v.is_mean for v in values), values=len(values), grid_years=len(grids))


def ingest_budgets(warehouse: Warehouse, countries: Path, grid: Path | None = None) -> BudgetSummary:
    """Replace the stored national budgets by the country CSV (and the grid, when given) in one transaction."""
    countries = Path(countries)
    values = read_countries(countries)
    grids, grid_units = read_grid(Path(grid)) if grid else ([], None)
    with warehouse.loading() as conn:
        conn.execute("delete from raw.budget_file")
        file_id = _insert_file(conn, "countries", countries, COUNTRIES_UNITS, len(values))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into raw.budget_value (file_id, code, is_region, year, is_mean, experiment, quantity, "
                "value, unc) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(file_id, v.code, v.is_region, v.year, v.is_mean, v.experiment, v.quantity, v.value, v.unc)
                 for v in values])
        if grid:
            grid_id = _insert_file(conn, "grid", Path(grid), grid_units, len(grids))
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into raw.budget_grid (file_id, experiment, year, nbe, nbe_std) values (%s, %s, %s, %s, %s)",
                    [(grid_id, g.experiment, g.year, _array(g.nbe), None if g.nbe_std is None else _array(g.nbe_std))
                     for g in grids])
    return summarise(values, grids)


def _insert_file(conn, kind: str, path: Path, units: str | None, n_values: int) -> int:
    return conn.execute(
        "insert into raw.budget_file (kind, file_name, file_path, sha256, size_bytes, units_found, n_values, "
        "loader_version) values (%s, %s, %s, %s, %s, %s, %s, %s) returning file_id",
        [kind, path.name, str(path.resolve()), sha256_of(path), path.stat().st_size, units, n_values,
         __version__]).fetchone()[0]


def _array(field: np.ndarray) -> list[float | None]:
    """A (180, 360) field as the flat list whose element cell_id (0-based) is that 1-degree cell; NaN -> NULL."""
    flat = field.reshape(-1)
    return [None if np.isnan(v) else float(v) for v in flat]
