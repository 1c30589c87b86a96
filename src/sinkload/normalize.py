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
# CF calendar names -> cftime's. `standard` (= `gregorian`) is the mixed Julian/Gregorian calendar (Julian
# before 1582-10-15); `proleptic_gregorian` is Gregorian throughout: the two decode dates before 1582 differently
# (`days since 0001-01-01` puts 2016-01-01 two days apart), so the name is kept for decoding.
_CALENDARS = {
    "standard": "standard", "gregorian": "standard", "proleptic_gregorian": "proleptic_gregorian",
    "noleap": "noleap", "365_day": "noleap", "all_leap": "all_leap", "366_day": "all_leap",
    "360_day": "360_day", "julian": "julian",
}


class NormalisationError(ValueError):
    """A problem with a file's content; the caller adds the file name."""


class AmbiguousUnits(NormalisationError):
    """Units whose text UDUNITS reads otherwise than the file most likely means (`8day-1`)."""


# -- calendars --------------------------------------------------------------------------------------------

def calendar_name(text: str | None) -> str:
    key = (text or "standard").strip().lower()
    if key not in _CALENDARS:
        raise NormalisationError(f"unknown calendar {text!r}")
    return _CALENDARS[key]


def days_in_month(year: int, month: int, calendar: str = "standard") -> int:
    """Days of the month in a CF calendar; `standard` is Julian before October 1582, whose month has 21 days
    (the 5th to the 14th do not exist), `proleptic_gregorian` Gregorian in every year."""
    cal = calendar_name(calendar)
    if cal == "standard" and (year, month) < (1582, 10):
        cal = "julian"
    if cal == "standard" and (year, month) == (1582, 10):
        return 21
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


# -- units ---------------------------------------------------------------------------------------------------
# UDUNITS-2 (cf-units) does the dimensional work. Two things it cannot: it reads a bare `C` as coulomb, so the
# carbon species is taken off first; and its year and month are fixed lengths (365.2422 d, 1/12 of that), while a
# rate per year or per month is converted with the file's calendar. So the time base is recognised from the
# unit's time terms and the factor is computed to "per year", "per month" or "per day" of UDUNITS, then to the
# calendar month.

GRAMS_C_PER_MOL = 12.011  # standard atomic weight of carbon (IUPAC, abridged)
GRAMS_CO2_PER_MOL = 44.009  # 12.011 + 2 x 15.999
_SPECIES = r"(?P<species>CO_?2|C)(?![A-Za-z0-9_])"
# The species glued to a mass or amount unit (`gC`, `kgC`, `MgC`, `molCO2`, `umolCO2`) or standing alone.
_SPECIES_GLUED = re.compile(r"(?:(?<=g)|(?<=mol))" + _SPECIES)
_SPECIES_ALONE = re.compile(r"(?<![A-Za-z0-9_])" + _SPECIES)
# Spellings UDUNITS does not read as a time: `a` (annum; UDUNITS: are, 100 m2), `annum`, `mon`.
_ALIASES = [(re.compile(r"(?<![A-Za-z_])(a|annum)(?![A-Za-z_])"), "yr"),
            (re.compile(r"(?<![A-Za-z_])mon(?![A-Za-z_])"), "month"),
            (re.compile(r"\s*\*\s*(?=[0-9.])"), "*")]  # `g m-2 s-1 * 1000`: UDUNITS wants no spaces there
_WORD = re.compile(r"[A-Za-z_\u00b5\u03bc]+")
# A number glued to a word (`8day-1`, `8-day-1`), not an exponent (`m-2s-1`): UDUNITS multiplies (8 x day-1), while
# a MODIS-style `8day-1` means per 8-day period (64x apart in a month).
_GLUED_NUMBER = re.compile(r"(?<![\w.^*-])(?P<number>\d+(?:\.\d+)?)-?(?P<word>[A-Za-z_]+)")
_MASS_FLUX, _AMOUNT_FLUX = "g m-2 {}-1", "mol m-2 {}-1"


