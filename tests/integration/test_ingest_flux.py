"""`sinkload ingest flux` through the real CLI: round trips per format variant, reloads, bad input.

Expected values are computed here with numpy from what the writers put in the files (calendar days from the
standard library or written out), never with sinkload.normalize.
"""

from __future__ import annotations

import calendar
from pathlib import Path

import cf_units
import numpy as np
import psycopg
import pytest

from tests.flux_files import (
    LAT_1DEG,
    LON_1DEG,
    beps_window,
    field,
    write_beps_tif,
    write_mip,
    write_trendy,
)
from tests.support import database_fingerprint

EXTRA_CATALOG = Path(__file__).with_name("catalog_extra.yaml")
MIP = "oco2_v10_mip_lnlgis"
MONTHS_72 = [(2015 + k // 12, k % 12 + 1) for k in range(72)]
NOLEAP = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def std_days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def std_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def north_up(values: np.ndarray, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """(time, lat, lon) in file order -> rows north first, lon in -180..180 ascending."""
    wrapped = np.where(lons >= 180, lons - 360, lons)
    return values[:, np.argsort(-lats), :][:, :, np.argsort(wrapped)]


def read_back(conn: psycopg.Connection, product: str, member: str, month: tuple[int, int]) -> np.ndarray:
    """The stored month of a member as one north-up array over its grid (NaN where NODATA or no tile)."""
    rows = conn.execute("""
        select g.nx, g.ny, t.row0, t.col0, ST_DumpValues(t.rast, 1)
        from raw.flux_tile t join raw.grid g using (grid_id)
        join raw.product p using (product_id) join raw.member m using (member_id)
        where p.name = %s and m.name = %s and t.month = make_date(%s, %s, 1)
    """, [product, member, *month]).fetchall()
    assert rows, f"nothing stored for {product}/{member} {month}"
    nx, ny = rows[0][0], rows[0][1]
    out = np.full((ny, nx), np.nan)
    for _, _, row0, col0, values in rows:
        block = np.array(values, dtype=float)  # None -> nan
        out[row0:row0 + block.shape[0], col0:col0 + block.shape[1]] = block
    return out


def assert_round_trip(conn, product: str, member: str, months, expected: np.ndarray) -> None:
    for k, month in enumerate(months):
        got = read_back(conn, product, member, month)
        np.testing.assert_allclose(got, expected[k].astype(np.float32), rtol=2e-6, atol=1e-9, equal_nan=True,
                                   err_msg=f"{product}/{member} {month}")


def ingest(run_cli, *args) -> str:
    result = run_cli("ingest", "flux", *map(str, args))
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def mip_expected(raw: np.ndarray, months, lats, lons) -> np.ndarray:
    """gC m-2 yr-1, positive = source -> g C m-2 per month, positive = sink."""
    factor = np.array([std_days(y, m) / std_year(y) for y, m in months])
    return -north_up(raw.astype(float), lats, lons) * factor[:, None, None]


# -- round trips ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "lats", "lons", "start_day", "time_units"), [
    ("Ames", LAT_1DEG, LON_1DEG, 1, "days since 2000-01-01"),
    ("CT", LAT_1DEG, LON_1DEG, 15, "days since 2000-01-01"),  # mid-month start_date days
    ("LoFI", LAT_1DEG, LON_1DEG, None, "days since 2015-01-01 00:00:00"),  # no start_date: CF time
    ("OU", LAT_1DEG, np.r_[np.arange(0.5, 30), np.arange(330.5, 360)], 1, "days since 2000-01-01"),  # 0..360
    ("UT", LAT_1DEG[::-1], LON_1DEG, 1, "days since 2000-01-01"),  # descending latitude
])
def test_mip_member_round_trip(tmp_path, run_cli, conn, model, lats, lons, start_day, time_units):
    folder = tmp_path / "LNLGIS"
    folder.mkdir()
    raw = field(72, lats, lons, 300.0, seed=len(model))
    first_days = np.array([(np.datetime64(f"{y}-{m:02d}-01") - np.datetime64("2015-01-01")).astype(int)
                           for y, m in MONTHS_72], dtype=float)
    write_mip(folder / f"{model.lower()}_gridded_fluxes_LNLGIS.nc4", raw, lats, lons, MONTHS_72,
              start_day=start_day, time_units=time_units, time_values=first_days if start_day is None else None)
    write_mip(folder / "EnsStd_gridded_fluxes_LNLGIS.nc4", raw, lats, lons, MONTHS_72, units=None)
    out = ingest(run_cli, folder, "--product", MIP)
    assert "EnsStd" in out and "skipped" in out
    assert_round_trip(conn, MIP, model, MONTHS_72, mip_expected(raw, MONTHS_72, lats, lons))
    assert "already loaded" in ingest(run_cli, folder, "--product", MIP)


def test_ensmean_without_time_or_units(tmp_path, run_cli, conn):
    raw = field(72, LAT_1DEG, LON_1DEG, 200.0, seed=7)
    path = write_mip_ensmean(tmp_path, raw)
    ingest(run_cli, path, "--product", "oco2_v10_mip_lnlgis_ensmean")
    assert_round_trip(conn, "oco2_v10_mip_lnlgis_ensmean", "EnsMean", MONTHS_72,
                      mip_expected(raw, MONTHS_72, LAT_1DEG, LON_1DEG))
    batch = conn.execute("select units_found, units_assumed, sign_applied, species, parsed_unit from raw.load_batch "
                         "where file_name = %s order by batch_id desc limit 1", [path.name]).fetchone()
    assert batch[:4] == (None, True, -1, "C")  # the catalog default `gC m-2 yr-1`
    assert batch[4] == cf_units.Unit("g m-2 yr-1").definition


def test_units_under_another_attribute_name_are_refused_not_defaulted(tmp_path, run_cli, conn):
    """An EnsMean file (no `units`: the catalog's default applies) that says its units as `unit` is refused:
    the default would be wrong by the ratio of the two."""
    import netCDF4

    path = write_mip_ensmean(tmp_path, field(72, LAT_1DEG, LON_1DEG, 200.0, seed=8))
    with netCDF4.Dataset(path, "a") as ds:
        ds.variables["land"].setncattr("unit", "g C m-2 d-1")
    before = database_fingerprint(conn)
    result = run_cli("ingest", "flux", path, "--product", "oco2_v10_mip_lnlgis_ensmean")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(path) in result.stderr and "`unit`" in result.stderr and "`units:`" in result.stderr
    assert database_fingerprint(conn) == before


def write_mip_ensmean(folder: Path, raw: np.ndarray) -> Path:
    path = folder / "EnsMean_gridded_fluxes_LNLGIS.nc4"
    write_mip(path, raw, LAT_1DEG, LON_1DEG, MONTHS_72, time_units=None, time_dim="n_months", units=None)
    return path


def test_trendy_noleap_days_since(tmp_path, run_cli, conn):
    lats, lons = np.arange(54.75, 15, -0.5), np.arange(70.25, 100, 0.5)
    months = [(2016, m) for m in range(1, 13)]
    days = np.cumsum([0] + NOLEAP[:-1]) + np.array(NOLEAP) / 2 + 365 * (2016 - 1700)
    raw = field(12, lats, lons, 3e-8, seed=3)
    write_trendy(tmp_path / "VEGAS_S3_nbp.nc", raw, lats, lons, days, "days since 1700-01-01 00:00:00", "noleap")
    ingest(run_cli, tmp_path / "VEGAS_S3_nbp.nc", "--product", "vegas")
    factor = 1000.0 * 86400.0 * np.array(NOLEAP, dtype=float)  # kg -> g, per second -> month (noleap Feb = 28)
    assert_round_trip(conn, "vegas", "VEGAS", months, north_up(raw.astype(float), lats, lons) * factor[:, None, None])


def decoded_months(path: Path) -> list[tuple[int, int]]:
    """Independent: the (year, month) of each time stamp as xarray and cftime decode the file."""
    import xarray as xr

    with xr.open_dataset(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True)) as ds:
        return [(t.year, t.month) for t in ds["time"].values]


