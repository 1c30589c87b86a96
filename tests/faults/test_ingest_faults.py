"""The ingest door and the reload, attacked: units, two files for one member's months, nearly empty files,
operational noise (issue 10, items 3, 4, 6, 7), and attacks that already held (so they keep holding).

Every case runs the real CLI against a database of its own holding the small world of tests/support.py (regions,
land cover, one MIP member, built marts). A bad input must exit 1 with exactly one line on stderr naming the
file and the problem, and leave schema raw and every mart view as they were (the reload's own log row,
raw.reload_run, excepted: recording a refused run is its job). Expected values are computed here with numpy.
"""

from __future__ import annotations

import calendar
import copy
import os
import signal
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
import yaml

from sinkload.settings import Settings
from tests.support import (
    WORLD_EAST,
    WORLD_NORTH,
    WORLD_PRODUCT,
    WORLD_SOUTH,
    WORLD_WEST,
    YEARS_DEFAULT,
    build_world,
    database_fingerprint,
    fresh_database,
    reload_runs,
    replace_atomically,
    run_cli,
    start_cli,
    world_field,
    write_mip_member,
)

MONTHS = [(y, m) for y in YEARS_DEFAULT for m in range(1, 13)]
WORLD_ROWS = slice(90 + WORLD_SOUTH, 90 + WORLD_NORTH)  # south-north file rows of the national box
WORLD_COLS = slice(180 + WORLD_WEST, 180 + WORLD_EAST)


@pytest.fixture(scope="module")
def world(server_url, base_settings, tmp_path_factory):
    """(settings, world directory): regions, land cover and the CAMS member loaded and built."""
    with fresh_database(server_url, base_settings, "faults") as settings:
        directory = tmp_path_factory.mktemp("world")
        build_world(settings, directory)
        yield settings, directory


def fingerprint(settings: Settings) -> dict:
    """database_fingerprint without the reload's run log."""
    with psycopg.connect(settings.database_url) as conn:
        state = database_fingerprint(conn)
    state["raw"].pop("reload_run", None)
    return state


def settled(settings: Settings, tmp_path: Path) -> dict:
    """Build whatever earlier cases loaded by hand (a reload of an empty inbox), then the fingerprint: so that a
    reload under test has nothing of theirs to build."""
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(settings, "reload", empty)
    assert result.returncode == 0, result.stdout + result.stderr
    return fingerprint(settings)


