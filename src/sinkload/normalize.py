"""Normalisation at the door (pure functions on numpy arrays): units to g C m-2 per calendar month, sign to
positive = uptake, longitudes to -180..180 sorted, latitudes north-up, calendars, fill values, month keys."""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass

import cftime
import numpy as np

# Beyond this a monthly value (g C m-2 per month) is not a land carbon flux but a broken file.
PHYSICAL_LIMIT_G_M2_MONTH = 5000.0
FILL_THRESHOLD = 1e19
KNOWN_FILLS = (-99999.0, -9999.0)

_NOLEAP = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_CALENDARS = {
    "standard": "standard", "gregorian": "standard", "proleptic_gregorian": "standard",
    "noleap": "noleap", "365_day": "noleap", "all_leap": "all_leap", "366_day": "all_leap",
    "360_day": "360_day", "julian": "julian",
}


class NormalisationError(ValueError):
    """A problem with a file's content; the caller adds the file name."""


# -- calendars --------------------------------------------------------------------------------------------

def calendar_name(text: str | None) -> str:
    key = (text or "standard").strip().lower()
    if key not in _CALENDARS:
        raise NormalisationError(f"unknown calendar {text!r}")
    return _CALENDARS[key]


def days_in_month(year: int, month: int, calendar: str = "standard") -> int:
    cal = calendar_name(calendar)
    if cal == "noleap":
        return _NOLEAP[month - 1]
    if cal == "all_leap":
        return 29 if month == 2 else _NOLEAP[month - 1]
    if cal == "360_day":
        return 30
    if cal == "julian":
        return 29 if month == 2 and year % 4 == 0 else _NOLEAP[month - 1]
    return _calendar.monthrange(year, month)[1]


def days_in_year(year: int, calendar: str = "standard") -> int:
    return sum(days_in_month(year, m, calendar) for m in range(1, 13))


# -- units -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FluxUnit:
    """A carbon flux density unit: grams of carbon per m2 per `per` (year, month, day or second)."""

    grams: float
    per: str
    text: str

    def factor(self, year: int, month: int, calendar: str) -> float:
        """Multiplier to g C m-2 in that calendar month."""
        days = days_in_month(year, month, calendar)
        time = {"year": days / days_in_year(year, calendar), "month": 1.0, "day": float(days),
                "second": 86400.0 * days}[self.per]
        return self.grams * time

    def factor_text(self, calendar: str) -> str:
        mass = "" if self.grams == 1 else f"{self.grams:.10g}*"
        time = {"year": "days_in_month/days_in_year", "month": "1", "day": "days_in_month",
                "second": "86400*days_in_month"}[self.per]
        return f"{mass}{time} ({calendar_name(calendar)} calendar)"


GRAMS_C_PER_MOL = 12.011  # standard atomic weight of carbon (IUPAC, abridged)
GRAMS_CO2_PER_MOL = 44.009  # 12.011 + 2 x 15.999
# Amount units first ("mol" also ends in no mass unit); a mole of CO2 holds a mole of C.
_AMOUNT = [(r"(\bumol|\bµmol|\bμmol|\bmicromol)", 1e-6), (r"\bmmol", 1e-3), (r"\bmol", 1.0)]
_MASS = [(r"\bkg", 1000.0), (r"\bmg", 0.001), (r"\bg", 1.0)]
_CO2 = r"co2|co_2"
_TIME = [(r"(\byr\b|\byr-1|\byear|\bannum|\ba-1\b|/a\b)", "year"), (r"(\bmonth|\bmon\b|\bmon-1)", "month"),
         (r"(\bday|\bd-1\b|/d\b|\bd\^-1)", "day"), (r"(\bs-1\b|/s\b|\bsec|\bs\^-1|\bs\*\*-1)", "second")]
_AREA = r"(m-2|m\^-2|m\*\*-2|/m2|per m2|m2|/m\^2)"


