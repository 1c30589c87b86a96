"""The OCO-2 v10 MIP national CO2 budgets (Byrne et al. 2023): parsing the country CSV and checking the
1-degree grid, as pure functions.

Budget values are Tg CO2 per year (countries) or g CO2 m-2 yr-1 (grid), **positive = flux to the
atmosphere**: a sink is a negative NBE. They are stored as read; the conversion to the warehouse's sinks
(Pg C per year, positive = uptake) is `sink_pgc_yr`.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass

import numpy as np

from sinkload.errors import SinkloadError, file_error

EXPERIMENTS = ("IS", "LNLG", "LNLGIS", "LNLGOGIS")
EXPERIMENT_QUANTITIES = ("NBE", "NCE", "dC_loss")
LATERAL_QUANTITIES = ("Rivers", "Wood+Crop", "FF")
CODE_COLUMN = "Alpha 3 Code"
YEAR_COLUMN = "Year"
MEAN_YEAR = "mean"
REGION_PREFIX = "Region_"
UNIT = "TgCO2"
C_PER_CO2 = 12.011 / 44.009  # g C per g CO2 (molar masses)
GRID_SHAPE = (180, 360)  # 1-degree global grid: rows south -> north from -90, columns east from -180


@dataclass(frozen=True)
class BudgetValue:
    """One value of the country CSV: `code` is an ISO3 code or a `Region_*` aggregate; `year` is None for
    the `mean` row; `experiment` is None for the lateral fluxes (rivers, wood and crop trade, fossil fuels).
    `value` and `unc` are Tg CO2 per year, positive = to the atmosphere (None when the cell is empty)."""

    code: str
    year: int | None
    experiment: str | None
    quantity: str
    value: float | None
    unc: float | None

    @property
    def is_region(self) -> bool:
        return self.code.startswith(REGION_PREFIX)

    @property
    def is_mean(self) -> bool:
        return self.year is None


def column_name(quantity: str, experiment: str | None = None, unc: bool = False) -> str:
    """The CSV column of a quantity, e.g. `LNLGIS NBE unc (TgCO2)` or `Rivers (TgCO2)`."""
    parts = [experiment] if experiment else []
    parts += [quantity, "unc"] if unc else [quantity]
    return f"{' '.join(parts)} ({UNIT})"


def sink_pgc_yr(tgco2_yr: float) -> float:
    """A budget flux (Tg CO2 per year, positive = to the atmosphere) as a sink (Pg C per year, positive =
    uptake by land)."""
    return -tgco2_yr * C_PER_CO2 / 1000


def unc_pgc_yr(tgco2_yr: float) -> float:
    """A budget uncertainty (Tg CO2 per year) in Pg C per year (a magnitude: no sign change)."""
    return tgco2_yr * C_PER_CO2 / 1000


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip()).lower()


def parse_countries(text: str, source: str) -> list[BudgetValue]:
    """Every value of a country CSV. The header is the first line that holds the columns `Alpha 3 Code` and
    `Year` (any number of comment or preamble lines may come before it); columns are found by name.
    Raises SinkloadError naming `source` on a missing header or column, text in a value or a duplicate
    country-year."""
    rows = list(csv.reader(text.splitlines()))
    start = next((i for i, row in enumerate(rows) if {_key(CODE_COLUMN), _key(YEAR_COLUMN)} <= {_key(c) for c in row}),
                 None)
    if start is None:
        raise file_error(source, f"no header line with the columns {CODE_COLUMN!r} and {YEAR_COLUMN!r}")
    columns = {_key(name): index for index, name in enumerate(rows[start])}
    wanted = _wanted_columns(columns, source)
    values: list[BudgetValue] = []
    seen: set[tuple[str, int | None]] = set()
    for line_no, row in enumerate(rows[start + 1:], start=start + 2):
        if not any(cell.strip() for cell in row):
            continue
        code = _cell(row, columns[_key(CODE_COLUMN)])
        year = _year(_cell(row, columns[_key(YEAR_COLUMN)]), source, line_no)
        if not code:
            raise file_error(source, f"line {line_no}: empty {CODE_COLUMN!r}")
        if (code, year) in seen:
            raise file_error(source, f"line {line_no}: duplicate row for {code} {year or MEAN_YEAR}")
        seen.add((code, year))
        for (experiment, quantity), (value_col, unc_col) in wanted.items():
            value = _number(row, value_col, source, line_no, rows[start])
            unc = _number(row, unc_col, source, line_no, rows[start]) if unc_col is not None else None
            values.append(BudgetValue(code, year, experiment, quantity, value, unc))
    if not seen:
        raise file_error(source, "no data rows after the header")
    return values


def _wanted_columns(columns: dict[str, int], source: str) -> dict[tuple[str | None, str], tuple[int, int | None]]:
    """(experiment, quantity) -> (value column, unc column). Every experiment column is required; the
    lateral fluxes are read when present."""
    wanted: dict[tuple[str | None, str], tuple[int, int | None]] = {}
    for experiment in EXPERIMENTS:
        for quantity in EXPERIMENT_QUANTITIES:
            for unc in (False, True):
                if _key(column_name(quantity, experiment, unc)) not in columns:
                    raise file_error(source, f"missing column {column_name(quantity, experiment, unc)!r}")
            wanted[(experiment, quantity)] = (columns[_key(column_name(quantity, experiment))],
                                              columns[_key(column_name(quantity, experiment, True))])
    for quantity in LATERAL_QUANTITIES:
        if _key(column_name(quantity)) in columns:
            wanted[(None, quantity)] = (columns[_key(column_name(quantity))],
                                        columns.get(_key(column_name(quantity, unc=True))))
    return wanted


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _year(text: str, source: str, line_no: int) -> int | None:
    if text.lower() == MEAN_YEAR:
        return None
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    raise file_error(source, f"line {line_no}: {YEAR_COLUMN!r} is {text!r}, not a year or {MEAN_YEAR!r}")


def _number(row: list[str], index: int, source: str, line_no: int, header: list[str]) -> float | None:
    """A value in plain or E-notation (`-3.66E+02`, `-3.66E+2`); empty or NaN is missing."""
    text = _cell(row, index)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise file_error(source, f"line {line_no}: column {header[index].strip()!r} holds {text!r}, not a number") from None
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise file_error(source, f"line {line_no}: column {header[index].strip()!r} is infinite")
    return number


def grid_values(source: str, variable: str, data: np.ndarray, lat: np.ndarray | None,
                lon: np.ndarray | None) -> np.ndarray:
    """A (years, 180, 360) field of a gridded budget variable as float64 with rows south -> north and
    columns east from -180 (so that a 1-degree cell's flat index is the warehouse's `cell_id`); missing
    values NaN. Refuses any other grid."""
    if data.ndim != 3 or data.shape[1:] != GRID_SHAPE:
        raise file_error(source, f"{variable} has shape {data.shape}, not (years, 180, 360) on the 1-degree grid")
    values = np.ma.filled(np.ma.masked_invalid(data).astype(np.float64), np.nan)
    if lat is not None:
        lat = np.asarray(lat, dtype=np.float64)
        if np.allclose(lat, np.arange(89.5, -90, -1.0)):
            values = values[:, ::-1, :]
        elif not np.allclose(lat, np.arange(-89.5, 90, 1.0)):
            raise file_error(source, "latitudes are not the centres of 1-degree cells from -90 to 90")
    if lon is not None and not np.allclose(np.asarray(lon, dtype=np.float64), np.arange(-179.5, 180, 1.0)):
        raise file_error(source, "longitudes are not the centres of 1-degree cells from -180 to 180")
    return values


__all__ = ["EXPERIMENTS", "BudgetValue", "SinkloadError", "column_name", "grid_values", "parse_countries",
           "sink_pgc_yr", "unc_pgc_yr"]