@dataclass(frozen=True)
class FluxUnit:
    """A carbon flux density unit: `grams` of carbon per m2 per `per` (year or month of the file's calendar, or
    day); `parsed` is UDUNITS' canonical definition of the unit without the species, `species` the carbon
    species the text named (`C`, `CO2`) or None (mass taken as carbon)."""

    grams: float
    per: str
    text: str
    parsed: str = ""
    species: str | None = None

    def factor(self, year: int, month: int, calendar: str) -> float:
        """Multiplier to g C m-2 in that calendar month."""
        days = days_in_month(year, month, calendar)
        time = {"year": days / days_in_year(year, calendar), "month": 1.0, "day": float(days)}[self.per]
        return self.grams * time

    def factor_text(self, calendar: str) -> str:
        mass = "" if self.grams == 1 else f"{self.grams:.10g}*"
        time = {"year": "days_in_month/days_in_year", "month": "1", "day": "days_in_month"}[self.per]
        return f"{mass}{time} ({calendar_name(calendar)} calendar)"


def split_species(text: str) -> tuple[str, str | None]:
    """(the unit without its carbon species, the species `C` / `CO2` or None); one species at most."""
    found = [(m, gap) for pattern, gap in ((_SPECIES_GLUED, ""), (_SPECIES_ALONE, " "))
             for m in pattern.finditer(text)]
    if len({m.span() for m, _ in found}) > 1:
        raise NormalisationError(f"units {text!r} name the carbon species more than once")
    if not found:
        return text, None
    match, gap = found[0]
    rest = text[:match.start()] + gap + text[match.end():]
    return " ".join(rest.split()), match["species"].replace("_", "")


def _time_base(unit_text: str) -> str:
    """year, month or day: whether the unit's time terms are years (any power of ten of them), months, or
    fixed durations (seconds, minutes, hours, days, weeks)."""
    import cf_units

    kinds = set()
    for word in set(_WORD.findall(unit_text)):
        try:
            term = cf_units.Unit(word)
        except ValueError:
            continue
        if not term.is_convertible("s"):
            continue
        kinds.add(next((base for base in ("year", "month")
                        if _power_of_ten(term.convert(1.0, "yr" if base == "year" else "month"))), "day"))
    if len(kinds) > 1:
        raise NormalisationError(f"units {unit_text!r} mix {' and '.join(sorted(kinds))} rates")
    return kinds.pop() if kinds else "day"


def _refuse_glued_time(text: str, unit_text: str) -> None:
    """Refuse a number glued to a time unit (`8day-1`, `16day-1`, `8-day-1`): per 8 days or 8 per day?"""
    import cf_units

    for match in _GLUED_NUMBER.finditer(unit_text):
        try:
            is_time = cf_units.Unit(match["word"]).is_convertible("s")
        except ValueError:
            continue
        if is_time:
            raise AmbiguousUnits(
                f"units {text!r} are ambiguous: {match[0]!r} glues a number to a time unit (UDUNITS reads it as "
                f"{match['number']} x {match['word']}; per period of {match['number']} is "
                f"'({match['number']} {match['word']})-1')")


def _power_of_ten(value: float) -> bool:
    exponent = np.log10(value)
    return bool(abs(exponent - round(exponent)) < 1e-9)


def parse_units(text: str) -> FluxUnit:
    """Parse a carbon flux unit with UDUNITS-2: a mass (or amount) of carbon per area per time, such as
    `gC per m2 per year`, `Mg C km-2 (10 yr)-1`, `kg m-2 s-1`, `kgC/m2/s`, `umol CO2 m-2 s-1`, `1e3 g C m-2 a-1`.
    A mass of CO2 counts 12.011/44.009 of it in carbon, a mole of C or CO2 12.011 g of carbon."""
    import cf_units

    rest, species = split_species(text.strip().replace("\u03bc", "u").replace("\u00b5", "u"))
    for pattern, replacement in _ALIASES:
        rest = pattern.sub(replacement, rest)
    try:
        unit = cf_units.Unit(rest) if rest else None
    except ValueError:
        unit = None
    if unit is None or unit.is_unknown() or unit.is_no_unit():
        raise NormalisationError(f"unknown units {text!r} (UDUNITS-2 cannot parse {rest!r})")
    _refuse_glued_time(text, rest)
    per = _time_base(rest)
    time_word = {"year": "yr", "month": "month", "day": "d"}[per]
    if unit.is_convertible(_MASS_FLUX.format("s")):
        grams = unit.convert(1.0, _MASS_FLUX.format(time_word))
        if species == "CO2":
            grams *= GRAMS_C_PER_MOL / GRAMS_CO2_PER_MOL
    elif unit.is_convertible(_AMOUNT_FLUX.format("s")):
        grams = unit.convert(1.0, _AMOUNT_FLUX.format(time_word)) * GRAMS_C_PER_MOL
    else:
        raise NormalisationError(f"units {text!r} are not a mass of carbon per area per time "
                                 f"(UDUNITS-2 reads {rest!r} as {unit.definition!r})")
    # UDUNITS' arithmetic leaves float noise (`Mg` -> 999999.9999999998): 12 digits are far beyond float32 storage.
    return FluxUnit(float(f"{grams:.12g}"), per, text, unit.definition, species)


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


# CF's spellings of latitude and longitude units (CF 1.x, sections 4.1 and 4.2).
LAT_UNITS = ("degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn")
LON_UNITS = ("degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese")
# The usual coordinate names (any case), when a coordinate says nothing else.
LAT_NAMES = ("latitude", "lat", "lat_FULL", "y")
LON_NAMES = ("longitude", "lon", "lon_FULL", "x")


@dataclass(frozen=True)
class Coordinate:
    """A 1-D coordinate variable along one dimension: its name and the attributes that say what it is."""

    name: str
    units: object = None
    standard_name: object = None
    axis: object = None


def coordinate_kind(coord: Coordinate) -> str | None:
    """`lat`, `lon` or None: by CF `units` (degrees_north / degrees_east), else `standard_name`
    (latitude / longitude), else `axis` (Y / X), else the name (LAT_NAMES / LON_NAMES, any case)."""
    clues = (
        (coord.units, {u: "lat" for u in LAT_UNITS} | {u: "lon" for u in LON_UNITS}),
        (coord.standard_name, {"latitude": "lat", "longitude": "lon"}),
        (coord.axis, {"y": "lat", "x": "lon"}),
        (coord.name, {n.lower(): "lat" for n in LAT_NAMES} | {n.lower(): "lon" for n in LON_NAMES}),
    )
    for value, kinds in clues:
        if isinstance(value, str) and value.strip().lower() in kinds:
            return kinds[value.strip().lower()]
    return None


@dataclass(frozen=True)
class Dimensions:
    """Which of a variable's dimensions is time, latitude and longitude, and the coordinate variables
    holding the latitudes and longitudes."""

    time: str
    lat: str
    lon: str
    lat_coordinate: str
    lon_coordinate: str


def match_dimensions(variable: str, dims: tuple[str, ...],
                     coordinates: dict[str, list[Coordinate]]) -> Dimensions:
    """Name a 3-D variable's time, latitude and longitude dimensions, whatever their order. `coordinates`
    maps each dimension to its 1-D coordinate variables (the one named like it, else those along it). The
    latitude and longitude dimensions are those whose coordinates `coordinate_kind` reads as such; time is
    the remaining one."""
    shown = f"({', '.join(dims)})"

    def refuse(why: str) -> NormalisationError:
        return NormalisationError(f"{variable} has dimensions {shown}, which cannot be matched to "
                                  f"(time, lat, lon): {why}")

    if len(dims) != 3 or len(set(dims)) != 3:
        raise refuse("three distinct dimensions expected")
    found: dict[str, list[tuple[str, str]]] = {"lat": [], "lon": []}
    for dim in dims:
        kinds = [(kind, coord.name) for coord in coordinates.get(dim, [])
                 if (kind := coordinate_kind(coord)) is not None]
        if len({kind for kind, _ in kinds}) > 1:
            raise refuse(f"{dim}'s coordinates say both latitude and longitude")
        if kinds:
            kind, name = kinds[0]  # the first in file order
            found[kind].append((dim, name))
    for kind, label in (("lat", "latitude"), ("lon", "longitude")):
        if not found[kind]:
            raise refuse(f"no {label} coordinate variable along any of them")
        if len(found[kind]) > 1:
            raise refuse(f"{' and '.join(d for d, _ in found[kind])} are both {label}")
    (lat, lat_name), (lon, lon_name) = found["lat"][0], found["lon"][0]
    [time] = [d for d in dims if d not in (lat, lon)]
    return Dimensions(time=time, lat=lat, lon=lon, lat_coordinate=lat_name, lon_coordinate=lon_name)


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
    if not np.isfinite(array[:, :2].astype(float)).all():
        raise NormalisationError("start_date has missing (NaN) years or months")
    return [(int(y), int(m)) for y, m in array[:, :2]]


_ORIGIN_MONTH = re.compile(r"\s*(?P<year>[+-]?\d{1,4})-(?P<month>\d{1,2})(?![0-9])")


