"""An independent computation of the marts from the files themselves (numpy, netCDF4, rasterio, shapely,
pyproj). It shares no code with the sinkload package: it reads the files, converts units with its own
formulas, aggregates to 1° with its own overlap weights and measures regions with shapely on the sphere's
cylindrical equal-area projection."""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cftime
import netCDF4
import numpy as np
import pyproj
import rasterio
import shapely
from shapely.geometry import box

R = 6_371_000.0
SPHERE = "+proj=longlat +R=6371000 +no_defs +type=crs"
CEA = "+proj=cea +R=6371000 +units=m +no_defs +type=crs"
TO_CEA = pyproj.Transformer.from_crs(SPHERE, CEA, always_xy=True)


# -- calendars -------------------------------------------------------------------------------------------

def month_days(year: int, month: int, cal: str = "standard") -> int:
    if cal in ("noleap", "365_day"):
        return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    if cal == "360_day":
        return 30
    return calendar.monthrange(year, month)[1]


def year_days(year: int, cal: str = "standard") -> int:
    return sum(month_days(year, m, cal) for m in range(1, 13))


# -- a field on a regular lon/lat grid ---------------------------------------------------------------------

@dataclass
class Field:
    months: list[tuple[int, int]]
    lon_edges: np.ndarray  # ascending, -180..180
    lat_edges: np.ndarray  # ascending
    sink: np.ndarray  # [month, lat (ascending), lon (ascending)], g C m-2 per month, NaN = missing

    def __post_init__(self) -> None:
        # The warehouse stores 32-bit floats (as the files do): round the converted values the same way, so
        # that a sum whose terms nearly cancel is compared at 1e-6 of itself rather than of its terms.
        self.sink = self.sink.astype(np.float32).astype(np.float64)


def _edges(centres: np.ndarray) -> np.ndarray:
    step = float(np.median(np.diff(centres)))
    return np.concatenate([[centres[0] - step / 2], centres + step / 2])