def test_proleptic_gregorian_days_since_year_one(tmp_path, run_cli, conn):
    lats, lons = np.arange(40.25, 45, 0.5), np.arange(100.25, 105, 0.5)
    days = np.array([(np.datetime64(f"2012-{m:02d}-01") - np.datetime64("0001-01-01")).astype(int)
                     for m in range(1, 13)], dtype=float)  # numpy dates are proleptic Gregorian
    raw = field(12, lats, lons, 2e-8, seed=31)
    write_trendy(tmp_path / "VEGAS_S3_nbp.nc", raw, lats, lons, days, "days since 0001-01-01 00:00:00",
                        "proleptic_gregorian")
    months = decoded_months(tmp_path / "VEGAS_S3_nbp.nc")
    assert months == [(2012, m) for m in range(1, 13)]
    ingest(run_cli, tmp_path / "VEGAS_S3_nbp.nc", "--product", "vegas")
    factor = 1000.0 * 86400.0 * np.array([std_days(y, m) for y, m in months], dtype=float)
    assert_round_trip(conn, "vegas", "VEGAS", months, north_up(raw.astype(float), lats, lons) * factor[:, None, None])


def test_time_stamped_at_the_end_of_the_month_with_bounds(tmp_path, run_cli, conn):
    """CESM/CLM history files: January stamped 2016-02-01, time_bnds [2016-01-01, 2016-02-01]."""
    import netCDF4
    import xarray as xr

    lats, lons = np.arange(40.25, 45, 0.5), np.arange(110.25, 115, 0.5)
    starts = np.array([(np.datetime64(f"2016-{m:02d}-01") - np.datetime64("2016-01-01")).astype(int)
                       for m in range(1, 13)], dtype=float)
    ends = np.r_[starts[1:], 366.0]
    raw = field(12, lats, lons, 2e-8, seed=32)
    path = tmp_path / "CLM_S3_nbp.nc"
    write_trendy(path, raw, lats, lons, ends, "days since 2016-01-01 00:00:00", "standard")
    with netCDF4.Dataset(path, "a") as ds:
        ds.createDimension("nbnd", 2)
        ds.createVariable("time_bnds", "f8", ("time", "nbnd"))[:] = np.stack([starts, ends], axis=1)
        ds["time"].bounds = "time_bnds"
    with xr.open_dataset(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True)) as ds:
        months = [(t.year, t.month) for t in ds["time_bnds"].values[:, 0]]  # the lower bounds, as cftime reads them
    assert months == [(2016, m) for m in range(1, 13)]
    ingest(run_cli, path, "--product", "vegas", "--member", "VEGAS")
    factor = 1000.0 * 86400.0 * np.array([std_days(y, m) for y, m in months], dtype=float)
    assert_round_trip(conn, "vegas", "VEGAS", months, north_up(raw.astype(float), lats, lons) * factor[:, None, None])
    assert conn.execute("select count(*) from raw.flux_tile t join raw.load_batch b using (batch_id) "
                        "where b.file_name = %s and t.month = '2017-01-01'", [path.name]).fetchone()[0] == 0