def one_line(result) -> str:
    """The single line a refusal prints on stderr (asserts there is exactly one)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stdout + result.stderr
    return lines[0]


def assert_refused(settings: Settings, before: dict, result, *words: str, code: int = 1) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    line = one_line(result)
    for word in words:
        assert word in line, (word, line)
    assert fingerprint(settings) == before
    return line


def member_file(folder: Path, model: str, field, name: str | None = None, units: str | None = None) -> Path:
    path = write_mip_member(folder / (name or f"{model}_gridded_fluxes_LNLGIS.nc4"), field, YEARS_DEFAULT)
    if units is not None:
        import netCDF4

        with netCDF4.Dataset(path, "a") as ds:
            ds["land"].units = units
    return path


def stored_box(settings: Settings, member: str, month: tuple[int, int]) -> np.ndarray:
    """The stored month of a member over the national box (rows north first), g C m-2 per month, sink > 0."""
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("""
            select ST_X((pp).geom), ST_Y((pp).geom), (pp).val from (
                select ST_PixelAsCentroids(t.rast, 1) as pp from raw.flux_tile t
                join raw.member m on m.member_id = t.member_id join raw.product p on p.product_id = t.product_id
                where p.name = %s and m.name = %s and t.month = make_date(%s, %s, 1)) x
            where ST_X((pp).geom) between %s and %s and ST_Y((pp).geom) between %s and %s
        """, [WORLD_PRODUCT, member, *month, WORLD_WEST, WORLD_EAST, WORLD_SOUTH, WORLD_NORTH]).fetchall()
    out = np.full((WORLD_NORTH - WORLD_SOUTH, WORLD_EAST - WORLD_WEST), np.nan)
    for x, y, value in rows:
        out[int(WORLD_NORTH - y), int(x - WORLD_WEST)] = value
    return out


def batch_row(settings: Settings, file_name: str) -> tuple:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute("select units_found, parsed_unit, species, factor_applied from raw.load_batch "
                            "where file_name = %s order by batch_id desc limit 1", [file_name]).fetchone()


# -- item 4: units ------------------------------------------------------------------------------------------

def _per_year(year: int, month: int) -> float:
    return calendar.monthrange(year, month)[1] / (366 if calendar.isleap(year) else 365)


# (units, the file's value giving -300 g C m-2 yr-1 (a sink) in those units, month factor to g C m-2 per month)
UNIT_CASES = {
    "Mg C m-2 yr-1": (1e-6, lambda y, m: 1e6 * _per_year(y, m)),  # was read as milligrams
    "Gg C m-2 yr-1": (1e-9, lambda y, m: 1e9 * _per_year(y, m)),  # was read as grams
    "g C km-2 yr-1": (1e6, lambda y, m: 1e-6 * _per_year(y, m)),  # was read as m-2
    "1e3 g C m-2 yr-1": (1e-3, lambda y, m: 1e3 * _per_year(y, m)),  # the scale was ignored
    "Mg C m-2 (10 yr)-1": (1e-5, lambda y, m: 1e5 * _per_year(y, m)),
    "umol m-2 s-1": (1 / (1e-6 * 12.011 * 86400 * 365),
                     lambda y, m: 1e-6 * 12.011 * 86400 * calendar.monthrange(y, m)[1]),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("units", list(UNIT_CASES))
def test_units_are_read_dimensionally(world, tmp_path, units):
    settings, _ = world
    scale, factor = UNIT_CASES[units]
    field = world_field(seed=21, years=YEARS_DEFAULT, scale=scale)
    path = member_file(tmp_path, "Baker", field, units=units)
    result = run_cli(settings, "ingest", "flux", path, "--product", WORLD_PRODUCT)
    assert result.returncode == 0, result.stdout + result.stderr
    for k in (0, 13, 61):  # Jan 2015, Feb 2016 (leap), Feb 2020
        year, month = MONTHS[k]
        expected = -field[k, WORLD_ROWS, WORLD_COLS][::-1].astype(float) * factor(year, month)
        np.testing.assert_allclose(stored_box(settings, "Baker", (year, month)), expected, rtol=2e-6,
                                   err_msg=f"{units} {year}-{month}")
    units_found, parsed, species, _ = batch_row(settings, path.name)
    assert units_found == units and parsed and species == ("C" if " C " in units else None)


@pytest.mark.bad_input
@pytest.mark.parametrize(("units", "words"), [
    ("W m-2", "not a mass of carbon per area per time"),
    ("kg m-2", "not a mass of carbon per area per time"),
    ("PgC yr-1", "not a mass of carbon per area per time"),
    ("gC m-2 blorps-1", "unknown units"),
    ("g C m-2 8day-1", "are ambiguous: '8day' glues a number to a time unit"),  # was 8 per day: 64x a month
    ("Mg C m-2 yr-1", "beyond any land flux"),  # values of a g C file labelled Mg: now a million times larger
])
def test_units_that_are_no_carbon_flux_are_refused(world, tmp_path, units, words):
    settings, _ = world
    path = member_file(tmp_path, "Baker", world_field(seed=22, years=YEARS_DEFAULT), units=units)
    before = fingerprint(settings)
    result = run_cli(settings, "ingest", "flux", path, "--product", WORLD_PRODUCT)
    assert_refused(settings, before, result, str(path), words)


@pytest.mark.bad_input
def test_missing_units_without_catalog_default(world, tmp_path):
    settings, _ = world
    path = member_file(tmp_path, "Baker", world_field(seed=23, years=YEARS_DEFAULT))
    import netCDF4

    with netCDF4.Dataset(path, "a") as ds:
        ds["land"].delncattr("units")
    before = fingerprint(settings)
    result = run_cli(settings, "ingest", "flux", path, "--product", WORLD_PRODUCT)
    assert_refused(settings, before, result, str(path), "no units attribute")


# -- item 3: two files for one member's months --------------------------------------------------------------

@pytest.mark.bad_input
def test_two_files_for_one_member_in_one_ingest_command(world, tmp_path):
    settings, _ = world
    old = member_file(tmp_path / "LNLGIS", "Ames", world_field(seed=31, years=YEARS_DEFAULT))
    new = member_file(tmp_path / "LNLGIS_v2", "Ames", world_field(seed=32, years=YEARS_DEFAULT))
    before = fingerprint(settings)
    result = run_cli(settings, "ingest", "flux", tmp_path, "--product", WORLD_PRODUCT)
    assert_refused(settings, before, result, str(old), str(new), "Ames", "both hold")


@pytest.mark.bad_input
def test_two_inbox_files_for_one_member_refuse_it_and_never_flip(world, tmp_path):
    settings, _ = world
    inbox = tmp_path / "inbox"
    folder = inbox / WORLD_PRODUCT
    old = member_file(folder / "LNLGIS", "Ames", world_field(seed=33, years=YEARS_DEFAULT))
    new = member_file(folder / "LNLGIS_v2", "Ames", world_field(seed=34, years=YEARS_DEFAULT))
    before = settled(settings, tmp_path)
    first = run_cli(settings, "reload", inbox)
    assert_refused(settings, before, first, str(old), str(new), "both hold")

    # A good neighbour loads; the refused member stays out, and the next run changes nothing (no alternation).
    member_file(folder / "LNLGIS", "CT", world_field(seed=35, years=YEARS_DEFAULT))
    second = run_cli(settings, "reload", inbox)
    assert second.returncode == 1 and str(old) in one_line(second) and "both hold" in one_line(second)
    assert reload_runs(settings)[-1]["files_loaded"] == 1
    with psycopg.connect(settings.database_url) as conn:
        members = {r[0] for r in conn.execute("select distinct m.name from raw.load_batch b join raw.member m "
                                              "using (member_id)")}
    assert "CT" in members and "Ames" not in members
    steady = fingerprint(settings)
    third = run_cli(settings, "reload", inbox)
    assert third.returncode == 1 and one_line(third) == one_line(second)
    assert fingerprint(settings) == steady and reload_runs(settings)[-1]["files_loaded"] == 0


def test_a_hand_fix_stands_until_the_inbox_file_changes(world, tmp_path):
    """docs/operations.md: the inbox wins only when its file changes; repeated reloads of an unchanged inbox
    leave a hand-loaded fix in place."""
    settings, directory = world
    inbox = directory / "inbox"
    cams = inbox / WORLD_PRODUCT / "LNLGIS" / "CAMS_gridded_fluxes_LNLGIS.nc4"
    fix_field = world_field(seed=41, years=YEARS_DEFAULT)
    fix = member_file(tmp_path / "fix", "CAMS", fix_field)
    assert run_cli(settings, "ingest", "flux", fix, "--product", WORLD_PRODUCT).returncode == 0
    expected_fix = -fix_field[0, WORLD_ROWS, WORLD_COLS][::-1].astype(float) * _per_year(2015, 1)
    for _ in range(2):
        result = run_cli(settings, "reload", inbox)
        assert result.returncode == 0, result.stdout + result.stderr
        assert reload_runs(settings)[-1]["files_loaded"] == 0
        np.testing.assert_allclose(stored_box(settings, "CAMS", (2015, 1)), expected_fix, rtol=2e-6)
    changed = world_field(seed=42, years=YEARS_DEFAULT)
    replace_atomically(cams, changed, YEARS_DEFAULT)
    result = run_cli(settings, "reload", inbox)
    assert result.returncode == 0, result.stdout + result.stderr
    assert reload_runs(settings)[-1]["files_loaded"] == 1
    np.testing.assert_allclose(stored_box(settings, "CAMS", (2015, 1)),
                               -changed[0, WORLD_ROWS, WORLD_COLS][::-1].astype(float) * _per_year(2015, 1),
                               rtol=2e-6)


# -- item 6: nearly empty files -----------------------------------------------------------------------------

def _catalog_with_share(tmp_path: Path, share: float) -> Path:
    document = yaml.safe_load(Settings.from_env().catalog.read_text(encoding="utf-8"))
    document = copy.deepcopy(document)
    document["products"][WORLD_PRODUCT]["min_valid_share"] = share
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.mark.bad_input
def test_one_valid_cell_per_month_is_refused(world, tmp_path):
    settings, _ = world
    field = np.full((len(MONTHS), 180, 360), np.nan, dtype=np.float32)
    field[:, WORLD_ROWS.start, WORLD_COLS.start] = -100.0  # one of the box's 8 cells
    path = member_file(tmp_path, "Baker", field)
    catalog = _catalog_with_share(tmp_path, 0.5)
    before = fingerprint(settings)
    result = run_cli(settings, "ingest", "flux", path, "--product", WORLD_PRODUCT, "--catalog", catalog)
    assert_refused(settings, before, result, str(path), "1 valid of 8 cells", "min_valid_share")


@pytest.mark.bad_input
def test_no_valid_value_over_the_analysis_region_is_refused(world, tmp_path):
    settings, _ = world
    field = world_field(seed=51, years=YEARS_DEFAULT)
    field[:, WORLD_ROWS, WORLD_COLS] = np.nan  # values everywhere but over the national box
    field[:, :WORLD_ROWS.start, :] = 50.0
    path = member_file(tmp_path, "Baker", field)
    before = fingerprint(settings)
    result = run_cli(settings, "ingest", "flux", path, "--product", WORLD_PRODUCT)
    assert_refused(settings, before, result, str(path), "0 valid of 8 cells", "2015-01")


# -- item 7: operational noise ------------------------------------------------------------------------------

@pytest.mark.bad_input
def test_unpacked_archive_with_ensmean_and_ensstd_reloads_cleanly(world, tmp_path):
    settings, _ = world
    folder = tmp_path / "inbox" / WORLD_PRODUCT / "LNLGIS"
    for name in ("EnsMean_gridded_fluxes_LNLGIS.nc4", "EnsStd_gridded_fluxes_LNLGIS.nc4"):
        member_file(folder, "EnsMean", world_field(seed=61, years=YEARS_DEFAULT), name=name)
    before = settled(settings, tmp_path)
    result = run_cli(settings, "reload", tmp_path / "inbox")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 skipped" in result.stdout and result.stderr == ""
    assert fingerprint(settings) == before


@pytest.mark.fault
def test_database_lost_mid_reload_is_one_line(world, tmp_path):
    """The server ends the reload's session (as a restart does) while it waits for the lock: one line, exit 1,
    no traceback; the marts stay as they were and the next reload runs."""
    from sinkload.db.locks import advisory_lock
    from sinkload.reload import LOCK_NAME

    settings, directory = world
    before = settled(settings, tmp_path)
    with advisory_lock(settings.database_url, LOCK_NAME) as holder:
        process = start_cli(settings, "reload", "--wait", directory / "inbox")
        deadline, killed = time.time() + 60, 0
        while time.time() < deadline and not killed:
            killed = holder.execute(
                "select count(pg_terminate_backend(l.pid)) from pg_locks l where l.locktype = 'advisory' "
                "and not l.granted and l.database = (select oid from pg_database where datname = current_database())"
            ).fetchone()[0]
            time.sleep(0.2)
        assert killed, "the reload never waited on the lock"
        try:
            out, err = process.communicate(timeout=120)
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 1, out + err
    lines = err.splitlines()
    assert len(lines) == 1 and "database connection lost" in lines[0] and "Traceback" not in err, err
    assert fingerprint(settings) == before
    again = run_cli(settings, "reload", directory / "inbox")
    assert again.returncode == 0, again.stdout + again.stderr


LONG = "CT " + "x" * 90 + " [v2]"


@pytest.mark.bad_input
def test_tables_keep_long_and_bracketed_names_whole(world, tmp_path):
    settings, _ = world
    path = member_file(tmp_path, "CT", world_field(seed=71, years=YEARS_DEFAULT), name=f"{LONG}.nc4")
    result = run_cli(settings, "ingest", "flux", path, "--product", WORLD_PRODUCT, "--member", "CT")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{LONG}.nc4" in result.stdout  # one line, brackets kept, not cut at 80 columns

    long_exp = "LNLGIS" + "X" * 90
    inbox = tmp_path / "inbox"
    member_file(inbox / WORLD_PRODUCT / "[v2]", "OU", world_field(seed=72, years=YEARS_DEFAULT),
                name=f"OU_gridded_fluxes_{long_exp}.nc4")
    reloaded = run_cli(settings, "reload", inbox)
    assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
    assert f"OU_gridded_fluxes_{long_exp}.nc4" in reloaded.stdout


@pytest.mark.bad_input
def test_newline_and_brackets_in_a_file_name_stay_one_line(world, tmp_path):
    settings, _ = world
    path = member_file(tmp_path, "Baker", world_field(seed=73, years=YEARS_DEFAULT), name="bad\nname [v2].nc4",
                       units="W m-2")
    before = fingerprint(settings)
    result = run_cli(settings, "ingest", "flux", path, "--product", WORLD_PRODUCT, "--member", "Baker")
    assert_refused(settings, before, result, "bad\\nname [v2].nc4", "not a mass of carbon")


# -- attacks that already held ------------------------------------------------------------------------------

def _truncated(folder: Path) -> Path:
    path = member_file(folder, "Baker", world_field(seed=81, years=YEARS_DEFAULT))
    path.write_bytes(path.read_bytes()[:4096])
    return path


def _wrong_grid(folder: Path) -> Path:
    import netCDF4

    path = folder / "Baker_gridded_fluxes_LNLGIS.nc4"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", len(MONTHS))
        ds.createDimension("latitude", 90)
        ds.createDimension("longitude", 180)
        ds.createDimension("date_components", 3)
        ds.createVariable("latitude", "f4", ("latitude",))[:] = np.arange(-89.0, 90, 2.0)
        ds.createVariable("longitude", "f4", ("longitude",))[:] = np.arange(-179.0, 180, 2.0)
        ds.createVariable("start_date", "i4", ("time", "date_components"))[:] = [[y, m, 1] for y, m in MONTHS]
        land = ds.createVariable("land", "f4", ("time", "latitude", "longitude"))
        land.units = "gC per m2 per year"
        land[:] = np.ones((len(MONTHS), 90, 180), dtype=np.float32)
    return path


def _duplicate_months(folder: Path) -> Path:
    import netCDF4

    path = member_file(folder, "Baker", world_field(seed=82, years=YEARS_DEFAULT))
    with netCDF4.Dataset(path, "a") as ds:
        ds["start_date"][5, :] = [2015, 5, 1]  # June stamped as May
    return path


HELD = {
    "corrupt NetCDF": (_truncated, "not a readable NetCDF file"),
    "wrong grid": (_wrong_grid, "does not match product"),
    "duplicate months in one file": (_duplicate_months, "duplicate month 2015-05"),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("case", list(HELD))
def test_attacks_that_already_held_still_hold(world, tmp_path, case):
    settings, _ = world
    make, words = HELD[case]
    path = make(tmp_path)
    before = fingerprint(settings)
    result = run_cli(settings, "ingest", "flux", path, "--product", WORLD_PRODUCT)
    assert_refused(settings, before, result, str(path), words)


@pytest.mark.bad_input
def test_hostile_file_name_in_the_inbox_is_data(world, tmp_path):
    """A file name made to look like SQL and markup: refused (it matches no member) as one line, verbatim."""
    settings, _ = world
    name = "x'); drop table raw.load_batch; -- [bold]_gridded_fluxes_LNLGIS.nc4"
    inbox = tmp_path / "inbox"
    path = member_file(inbox / WORLD_PRODUCT, "Baker", world_field(seed=83, years=YEARS_DEFAULT), name=name)
    before = settled(settings, tmp_path)
    result = run_cli(settings, "reload", inbox)
    assert_refused(settings, before, result, str(path), "is not in product")


# -- metadata and content no check foresaw: one line each, and the reload goes on ---------------------------

def _corrupt_chunk(folder: Path) -> Path:
    """Header intact, 4 KiB of data zeroed half-way: netCDF-C fails on that chunk only (NetCDF: HDF error)."""
    path = member_file(folder, "Baker", world_field(seed=91, years=YEARS_DEFAULT))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] + b"\0" * 4096 + data[len(data) // 2 + 4096:])
    return path


def _vegas(folder: Path, n: int = 12, time_units: str = "days since 1700-01-01", edit=None) -> Path:
    """A TRENDY-style file of the vegas product (0.5 degree, noleap, mid-month stamps), edited by `edit(ds)`."""
    import netCDF4

    from tests.flux_files import write_trendy

    lats, lons = np.arange(34.75, 26, -0.5), np.arange(105.25, 120, 0.5)
    mid = (np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30]) + 15 + 365 * (2016 - 1700))[:n]
    path = folder / "VEGAS_S3_nbp.nc"
    write_trendy(path, np.full((n, lats.size, lons.size), 1e-8, np.float32), lats, lons, mid.astype(float),
                 time_units, "noleap")
    if edit is not None:
        with netCDF4.Dataset(path, "a") as ds:
            edit(ds)
    return path


def _nan_start_date(folder: Path) -> Path:
    import netCDF4

    path = folder / "Baker_gridded_fluxes_LNLGIS.nc4"
    write_mip_member(path, world_field(seed=92, years=YEARS_DEFAULT), YEARS_DEFAULT)
    with netCDF4.Dataset(path, "a") as ds:  # a float start_date (as some writers give it) with one year missing
        ds.createVariable("start_date_f", "f8", ("time", "date_components"))[:] = ds["start_date"][:]
        ds["start_date_f"][3, 0] = np.nan
        ds.renameVariable("start_date", "start_date_i")
        ds.renameVariable("start_date_f", "start_date")
    return path


def _non_utf8_folder(folder: Path) -> Path:
    """A file below a folder whose name is latin-1 (an archive unpacked from another system)."""
    parent = os.path.join(os.fsencode(folder), b"Ausgabe_M\xfcller")
    os.makedirs(parent)
    # written elsewhere and moved there: netCDF4 cannot create it there either
    written = member_file(folder / "written", "Baker", world_field(seed=93, years=YEARS_DEFAULT))
    target = Path(os.fsdecode(parent)) / written.name
    written.rename(target)
    written.parent.rmdir()
    return target


SURPRISES = {
    "corrupt data chunk": (_corrupt_chunk, WORLD_PRODUCT, ["cannot read the values", "HDF error"]),
    "units stored as a number": (lambda f: _vegas(f, edit=lambda ds: ds["nbp"].setncattr("units", np.float32(1))),
                                 "vegas", ["nbp's units attribute is the number 1.0, not text"]),
    "calendar stored as a number": (
        lambda f: _vegas(f, edit=lambda ds: ds["time"].setncattr("calendar", np.int32(365))),
        "vegas", ["time's calendar attribute is the number 365, not text"]),
    "zero time records": (lambda f: _vegas(f, n=0), "vegas", ["no time steps (0 records along time)"]),
    "days since a year and month": (lambda f: _vegas(f, time_units="days since 2016-01"), "vegas",
                                    ["cannot decode time"]),
    "NaN start_date": (_nan_start_date, WORLD_PRODUCT, ["start_date has missing (NaN) years or months"]),
    "non-UTF-8 folder name": (_non_utf8_folder, WORLD_PRODUCT, ["Ausgabe_M\\udcfcller", "not valid UTF-8"]),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("case", list(SURPRISES))
def test_content_no_check_foresaw_is_one_line(world, tmp_path, case):
    settings, _ = world
    make, product, words = SURPRISES[case]
    path = make(tmp_path)
    before = fingerprint(settings)
    result = run_cli(settings, "ingest", "flux", path, "--product", product)
    assert_refused(settings, before, result, f"error: {tmp_path}", path.name, *words)
    assert "Traceback" not in result.stderr


@pytest.mark.bad_input
def test_reload_records_each_bad_file_and_loads_the_good_one(world, tmp_path):
    """A corrupt chunk and a non-UTF-8 folder were tracebacks that ended the reload before the good file."""
    settings, _ = world
    folder = tmp_path / "inbox" / WORLD_PRODUCT
    corrupt = _corrupt_chunk(folder / "A")
    _non_utf8_folder(folder)
    good_field = world_field(seed=94, years=YEARS_DEFAULT)
    member_file(folder / "LNLGIS", "CT", good_field)
    settled(settings, tmp_path)
    result = run_cli(settings, "reload", tmp_path / "inbox")
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_line(result)
    assert str(corrupt) in line and "Ausgabe_M\\udcfcller" in line and "2 file(s) failed" in line, line
    run = reload_runs(settings)[-1]
    assert (run["status"], run["files_loaded"], run["files_failed"]) == ("failed", 1, 2)
    assert "HDF error" in run["message"] and "not valid UTF-8" in run["message"]
    expected = -good_field[0, WORLD_ROWS, WORLD_COLS][::-1].astype(float) * _per_year(2015, 1)
    np.testing.assert_allclose(stored_box(settings, "CT", (2015, 1)), expected, rtol=2e-6)


@pytest.mark.fault
def test_an_unexpected_error_in_one_file_does_not_stop_the_next(world, tmp_path):
    """Any exception while one inbox file loads (here raised by the progress callback, in the middle of its
    first month) is that file's failure, named with its type; the next file loads."""
    from sinkload.db.raw_state import last_loaded_from, loaded_hashes
    from sinkload.db.warehouse import Warehouse
    from sinkload.reload import ingest_new, scan_inbox

    settings, _ = world
    folder = tmp_path / "inbox" / WORLD_PRODUCT / "LNLGIS"
    first = member_file(folder, "Ames", world_field(seed=95, years=YEARS_DEFAULT))
    second_field = world_field(seed=96, years=YEARS_DEFAULT)
    member_file(folder, "OU", second_field)

    def progress(path: Path, done: int, total: int) -> None:
        if path == first and done == 1:
            raise ZeroDivisionError("injected")

    before = fingerprint(settings)
    with psycopg.connect(settings.database_url) as conn:
        current, from_path = loaded_hashes(conn), last_loaded_from(conn)
    outcomes = ingest_new(Warehouse.of(settings), scan_inbox(tmp_path / "inbox"), current, from_path, None,
                          progress=progress)
    assert [(o.file.path.name, o.status.value) for o in outcomes] == [
        (first.name, "failed"), ("OU_gridded_fluxes_LNLGIS.nc4", "loaded")]
    assert outcomes[0].message == f"{first}: unexpected error (ZeroDivisionError: injected)"
    with psycopg.connect(settings.database_url) as conn:
        loaded = {name for (name,) in conn.execute("select file_path from raw.load_batch")}
    assert str(first.resolve()) not in loaded and str((folder / "OU_gridded_fluxes_LNLGIS.nc4").resolve()) in loaded
    expected = -second_field[0, WORLD_ROWS, WORLD_COLS][::-1].astype(float) * _per_year(2015, 1)
    np.testing.assert_allclose(stored_box(settings, "OU", (2015, 1)), expected, rtol=2e-6)
    assert fingerprint(settings) != before


