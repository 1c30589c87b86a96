"""Units, sign, calendars and time rules at the door, against values worked out by hand."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from sinkload.normalize import (
    Coordinate,
    Grid,
    NormalisationError,
    as_cf_integers,
    axis_order,
    cf_integer_dtype,
    check_monthly_steps,
    check_months,
    check_valid_share,
    days_in_month,
    match_dimensions,
    months_from_cf_bounds,
    months_from_cf_time,
    months_from_start_date,
    normalise_month,
    parse_units,
    region_window,
    split_species,
    valid_interval,
)

# (units text, year, month, calendar) -> factor to g C m-2 in that month, worked out by hand
HAND_FACTORS = [
    ("gC per m2 per year", 2016, 2, "standard", 29 / 366),  # MIP: leap February
    ("gC m-2 yr-1", 2015, 2, "standard", 28 / 365),
    ("g C m-2 year-1", 2015, 2, "noleap", 28 / 365),
    ("g C m-2 a-1", 2016, 12, "standard", 31 / 366),  # `a` is annum here, not UDUNITS' are (100 m2)
    ("Mg C m-2 yr-1", 2015, 1, "standard", 1e6 * 31 / 365),  # megagram, not milligram
    ("MgC ha-1 yr-1", 2015, 1, "standard", 1e6 / 1e4 * 31 / 365),
    ("Gg C m-2 yr-1", 2015, 4, "standard", 1e9 * 30 / 365),
    ("g C km-2 yr-1", 2015, 4, "standard", 1e-6 * 30 / 365),
    ("g C cm-2 yr-1", 2015, 4, "standard", 1e4 * 30 / 365),
    ("1e3 g C m-2 yr-1", 2015, 4, "standard", 1e3 * 30 / 365),
    ("g C m-2 yr-1 * 1000", 2015, 4, "standard", 1e3 * 30 / 365),
    ("Mg C m-2 (10 yr)-1", 2015, 1, "standard", 1e6 / 10 * 31 / 365),
    ("Mg C km-2 (10 yr)-1", 2016, 2, "360_day", 1e6 / 1e6 / 10 * 30 / 360),
    ("kg m-2 s-1", 2016, 2, "noleap", 1000 * 86400 * 28),  # TRENDY nbp: no 29 February in noleap
    ("kg m-2 s-1", 2016, 7, "365_day", 1000 * 86400 * 31),
    ("kg m-2 s-1", 2016, 2, "360_day", 1000 * 86400 * 30),
    ("kgC/m2/s", 2016, 2, "standard", 1000 * 86400 * 29),
    ("g C m-2 d-1", 2016, 2, "standard", 29),  # BEPS daily rate
    ("g C m-2 day-1", 2015, 4, "standard", 30),
    ("g C m-2 h-1", 2015, 4, "standard", 24 * 30),
    ("gC/m2/month", 2015, 4, "standard", 1),
    ("g C m-2 month-1", 2016, 2, "360_day", 1),
    ("mgC m-2 day-1", 2015, 1, "standard", 0.001 * 31),
    # CO2 mass and moles: 12.011 g C per mol, 44.009 g CO2 per mol
    ("g CO2 m-2 yr-1", 2015, 6, "standard", 12.011 / 44.009 * 30 / 365),
    ("kgCO2 m-2 s-1", 2015, 6, "standard", 1000 * 12.011 / 44.009 * 86400 * 30),
    ("mol m-2 s-1", 2015, 6, "standard", 12.011 * 86400 * 30),  # CarbonTracker-style
    ("umol m-2 s-1", 2015, 6, "standard", 1e-6 * 12.011 * 86400 * 30),
    ("\u00b5mol CO2 m-2 s-1", 2015, 6, "standard", 1e-6 * 12.011 * 86400 * 30),
    ("\u03bcmol m-2 s-1", 2015, 6, "standard", 1e-6 * 12.011 * 86400 * 30),
    ("mmol C m-2 d-1", 2015, 6, "standard", 1e-3 * 12.011 * 30),
    ("g C m-2 (8 day)-1", 2015, 6, "standard", 30 / 8),  # per 8-day period, written unambiguously
    ("kg m-2s-1", 2015, 6, "standard", 1000 * 86400 * 30),  # an exponent followed by a unit is no glued number
]


@pytest.mark.parametrize(("text", "year", "month", "calendar", "factor"), HAND_FACTORS)
def test_unit_factors(text, year, month, calendar, factor):
    assert parse_units(text).factor(year, month, calendar) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize(("text", "species", "rest"), [
    ("gC m-2 yr-1", "C", "g m-2 yr-1"), ("kgC/m2/s", "C", "kg/m2/s"), ("g C m-2 d-1", "C", "g m-2 d-1"),
    ("umolCO2 m-2 s-1", "CO2", "umol m-2 s-1"), ("g CO_2 m-2 s-1", "CO2", "g m-2 s-1"),
    ("kg m-2 s-1", None, "kg m-2 s-1"), ("degC", "C", "deg"),
])
def test_species_is_taken_off_before_udunits(text, species, rest):
    assert split_species(text) == (rest, species)


def test_parsed_unit_and_species_are_recorded():
    unit = parse_units("Mg C m-2 yr-1")
    assert unit.species == "C" and unit.per == "year" and "m-2" in unit.parsed and "kg" in unit.parsed
    assert parse_units("kg m-2 s-1").species is None
    assert parse_units("kg m-2 s-1").factor_text("noleap") == "86400000*days_in_month (noleap calendar)"


@pytest.mark.parametrize(("text", "words"), [
    ("furlongs per fortnight", "not a mass of carbon per area per time"),  # a speed
    ("kg m-2", "not a mass of carbon per area per time"),
    ("W m-2", "not a mass of carbon per area per time"),
    ("gC per year", "not a mass of carbon per area per time"),  # no area
    ("PgC yr-1", "not a mass of carbon per area per time"),
    ("g C m-2 K-1 s-1", "not a mass of carbon per area per time"),
    ("C m-2 s-1", "not a mass of carbon per area per time"),  # coulomb would be a charge; carbon alone no mass
    ("", "unknown units"),
    ("gC m-2 blorps-1", "unknown units"),
    ("gC C m-2 s-1", "more than once"),
    ("g C m-2 yr-1 month-1 month", "mix"),
    ("g C m-2 8day-1", "ambiguous: '8day' glues a number to a time unit"),  # UDUNITS: 8 x day-1, 64x per month
    ("g C m-2 16day-1", "ambiguous"),
    ("g C m-2 10day-1", "ambiguous"),
    ("g C m-2 8-day-1", "ambiguous: '8-day'"),
])
def test_units_that_are_not_a_carbon_flux_are_refused(text, words):
    with pytest.raises(NormalisationError, match=words):
        parse_units(text)


def test_sign_orientation_and_conversion_of_one_month():
    lats = np.array([-0.5, 0.5])  # ascending: south first in the file
    lons = np.array([45.0, 135.0, 225.0, 315.0])  # 0..360
    raw = np.array([[1.0, 2.0, 3.0, 4.0],
                    [5.0, 6.0, 7.0, -9999.0]])  # -9999 is a fill value
    order = axis_order(lats, lons)
    out = normalise_month(raw, order, factor=2.0, sign=-1)
    # north-up rows; columns by longitude in -180..180: 225 -> -135, 315 -> -45, then 45, 135
    expected = np.array([[-14.0, np.nan, -10.0, -12.0],
                         [-6.0, -8.0, -2.0, -4.0]])
    np.testing.assert_array_equal(out, expected)
    assert (order.grid.west, order.grid.north, order.grid.dx, order.grid.dy) == (-180.0, 1.0, 90.0, 1.0)


def test_months_from_start_date_and_cf_time():
    assert months_from_start_date(np.array([[2015, 1, 1], [2015, 2, 15]])) == [(2015, 1), (2015, 2)]
    # TRENDY: mid-month days since 1700 in noleap: 2016-02-14 is day 365*316 + 31 + 13
    assert months_from_cf_time(np.array([365 * 316 + 44.0]), "days since 1700-01-01", "noleap") == [(2016, 2)]
    assert months_from_cf_time(np.array([0.5, 13.5]), "months since 2010-11-01", "360_day") == [(2010, 11), (2011, 12)]
    with pytest.raises(NormalisationError, match="no CF units"):
        months_from_cf_time(np.array([1.0]), None, None)
    assert months_from_cf_time(np.array([0.5, 10.5]), "months since 2016-01", "standard") == [(2016, 1), (2016, 11)]
    with pytest.raises(NormalisationError, match="not YYYY-MM"):
        months_from_cf_time(np.array([0.5]), "months since 2016-13", "standard")
    with pytest.raises(NormalisationError, match="non-finite"):
        months_from_cf_time(np.array([0.5, np.nan]), "months since 2016-01", "standard")
    with pytest.raises(NormalisationError, match="missing \\(NaN\\)"):
        months_from_start_date(np.array([[2015.0, 1, 1], [np.nan, 2, 1]]))


def test_proleptic_gregorian_is_not_the_mixed_calendar():
    # Python's date ordinals are proleptic Gregorian: days since 0001-01-01 of the first of each month of 2016
    days = np.array([datetime.date(2016, m, 1).toordinal() - 1 for m in range(1, 13)], dtype=float)
    units = "days since 0001-01-01 00:00:00"
    assert months_from_cf_time(days, units, "proleptic_gregorian") == [(2016, m) for m in range(1, 13)]
    assert months_from_cf_time(days, units, "standard")[0] == (2015, 12)  # Julian before 1582: 2 days later
    assert days_in_month(1500, 2, "proleptic_gregorian") == 28  # 1500: not a Gregorian leap year
    assert days_in_month(1500, 2, "standard") == 29  # but a Julian one
    assert days_in_month(1582, 10, "standard") == 21  # the 5th to the 14th do not exist
    assert days_in_month(1582, 10, "proleptic_gregorian") == 31
    assert [days_in_month(2016, m, "proleptic_gregorian") for m in (1, 2, 12)] == [31, 29, 31]
    assert parse_units("kg m-2 s-1").factor_text("proleptic_gregorian").endswith("(proleptic_gregorian calendar)")


def test_months_from_time_bounds():
    # CESM/CLM: stamped at the end of the month, bounds the month itself (days since 2016-01-01, standard)
    starts = np.array([0.0, 31, 60])
    ends = np.array([31.0, 60, 91])
    bounds = np.stack([starts, ends], axis=1)
    assert months_from_cf_time(ends, "days since 2016-01-01", "standard") == [(2016, 2), (2016, 3), (2016, 4)]
    assert months_from_cf_bounds(bounds, "days since 2016-01-01", "standard") == [(2016, 1), (2016, 2), (2016, 3)]
    assert months_from_cf_bounds(bounds - 1e-6, "days since 2016-01-01", "standard")[0] == (2016, 1)
    assert months_from_cf_bounds(np.array([[0.0, 1], [1, 2]]), "months since 2010-11-01", "360_day") == [
        (2010, 11), (2010, 12)]
    with pytest.raises(NormalisationError, match="expected \\(time, 2\\)"):
        months_from_cf_bounds(starts, "days since 2016-01-01", "standard")


def test_a_time_axis_must_be_monthly():
    mid_noleap = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5, 380.5])
    check_monthly_steps(mid_noleap, "days since 2016-01-01", "noleap")  # 29.5 to 31 days apart
    check_monthly_steps(np.array([0.5, 1.5, 2.5]), "months since 2016-01", "standard")
    check_monthly_steps(np.array([0.0, 2678400.0]), "seconds since 2016-01-01", "standard")  # 31 days
    check_monthly_steps(np.array([[0.0, 31.0], [31.0, 60.0]]), "days since 2016-01-01", "standard", bounds=True)
    check_monthly_steps(np.array([5.0]), "days since 2016-01-01", "standard")  # one stamp: nothing to compare
    annual = 365.0 * np.arange(5) + 182.5
    with pytest.raises(NormalisationError, match="consecutive time stamps are 365 days at step 1"):
        check_monthly_steps(annual, "days since 1700-01-01", "noleap")
    with pytest.raises(NormalisationError, match="are 8 days"):
        check_monthly_steps(np.arange(4) * 8.0, "days since 2016-01-01", "standard")
    with pytest.raises(NormalisationError, match="time bounds span 366 days"):
        check_monthly_steps(np.array([[0.0, 366.0]]), "days since 2016-01-01", "standard", bounds=True)
    with pytest.raises(NormalisationError, match="are 12 months"):
        check_monthly_steps(np.array([0.5, 12.5]), "months since 2016-01", "360_day")


def test_month_checks():
    with pytest.raises(NormalisationError, match="duplicate month"):
        check_months([(2015, 1), (2015, 1)])
    with pytest.raises(NormalisationError, match="2 months"):
        check_months([(2015, 1), (2015, 2)], expected_count=72)


def test_missing_and_impossible_values():
    order = axis_order(np.array([0.5, 1.5]), np.array([0.5, 1.5]))
    with pytest.raises(NormalisationError, match="all values are missing"):
        normalise_month(np.array([[np.nan, 1e20], [np.nan, np.nan]]), order, 1.0, 1)
    with pytest.raises(NormalisationError, match="beyond any land flux"):
        normalise_month(np.ones((2, 2)), order, 1e6, 1)  # kg read as g, per second read as per month


def test_region_window_is_the_cells_meeting_the_box():
    grid = Grid(west=-180.0, north=90.0, dx=1.0, dy=1.0, nx=360, ny=180)
    rows, cols = region_window(grid, (110.0, 30.0, 114.0, 32.0))
    assert (rows.start, rows.stop, cols.start, cols.stop) == (58, 60, 290, 294)  # 2 x 4 whole cells
    rows, cols = region_window(grid, (110.5, 30.2, 113.1, 31.9))  # partly covered cells count
    assert (rows.start, rows.stop, cols.start, cols.stop) == (58, 60, 290, 294)
    assert region_window(grid, None) == (slice(0, 180), slice(0, 360))
    rows, cols = region_window(Grid(0.0, 10.0, 1.0, 1.0, 5, 5), (110.0, 30.0, 114.0, 32.0))  # does not meet
    assert rows.stop - rows.start == 0 or cols.stop - cols.start == 0


def test_valid_share_over_the_region():
    values = np.full((10, 10), np.nan)
    window = (slice(0, 10), slice(0, 10))
    values[0, 0] = 1.0  # one valid cell of 100
    check_valid_share(values, window, 0.01, "test")
    with pytest.raises(NormalisationError, match="1 valid of 100 cells"):
        check_valid_share(values, window, 0.02, "test")
    with pytest.raises(NormalisationError, match="0 valid of 4 cells"):
        check_valid_share(values, (slice(5, 7), slice(5, 7)), 0.0, "test")  # none valid: refused even at 0
    with pytest.raises(NormalisationError, match="does not cover"):
        check_valid_share(values, (slice(0, 0), slice(0, 10)), 0.0, "test")


@pytest.mark.parametrize(("dims", "coordinates", "expected"), [
    # the usual names, in either order
    (("time", "lat", "lon"), {"lat": [Coordinate("lat")], "lon": [Coordinate("lon")]}, ("time", "lat", "lon")),
    (("time", "lon", "lat"), {"lat": [Coordinate("lat")], "lon": [Coordinate("lon")]}, ("time", "lat", "lon")),
    (("n_months", "longitude", "latitude"), {"latitude": [Coordinate("LATITUDE")], "longitude": [Coordinate("Longitude")]},
     ("n_months", "latitude", "longitude")),
    # CF units, standard_name and axis before names: `a` and `b` say nothing by their names
    (("t", "a", "b"), {"a": [Coordinate("a", units="degrees_east")], "b": [Coordinate("b", units="degree_N")]},
     ("t", "b", "a")),
    (("a", "b", "t"), {"a": [Coordinate("a", standard_name="latitude")], "b": [Coordinate("b", axis="X")]},
     ("t", "a", "b")),
    # units outrank the name (a file whose `x` holds latitudes in degrees_north)
    (("time", "x", "y"), {"x": [Coordinate("x", units="degrees_north")], "y": [Coordinate("y", units="degrees_east")]},
     ("time", "x", "y")),
    # dimensions without a variable of their name: the 1-D variables along them
    (("time", "nlon", "nlat"), {"nlon": [Coordinate("lon")], "nlat": [Coordinate("area"), Coordinate("lat")]},
     ("time", "nlat", "nlon")),
])
def test_dimensions_are_matched_by_their_coordinates(dims, coordinates, expected):
    found = match_dimensions("nbp", dims, coordinates)
    assert (found.time, found.lat, found.lon) == expected


@pytest.mark.parametrize(("dims", "coordinates", "words"), [
    (("time", "row", "column"), {}, "no latitude coordinate variable"),
    (("time", "lat", "col"), {"lat": [Coordinate("lat")], "col": [Coordinate("col", units="m")]},
     "no longitude coordinate variable"),
    (("lat", "lat2", "lon"), {"lat": [Coordinate("lat")], "lat2": [Coordinate("lat2", axis="Y")],
                              "lon": [Coordinate("lon")]}, "lat and lat2 are both latitude"),
    (("lat", "lon"), {"lat": [Coordinate("lat")], "lon": [Coordinate("lon")]}, "three distinct dimensions"),
    (("time", "cell", "lon"), {"cell": [Coordinate("lat"), Coordinate("lon2", units="degrees_east")],
                               "lon": [Coordinate("lon")]}, "cell's coordinates say both"),
])
def test_unmatched_dimensions_are_refused_naming_the_variable_and_its_dimensions(dims, coordinates, words):
    with pytest.raises(NormalisationError, match=r"^nbp has dimensions \(") as caught:
        match_dimensions("nbp", dims, coordinates)
    assert f"({', '.join(dims)})" in str(caught.value) and words in str(caught.value)
    assert "cannot be matched to (time, lat, lon)" in str(caught.value) and "\n" not in str(caught.value)


def test_unsigned_attribute_gives_the_integer_type_the_values_are_read_as():
    assert cf_integer_dtype(np.dtype("i1"), "true") == np.dtype("u1")
    assert cf_integer_dtype(np.dtype("i2"), " True ") == np.dtype("u2")
    assert cf_integer_dtype(np.dtype("u4"), "false") == np.dtype("i4")
    for dtype, flag in (("i1", None), ("i1", "false"), ("u1", "true"), ("f4", "true"), ("i1", 1)):
        assert cf_integer_dtype(np.dtype(dtype), flag) == np.dtype(dtype)
    stored = np.array([-56, -1, 0, 127, -128], np.int8)
    np.testing.assert_array_equal(as_cf_integers(stored, np.dtype("i1"), np.dtype("u1")), [200, 255, 0, 127, 128])
    assert as_cf_integers(np.int8(-1), np.dtype("i1"), np.dtype("u1")) == 255  # a _FillValue attribute
    assert as_cf_integers(np.array([-1], np.int16), np.dtype("i2"), np.dtype("u2"))[0] == 65535
    assert as_cf_integers(np.array([200], np.uint8), np.dtype("u1"), np.dtype("i1"))[0] == -56
    np.testing.assert_array_equal(as_cf_integers(stored, np.dtype("i1"), np.dtype("i1")), stored)


@pytest.mark.parametrize(("attrs", "unsigned", "expected"), [
    ({}, False, (-np.inf, np.inf)),
    ({"valid_range": np.array([-3, 7], dtype=np.int16)}, False, (-3.0, 7.0)),
    ({"valid_min": np.float32(-1.5)}, False, (-1.5, np.inf)),
    ({"valid_max": 4}, False, (-np.inf, 4.0)),
    ({"valid_range": [0, 1], "valid_min": -9, "valid_max": 9}, False, (0.0, 1.0)),  # valid_range wins (netCDF4)
    ({"valid_range": np.array([-56, -1], dtype=np.int8)}, True, (200.0, 255.0)),
])
def test_valid_interval(attrs, unsigned, expected):
    stored = np.dtype("i1") if unsigned else np.dtype("f8")
    read_as = cf_integer_dtype(stored, "true" if unsigned else None)
    assert valid_interval(attrs, stored, read_as) == expected


@pytest.mark.parametrize(("attrs", "message"), [
    ({"valid_range": [1.0]}, "not two numbers"),
    ({"valid_range": "0 10"}, "not numeric"),
    ({"valid_min": [1.0, 2.0]}, "not a number"),
    ({"valid_min": 5, "valid_max": 1}, "is empty"),
    ({"valid_range": [0.0, np.nan]}, "not two numbers"),
])
def test_valid_interval_refuses_malformed_attributes(attrs, message):
    with pytest.raises(NormalisationError, match=message):
        valid_interval(attrs, np.dtype("f4"), np.dtype("f4"))
