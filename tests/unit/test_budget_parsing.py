"""Parsing the national budgets' country CSV and converting budget fluxes to sinks (numbers invented here)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sinkload.budgets import (
    EXPERIMENTS,
    LATERAL_QUANTITIES,
    column_name,
    grid_values,
    parse_countries,
    sink_pgc_yr,
    unc_pgc_yr,
)
from sinkload.errors import SinkloadError

PREAMBLE = ["# National CO2 budgets (invented test file)", "# units: TgCO2/yr", "#", "some free text, with a comma"]


def header(extra: tuple[str, ...] = ("Country",), drop: str | None = None) -> list[str]:
    columns = ["Alpha 3 Code", "Year", *extra]
    for experiment in EXPERIMENTS:
        for quantity in ("NBE", "NCE", "dC_loss"):
            columns += [column_name(quantity, experiment), column_name(quantity, experiment, unc=True)]
    for quantity in LATERAL_QUANTITIES:
        columns += [column_name(quantity), column_name(quantity, unc=True)]
    return [c for c in columns if c != drop]


def csv_text(rows: list[dict[str, str]], preamble: list[str] = (), columns: list[str] | None = None) -> str:
    columns = columns or header()
    lines = [*preamble, ",".join(columns)]
    lines += [",".join(row.get(c, "0.0E+00") for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def test_header_found_with_and_without_preamble_and_columns_by_name() -> None:
    row = {"Alpha 3 Code": "XYZ", "Year": "2016", "LNLGIS NBE (TgCO2)": "-3.66E+02",
           "LNLGIS NBE unc (TgCO2)": "4.5E+1", "Rivers (TgCO2)": "1.2E+01"}
    bare = parse_countries(csv_text([row]), "bare.csv")
    with_preamble = parse_countries(csv_text([row], PREAMBLE), "pre.csv")
    # Reordered columns: found by name, not position.
    reordered = parse_countries(csv_text([row], columns=list(reversed(header()))), "rev.csv")
    for values in (bare, with_preamble, reordered):
        nbe = next(v for v in values if v.experiment == "LNLGIS" and v.quantity == "NBE")
        assert (nbe.code, nbe.year, nbe.is_mean, nbe.is_region) == ("XYZ", 2016, False, False)
        assert nbe.value == -366.0 and nbe.unc == 45.0
        rivers = next(v for v in values if v.quantity == "Rivers")
        assert rivers.experiment is None and rivers.value == 12.0
        assert len(values) == len(EXPERIMENTS) * 3 + len(LATERAL_QUANTITIES)


def test_mean_row_and_region_aggregates() -> None:
    rows = [{"Alpha 3 Code": "XYZ", "Year": "mean", "IS NBE (TgCO2)": "-1.5E+2"},
            {"Alpha 3 Code": "Region_Somewhere", "Year": "2015", "IS NBE (TgCO2)": "2.25E+03"}]
    values = parse_countries(csv_text(rows), "f.csv")
    mean = next(v for v in values if v.code == "XYZ" and v.experiment == "IS" and v.quantity == "NBE")
    assert mean.year is None and mean.is_mean and mean.value == -150.0
    region = next(v for v in values if v.code == "Region_Somewhere" and v.experiment == "IS" and v.quantity == "NBE")
    assert region.is_region and region.year == 2015 and region.value == 2250.0


def test_empty_value_is_missing_not_zero() -> None:
    values = parse_countries(csv_text([{"Alpha 3 Code": "XYZ", "Year": "2015", "LNLG NCE (TgCO2)": ""}]), "f.csv")
    nce = next(v for v in values if v.experiment == "LNLG" and v.quantity == "NCE")
    assert nce.value is None


def test_hand_worked_conversion_to_sink() -> None:
    # NBE = -3.66E+02 Tg CO2/yr (a sink of 366 Tg CO2) -> +366 * 12.011 / 44.009 / 1000 Pg C/yr.
    assert math.isclose(sink_pgc_yr(-3.66e2), 366 * 12.011 / 44.009 / 1000, rel_tol=1e-12)
    assert math.isclose(sink_pgc_yr(-3.66e2), 0.09989, rel_tol=1e-4)
    assert sink_pgc_yr(50.0) < 0  # a source stays a negative sink
    assert math.isclose(unc_pgc_yr(4.5e1), 45 * 12.011 / 44.009 / 1000, rel_tol=1e-12)


@pytest.mark.parametrize(("text", "problem"), [
    ("# only a preamble\nno,header,here\n1,2,3\n", "no header line"),
    (csv_text([{"Alpha 3 Code": "XYZ", "Year": "2015"}], columns=header(drop="LNLGOGIS dC_loss unc (TgCO2)")),
     "missing column 'LNLGOGIS dC_loss unc (TgCO2)'"),
    (csv_text([{"Alpha 3 Code": "XYZ", "Year": "2015", "IS NBE (TgCO2)": "about -3E+2"}]), "not a number"),
    (csv_text([{"Alpha 3 Code": "XYZ", "Year": "2015"}, {"Alpha 3 Code": "XYZ", "Year": "2015"}]),
     "duplicate row for XYZ 2015"),
    (csv_text([{"Alpha 3 Code": "XYZ", "Year": "mean"}, {"Alpha 3 Code": "XYZ", "Year": "Mean"}]),
     "duplicate row for XYZ mean"),
    (csv_text([{"Alpha 3 Code": "XYZ", "Year": "15"}]), "not a year"),
    (csv_text([]), "no data rows"),
])
def test_bad_files_refused_with_one_line_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(SinkloadError) as raised:
        parse_countries(text, "bad.csv")
    message = str(raised.value)
    assert message.startswith("bad.csv: ") and problem in message and "\n" not in message


def test_grid_rows_flipped_to_south_north_and_other_grids_refused() -> None:
    field = np.arange(2 * 180 * 360, dtype=np.float32).reshape(2, 180, 360)
    south_north = grid_values("g.nc", "IS_NBE", field, np.arange(-89.5, 90, 1.0), np.arange(-179.5, 180, 1.0))
    north_south = grid_values("g.nc", "IS_NBE", field[:, ::-1, :], np.arange(89.5, -90, -1.0), None)
    assert np.array_equal(south_north, north_south)
    masked = np.ma.masked_array(field, mask=field == 5)
    assert np.isnan(grid_values("g.nc", "IS_NBE", masked, None, None)[0, 0, 5])
    with pytest.raises(SinkloadError, match="not .years, 180, 360."):
        grid_values("g.nc", "IS_NBE", field[:, :90, :], None, None)
    with pytest.raises(SinkloadError, match="longitudes"):
        grid_values("g.nc", "IS_NBE", field, None, np.arange(0.5, 360, 1.0))