def test_missing_value_vector_and_months_since_a_month(tmp_path, run_cli, conn):
    """CF allows a vector missing_value (every value listed is missing) and `months since YYYY-MM` (no day)."""
    import netCDF4

    lats, lons = np.arange(26.25, 31, 0.5), np.arange(95.25, 100, 0.5)
    raw = field(4, lats, lons, 2e-8, seed=33)
    raw[:, 2, 2], raw[:, 3, 3] = -99999.0, -1.0  # both listed in missing_value
    path = tmp_path / "vector.nc"
    write_trendy(path, raw, lats, lons, np.arange(4) + 0.5, "months since 2016-01", "360_day")
    with netCDF4.Dataset(path, "a") as ds:
        ds["nbp"].setncattr("missing_value", np.array([-99999.0, -1.0], "f4"))
    ingest(run_cli, path, "--product", "vegas", "--member", "VEGAS")
    expected = np.where((raw == -99999.0) | (raw == -1.0), np.nan, raw).astype(float)
    months = [(2016, m) for m in range(1, 5)]
    assert_round_trip(conn, "vegas", "VEGAS", months, north_up(expected, lats, lons) * 1000 * 86400 * 30)


@pytest.mark.parametrize("dims", [("time", "lat", "lon"), ("time", "lon", "lat"), ("lat", "lon", "time")])
def test_dimension_order_is_read_from_the_coordinates(tmp_path, run_cli, conn, dims):
    """A field written (time, lon, lat), or with time last, stores what xarray's transpose to (time, lat, lon)
    of the file gives; the window (every latitude and longitude inside 0..90) let a positional reading load it
    transposed."""
    import xarray as xr

    lats, lons = np.arange(39.75, 20, -0.5), np.arange(75.25, 90, 0.5)  # 40 x 30 cells
    year = {("time", "lat", "lon"): 2003, ("time", "lon", "lat"): 2004, ("lat", "lon", "time"): 2005}[dims]
    raw = field(12, lats, lons, 3e-8, seed=36)
    path = tmp_path / f"VEGAS_{'_'.join(dims)}.nc"
    write_trendy(path, raw, lats, lons, np.cumsum([0] + NOLEAP[:-1]) + 15.0, f"days since {year}-01-01",
                 "noleap", dims=dims)
    with xr.open_dataset(path) as ds:
        assert ds["nbp"].dims == dims
        in_order = ds["nbp"].transpose("time", "lat", "lon")
        file_lats, file_lons, values = ds["lat"].values, ds["lon"].values, in_order.values.astype(float)
    ingest(run_cli, path, "--product", "vegas", "--member", "VEGAS")
    factor = 1000.0 * 86400.0 * np.array(NOLEAP, dtype=float)
    expected = north_up(values, file_lats, file_lons) * factor[:, None, None]
    assert_round_trip(conn, "vegas", "VEGAS", [(year, m) for m in range(1, 13)], expected)
    grid = conn.execute("select g.west, g.north, g.nx, g.ny from raw.grid g join raw.load_batch b using (grid_id) "
                        "where b.file_path = %s order by b.batch_id desc limit 1", [str(path.resolve())]).fetchone()
    assert grid == (75.0, 40.0, 30, 40)


@pytest.mark.bad_input
def test_dimensions_without_latitude_or_longitude_are_refused(tmp_path, run_cli, conn):
    import netCDF4

    path = tmp_path / "VEGAS_S3_nbp.nc"
    with netCDF4.Dataset(path, "w") as ds:
        for name, size in (("time", 2), ("row", 4), ("column", 5)):
            ds.createDimension(name, size)
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar, t[:] = "days since 2003-01-01", "noleap", [15.0, 45.0]
        nbp = ds.createVariable("nbp", "f4", ("time", "row", "column"))
        nbp.units, nbp[:] = "kg m-2 s-1", np.full((2, 4, 5), 1e-8, np.float32)
    before = database_fingerprint(conn)
    result = run_cli("ingest", "flux", path, "--product", "vegas")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert str(path) in lines[0] and "nbp has dimensions (time, row, column)" in lines[0], lines[0]
    assert "cannot be matched to (time, lat, lon)" in lines[0], lines[0]
    assert database_fingerprint(conn) == before


def write_noleap_2006_axes(ds, lats: np.ndarray, lons: np.ndarray) -> None:
    """Dimensions and coordinates of a 12-month VEGAS-style file (noleap 2006) in an open netCDF4 Dataset."""
    for name, size in (("time", 12), ("lat", lats.size), ("lon", lons.size)):
        ds.createDimension(name, size)
    ds.createVariable("lat", "f4", ("lat",))[:] = lats
    ds.createVariable("lon", "f4", ("lon",))[:] = lons
    t = ds.createVariable("time", "f8", ("time",))
    t.units, t.calendar, t[:] = "days since 2006-01-01", "noleap", np.cumsum([0] + NOLEAP[:-1]) + 15.0


@pytest.mark.parametrize("packed", [True, False])
def test_unsigned_bytes_are_read_as_xarray_decodes_them(tmp_path, run_cli, conn, packed):
    """NETCDF3 has no unsigned types: byte data with `_Unsigned = "true"` (200 stored as -56), with and without
    scale_factor / add_offset, and a _FillValue of 255 stored as -1. The signed reading stored 200 as -56."""
    import netCDF4
    import xarray as xr

    lats, lons = np.arange(44.75, 40, -0.5), np.arange(100.25, 105, 0.5)
    counts = np.random.default_rng(37).integers(0, 255, (12, lats.size, lons.size)).astype(np.uint8)
    counts[:, 0, :2], counts[:, 1, 1] = 255, 200  # the fill value; a value above 127
    path = tmp_path / "VEGAS_S3_nbp_unsigned.nc"
    with netCDF4.Dataset(path, "w", format="NETCDF3_CLASSIC") as ds:
        write_noleap_2006_axes(ds, lats, lons)
        nbp = ds.createVariable("nbp", "i1", ("time", "lat", "lon"), fill_value=np.int8(-1))
        nbp.set_auto_maskandscale(False)
        nbp.setncattr("_Unsigned", "true")
        nbp.units = "kg m-2 s-1" if packed else "g C m-2 month-1"
        if packed:
            nbp.scale_factor, nbp.add_offset = np.float32(1e-10), np.float32(1e-9)
        nbp[:] = counts.view(np.int8)
    with xr.open_dataset(path, decode_times=False) as ds:
        decoded = ds["nbp"].values.astype(float)
    assert np.isnan(decoded[:, 0, :2]).all() and np.isfinite(decoded[:, 1:, :]).all()
    assert decoded[0, 1, 1] == pytest.approx(200 * 1e-10 + 1e-9 if packed else 200, rel=1e-6)
    ingest(run_cli, path, "--product", "vegas", "--member", "VEGAS")
    factor = 1000.0 * 86400.0 * np.array(NOLEAP, dtype=float) if packed else np.ones(12)
    assert_round_trip(conn, "vegas", "VEGAS", [(2006, m) for m in range(1, 13)],
                      north_up(decoded, lats, lons) * factor[:, None, None])


