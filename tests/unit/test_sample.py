"""`sinkload sample`: the files are in the real formats with their quirks, deterministic, and look like
carbon fluxes (read here with netCDF4/rasterio, not with the package's readers)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import rasterio

from tests.support import cli_argv

MIP_DIR = Path("oco2_v10_mip/LNLGIS")
MODELS = ["Ames", "Baker", "CAMS", "CMS-Flux", "COLA", "CSU", "CT", "JHU", "LoFI", "NIES", "OU", "TM5-4DVAR", "UT",
          "WOMBAT"]
CHINA_ROWS, CHINA_COLS = slice(90 + 20, 90 + 50), slice(180 + 80, 180 + 130)  # south->north, lon -179.5..


def write(directory: Path) -> Path:
    result = subprocess.run(cli_argv("sample", directory), capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    return directory


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("sample"))


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_archive_layout_and_its_quirks(sample):
    names = {p.name for p in (sample / MIP_DIR).iterdir()}
    assert names == {f"{m}_gridded_fluxes_LNLGIS.nc4" for m in [*MODELS, "EnsMean", "EnsStd"]}
    with netCDF4.Dataset(sample / MIP_DIR / "LoFI_gridded_fluxes_LNLGIS.nc4") as ds:
        assert "start_date" not in ds.variables and "since" in ds["time"].units
    with netCDF4.Dataset(sample / MIP_DIR / "CT_gridded_fluxes_LNLGIS.nc4") as ds:
        assert set(np.array(ds["start_date"][:])[:, 2]) - {1}, "CT's start_date days are mid-month"
    for name in ("EnsMean", "EnsStd"):
        with netCDF4.Dataset(sample / MIP_DIR / f"{name}_gridded_fluxes_LNLGIS.nc4") as ds:
            assert "units" not in ds["land"].ncattrs() and "time" not in ds.variables
    with netCDF4.Dataset(sample / MIP_DIR / "Ames_gridded_fluxes_LNLGIS.nc4") as ds:
        assert ds["land"].shape == (72, 180, 360) and ds["land"].units == "gC per m2 per year"
        assert [tuple(r) for r in np.array(ds["start_date"][:])[[0, -1]]] == [(2015, 1, 1), (2020, 12, 1)]


def test_vegas_is_trendy_like(sample):
    with netCDF4.Dataset(sample / "vegas" / "VEGAS_S3_nbp.nc") as ds:
        assert ds["nbp"].units == "kg m-2 s-1"
        assert ds["time"].units.startswith("days since 1700") and ds["time"].calendar == "noleap"
        assert np.allclose(np.diff(ds["lat"][:]), -0.5) or np.allclose(np.diff(ds["lat"][:]), 0.5)
        assert ds["time"].shape[0] >= 60


def test_beps_is_a_monthly_geotiff_on_the_0_0727_degree_grid(sample):
    files = sorted((sample / "beps").glob("BEPS_NEP_*.tif"))
    assert [f.stem[-4:] for f in files] == [str(y) for y in range(2015, 2020)]
    with rasterio.open(files[0]) as src:
        assert src.count == 12 and src.crs.to_epsg() == 4326
        assert src.res[0] == pytest.approx(360 / 4950, rel=1e-9)
        west, south, east, north = src.bounds
        assert 70 < west < 80 and 130 < east < 140 and 15 < south < 20 and 50 < north < 55


def test_fields_look_like_carbon_fluxes(sample):
    with netCDF4.Dataset(sample / MIP_DIR / "EnsMean_gridded_fluxes_LNLGIS.nc4") as ds:
        china = np.array(ds["land"][:, CHINA_ROWS, CHINA_COLS])  # gC m-2 yr-1, positive = source
    monthly = china.reshape(6, 12, *china.shape[1:]).mean(axis=(2, 3))
    assert (monthly[:, 6] < monthly[:, 0]).all(), "more uptake in July than in January"
    assert np.ptp(china.reshape(6, 12, -1).mean(axis=(1, 2))) > 0, "years differ"
    members = []
    for model in MODELS[:4]:
        with netCDF4.Dataset(sample / MIP_DIR / f"{model}_gridded_fluxes_LNLGIS.nc4") as ds:
            members.append(np.array(ds["land"][:, CHINA_ROWS, CHINA_COLS]).mean())
    assert np.std(members) > 0, "inversion members disagree"


def test_the_sample_is_deterministic(sample, tmp_path):
    assert digests(write(tmp_path / "again")) == digests(sample)
