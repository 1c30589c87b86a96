"""The Superset bundle: generated from the dbt yml, committed as generated, zipped without secrets."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import yaml

from sinkload.errors import SinkloadError
from sinkload.superset.bundle import DATASETS, build_bundle, chart_specs, metric_name
from sinkload.superset.client import bundle_zip, split_password, with_password
from sinkload.superset.files import load_marts_yml, render
from tests.support import cli_argv

REPO = Path(__file__).resolve().parents[2]
MARTS_YML = REPO / "dbt_project" / "models" / "marts" / "_marts.yml"
BUNDLE = REPO / "deploy" / "superset" / "bundle"


def test_committed_bundle_is_the_generated_one():
    generated = {path: render(content) for path, content in build_bundle(load_marts_yml(MARTS_YML)).items()}
    committed = {p.relative_to(BUNDLE).as_posix(): p.read_text(encoding="utf-8")
                 for p in BUNDLE.rglob("*.yaml")}
    assert set(committed) == set(generated), "run `sinkload superset bundle` and commit deploy/superset/bundle"
    stale = sorted(path for path in generated if committed[path] != generated[path])
    assert not stale, f"stale: {stale} (run `sinkload superset bundle`)"


def test_datasets_carry_every_documented_column_and_a_metric_per_measure():
    marts = yaml.safe_load(MARTS_YML.read_text())
    files = build_bundle(marts)
    assert {name for name in files if name.startswith("datasets/")} == {
        f"datasets/sinkload/{view}.yaml" for view in DATASETS}
    for model in (m for m in marts["models"] if m["name"] in DATASETS):
        dataset = files[f"datasets/sinkload/{model['name']}.yaml"]
        assert dataset["schema"] == "marts"
        assert [c["column_name"] for c in dataset["columns"]] == [c["name"] for c in model["columns"]]
        described = {c["name"]: c.get("description") for c in model["columns"]}
        assert {c["column_name"]: c["description"] for c in dataset["columns"]} == described
        measures = [c for c in described if c.endswith(("_tgc", "_pgc", "_yr", "_day", "_pct"))]
        assert sorted(m["metric_name"] for m in dataset["metrics"]) == sorted(map(metric_name, measures))


def test_charts_use_known_datasets_columns_and_metrics():
    files = build_bundle(load_marts_yml(MARTS_YML))
    datasets = {d["uuid"]: d for name, d in files.items() if name.startswith("datasets/")}
    charts = [c for name, c in files.items() if name.startswith("charts/")]
    assert len(charts) == len(chart_specs())
    for chart in charts:
        dataset = datasets[chart["dataset_uuid"]]
        columns = {c["column_name"] for c in dataset["columns"]}
        metrics = {m["metric_name"] for m in dataset["metrics"]}
        params = chart["params"]
        used = [*params.get("metrics", []), *params.get("metrics_b", []), *([params["metric"]] if "metric" in params else [])]
        assert set(used) <= metrics, (chart["slice_name"], used)
        named = [params.get("x_axis"), params.get("line_column"), *params.get("all_columns", []),
                 *(params["groupby"] if isinstance(params.get("groupby"), list) else [params.get("groupby")])]
        assert {n for n in named if n} <= columns, chart["slice_name"]
    dashboard = files["dashboards/sinkload.yaml"]
    in_position = {v["meta"]["uuid"] for v in dashboard["position"].values()
                   if isinstance(v, dict) and v.get("type") == "CHART"}
    assert in_position == {c["uuid"] for c in charts}


def test_a_chart_on_an_undocumented_view_is_refused():
    with pytest.raises(ValueError, match="sink_monthly"):
        build_bundle({"models": [{"name": "sink_annual", "columns": []}]})


def test_bundle_zip_puts_the_uri_in_and_no_password():
    uri, password = split_password("postgresql+psycopg2://bi:s3cret@/sinkload?host=/tmp/x/run&port=5")
    assert (uri, password) == ("postgresql+psycopg2://bi@/sinkload?host=/tmp/x/run&port=5", "s3cret")
    archive = zipfile.ZipFile(io.BytesIO(bundle_zip(BUNDLE, uri)))
    names = archive.namelist()
    assert "bundle/metadata.yaml" in names and all(n.startswith("bundle/") for n in names)
    database = yaml.safe_load(archive.read("bundle/databases/sinkload.yaml"))
    assert database["sqlalchemy_uri"] == uri and database["allow_dml"] is False
    assert not any(b"s3cret" in archive.read(n) for n in names)


def test_bundle_zip_refuses_a_folder_that_is_not_a_bundle(tmp_path):
    with pytest.raises(SinkloadError, match="no metadata.yaml"):
        bundle_zip(tmp_path, "postgresql+psycopg2://bi@/sinkload")


def test_password_goes_into_the_uri_percent_encoded():
    uri = with_password("postgresql+psycopg2://bi@/sinkload?host=/tmp/x", "p@ss/w:rd")
    assert uri == "postgresql+psycopg2://bi:p%40ss%2Fw%3Ard@/sinkload?host=/tmp/x"
    assert split_password(uri)[0] == "postgresql+psycopg2://bi@/sinkload?host=/tmp/x"
    with pytest.raises(SinkloadError, match="names no user"):
        with_password("postgresql+psycopg2:///sinkload", "x")


def test_cli_writes_the_bundle(tmp_path):
    import subprocess

    out = tmp_path / "bundle"
    result = subprocess.run(cli_argv("superset", "bundle", "--out", out),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    written = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.yaml")}
    assert written == {p.relative_to(BUNDLE).as_posix(): p.read_text(encoding="utf-8") for p in BUNDLE.rglob("*.yaml")}