# -- already loaded is per (product, member, sha256) --------------------------------------------------------

def _members_with(settings: Settings, month: tuple[int, int]) -> set[str]:
    with psycopg.connect(settings.database_url) as conn:
        return {name for (name,) in conn.execute(
            "select distinct m.name from raw.flux_tile t join raw.member m on m.member_id = t.member_id "
            "where t.month = make_date(%s, %s, 1)", list(month))}


def test_a_file_renamed_to_another_member_and_identical_files_of_two_members_load(world, tmp_path):
    """The reload's already-loaded check is per member: a file renamed from LoFI_… to JHU_… (it was JHU's) loads
    as JHU, and two members whose files are byte for byte the same both load."""
    settings, _ = world
    inbox = tmp_path / "inbox"
    folder = inbox / WORLD_PRODUCT / "LNLGIS"
    values = world_field(seed=97, years=YEARS_DEFAULT)
    lofi = member_file(folder, "LoFI", values)
    first = run_cli(settings, "reload", inbox)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "JHU" not in _members_with(settings, (2015, 1))
    lofi.rename(folder / "JHU_gridded_fluxes_LNLGIS.nc4")
    (folder / "COLA_gridded_fluxes_LNLGIS.nc4").write_bytes((folder / "JHU_gridded_fluxes_LNLGIS.nc4").read_bytes())
    second = run_cli(settings, "reload", inbox)
    assert second.returncode == 0, second.stdout + second.stderr
    assert reload_runs(settings)[-1]["files_loaded"] == 2
    expected = -values[0, WORLD_ROWS, WORLD_COLS][::-1].astype(float) * _per_year(2015, 1)
    for member in ("JHU", "COLA", "LoFI"):  # LoFI's batch stays: the inbox only adds and replaces months
        np.testing.assert_allclose(stored_box(settings, member, (2015, 1)), expected, rtol=2e-6, err_msg=member)
    steady = fingerprint(settings)
    third = run_cli(settings, "reload", inbox)
    assert third.returncode == 0 and "nothing to do" in third.stdout, third.stdout + third.stderr
    assert fingerprint(settings) == steady