@pytest.mark.parametrize(("packed", "attributes"), [
    (False, {"valid_range": [-2.0, 2.0]}),
    (False, {"valid_min": -2.0}),
    (True, {"valid_range": [-200, 200]}),  # packed: in stored units (int16 x 0.01)
    (True, {"valid_max": 200}),
])
def test_values_outside_the_valid_range_are_missing(tmp_path, run_cli, conn, packed, attributes):
    """CF: values outside valid_range (or below valid_min, above valid_max; in the stored, packed units) are
    missing. They were stored as data."""
    import netCDF4

    lats, lons = np.arange(44.75, 40, -0.5), np.arange(100.25, 105, 0.5)
    values = np.random.default_rng(41).uniform(-1.5, 1.5, (12, lats.size, lons.size))
    values[:, 0, 0], values[:, 1, 2] = 3.5, -3.5  # outside [-2, 2]
    path = tmp_path / "VEGAS_S3_nbp_valid_range.nc"
    with netCDF4.Dataset(path, "w") as ds:
        write_noleap_2006_axes(ds, lats, lons)
        nbp = ds.createVariable("nbp", "i2" if packed else "f4", ("time", "lat", "lon"))
        nbp.set_auto_maskandscale(False)
        nbp.units = "g C m-2 month-1"
        if packed:
            nbp.scale_factor = np.float32(0.01)
            stored = np.round(values / 0.01)
            nbp[:] = stored.astype(np.int16)
            values = stored * np.float64(np.float32(0.01))
        else:
            nbp[:] = values.astype(np.float32)
            values = values.astype(np.float32).astype(float)
        for name, bound in attributes.items():
            nbp.setncattr(name, np.array(bound, dtype=np.int16 if packed else np.float32))
    ingest(run_cli, path, "--product", "vegas", "--member", "VEGAS")
    expected = values.copy()
    if "valid_max" not in attributes:
        expected[:, 1, 2] = np.nan
    if "valid_min" not in attributes:
        expected[:, 0, 0] = np.nan
    assert_round_trip(conn, "vegas", "VEGAS", [(2006, m) for m in range(1, 13)], north_up(expected, lats, lons))


@pytest.mark.bad_input
def test_a_malformed_valid_range_is_refused(tmp_path, run_cli, conn):
    import netCDF4

    lats, lons = np.arange(44.75, 40, -0.5), np.arange(100.25, 105, 0.5)
    path = tmp_path / "VEGAS_S3_nbp.nc"
    write_trendy(path, field(12, lats, lons, 3.0, seed=43), lats, lons, np.cumsum([0] + NOLEAP[:-1]) + 15.0,
                 "days since 2006-01-01", "noleap", units="g C m-2 month-1")
    with netCDF4.Dataset(path, "a") as ds:
        ds["nbp"].setncattr("valid_range", np.array([5.0, -5.0], dtype=np.float32))
    before = database_fingerprint(conn)
    result = run_cli("ingest", "flux", path, "--product", "vegas", "--member", "VEGAS")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(path) in result.stderr and "valid range" in result.stderr, result.stderr
    assert database_fingerprint(conn) == before


def test_ambiguous_file_units_refused_and_given_in_the_catalog(tmp_path, run_cli, conn):
    """MODIS-style `g C m-2 8day-1` (per 8-day period; UDUNITS: 8 x day-1) is refused, pointing to the catalog,
    whose `units` then replace the file's."""
    import yaml

    lats, lons = np.arange(35.25, 40, 0.5), np.arange(85.25, 90, 0.5)
    raw = field(12, lats, lons, 3.0, seed=34)
    days = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5]) + 365 * 311
    path = tmp_path / "VEGAS_S3_nbp.nc"
    write_trendy(path, raw, lats, lons, days, "days since 1700-01-01", "noleap", units="g C m-2 8day-1")
    before = database_fingerprint(conn)
    result = run_cli("ingest", "flux", path, "--product", "vegas")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(path) in result.stderr and "ambiguous" in result.stderr and "catalog (`units:`" in result.stderr
    assert database_fingerprint(conn) == before

    document = yaml.safe_load(EXTRA_CATALOG.read_text(encoding="utf-8"))
    document["products"]["vegas"] = {"family": "netcdf", "kind": "bottom-up", "variable": "nbp", "sign": 1,
                                     "time": {"rule": "cf"}, "members": ["VEGAS"], "units": "g C m-2 (8 day)-1"}
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(document), encoding="utf-8")
    ingest(run_cli, path, "--product", "vegas", "--catalog", catalog)
    factor = np.array(NOLEAP, dtype=float) / 8  # g per 8 days -> g in the (noleap) month
    assert_round_trip(conn, "vegas", "VEGAS", [(2011, m) for m in range(1, 13)],
                      north_up(raw.astype(float), lats, lons) * factor[:, None, None])
    batch = conn.execute("select units_found, units_assumed from raw.load_batch where file_path = %s "
                         "order by batch_id desc limit 1", [str(path.resolve())]).fetchone()
    assert batch == ("g C m-2 8day-1", True)