def months_from_cf_time(values: np.ndarray, units: str | None, calendar: str | None) -> list[YearMonth]:
    """Decode a CF time axis to (year, month), including 'months since' that CF tools refuse."""
    if not units or " since " not in units:
        raise NormalisationError(f"time has no CF units ({units!r})")
    step, origin = units.split(" since ", 1)
    cal = calendar_name(calendar)
    if not np.isfinite(np.asarray(values, float)).all():
        raise NormalisationError("time has missing (non-finite) values")
    if step.strip().lower() in ("months", "month"):
        # only the origin's year and month count; the day may be left out (`months since 2016-01`)
        origin_month = _ORIGIN_MONTH.match(origin)
        if origin_month is None:
            raise NormalisationError(f"cannot decode time (origin {origin.strip()!r} is not YYYY-MM[-DD])")
        year, month = int(origin_month["year"]), int(origin_month["month"])
        if not 1 <= month <= 12:
            raise NormalisationError(f"cannot decode time (origin {origin.strip()!r} is not YYYY-MM[-DD])")
        offsets = np.floor(np.asarray(values, float) + 1e-9).astype(int)
        return [(year + (month - 1 + k) // 12, (month - 1 + k) % 12 + 1) for k in offsets]
    try:
        dates = cftime.num2date(np.asarray(values), units, calendar=cal)
    except (ValueError, TypeError) as exc:
        raise NormalisationError(f"cannot decode time ({exc})") from None
    return [(d.year, d.month) for d in np.atleast_1d(dates)]


def months_from_cf_bounds(bounds: np.ndarray, units: str | None, calendar: str | None) -> list[YearMonth]:
    """The months of a CF time axis with bounds (time, 2): the month holding each interval's midpoint. Files
    that stamp a month at its end (CESM/CLM: January at 2016-02-01, bounds [2016-01-01, 2016-02-01]) or at its
    start or middle all give the month the interval covers; the midpoint, unlike the lower bound, does not fall
    into the month before when a bound is a rounding error early (2015-12-31 23:59:59.9)."""
    array = np.asarray(bounds, float)
    if array.ndim != 2 or array.shape[1] != 2:
        raise NormalisationError(f"time bounds have shape {array.shape}, expected (time, 2)")
    return months_from_cf_time(array.mean(axis=1), units, calendar)


# How far apart a monthly axis's consecutive stamps (or each step's bounds) may be: 28 to 31 days, with room for
# mid-month conventions (29.5 days from mid-January to mid-February); annual (365), 8-day or daily axes fall outside.
MONTH_STEP_DAYS = (26.0, 35.0)
MONTH_STEP_MONTHS = (0.8, 1.2)  # `months since` axes


def check_monthly_steps(values: np.ndarray, units: str, calendar: str | None, bounds: bool = False) -> None:
    """Refuse a CF time axis that is not monthly: consecutive stamps (`values`, (time,)) or, with `bounds`, each
    step's interval (`values`, (time, 2)) must be about a month long (MONTH_STEP_DAYS; MONTH_STEP_MONTHS for
    `months since`)."""
    array = np.asarray(values, float)
    if bounds:
        starts, ends, what = array[:, 0], array[:, 1], "time bounds span"
    else:
        starts, ends, what = array[:-1], array[1:], "consecutive time stamps are"
    if starts.size == 0:
        return
    step, _ = units.split(" since ", 1)
    if step.strip().lower() in ("months", "month"):
        lengths, (low, high), unit = ends - starts, MONTH_STEP_MONTHS, "months"
    else:
        cal = calendar_name(calendar)
        first, last = (cftime.num2date(v, units, calendar=cal) for v in (starts, ends))
        lengths = np.array([(b - a).total_seconds() / 86400.0 for a, b in zip(np.atleast_1d(first),
                                                                               np.atleast_1d(last), strict=True)])
        (low, high), unit = MONTH_STEP_DAYS, "days"
    bad = np.flatnonzero((lengths < low) | (lengths > high))
    if bad.size:
        k = int(bad[0])
        raise NormalisationError(f"not a monthly time axis: {what} {lengths[k]:.4g} {unit} at step {k + 1} "
                                 f"(expected about a month: an annual, daily or 8-day file?)")


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

def cf_integer_dtype(dtype: np.dtype, unsigned: object) -> np.dtype:
    """The integer type a NetCDF variable's stored values are to be read as under CF's `_Unsigned`: a signed
    integer type with `_Unsigned = "true"` (NETCDF3 has no unsigned types) is its unsigned counterpart of the same
    size, an unsigned one with `"false"` its signed counterpart; any other type or attribute keeps the type."""
    dtype = np.dtype(dtype)
    flag = unsigned.strip().lower() if isinstance(unsigned, str) else None
    if dtype.kind == "i" and flag == "true":
        return np.dtype(f"u{dtype.itemsize}")
    if dtype.kind == "u" and flag == "false":
        return np.dtype(f"i{dtype.itemsize}")
    return dtype


def as_cf_integers(values: object, stored: np.dtype, read_as: np.dtype) -> np.ndarray:
    """Values of the stored integer type (the data, or a fill value attribute) reinterpreted bit for bit as
    `read_as` (cf_integer_dtype's): int8 -56 is uint8 200."""
    array = np.asarray(values)
    if np.dtype(read_as) == np.dtype(stored):
        return array
    return array.astype(stored).view(read_as)


ALL_VALID = (-np.inf, np.inf)


def valid_interval(attrs: dict, stored: np.dtype, read_as: np.dtype) -> tuple[float, float]:
    """CF's valid_range, or valid_min / valid_max, as (low, high) in the stored (packed) values' units: values
    outside are missing. Neither attribute: every value is valid. A valid_range that is not two numbers, or
    bounds that are not numbers or are inverted, raise NormalisationError."""
    def numbers(name: str, count: int) -> list[float]:
        try:
            values = np.atleast_1d(as_cf_integers(attrs[name], stored, read_as)).astype(np.float64)
        except (TypeError, ValueError):
            raise NormalisationError(f"{name} {attrs[name]!r} is not numeric") from None
        if values.size != count or np.isnan(values).any():
            raise NormalisationError(f"{name} {attrs[name]!r} is not {'two numbers' if count == 2 else 'a number'}")
        return list(values)

    if "valid_range" in attrs:
        low, high = numbers("valid_range", 2)
    else:
        low = numbers("valid_min", 1)[0] if "valid_min" in attrs else -np.inf
        high = numbers("valid_max", 1)[0] if "valid_max" in attrs else np.inf
    if low > high:
        raise NormalisationError(f"the valid range [{low:g}, {high:g}] is empty (its low end is above its high end)")
    return low, high


def mask_outside(values: np.ndarray, interval: tuple[float, float]) -> np.ndarray:
    """`values` (float, modified in place and returned) with those outside the closed `interval` as NaN."""
    if interval != ALL_VALID:
        with np.errstate(invalid="ignore"):
            values[(values < interval[0]) | (values > interval[1])] = np.nan
    return values


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


# -- coverage --------------------------------------------------------------------------------------------------

def region_window(grid: Grid, bbox: tuple[float, float, float, float] | None) -> tuple[slice, slice]:
    """(rows, columns) of the grid's cells that intersect `bbox` = (west, south, east, north) in degrees, or the
    whole grid when there is no box; an empty window when they do not meet."""
    if bbox is None:
        return slice(0, grid.ny), slice(0, grid.nx)
    west, south, east, north = bbox
    col0 = int(np.clip(np.floor((west - grid.west) / grid.dx), 0, grid.nx))
    col1 = int(np.clip(np.ceil((east - grid.west) / grid.dx), 0, grid.nx))
    row0 = int(np.clip(np.floor((grid.north - north) / grid.dy), 0, grid.ny))
    row1 = int(np.clip(np.ceil((grid.north - south) / grid.dy), 0, grid.ny))
    return slice(row0, max(row0, row1)), slice(col0, max(col0, col1))


def check_valid_share(values: np.ndarray, window: tuple[slice, slice], min_share: float, region: str) -> None:
    """Refuse a month whose share of valid (non-NaN) cells in `window` of the north-up array is below
    `min_share`, or that has no valid cell there at all."""
    cells = values[window]
    valid = int(np.isfinite(cells).sum())
    if cells.size == 0:
        raise NormalisationError(f"the grid does not cover the analysis region ({region})")
    if valid == 0 or valid < min_share * cells.size:
        raise NormalisationError(
            f"{valid} valid of {cells.size} cells ({100 * valid / cells.size:.3g}%) over the analysis region "
            f"({region}), below the product's min_valid_share {100 * min_share:g}%")
