"""Superset 6.1, in a virtualenv of its own, shows the marts: the bundle is bootstrapped through the REST API
against the sample warehouse with an analyst login, the dashboard is opened in headless Chromium, and every
chart must have drawn without an error panel, its data request returning as many rows as the same grouping
counted directly in SQL. Writes report/superset.png.

The venv is cached under ~/.cache/sinkload-superset/<hash of the pins> (SINKLOAD_SUPERSET_CACHE overrides the
folder): the first run installs Superset (minutes), later runs reuse it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql

from sinkload.db.warehouse import Warehouse
from sinkload.superset.bundle import chart_specs
from sinkload.superset.client import SupersetClient
from tests.support import fresh_database, run_cli

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "deploy" / "superset" / "requirements.txt"
MARTS_YML = REPO / "dbt_project" / "models" / "marts" / "_marts.yml"
CONFIG = REPO / "deploy" / "superset" / "superset_config.py"
BROWSER_SCRIPT = Path(__file__).with_name("superset_browser.py")
SCREENSHOT = REPO / "report" / "superset.png"
TEST_EXTRAS = ["playwright==1.65.2"]  # drives Debian's chromium; no browser download
ADMIN = "admin"


def _cache_root() -> Path:
    return Path(os.environ.get("SINKLOAD_SUPERSET_CACHE") or Path.home() / ".cache" / "sinkload-superset")


@pytest.fixture(scope="session")
def superset_venv() -> Path:
    """A venv with the pinned Superset (+ playwright), built once per set of pins."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + "\n".join(TEST_EXTRAS).encode()).hexdigest()[:16]
    venv = _cache_root() / key
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        install = subprocess.run([*pip, "-r", str(REQUIREMENTS), *TEST_EXTRAS], capture_output=True, text=True,
                                 timeout=1800)
        assert install.returncode == 0, f"installing Superset failed:\n{install.stderr[-3000:]}"
        (venv / ".complete").touch()
    return venv


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (CI is a fresh Debian as root)."""
    found = shutil.which("chromium")
    if not found and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, timeout=1200,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("chromium")
    assert found, "chromium is not installed (apt-get install chromium)"
    return found


@pytest.fixture(scope="module")
def warehouse(server_url, base_settings, tmp_path_factory):
    """The sample data set loaded and built in a database of its own."""
    from sinkload.dbt import run_dbt
    from sinkload.geography.landcover import ingest_landcover_file
    from sinkload.geography.regions import ingest_default_regions
    from sinkload.ingest.flux import ingest_manifest
    from sinkload.sample import write_sample

    manifest = write_sample(tmp_path_factory.mktemp("sample"))
    with fresh_database(server_url, base_settings, "superset") as settings:
        handle = Warehouse.of(settings)
        ingest_manifest(handle, manifest)
        ingest_default_regions(handle)
        ingest_landcover_file(handle, manifest.landcover, code_field=manifest.landcover_code_field)
        run_dbt(handle, ["build"])
        yield settings


@pytest.fixture(scope="module")
def analyst_login(warehouse, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A BI login made the documented way, `sinkload analyst create` with the password in a 0600 file.
    Returns (name, password)."""
    name, password = f"{warehouse.role_prefix}_bi", secrets.token_urlsafe(16)
    secret = tmp_path_factory.mktemp("secret") / "password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)
    result = run_cli(warehouse, "analyst", "create", name, "--password-file", secret)
    assert result.returncode == 0, result.stdout + result.stderr
    yield name, password
    run_cli(warehouse, "analyst", "drop", name)