def _orient(values: np.ndarray, lats: np.ndarray, lons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lons = np.where(lons >= 180, lons - 360, lons)
    lon_order, lat_order = np.argsort(lons), np.argsort(lats)
    return values[:, lat_order][:, :, lon_order], lats[lat_order], lons[lon_order]


def read_mip(path: Path) -> Field:
    """OCO-2 MIP file: land flux, gC m-2 yr-1 monthly-mean rate, positive = source."""
    with netCDF4.Dataset(path) as ds:
        land = ds["land"]
        land.set_auto_mask(False)
        values = np.array(land[:], dtype=np.float64)
        if "start_date" in ds.variables:
            months = [(int(y), int(m)) for y, m, _d in np.array(ds["start_date"][:])]
        else:
            t = ds["time"]
            dates = cftime.num2date(t[:], t.units, getattr(t, "calendar", "standard"))
            months = [(d.year, d.month) for d in dates]
        lats, lons = np.array(ds["latitude"][:], float), np.array(ds["longitude"][:], float)
    values, lats, lons = _orient(values, lats, lons)
    factors = np.array([month_days(y, m) / year_days(y) for y, m in months])
    return Field(months, _edges(lons), _edges(lats), -values * factors[:, None, None])


def read_trendy(path: Path, variable: str = "nbp") -> Field:
    """TRENDY nbp: kg m-2 s-1, positive = sink, CF time in the file's calendar, fill 1e20."""
    with netCDF4.Dataset(path) as ds:
        var = ds[variable]
        var.set_auto_mask(False)
        values = np.array(var[:], dtype=np.float64)
        fill = getattr(var, "_FillValue", 1e20)
        values[np.abs(values) >= abs(fill) * 0.999] = np.nan
        t = ds["time"]
        cal = getattr(t, "calendar", "standard")
        dates = cftime.num2date(t[:], t.units, cal)
        months = [(d.year, d.month) for d in dates]
        lats, lons = np.array(ds["lat"][:], float), np.array(ds["lon"][:], float)
    values, lats, lons = _orient(values, lats, lons)
    factors = np.array([1000 * 86400 * month_days(y, m, cal) for y, m in months], float)
    return Field(months, _edges(lons), _edges(lats), values * factors[:, None, None])


def read_beps(paths: list[Path]) -> Field:
    """BEPS GeoTIFFs, one per year (year in the name), band k = month k, g C m-2 d-1, positive = sink."""
    months, stacks = [], []
    for path in sorted(paths):
        year = int(re.search(r"(\d{4})", path.name).group(1))
        with rasterio.open(path) as src:
            data = src.read().astype(np.float64)
            data[data == src.nodata] = np.nan
            t = src.transform
            lon_edges = t.c + t.a * np.arange(src.width + 1)
            lat_edges_desc = t.f + t.e * np.arange(src.height + 1)
        for band in range(data.shape[0]):
            months.append((year, band + 1))
            stacks.append(data[band] * month_days(year, band + 1))
    sink = np.stack(stacks)[:, ::-1, :]
    return Field(months, lon_edges, lat_edges_desc[::-1], sink)


# -- harmonisation to 1° --------------------------------------------------------------------------------

def _overlap_matrix(native: np.ndarray, target: np.ndarray, measure) -> np.ndarray:
    """[native cell, target cell] overlap of 1-D intervals, measured by `measure` (lon: radians, lat: sin)."""
    lo = np.maximum(native[:-1, None], target[None, :-1])
    hi = np.minimum(native[1:, None], target[None, 1:])
    return np.where(hi > lo, measure(hi) - measure(np.minimum(lo, hi)), 0.0)


def to_one_degree(field: Field, lon0: int, lon1: int, lat0: int, lat1: int) -> np.ndarray:
    """[month, lat, lon] on the 1° cells lon0..lon1 x lat0..lat1 (edges); NaN where no valid native cell."""
    wx = _overlap_matrix(field.lon_edges, np.arange(lon0, lon1 + 1, dtype=float), np.radians)
    wy = _overlap_matrix(field.lat_edges, np.arange(lat0, lat1 + 1, dtype=float), lambda a: np.sin(np.radians(a)))
    valid = np.isfinite(field.sink)
    values = np.where(valid, field.sink, 0.0)
    numerator = np.einsum("tyx,yj,xi->tji", values, wy, wx, optimize=True)
    denominator = np.einsum("tyx,yj,xi->tji", valid.astype(float), wy, wx, optimize=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


# -- regions on the sphere ------------------------------------------------------------------------------

def to_cea(geom):
    return shapely.transform(shapely.segmentize(geom, 0.05), lambda xy: np.column_stack(TO_CEA.transform(xy[:, 0], xy[:, 1])))


def cell_area_m2(south: float, north: float, width_deg: float = 1.0) -> float:
    return R * R * np.radians(width_deg) * (np.sin(np.radians(north)) - np.sin(np.radians(south)))


def cell_overlaps(polygons: dict[str, object], lon0: int, lon1: int, lat0: int, lat1: int) -> dict[str, np.ndarray]:
    """Area (m^2) of each 1° cell inside each polygon: [lat, lon] arrays."""
    cells = [to_cea(box(x, y, x + 1, y + 1)) for y in range(lat0, lat1) for x in range(lon0, lon1)]
    shape = (lat1 - lat0, lon1 - lon0)
    result = {}
    for name, geom in polygons.items():
        projected = to_cea(geom)
        shapely.prepare(projected)
        areas = shapely.area(shapely.intersection(np.array(cells, dtype=object), projected))
        result[name] = np.asarray(areas, float).reshape(shape)
    return result


def dominant_classes(class_areas: dict[str, np.ndarray], ranks: dict[str, int]) -> np.ndarray:
    """[lat, lon] class name with the largest area (rounded to m^2; ties -> lower rank); '' where none."""
    names = sorted(class_areas, key=lambda c: ranks[c])
    stacked = np.stack([np.round(class_areas[c]) for c in names])
    best = np.argmax(stacked, axis=0)  # first maximum = lowest rank among ties
    out = np.array(names, dtype=object)[best]
    out[stacked.max(axis=0) <= 0] = ""
    return out


def dominant_groups(group_areas: dict[int, np.ndarray], classes: dict[int, tuple]) -> np.ndarray:
    """The study's order: [lat, lon] class of the vegetation group (code) with the largest area (rounded to
    m^2; ties -> the group whose class has the lower rank, then the lower code); '' where none.
    `classes`: code -> (class, is_ecosystem, rank)."""
    codes = sorted(group_areas, key=lambda code: (classes[code][2], code))
    stacked = np.stack([np.round(group_areas[code]) for code in codes])
    best = np.argmax(stacked, axis=0)
    out = np.array([classes[code][0] for code in codes], dtype=object)[best]
    out[stacked.max(axis=0) <= 0] = ""
    return out


def group_by(rows, key):
    grouped = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped
