"""Two files holding the same month of one member are a conflict (pure), named as one line of plain text."""

from __future__ import annotations

from pathlib import Path

from sinkload.errors import file_error, shown
from sinkload.ingest.claims import Claim, conflicts

JAN_DEC = tuple((2015, m) for m in range(1, 13))


def test_overlapping_months_of_one_member_conflict():
    old = Claim(Path("LNLGIS/Ames.nc4"), "mip", "Ames", JAN_DEC)
    new = Claim(Path("LNLGIS_v2/Ames.nc4"), "mip", "Ames", ((2015, 12), (2016, 1)))
    other = Claim(Path("LNLGIS/CT.nc4"), "mip", "CT", JAN_DEC)
    found = conflicts([new, other, old])
    assert set(found) == {("mip", "Ames")}
    message = str(found[("mip", "Ames")])
    assert "LNLGIS/Ames.nc4 and LNLGIS_v2/Ames.nc4" in message and "1 month(s) from 2015-12" in message


def test_disjoint_months_other_members_and_products_do_not_conflict():
    a = Claim(Path("BEPS_2015.tif"), "beps", "BEPS", JAN_DEC)
    b = Claim(Path("BEPS_2016.tif"), "beps", "BEPS", tuple((2016, m) for m in range(1, 13)))
    c = Claim(Path("x/BEPS_2015.tif"), "beps_v2", "BEPS", JAN_DEC)
    assert conflicts([a, b, c]) == {}


def test_names_are_one_line_plain_text():
    assert shown("bad\nname [v2].nc4") == "bad\\nname [v2].nc4"
    assert shown("北方 O'Brien\t.nc") == "北方 O'Brien\\t.nc"
    assert str(file_error(Path("a\rb.nc"), "broken")) == "a\\rb.nc: broken"
