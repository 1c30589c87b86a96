"""A new release arrives through the inbox as its own product, from a catalog entry alone: a v11 layout
(variable `land_flux`, CF time in seconds since 1970, no start_date) next to the v10 archive."""

from __future__ import annotations

import datetime

import netCDF4
import numpy as np
import psycopg
import pytest
import yaml

from tests.support import (
    WORLD_PRODUCT,
    YEARS_DEFAULT,
    build_world,
    fresh_database,
    matches,
    national_monthly_tgc,
    run_cli,
    world_field,
)

V11 = "oco2_v11_mip_lnlgis"
V11_ENTRY = {
    "family": "netcdf", "kind": "top-down", "release": "v11", "experiment": "LNLGIS", "is_ensemble": True,
    "variable": "land_flux", "units_default": "gC m-2 yr-1", "sign": -1, "time": {"rule": "cf"},
    "resolution": [1.0, 1.0], "members": ["CAMS", "TM5-4DVAR"],
    "file_pattern": r"^(?P<model>.+?)_gridded_fluxes_(?P<exp>[A-Za-z]+)\.nc4?$",
}


def write_v11_member(path, field, years: range):
    """land_flux(time, lat, lon) without units attribute; time in seconds since 1970-01-01 (month starts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    epoch = datetime.datetime(1970, 1, 1)
    seconds = [(datetime.datetime(y, m, 1) - epoch).total_seconds() for y in years for m in range(1, 13)]
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("time", len(seconds))
        ds.createDimension("lat", 180)
        ds.createDimension("lon", 360)
        ds.createVariable("time", "f8", ("time",))[:] = seconds
        ds["time"].units = "seconds since 1970-01-01 00:00:00"
        ds.createVariable("lat", "f4", ("lat",))[:] = np.arange(-89.5, 90, 1.0)
        ds.createVariable("lon", "f4", ("lon",))[:] = np.arange(-179.5, 180, 1.0)
        ds.createVariable("land_flux", "f4", ("time", "lat", "lon"), zlib=True)[:] = field
    return path


def national_series(settings, product: str) -> dict:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("select month, sink_tgc from marts.sink_monthly where product = %s and scope = 'national' "
                            "and member <> 'ensemble_mean' order by month", [product]).fetchall()
    return {month: float(value) for month, value in rows}


@pytest.mark.slow
def test_v11_release_arrives_as_its_own_product(server_url, base_settings, tmp_path):
    with fresh_database(server_url, base_settings, "release") as settings:
        inbox, _member_file, v10_field = build_world(settings, tmp_path)
        catalog = yaml.safe_load((settings.warehouse_dir / "catalog.yaml").read_text(encoding="utf-8"))
        catalog["products"][V11] = V11_ENTRY
        catalog_file = tmp_path / "catalog_with_v11.yaml"
        catalog_file.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
        env = {"SINKLOAD_CATALOG": str(catalog_file)}

        v11_field = world_field(seed=11, years=YEARS_DEFAULT, scale=0.7)
        write_v11_member(inbox / V11 / "CAMS_gridded_fluxes_LNLGIS.nc4", v11_field, YEARS_DEFAULT)
        result = run_cli(settings, "reload", inbox, env=env)
        assert result.returncode == 0, result.stdout + result.stderr

        assert matches(national_series(settings, V11), national_monthly_tgc(v11_field, YEARS_DEFAULT))
        assert matches(national_series(settings, WORLD_PRODUCT), national_monthly_tgc(v10_field, YEARS_DEFAULT))
        assert "nothing to do" in run_cli(settings, "reload", inbox, env=env).stdout