@pytest.mark.bad_input
def test_a_file_named_twice_is_loaded_once(tmp_path, run_cli, conn):
    """The same file given as itself, through its folder and through a link is one file, not two files holding
    the member's months (which is refused)."""
    lats, lons = np.arange(35.25, 40, 0.5), np.arange(85.25, 90, 0.5)
    raw = field(12, lats, lons, 3.0, seed=43)
    days = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5]) + 365 * 314
    folder, links = tmp_path / "files", tmp_path / "links"
    folder.mkdir()
    links.mkdir()
    path = folder / "VEGAS_S3_nbp.nc"
    write_trendy(path, raw, lats, lons, days, "days since 1700-01-01", "noleap", units="g C m-2 d-1")
    (links / path.name).symlink_to(path)
    ingest(run_cli, folder, path, links / path.name, "--product", "vegas")
    assert conn.execute("select count(*) from raw.load_batch where sha256 = (select sha256 from raw.load_batch "
                        "where file_path = %s limit 1)", [str(path.resolve())]).fetchone()[0] == 1
    assert_round_trip(conn, "vegas", "VEGAS", [(2014, m) for m in range(1, 13)],
                      north_up(raw.astype(float), lats, lons) * np.array(NOLEAP, dtype=float)[:, None, None])


def test_force_loads_an_already_loaded_file_again_after_a_catalog_correction(tmp_path, run_cli, conn):
    """A file loaded with the catalog's wrong sign is 'already loaded' when the catalog is corrected, the
    message says --force, and --force loads it again with the corrected sign: every month rewritten."""
    import yaml

    lats, lons = np.arange(35.25, 40, 0.5), np.arange(85.25, 90, 0.5)
    raw = field(12, lats, lons, 3.0, seed=41)
    days = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5]) + 365 * 313
    path = tmp_path / "VEGAS_S3_nbp.nc"
    write_trendy(path, raw, lats, lons, days, "days since 1700-01-01", "noleap", units="g C m-2 d-1")
    document = yaml.safe_load(EXTRA_CATALOG.read_text(encoding="utf-8"))

    def catalog(sign: int) -> Path:
        document["products"]["vegas"] = {"family": "netcdf", "kind": "bottom-up", "variable": "nbp", "sign": sign,
                                         "time": {"rule": "cf"}, "members": ["VEGAS"]}
        written = tmp_path / f"catalog_{sign}.yaml"
        written.write_text(yaml.safe_dump(document), encoding="utf-8")
        return written

    months = [(2013, m) for m in range(1, 13)]
    expected = north_up(raw.astype(float), lats, lons) * np.array(NOLEAP, dtype=float)[:, None, None]
    ingest(run_cli, path, "--product", "vegas", "--catalog", catalog(-1))
    assert_round_trip(conn, "vegas", "VEGAS", months, -expected)
    again = run_cli("ingest", "flux", path, "--product", "vegas", "--catalog", catalog(1))
    assert again.returncode == 0 and "already loaded" in again.stderr and "--force" in again.stderr, again.stderr
    assert_round_trip(conn, "vegas", "VEGAS", months, -expected)
    forced = ingest(run_cli, path, "--product", "vegas", "--catalog", catalog(1), "--force")
    assert "already loaded" not in forced
    assert_round_trip(conn, "vegas", "VEGAS", months, expected)
    signs = conn.execute("select sign_applied from raw.load_batch where file_path = %s order by batch_id",
                         [str(path.resolve())]).fetchall()
    assert signs == [(-1,), (1,)]


@pytest.mark.parametrize("with_bounds", [False, True])
def test_annual_time_axis_is_refused(tmp_path, run_cli, conn, with_bounds):
    """TRENDY's annual-only files (mid-year stamps) were stored as each year's July."""
    import netCDF4

    lats, lons = np.arange(26.25, 31, 0.5), np.arange(75.25, 80, 0.5)
    stamps = 365.0 * (np.arange(2011, 2016) - 1700) + 182.5  # noleap days since 1700-01-01
    path = tmp_path / "VEGAS_S3_nbp_annual.nc"
    write_trendy(path, field(5, lats, lons, 2e-8, seed=35), lats, lons, stamps, "days since 1700-01-01", "noleap")
    if with_bounds:
        with netCDF4.Dataset(path, "a") as ds:
            ds.createDimension("nb", 2)
            ds.createVariable("time_bounds", "f8", ("time", "nb"))[:] = np.stack([stamps - 182.5, stamps + 182.5], 1)
            ds["time"].bounds = "time_bounds"
    before = database_fingerprint(conn)
    result = run_cli("ingest", "flux", path, "--product", "vegas")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    words = "time bounds span 365 days" if with_bounds else "consecutive time stamps are 365 days"
    assert str(path) in lines[0] and "not a monthly time axis" in lines[0] and words in lines[0], lines[0]
    assert database_fingerprint(conn) == before


def test_months_since_360_day(tmp_path, run_cli, conn):
    lats, lons = np.arange(20.25, 30, 0.5), np.arange(100.25, 110, 0.5)
    raw = field(6, lats, lons, 2e-8, seed=4)
    write_trendy(tmp_path / "m360.nc", raw, lats, lons, np.arange(6) + 0.5, "months since 2010-11-01", "360_day")
    ingest(run_cli, tmp_path / "m360.nc", "--product", "vegas", "--member", "vegas")
    months = [(2010, 11), (2010, 12), (2011, 1), (2011, 2), (2011, 3), (2011, 4)]
    assert_round_trip(conn, "vegas", "VEGAS", months, north_up(raw.astype(float), lats, lons) * 1000 * 86400 * 30)