def _grams_of_carbon(s: str) -> float | None:
    """Grams of carbon in one unit of the numerator: moles count 12.011 g C each, a mass of CO2 12.011/44.009
    of it in carbon (an inversion file in g CO2 would otherwise be read 3.7 times too large)."""
    moles = next((scale for pattern, scale in _AMOUNT if re.search(pattern, s)), None)
    if moles is not None:
        return moles * GRAMS_C_PER_MOL
    grams = next((grams for pattern, grams in _MASS if re.search(pattern, s)), None)
    if grams is not None and re.search(_CO2, s):
        return grams * GRAMS_C_PER_MOL / GRAMS_CO2_PER_MOL
    return grams


def parse_units(text: str) -> FluxUnit:
    """Parse a carbon flux unit such as 'gC per m2 per year', 'kg m-2 s-1', 'g C m-2 d-1', 'kg CO2 m-2 s-1',
    'mol m-2 s-1' (moles of CO2 or C)."""
    s = " " + text.strip().lower().replace("gc", "g c").replace("kgc", "kg c") + " "
    grams = _grams_of_carbon(s)
    per = next((unit for pattern, unit in _TIME if re.search(pattern, s)), None)
    if grams is None or per is None or not re.search(_AREA, s):
        raise NormalisationError(f"unknown units {text!r} (expected a carbon flux per m2 per year, month, day or second)")
    return FluxUnit(grams, per, text)


# -- axes --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """A regular lon/lat grid after normalisation: (west, north) is the outer corner of cell (0, 0)."""

    west: float
    north: float
    dx: float
    dy: float
    nx: int
    ny: int


@dataclass(frozen=True)
class AxisOrder:
    """How to reorder a file's (lat, lon) array into north-up rows and west-to-east columns."""

    lat_index: np.ndarray
    lon_index: np.ndarray
    grid: Grid


def _regular_step(values: np.ndarray, name: str) -> float:
    if values.size < 2:
        raise NormalisationError(f"{name} has fewer than 2 values")
    steps = np.diff(values)
    if np.any(steps == 0):
        raise NormalisationError(f"{name} has duplicated values")
    step = float(values[-1] - values[0]) / (values.size - 1)  # exact for regular axes, robust to float32 noise
    # float32 coordinates (common) carry ~1e-7 relative noise: allow that on top of 1e-4 of a step
    tolerance = max(1e-4 * abs(step), 2e-6 * max(1.0, float(np.max(np.abs(values)))))
    if step <= 0 or np.max(np.abs(steps - step)) > tolerance:
        raise NormalisationError(f"{name} is not a regular, monotonic axis")
    return step


def axis_order(lats: np.ndarray, lons: np.ndarray) -> AxisOrder:
    """North-up rows, longitudes in -180..180 west to east; checks both axes are regular and unique."""
    lats, lons = np.asarray(lats, float), np.asarray(lons, float)
    for name, values in (("latitude", lats), ("longitude", lons)):
        if np.unique(values).size != values.size:
            raise NormalisationError(f"{name} has duplicated values")
        if not (np.all(np.diff(values) > 0) or np.all(np.diff(values) < 0)):
            raise NormalisationError(f"{name} is not monotonic")
    wrapped = np.where(lons >= 180.0, lons - 360.0, lons)
    lon_index = np.argsort(wrapped, kind="stable")
    lat_index = np.argsort(-lats, kind="stable")
    sorted_lons, sorted_lats = wrapped[lon_index], lats[lat_index]
    dx = _regular_step(sorted_lons, "longitude")
    dy = _regular_step(sorted_lats[::-1], "latitude")
    grid = Grid(west=round(float(sorted_lons[0] - dx / 2), 10), north=round(float(sorted_lats[0] + dy / 2), 10),
                dx=dx, dy=dy, nx=lons.size, ny=lats.size)
    if grid.north > 90 + 1e-6 or grid.north - grid.ny * dy < -90 - 1e-6 or grid.west < -180 - 1e-6:
        raise NormalisationError("grid lies outside -180..180 / -90..90")
    return AxisOrder(lat_index, lon_index, grid)


