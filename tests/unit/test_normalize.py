"""Units, sign, calendars and time rules at the door, against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sinkload.normalize import (
    NormalisationError,
    axis_order,
    check_months,
    months_from_cf_time,
    months_from_start_date,
    normalise_month,
    parse_units,
)

# (units text, year, month, calendar) -> factor to g C m-2 in that month, worked out by hand
HAND_FACTORS = [
    ("gC per m2 per year", 2016, 2, "standard", 29 / 366),  # MIP: leap February
    ("gC m-2 yr-1", 2015, 2, "standard", 28 / 365),
    ("kg m-2 s-1", 2016, 2, "noleap", 1000 * 86400 * 28),  # TRENDY nbp: no 29 February in noleap
    ("kg m-2 s-1", 2016, 7, "365_day", 1000 * 86400 * 31),
    ("kg m-2 s-1", 2016, 2, "360_day", 1000 * 86400 * 30),
    ("g C m-2 d-1", 2016, 2, "standard", 29),  # BEPS daily rate
    ("g C m-2 d-1", 2015, 4, "standard", 30),
    ("gC/m2/month", 2015, 4, "standard", 1),
    ("mgC m-2 day-1", 2015, 1, "standard", 0.001 * 31),
    # CO2 mass and moles: 12.011 g C per mol, 44.009 g CO2 per mol
    ("g CO2 m-2 yr-1", 2015, 6, "standard", 12.011 / 44.009 * 30 / 365),
    ("kgCO2 m-2 s-1", 2015, 6, "standard", 1000 * 12.011 / 44.009 * 86400 * 30),
    ("mol m-2 s-1", 2015, 6, "standard", 12.011 * 86400 * 30),  # CarbonTracker-style
    ("umol m-2 s-1", 2015, 6, "standard", 1e-6 * 12.011 * 86400 * 30),
    ("µmol CO2 m-2 s-1", 2015, 6, "standard", 1e-6 * 12.011 * 86400 * 30),
]


@pytest.mark.parametrize(("text", "year", "month", "calendar", "factor"), HAND_FACTORS)
def test_unit_factors(text, year, month, calendar, factor):
    assert parse_units(text).factor(year, month, calendar) == pytest.approx(factor, rel=1e-15)


@pytest.mark.parametrize("text", ["furlongs per fortnight", "kg m-2", "W m-2", "gC per year", ""])
def test_unknown_units_are_refused(text):
    with pytest.raises(NormalisationError, match="unknown units"):
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