def test_beps_geotiff(tmp_path, run_cli, conn):
    west, north, dx = beps_window()
    raw = field(12, np.zeros(30), np.zeros(40), 3.0, seed=5)
    write_beps_tif(tmp_path / "BEPS_NEP_2016.tif", raw, west, north, dx)
    ingest(run_cli, tmp_path / "BEPS_NEP_2016.tif", "--product", "beps")
    days = np.array([std_days(2016, m) for m in range(1, 13)], dtype=float)
    assert_round_trip(conn, "beps", "BEPS", [(2016, m) for m in range(1, 13)], raw * days[:, None, None])
    grid = conn.execute("select g.west, g.north, g.nx, g.ny from raw.grid g join raw.load_batch b using (grid_id) "
                        "where b.file_name = 'BEPS_NEP_2016.tif' order by b.batch_id desc limit 1").fetchone()
    assert grid[0] == pytest.approx(west) and grid[1] == pytest.approx(north) and grid[2:] == (40, 30)


def _geotiff_as_gdal_reads_it(path: Path) -> np.ndarray:
    """Independent: every band with rasterio's own mask (nodata, mask band) as NaN, times GDAL's band scale plus
    its offset."""
    import rasterio

    with rasterio.open(path) as src:
        bands = src.read(masked=True).astype(float).filled(np.nan)
        return bands * np.array(src.scales)[:, None, None] + np.array(src.offsets)[:, None, None]


@pytest.mark.parametrize(("year", "dtype", "scale", "offset"), [
    (2017, "int16", 0.1, 0.0),  # packed: was stored 10x
    (2018, "float32", 1.0, 0.5),  # an offset on a float band: was lost
])
def test_beps_geotiff_band_scale_and_offset(tmp_path, run_cli, conn, year, dtype, scale, offset):
    import rasterio
    from rasterio.transform import from_origin

    west, north, dx = beps_window()
    nep = np.round(np.random.default_rng(year).uniform(-2, 3, (12, 30, 40)), 1)  # g C m-2 d-1
    stored = (nep - offset) / scale
    nodata = -32768 if dtype == "int16" else -9999.0
    stored[:, 0, :4] = nodata
    path = tmp_path / f"BEPS_NEP_{year}.tif"
    with rasterio.open(path, "w", driver="GTiff", width=40, height=30, count=12, dtype=dtype, crs="EPSG:4326",
                       transform=from_origin(west, north, dx, dx), nodata=nodata) as dst:
        dst.write(np.round(stored).astype(dtype) if dtype == "int16" else stored.astype(dtype))
        dst.scales, dst.offsets = [scale] * 12, [offset] * 12
    ingest(run_cli, path, "--product", "beps")
    days = np.array([std_days(year, m) for m in range(1, 13)], dtype=float)
    expected = _geotiff_as_gdal_reads_it(path) * days[:, None, None]
    assert np.isnan(expected[:, 0, :4]).all() and np.isfinite(expected[:, 1:, :]).all()
    assert_round_trip(conn, "beps", "BEPS", [(year, m) for m in range(1, 13)], expected)


def test_beps_geotiff_mask_band_cells_are_missing(tmp_path, run_cli, conn):
    """A GeoTIFF without nodata whose invalid cells (stored as 0) are marked by an internal mask band."""
    import rasterio
    from rasterio.transform import from_origin

    west, north, dx = beps_window()
    nep = np.random.default_rng(19).uniform(0.5, 3, (12, 30, 40)).astype(np.float32)
    nep[:, :, :20] = 0.0
    mask = np.full((30, 40), 255, np.uint8)
    mask[:, :20] = 0  # the west half: no data
    path = tmp_path / "BEPS_NEP_2013.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(
            path, "w", driver="GTiff", width=40, height=30, count=12, dtype="float32", crs="EPSG:4326",
            transform=from_origin(west, north, dx, dx)) as dst:
        dst.write(nep)
        dst.write_mask(mask)
    with rasterio.open(path) as src:
        assert src.nodata is None and int(src.read(1, masked=True).mask.sum()) == 600
    ingest(run_cli, path, "--product", "beps")
    days = np.array([std_days(2013, m) for m in range(1, 13)], dtype=float)
    expected = np.where(mask == 0, np.nan, nep.astype(float)) * days[:, None, None]
    assert_round_trip(conn, "beps", "BEPS", [(2013, m) for m in range(1, 13)], expected)
    assert conn.execute("select n_values from raw.load_batch where file_name = %s order by batch_id desc limit 1",
                        [path.name]).fetchone()[0] == 12 * 600


