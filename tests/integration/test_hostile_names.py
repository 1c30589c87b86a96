"""Names that try SQL injection (quotes, semicolons, `$$`, comments, unicode) flow through ingest, regions
and reload as plain data: stored verbatim, every table intact."""

from __future__ import annotations

import copy
import shutil

import psycopg
import pytest
import yaml

from tests.support import (
    YEARS_DEFAULT,
    fresh_database,
    rectangle_feature,
    reload_runs,
    run_cli,
    world_field,
    write_geojson,
    write_mip_member,
)

HOSTILE = [
    '"; drop table raw.product; --',
    "O'Brien'); delete from raw.load_batch; --",
    "$$; drop schema raw cascade; $$",
    "$tag$ select pg_sleep(10) $tag$",
    "北方地区 \\' ; --",
    "name with\ttab and %s %(x)s {0}",
]
RAW_TABLES = ("product", "member", "grid", "load_batch", "flux_tile", "region_layer", "region",
              "landcover_layer", "landcover_class", "landcover", "reload_run")


@pytest.fixture(scope="module")
def own_db(server_url, base_settings):
    with fresh_database(server_url, base_settings, "hostile") as settings:
        yield settings


def raw_tables(settings) -> set[str]:
    with psycopg.connect(settings.database_url) as conn:
        return {r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'")}


def assert_intact(settings) -> None:
    assert set(RAW_TABLES) <= raw_tables(settings)


def one_line_error(result) -> bool:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:")


def test_hostile_inbox_path_is_stored_verbatim(own_db, tmp_path):
    inbox = tmp_path / HOSTILE[0] / HOSTILE[2]
    inbox.mkdir(parents=True)
    result = run_cli(own_db, "reload", inbox)
    assert result.returncode == 0, result.stdout + result.stderr
    assert reload_runs(own_db)[-1]["inbox"] == str(inbox)
    assert_intact(own_db)


def test_hostile_product_folder_is_refused_as_data(own_db, tmp_path):
    """A product folder that is not in the catalog: one line naming the file, nothing loaded, nothing dropped."""
    name = HOSTILE[1]
    field = world_field(seed=3, years=YEARS_DEFAULT)
    plain = write_mip_member(tmp_path / "plain" / "CAMS_gridded_fluxes_LNLGIS.nc4", field, YEARS_DEFAULT)
    plain.parent.rename(tmp_path / name)
    result = run_cli(own_db, "reload", tmp_path)
    assert one_line_error(result), result.stdout + result.stderr
    assert_intact(own_db)
    run = reload_runs(own_db)[-1]
    assert run["status"] == "failed" and run["files_failed"] == 1
    assert name in (run["message"] or "") or name in result.stderr


def test_hostile_region_names_are_stored_verbatim(own_db, tmp_path):
    names = HOSTILE[:4]
    features = [rectangle_feature(n, 110 + i, 30, 111 + i, 31) for i, n in enumerate(names)]
    field_name = 'na"me; drop table raw.region; --'
    for feature in features:
        feature["properties"] = {field_name: feature["properties"]["name"]}
    layer = write_geojson(tmp_path / f"{HOSTILE[4]}.geojson", features)
    result = run_cli(own_db, "ingest", "regions", layer, "--scope", "division", "--name-field", field_name)
    assert_intact(own_db)
    if result.returncode != 0:
        # Refusing names that are not the four divisions is fine, as one line; injection is not.
        assert one_line_error(result), result.stdout + result.stderr
        return
    with psycopg.connect(own_db.database_url) as conn:
        stored = {r[0] for r in conn.execute("select name from raw.region where scope = 'division'")}
        layer_row = conn.execute("select file_name, name_field from raw.region_layer where scope = 'division'").fetchone()
    assert stored == set(names)
    assert layer_row[1] == field_name and HOSTILE[4] in layer_row[0]


def _catalog_with_product(source: dict, template: str, new_name: str, member: str) -> dict:
    """A copy of the catalog with `template`'s entry also under `new_name`, with one more member."""
    catalog = copy.deepcopy(source)
    entry = copy.deepcopy(catalog["products"][template])
    entry["members"] = [*entry["members"], member]
    catalog["products"][new_name] = entry
    return catalog


def test_hostile_product_member_and_file_names_load_verbatim(own_db, tmp_path):
    from sinkload.settings import Settings

    source = yaml.safe_load(Settings.from_env().catalog.read_text(encoding="utf-8"))
    # No backslash in the file name: HDF5 refuses to open such paths (a limit of the library, not of SQL).
    product, member, file_stem = HOSTILE[2], HOSTILE[0], "北方 O'Brien\"; drop table raw.load_batch; --$$"
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(_catalog_with_product(source, "oco2_v10_mip_lnlgis", product, member),
                                      allow_unicode=True), encoding="utf-8")
    field = world_field(seed=4, years=YEARS_DEFAULT)
    plain = write_mip_member(tmp_path / "files" / "plain_gridded_fluxes_LNLGIS.nc4", field, YEARS_DEFAULT)
    data = plain.rename(plain.with_name(f"{file_stem}_gridded_fluxes_LNLGIS.nc4"))
    result = run_cli(own_db, "ingest", "flux", data, "--product", product, "--member", member,
                     "--catalog", catalog)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_intact(own_db)
    with psycopg.connect(own_db.database_url) as conn:
        row = conn.execute(
            "select p.name, m.name, b.file_name from raw.load_batch b join raw.product p using (product_id) "
            "join raw.member m using (member_id) where p.name = %s", [product]).fetchone()
    assert row == (product, member, data.name)

    # The same file through the reload, in a folder named after the hostile product: already loaded.
    inbox = tmp_path / "inbox"
    shutil.copytree(data.parent, inbox / product)
    again = run_cli(own_db, "reload", inbox, "--catalog", catalog)
    assert again.returncode == 0, again.stdout + again.stderr
    assert reload_runs(own_db)[-1]["files_loaded"] == 0
    assert_intact(own_db)