# -- time --------------------------------------------------------------------------------------------------

YearMonth = tuple[int, int]


def months_from_start_date(start_date: np.ndarray) -> list[YearMonth]:
    """MIP start_date(time, 3) = (year, month, day): months keyed by (year, month) whatever the day."""
    array = np.asarray(start_date)
    if array.ndim != 2 or array.shape[1] < 2:
        raise NormalisationError("start_date is not (time, 3)")
    return [(int(y), int(m)) for y, m in array[:, :2]]


def months_from_cf_time(values: np.ndarray, units: str | None, calendar: str | None) -> list[YearMonth]:
    """Decode a CF time axis to (year, month), including 'months since' that CF tools refuse."""
    if not units or " since " not in units:
        raise NormalisationError(f"time has no CF units ({units!r})")
    step, origin = units.split(" since ", 1)
    cal = calendar_name(calendar)
    if step.strip().lower() in ("months", "month"):
        base = cftime.datetime.strptime(origin.strip()[:10], "%Y-%m-%d", calendar=cal)
        offsets = np.floor(np.asarray(values, float) + 1e-9).astype(int)
        return [(base.year + (base.month - 1 + k) // 12, (base.month - 1 + k) % 12 + 1) for k in offsets]
    try:
        dates = cftime.num2date(np.asarray(values), units, calendar=cal)
    except (ValueError, TypeError) as exc:
        raise NormalisationError(f"cannot decode time ({exc})") from None
    return [(d.year, d.month) for d in np.atleast_1d(dates)]


def months_from_first(first: YearMonth, count: int) -> list[YearMonth]:
    year, month = first
    return [(year + (month - 1 + k) // 12, (month - 1 + k) % 12 + 1) for k in range(count)]


def check_months(months: list[YearMonth], expected_count: int | None = None) -> None:
    seen = set()
    for ym in months:
        if not 1 <= ym[1] <= 12:
            raise NormalisationError(f"month {ym[1]} of year {ym[0]} is not a month")
        if ym in seen:
            raise NormalisationError(f"duplicate month {ym[0]}-{ym[1]:02d}")
        seen.add(ym)
    if expected_count is not None and len(months) != expected_count:
        raise NormalisationError(f"{len(months)} months where the catalog expects {expected_count}")


# -- values ------------------------------------------------------------------------------------------------

def mask_fill(values: np.ndarray, fill_values: tuple[float, ...] = ()) -> np.ndarray:
    """float64 copy with fill values (declared ones, +-1e20-like, -99999, -9999) as NaN."""
    out = np.array(values, dtype=np.float64)
    out[~np.isfinite(out) | (np.abs(out) >= FILL_THRESHOLD)] = np.nan
    for fill in (*fill_values, *KNOWN_FILLS):
        if fill is not None and np.isfinite(fill):
            out[out == fill] = np.nan
    return out


def normalise_month(raw: np.ndarray, order: AxisOrder, factor: float, sign: int,
                    fill_values: tuple[float, ...] = ()) -> np.ndarray:
    """One month: (lat, lon) as in the file -> g C m-2 in the month, positive = sink, north-up, lon sorted."""
    values = mask_fill(raw, fill_values)[np.ix_(order.lat_index, order.lon_index)]
    values *= factor * sign
    if not np.isfinite(values).any():
        raise NormalisationError("all values are missing")
    peak = np.nanmax(np.abs(values))
    if peak > PHYSICAL_LIMIT_G_M2_MONTH:
        raise NormalisationError(
            f"value {peak:.4g} g C m-2 per month is beyond any land flux (limit {PHYSICAL_LIMIT_G_M2_MONTH:g}): wrong units?")
    return values