def test_beps_netcdf_and_v11_from_another_catalog(tmp_path, run_cli, conn):
    west, north, dx = beps_window()
    lats, lons = north - dx * (np.arange(30) + 0.5), west + dx * (np.arange(40) + 0.5)
    raw = field(3, lats, lons, 3.0, seed=6)
    write_trendy(tmp_path / "beps.nc", raw, lats, lons, np.array([14.5, 45, 74.5]), "days since 2017-01-01",
                 "standard", units="g C m-2 d-1", variable="nep")
    ingest(run_cli, tmp_path / "beps.nc", "--product", "beps_netcdf", "--catalog", EXTRA_CATALOG)
    days = np.array([31, 28, 31], dtype=float)
    assert_round_trip(conn, "beps_netcdf", "BEPS", [(2017, 1), (2017, 2), (2017, 3)], raw * days[:, None, None])

    raw11 = field(2, LAT_1DEG, LON_1DEG, 300.0, seed=8)
    seconds = np.array([(np.datetime64(f"2024-0{m}-01") - np.datetime64("1970-01-01")).astype("timedelta64[s]")
                        .astype(float) for m in (1, 2)])
    write_mip(tmp_path / "CMS_Flux_gridded_fluxes_LNLGIS.nc4", raw11, LAT_1DEG, LON_1DEG, [(2024, 1), (2024, 2)],
              start_day=None, time_units="seconds since 1970-01-01", time_values=seconds, units=None,
              variable="land_flux")
    result = run_cli("ingest", "flux", tmp_path / "CMS_Flux_gridded_fluxes_LNLGIS.nc4",
                     "--product", "oco2_v11_mip_lnlgis", env={"SINKLOAD_CATALOG": str(EXTRA_CATALOG)})
    assert result.returncode == 0, result.stderr
    assert_round_trip(conn, "oco2_v11_mip_lnlgis", "CMS-Flux", [(2024, 1), (2024, 2)],
                      mip_expected(raw11, [(2024, 1), (2024, 2)], LAT_1DEG, LON_1DEG))


def test_changed_file_replaces_exactly_its_months(tmp_path, run_cli, conn):
    lats, lons = np.arange(30.25, 35, 0.5), np.arange(110.25, 115, 0.5)
    first = field(4, lats, lons, 2e-8, seed=9)
    noleap_mid = [15.5, 45.0, 74.5, 105.0]
    write_trendy(tmp_path / "a.nc", first, lats, lons, np.array(noleap_mid) + 365 * 300, "days since 1700-01-01", "noleap")
    ingest(run_cli, tmp_path / "a.nc", "--product", "vegas")
    first_bytes = (tmp_path / "a.nc").read_bytes()
    second = field(2, lats, lons, 2e-8, seed=10)
    write_trendy(tmp_path / "a.nc", second, lats, lons, np.array(noleap_mid[1:3]) + 365 * 300,
                 "days since 1700-01-01", "noleap")
    ingest(run_cli, tmp_path / "a.nc", "--product", "vegas")
    expected = north_up(np.concatenate([first[:1], second, first[3:]]).astype(float), lats, lons)
    factor = 1000 * 86400 * np.array(NOLEAP[:4], dtype=float)
    assert_round_trip(conn, "vegas", "VEGAS", [(2000, m) for m in range(1, 5)], expected * factor[:, None, None])

    # The first file still owns months 1 and 4, yet it is not "already loaded": restoring it brings back all four.
    (tmp_path / "a.nc").write_bytes(first_bytes)
    assert "already loaded" not in ingest(run_cli, tmp_path / "a.nc", "--product", "vegas")
    restored = north_up(first.astype(float), lats, lons)
    assert_round_trip(conn, "vegas", "VEGAS", [(2000, m) for m in range(1, 5)], restored * factor[:, None, None])


# -- unchanged months are kept, re-pointed to the new file -----------------------------------------------------

# The digest as migration 0010 defines it, recomputed from the stored rasters (not by sinkload.db.rasters).
STORED_DIGESTS = """
    select t.month, t.batch_id, t.month_digest,
        encode(sha256(convert_to(t.grid_id::text || ':', 'UTF8')
                      || string_agg(st_asbinary(t.rast), ''::bytea order by t.tile_row, t.tile_col)), 'hex')
    from raw.flux_tile t join raw.member m on m.member_id = t.member_id join raw.product p on p.product_id = t.product_id
    where p.name = 'vegas' and m.name = 'VEGAS' and t.month between '1990-01-01' and '1990-12-01'
    group by t.month, t.batch_id, t.month_digest, t.grid_id
"""
MONTHS_1990 = [(1990, m) for m in range(1, 6)]
NOLEAP_MID_1990 = np.array([15.5, 45.0, 74.5, 105.0, 135.5]) + 365 * 290  # days since 1700-01-01, noleap


def _stored(conn) -> dict:
    """month -> (batch_id, stored digest); asserts one batch and one digest per month, equal to the recomputed one."""
    rows = conn.execute(STORED_DIGESTS).fetchall()
    assert len({month for month, *_ in rows}) == len(rows)
    for month, _batch, stored, recomputed in rows:
        assert stored == recomputed, month
    return {month.month: (batch, digest) for month, batch, digest, _ in rows}


def _load(settings, path: Path):
    from sinkload.db.warehouse import Warehouse
    from sinkload.ingest.flux import ingest_paths

    [result] = ingest_paths(Warehouse.of(settings), [path], "vegas").results
    return result


def _batch_of(conn, path: Path) -> int:
    return conn.execute("select max(batch_id) from raw.load_batch where file_path = %s", [str(path.resolve())]).fetchone()[0]


