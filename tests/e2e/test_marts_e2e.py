"""End to end on the sample data set: files -> ingest -> regions, land cover -> dbt build -> every value of
every mart view equals the independent computation of tests/independent_marts.py, to 1e-6 relative."""

from __future__ import annotations

import pytest

from independent import cell_area_m2
from independent_marts import expected_marts, query
from reload_support import fresh_database

pytestmark = pytest.mark.slow

RTOL = 1e-6


@pytest.fixture(scope="module")
def built(server_url, base_settings, tmp_path_factory):
    from sinkload.dbt import run_dbt
    from sinkload.geography.landcover import ingest_landcover_file
    from sinkload.geography.regions import ingest_default_regions
    from sinkload.ingest.flux import ingest_manifest
    from sinkload.sample import write_sample

    manifest = write_sample(tmp_path_factory.mktemp("sample"))
    with fresh_database(server_url, base_settings, "e2e") as settings:
        url = settings.database_url
        ingest_manifest(settings, url, manifest)
        ingest_default_regions(settings, url)
        ingest_landcover_file(settings, url, manifest.landcover, code_field=manifest.landcover_code_field)
        run_dbt(settings, url, ["build"], quiet=True)
        yield settings, manifest


@pytest.fixture(scope="module")
def expected(built):
    settings, manifest = built
    return expected_marts(settings.database_url, manifest)


def _close(actual, wanted, scale=1.0):
    if wanted is None:
        return actual is None
    return actual is not None and abs(actual - wanted) <= RTOL * max(abs(wanted), 1e-9 * scale)


def _compare(got: dict, wanted: dict) -> None:
    assert set(got) == set(wanted), (sorted(set(got) ^ set(wanted)))[:5]
    scale = max((abs(v) for v in wanted.values() if v is not None), default=1.0)
    bad = [(k, got[k], v) for k, v in wanted.items() if not _close(got[k], v, scale)]
    assert not bad, f"{len(bad)} of {len(wanted)} differ, e.g. {bad[:3]}"


def test_sink_monthly(built, expected):
    rows = query(built[0].database_url,
                  "select product, member, scope, unit, extract(year from month)::int, extract(month from month)::int, "
                  "sink_tgc from marts.sink_monthly")
    _compare({(p, m, s, u, (y, mo)): v for p, m, s, u, y, mo, v in rows}, expected["monthly"])


def test_sink_annual(built, expected):
    rows = query(built[0].database_url, "select product, member, scope, unit, year, sink_pgc from marts.sink_annual")
    _compare({(p, m, s, u, y): v for p, m, s, u, y, v in rows}, expected["annual"])


@pytest.mark.parametrize("column", ["mean", "sd", "share", "n_years", "first_year", "last_year"])
def test_sink_summary(built, expected, column):
    sql_column = {"mean": "mean_pgc_yr", "sd": "interannual_sd_pgc_yr", "share": "share_pct"}.get(column, column)
    rows = query(built[0].database_url, f"select product, member, scope, unit, {sql_column} from marts.sink_summary")
    _compare({(p, m, s, u): v for p, m, s, u, v in rows},
             {k: row[column] for k, row in expected["summary"].items()})


def test_sink_zonal_monthly(built, expected):
    rows = query(built[0].database_url,
                  "select product, member, lat, extract(year from month)::int, extract(month from month)::int, "
                  "sink_gc_m2_day from marts.sink_zonal_monthly")
    _compare({(p, m, lat, (y, mo)): v for p, m, lat, y, mo, v in rows}, expected["zonal"])


def test_sink_cell_mean(built, expected):
    rows = query(built[0].database_url,
                  "select product, member, lon, lat, sink_gc_m2_yr, st_area(st_transform(st_setsrid(geom, 990000), 990001)) "
                  "from marts.sink_cell_mean")
    _compare({(p, m, lon, lat): v for p, m, lon, lat, v, _a in rows}, expected["cell_mean"])
    for _p, _m, _lon, lat, _v, area in rows:
        assert area == pytest.approx(cell_area_m2(lat - 0.5, lat + 0.5), rel=1e-9)


@pytest.mark.parametrize("column", ["n", "mean", "sd", "min", "max"])
def test_ensemble_spread(built, expected, column):
    sql_column = {"n": "n_members", "mean": "member_mean_pgc_yr", "sd": "member_sd_pgc_yr",
                  "min": "member_min_pgc_yr", "max": "member_max_pgc_yr"}[column]
    rows = query(built[0].database_url, f"select product, scope, unit, {sql_column} from marts.ensemble_spread")
    _compare({(p, s, u): v for p, s, u, v in rows}, {k: row[column] for k, row in expected["spread"].items()})
    assert all(row["n"] == 14 for row in expected["spread"].values())
