"""GCJ-02 <-> WGS84 against the published reference points of the eviltransform project (WGS84 -> GCJ-02)."""

from __future__ import annotations

import numpy as np
import pytest

from sinkload.geography.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

# (wgs lat, wgs lon, gcj lat, gcj lon): Shanghai, Shenzhen, Beijing
REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), REFERENCE)
def test_forward_matches_the_reference(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert abs(lon - gcj_lon) < 1e-9 and abs(lat - gcj_lat) < 1e-9


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), REFERENCE)
def test_inverse_recovers_wgs84(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = gcj02_to_wgs84(np.array([gcj_lon]), np.array([gcj_lat]))
    assert abs(lon[0] - wgs_lon) < 1e-8 and abs(lat[0] - wgs_lat) < 1e-8  # about a millimetre


def test_the_offset_is_hundreds_of_metres_not_negligible_at_the_border():
    lon, lat = wgs84_to_gcj02(np.array([100.0]), np.array([30.0]))
    assert 1e-3 < abs(lon[0] - 100.0) + abs(lat[0] - 30.0) < 2e-2