def test_unchanged_months_are_repointed_changed_ones_rewritten(tmp_path, settings, conn):
    from sinkload.db.raw_state import already_loaded
    from sinkload.files import sha256_of

    lats, lons = np.arange(20.25, 24, 0.5), np.arange(100.25, 104, 0.5)
    values = field(5, lats, lons, 2e-8, seed=21)
    factor = 1000 * 86400 * np.array(NOLEAP[:5], dtype=float)
    first = tmp_path / "first.nc"
    write_trendy(first, values[:4], lats, lons, NOLEAP_MID_1990[:4], "days since 1700-01-01", "noleap")
    assert _load(settings, first).unchanged == 0
    before = _stored(conn)
    assert set(before) == {1, 2, 3, 4}

    # The same four months and a fifth: the four are kept and now belong to the new file.
    appended = tmp_path / "appended.nc"
    write_trendy(appended, values, lats, lons, NOLEAP_MID_1990, "days since 1700-01-01", "noleap")
    result = _load(settings, appended)
    assert (result.months, result.unchanged) == (5, 4)
    after = _stored(conn)
    assert {m: d for m, (_, d) in after.items() if m <= 4} == {m: d for m, (_, d) in before.items()}
    assert {batch for batch, _ in after.values()} == {_batch_of(conn, appended)}
    valid = int(np.isfinite(values).sum())
    assert conn.execute("select n_values from raw.load_batch where batch_id = %s",
                        [_batch_of(conn, appended)]).fetchone()[0] == valid
    assert already_loaded(conn, "vegas", "VEGAS", sha256_of(appended))
    assert not already_loaded(conn, "vegas", "VEGAS", sha256_of(first))
    assert_round_trip(conn, "vegas", "VEGAS", MONTHS_1990, north_up(values.astype(float), lats, lons) * factor[:, None, None])

    # One old month corrected: only it is written again.
    corrected_values = values.copy()
    corrected_values[1] *= 1.5
    corrected = tmp_path / "corrected.nc"
    write_trendy(corrected, corrected_values, lats, lons, NOLEAP_MID_1990, "days since 1700-01-01", "noleap")
    assert _load(settings, corrected).unchanged == 4
    digests = {m: d for m, (_, d) in _stored(conn).items()}
    assert [m for m in digests if digests[m] != after[m][1]] == [2]
    assert_round_trip(conn, "vegas", "VEGAS", MONTHS_1990,
                      north_up(corrected_values.astype(float), lats, lons) * factor[:, None, None])

    # A file without the last two months replaces only the months it holds (as before digests): those it
    # no longer has stay with the previous file, which so is no longer current.
    shorter = tmp_path / "shorter.nc"
    write_trendy(shorter, corrected_values[:3], lats, lons, NOLEAP_MID_1990[:3], "days since 1700-01-01", "noleap")
    assert _load(settings, shorter).unchanged == 3
    batches = {m: batch for m, (batch, _) in _stored(conn).items()}
    assert batches == {1: _batch_of(conn, shorter), 2: _batch_of(conn, shorter), 3: _batch_of(conn, shorter),
                       4: _batch_of(conn, corrected), 5: _batch_of(conn, corrected)}
    assert not already_loaded(conn, "vegas", "VEGAS", sha256_of(corrected))


# -- bad input ------------------------------------------------------------------------------------------------

def _mip(tmp_path: Path, name: str = "Baker", months=MONTHS_72, lats=LAT_1DEG, lons=LON_1DEG, **kw) -> Path:
    raw = kw.pop("raw", None)
    raw = field(len(months), lats, lons, 300.0, seed=11) if raw is None else raw
    path = tmp_path / f"{name}_gridded_fluxes_LNLGIS.nc4"
    write_mip(path, raw, lats, lons, months, **kw)
    return path


def _all_nan_month(tmp_path: Path) -> Path:
    raw = field(72, LAT_1DEG, LON_1DEG, 300.0, seed=12)
    raw[40] = np.nan
    return _mip(tmp_path, raw=raw)


def _huge(tmp_path: Path) -> Path:
    raw = field(72, LAT_1DEG, LON_1DEG, 300.0, seed=13)
    raw[60, 5, 5] = 1e8
    return _mip(tmp_path, raw=raw)


# A corrupt (truncated) NetCDF, missing units without a catalog default, a wrong grid and duplicate months in one
# file are in tests/faults/test_ingest_faults.py, against a database with built marts.
BAD_FILES = {
    "missing file": (lambda p: p / "Baker_gridded_fluxes_LNLGIS.nc4", "not found"),
    "missing variable": (lambda p: _mip(p, variable="lnd"), "no variable"),
    "unknown units": (lambda p: _mip(p, units="gC m-2 blorps-1"), "unknown units"),
    "not a carbon flux": (lambda p: _mip(p, units="furlongs per fortnight"), "not a mass of carbon per area"),
    "non-monotonic": (lambda p: _mip(p, lats=LAT_1DEG[[1, 0, *range(2, LAT_1DEG.size)]]), "monotonic"),
    "duplicated coordinate": (lambda p: _mip(p, lons=np.r_[LON_1DEG[:-1], LON_1DEG[-2]]), "duplicated"),
    "wrong month count": (lambda p: _mip(p, months=MONTHS_72[:60]), "60 months"),
    "all-NaN month": (_all_nan_month, "missing"),
    "beyond physical range": (_huge, "beyond"),
}


@pytest.fixture(scope="module")
def loaded_before(tmp_path_factory, run_cli) -> None:
    """Something in raw before the bad loads, so a partial write or delete would show."""
    folder = tmp_path_factory.mktemp("before")
    _mip(folder)
    ingest(run_cli, folder, "--product", MIP)


@pytest.mark.bad_input
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_changes_nothing(tmp_path, run_cli, conn, loaded_before, case):
    make, words = BAD_FILES[case]
    path = make(tmp_path)
    before = database_fingerprint(conn)
    result = run_cli("ingest", "flux", path, "--product", MIP)
    assert result.returncode == 1, (case, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (case, result.stderr)
    assert path.name in lines[0] and words.lower() in lines[0].lower(), (case, lines[0])
    assert database_fingerprint(conn) == before, case


@pytest.mark.bad_input
def test_bad_file_in_a_folder_leaves_its_good_neighbours_out_too(tmp_path, run_cli, conn, loaded_before):
    """The all-NaN month is found only while loading, after a good file of the folder was written."""
    _mip(tmp_path, name="Ames")  # sorts first: written before the bad file is reached
    bad = _all_nan_month(tmp_path)
    before = database_fingerprint(conn)
    result = run_cli("ingest", "flux", tmp_path, "--product", MIP)
    assert result.returncode == 1, result.stdout
    assert bad.name in result.stderr and "missing" in result.stderr.lower(), result.stderr
    assert database_fingerprint(conn) == before