def analyst_uri(database_url: str, login: str) -> str:
    """The psycopg2 SQLAlchemy URI (no password) of the same server and database as `login`."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(("postgresql+psycopg2", f"{login}@{host}", parts.path, parts.query, ""))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "Superset exited while starting"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"Superset did not answer on {url}/health within {timeout:.0f} s")


@pytest.fixture(scope="module")
def superset(superset_venv, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """Superset on a free localhost port (gunicorn, as in production), metadata in a temp SQLite file.
    Yields (url, admin password file)."""
    home = tmp_path_factory.mktemp("superset-home")
    password_file = home / "admin-password"
    password_file.write_text(secrets.token_urlsafe(16))
    env = {**os.environ, "SUPERSET_CONFIG_PATH": str(CONFIG), "SUPERSET_HOME": str(home),
           "SUPERSET_SECRET_KEY": secrets.token_urlsafe(32), "FLASK_APP": "superset"}
    bin_dir = superset_venv / "bin"
    for args in (["db", "upgrade"],
                 ["fab", "create-admin", "--username", ADMIN, "--password", password_file.read_text(),
                  "--firstname", "a", "--lastname", "b", "--email", "admin@localhost"],
                 ["init"]):
        subprocess.run([str(bin_dir / "superset"), *args], env=env, cwd=home, check=True, capture_output=True,
                       timeout=600)
    port = _free_port()
    log = (home / "gunicorn.log").open("w")
    process = subprocess.Popen([str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                "--threads", "8", "--timeout", "300", "superset.app:create_app()"],
                               env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url, password_file
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


_OPERATORS = {"==": "=", "!=": "<>"}


def _count_distinct(conn: psycopg.Connection, dataset: str, keys: list[str], filters: list[dict]) -> int:
    where = [sql.SQL("{} {} {}").format(sql.Identifier(f["subject"]), sql.SQL(_OPERATORS[f["operator"]]),
                                        sql.Literal(f["comparator"]))
             for f in filters if f["operator"] in _OPERATORS]
    source = sql.SQL("marts.{}").format(sql.Identifier(dataset))
    where_sql = sql.SQL(" where ") + sql.SQL(" and ").join(where) if where else sql.SQL("")
    if keys:
        query = sql.SQL("select count(*) from (select distinct {} from {}{}) as d").format(
            sql.SQL(", ").join(map(sql.Identifier, keys)), source, where_sql)
    else:
        query = sql.SQL("select count(*) from {}{}").format(source, where_sql)
    return conn.execute(query).fetchone()[0]


def _expected_rows(conn: psycopg.Connection, dataset: str, viz_type: str, params: dict) -> int:
    """The rows a chart's data request returns, counted in SQL: one per distinct x value (series are pivoted
    into columns; a mixed chart has two queries, A and B), per polygon, per (x, y) pair of a heatmap, or
    per row of a raw table."""
    if viz_type == "table":
        return _count_distinct(conn, dataset, [], params["adhoc_filters"])
    if viz_type == "deck_polygon":
        return _count_distinct(conn, dataset, [params["line_column"]], params["adhoc_filters"])
    if viz_type == "heatmap_v2":
        return _count_distinct(conn, dataset, [params["x_axis"], params["groupby"]], params["adhoc_filters"])
    count = _count_distinct(conn, dataset, [params["x_axis"]], params["adhoc_filters"])
    if viz_type == "mixed_timeseries":
        count += _count_distinct(conn, dataset, [params["x_axis"]], params["adhoc_filters_b"])
    return count


def test_dashboard_draws_every_chart(warehouse, analyst_login, superset, chromium, superset_venv):
    url, admin_password_file = superset
    login, password = analyst_login
    password_file = admin_password_file.with_name("analyst-password")
    password_file.write_text(password)
    result = run_cli(warehouse, "superset", "bootstrap", "--url", url, "--user", ADMIN,
                     "--password-file", admin_password_file, "--database-uri",
                     analyst_uri(warehouse.database_url, login), "--database-password-file", password_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refreshed 6 datasets" in result.stdout, result.stdout

    client = SupersetClient.login(url, ADMIN, admin_password_file.read_text())
    databases = client.request("GET", "/api/v1/database/?q=(columns:!(id,database_name,allow_dml))")["result"]
    assert [(d["database_name"], d["allow_dml"]) for d in databases] == [("sinkload", False)]
    stored_uri = client.request("GET", f"/api/v1/database/{databases[0]['id']}/connection")["result"]["sqlalchemy_uri"]
    assert stored_uri.startswith(f"postgresql+psycopg2://{login}:XXXXXXXXXX@"), stored_uri  # password kept
    assert password.encode() not in (admin_password_file.parent / "superset.db").read_bytes()  # encrypted
    slices = {c["slice_name"]: c["id"] for c in
              client.request("GET", "/api/v1/chart/?q=(columns:!(id,slice_name),page_size:100)")["result"]}
    specs = chart_specs()
    assert set(slices) == {s.name for s in specs}

    documented = {m["name"]: {c["name"]: c.get("description") for c in m["columns"]}
                  for m in yaml.safe_load(MARTS_YML.read_text())["models"]}
    for dataset in client.warehouse_datasets():  # refreshed: types from the database, docs from the yml
        columns = client.request("GET", f"/api/v1/dataset/{dataset['id']}")["result"]["columns"]
        assert {c["column_name"]: c["description"] for c in columns} == documented[dataset["table_name"]]
        assert all(c["type"] for c in columns), dataset["table_name"]

    browser = subprocess.run([str(superset_venv / "bin" / "python"), str(BROWSER_SCRIPT), url, ADMIN,
                              str(admin_password_file), str(SCREENSHOT), chromium],
                             capture_output=True, text=True, timeout=600)
    assert browser.returncode == 0, browser.stderr[-3000:]
    seen = json.loads(browser.stdout.strip().splitlines()[-1])
    assert seen["error_panels"] == []
    assert seen["chart_holders"] == len(specs)
    with psycopg.connect(warehouse.database_url) as conn:
        for spec in specs:
            got = seen["charts"].get(str(slices[spec.name]))
            assert got is not None, f"{spec.name}: no data request"
            assert got["status"] == 200 and not got["error"], (spec.name, got)
            wanted = _expected_rows(conn, spec.dataset, spec.viz_type, spec.params)
            assert wanted > 0, f"{spec.name}: the view is empty"
            assert got["rowcount"] == wanted, (spec.name, got["rowcount"], wanted)
    assert SCREENSHOT.stat().st_size > 50_000


def test_postgis_from_sql_lab_search_path(warehouse, analyst_login):
    """As the analyst with Superset's `set search_path = "marts"`: schema-qualified PostGIS functions work,
    and the geojson column needs none."""
    from urllib.parse import urlsplit, urlunsplit

    login, password = analyst_login
    parts = urlsplit(warehouse.database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    url = urlunsplit((parts.scheme, f"{login}:{password}@{host}", parts.path, parts.query, ""))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('set search_path = "marts"')
        row = conn.execute("select public.st_asgeojson(geom) = geojson, public.st_area(geom) > 0, "
                           "json_typeof(geojson::json) from sink_cell_mean limit 1").fetchone()
        assert row == (True, True, "object")
        year_ok = conn.execute("select bool_and(year_start = make_date(year, 1, 1)) from sink_annual").fetchone()
        assert year_ok == (True,)
        # dbt persist_docs: the yml descriptions are COMMENTs the analyst (and Superset) can read
        comments = dict(conn.execute(
            "select attname, col_description(attrelid, attnum) from pg_attribute "
            "where attrelid = 'marts.sink_annual'::regclass and attnum > 0 and not attisdropped").fetchall())
        model = next(m for m in yaml.safe_load(MARTS_YML.read_text())["models"] if m["name"] == "sink_annual")
        assert comments == {c["name"]: c.get("description") for c in model["columns"]}
        assert conn.execute("select obj_description('marts.sink_annual'::regclass)").fetchone()[0] == \
            model["description"]
