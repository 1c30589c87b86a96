"""The Superset asset bundle (6.1 import/export format, version 1.0.0) generated from the dbt marts' yml.

Pure: dbt yml text in, a mapping of bundle-relative file names to YAML-ready dicts out. Datasets take their
column descriptions from the yml; every measure column (its name ends in a unit: _tgc, _pgc, _pgc_yr,
_gc_m2_yr, _gc_m2_day, _pct) gets one metric, SUM for masses per period (Tg C, Pg C) and AVG for densities,
means and percentages, described by the column's description.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

VERSION = "1.0.0"
DATABASE_NAME = "sinkload"
SCHEMA = "marts"
# The export format names objects by UUID; deriving them from names keeps re-imports overwriting in place.
_NAMESPACE = uuid.UUID("6f1d3c1e-5b1a-4d0e-9a57-2b8f0c3e9d41")
_MASS = re.compile(r"_(tgc|pgc)$")
_MEASURE = re.compile(r"_(tgc|pgc|pgc_yr|gc_m2_yr|gc_m2_day|pct)$")
_DATE_COLUMNS = {"month", "year_start"}


def stable_uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def metric_name(column: str) -> str:
    """The metric a chart uses for a measure column, e.g. sum__sink_tgc, avg__share_pct."""
    return f"{'sum' if _MASS.search(column) else 'avg'}__{column}"


@dataclass(frozen=True)
class ChartSpec:
    """One chart: its slice name, viz type, dataset (a marts view) and form data (Superset's params)."""

    name: str
    viz_type: str
    dataset: str
    params: dict[str, Any]


def _filter(column: str, value: str) -> dict[str, Any]:
    return {"clause": "WHERE", "expressionType": "SIMPLE", "subject": column, "operator": "==",
            "comparator": value}


def _no_time_filter(column: str) -> dict[str, Any]:
    return {"clause": "WHERE", "expressionType": "SIMPLE", "subject": column, "operator": "TEMPORAL_RANGE",
            "comparator": "No filter"}


def _filter_not(column: str, value: str) -> dict[str, Any]:
    return {**_filter(column, value), "operator": "!="}


_LEGEND = {"show_legend": True, "legendType": "scroll", "legendOrientation": "top", "rich_tooltip": True}


def _bars_with_shares(name: str, scope: str) -> ChartSpec:
    """Mean annual sink per unit as bars (left axis) and each unit's share of the scope as dots (right axis)."""
    return ChartSpec(name, "mixed_timeseries", "sink_summary", {
        "x_axis": "unit", "metrics": [metric_name("mean_pgc_yr")], "metrics_b": [metric_name("share_pct")],
        "groupby": ["product", "member"], "groupby_b": ["product", "member"],
        "adhoc_filters": [_filter("scope", scope)], "adhoc_filters_b": [_filter("scope", scope)],
        "seriesType": "bar", "seriesTypeB": "scatter", "yAxisIndex": 0, "yAxisIndexB": 1,
        "row_limit": 10000, "row_limit_b": 10000, "y_axis_format": "SMART_NUMBER",
        "y_axis_format_secondary": "SMART_NUMBER", "yAxisTitle": "Pg C/yr", "yAxisTitleSecondary": "share %",
        "markerSizeB": 8, "x_axis_sort_asc": True, **_LEGEND})


def chart_specs() -> list[ChartSpec]:
    """The study's figures, drawn from the views (scopes are design constants; products and units are data)."""
    return [
        ChartSpec("Monthly national sink: the members (thin) behind the ensemble mean (Tg C per month)",
                  "mixed_timeseries", "sink_monthly", {
                      "x_axis": "month", "time_grain_sqla": "P1M",
                      "metrics": [metric_name("sink_tgc")], "metrics_b": [metric_name("sink_tgc")],
                      "groupby": ["product", "member"], "groupby_b": ["product", "member"],
                      "adhoc_filters": [_no_time_filter("month"), _filter("scope", "national"),
                                        _filter_not("member", "ensemble_mean")],
                      "adhoc_filters_b": [_no_time_filter("month"), _filter("scope", "national"),
                                          _filter("member", "ensemble_mean")],
                      "seriesType": "line", "seriesTypeB": "line", "yAxisIndex": 0, "yAxisIndexB": 0,
                      "opacity": 0.2, "opacityB": 1, "markerEnabled": False, "markerEnabledB": True,
                      "markerSizeB": 4, "row_limit": 10000, "row_limit_b": 10000,
                      "y_axis_format": "SMART_NUMBER", "x_axis_time_format": "smart_date", **_LEGEND}),
        ChartSpec("Annual national sink per year (Pg C)", "echarts_timeseries_bar", "sink_annual", {
            "x_axis": "year_start", "time_grain_sqla": "P1Y", "metrics": [metric_name("sink_pgc")],
            "groupby": ["product", "member"],
            "adhoc_filters": [_no_time_filter("year_start"), _filter("scope", "national")],
            "row_limit": 10000, "show_legend": True, "legendType": "scroll", "legendOrientation": "top",
            "x_axis_time_format": "%Y", "y_axis_format": "SMART_NUMBER", "rich_tooltip": True}),
        ChartSpec("National mean annual sink and its interannual SD (Pg C/yr)", "echarts_timeseries_bar",
                  "sink_summary", {
                      "x_axis": "member", "groupby": ["product"],
                      "metrics": [metric_name("mean_pgc_yr"), metric_name("interannual_sd_pgc_yr")],
                      "adhoc_filters": [_filter("scope", "national")], "row_limit": 10000,
                      "y_axis_format": "SMART_NUMBER", "x_axis_sort_asc": True, "orientation": "vertical",
                      **_LEGEND}),
        _bars_with_shares("Division mean annual sink (bars, Pg C/yr) and share of the nation (dots, %)",
                          "division"),
        _bars_with_shares("Ecosystem mean annual sink (bars, Pg C/yr) and share of the four (dots, %)",
                          "ecosystem"),
        ChartSpec("Mean annual sink per 1° cell (g C m-2 yr-1)", "deck_polygon", "sink_cell_mean", {
            "line_column": "geojson", "line_type": "json", "metric": metric_name("sink_gc_m2_yr"),
            "adhoc_filters": [], "row_limit": 10000, "filled": True, "stroked": False, "extruded": False,
            "fill_color_picker": {"r": 3, "g": 120, "b": 73, "a": 1}, "linear_color_scheme": "green_yellow_red",
            "legend_position": "tr", "legend_format": ".1f", "mapbox_style": "mapbox://styles/mapbox/light-v9",
            "reverse_long_lat": False, "multiplier": 1, "line_width": 1, "line_width_unit": "pixels",
            "js_columns": [], "js_data_mutator": "", "js_tooltip": "", "js_onclick_href": "",
            "viewport": {"longitude": 104.5, "latitude": 36.0, "zoom": 2.6, "bearing": 0, "pitch": 0}}),
        ChartSpec("Zonal mean sink, latitude × month (g C m-2 per day)", "heatmap_v2", "sink_zonal_monthly", {
            "x_axis": "month", "time_grain_sqla": "P1M", "groupby": "lat", "metric": metric_name("sink_gc_m2_day"),
            "adhoc_filters": [_no_time_filter("month")], "row_limit": 100000, "linear_color_scheme": "blue_white_yellow",
            "normalize_across": "heatmap", "legend_type": "continuous", "show_legend": True, "show_values": False,
            "sort_x_axis": "alpha_asc", "sort_y_axis": "alpha_desc", "x_axis_time_format": "%Y-%m",
            "y_axis_format": "SMART_NUMBER", "xscale_interval": -1, "yscale_interval": -1,
            "value_bounds": [None, None], "left_margin": "auto", "bottom_margin": "auto"}),
        ChartSpec("Ensemble spread between members (Pg C/yr)", "table", "ensemble_spread", {
            "query_mode": "raw", "all_columns": ["product", "scope", "unit", "n_members", "member_mean_pgc_yr",
                                                 "member_sd_pgc_yr", "member_min_pgc_yr", "member_max_pgc_yr"],
            "adhoc_filters": [], "order_by_cols": [], "row_limit": 1000, "server_page_length": 20,
            "table_timestamp_format": "smart_date", "show_cell_bars": True, "percent_metrics": [], "groupby": []}),
    ]


def _dataset(model: dict[str, Any], database_uuid: str) -> dict[str, Any]:
    name = model["name"]
    columns = [c for c in model.get("columns", []) if c.get("name")]
    return {
        "table_name": name, "schema": SCHEMA, "catalog": None, "sql": None,
        "description": " ".join(str(model.get("description", "")).split()) or None,
        "main_dttm_col": next((c["name"] for c in columns if c["name"] in _DATE_COLUMNS), None),
        "default_endpoint": None, "offset": 0, "cache_timeout": None, "params": None,
        "template_params": None, "filter_select_enabled": True, "fetch_values_predicate": None,
        "extra": None, "normalize_columns": False, "always_filter_main_dttm": False,
        "uuid": stable_uuid("dataset", name), "database_uuid": database_uuid, "version": VERSION,
        "metrics": [{"metric_name": metric_name(c["name"]), "verbose_name": None,
                     "metric_type": metric_name(c["name"]).split("__")[0],
                     "expression": f"{metric_name(c['name']).split('__')[0].upper()}({c['name']})",
                     "description": c.get("description"), "d3format": None, "extra": None, "warning_text": None}
                    for c in columns if _MEASURE.search(c["name"])],
        "columns": [{"column_name": c["name"], "verbose_name": None, "is_dttm": c["name"] in _DATE_COLUMNS,
                     "is_active": True, "type": None, "advanced_data_type": None, "groupby": True,
                     "filterable": True, "expression": None, "description": c.get("description"),
                     "python_date_format": None, "extra": None}
                    for c in columns],
    }


def _chart(spec: ChartSpec) -> dict[str, Any]:
    params = {"viz_type": spec.viz_type, **spec.params}
    return {"slice_name": spec.name, "description": None, "certified_by": None, "certification_details": None,
            "viz_type": spec.viz_type, "params": params, "query_context": None, "cache_timeout": None,
            "uuid": stable_uuid("chart", spec.name), "version": VERSION,
            "dataset_uuid": stable_uuid("dataset", spec.dataset)}


def _native_filter(column: str, label: str, chart_ids: list[int]) -> dict[str, Any]:
    """A dashboard select filter on `column` (every view has it), empty by default: nothing filtered."""
    return {"id": f"NATIVE_FILTER-{column}", "name": label, "type": "NATIVE_FILTER",
            "filterType": "filter_select", "description": "", "cascadeParentIds": [],
            "chartsInScope": chart_ids, "scope": {"rootPath": ["ROOT_ID"], "excluded": []}, "tabsInScope": [],
            "targets": [{"column": {"name": column}, "datasetUuid": stable_uuid("dataset", "sink_summary")}],
            "controlValues": {"multiSelect": True, "enableEmptyFilter": False, "defaultToFirstItem": False,
                              "inverseSelection": False, "searchAllOptions": False},
            "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}}}


def _dashboard(specs: list[ChartSpec]) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"id": "ROOT_ID", "type": "ROOT", "children": ["GRID_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": "Terrestrial carbon sinks"}},
        "GRID_ID": {"id": "GRID_ID", "type": "GRID", "parents": ["ROOT_ID"], "children": []},
    }
    for row_number in range(0, len(specs), 2):
        row_id = f"ROW-{row_number // 2}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"id": row_id, "type": "ROW", "parents": ["ROOT_ID", "GRID_ID"], "children": [],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for index, spec in enumerate(specs[row_number:row_number + 2], start=row_number + 1):
            chart_id = f"CHART-{stable_uuid('chart', spec.name)[:8]}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {"id": chart_id, "type": "CHART", "children": [],
                                  "parents": ["ROOT_ID", "GRID_ID", row_id],
                                  "meta": {"uuid": stable_uuid("chart", spec.name), "sliceName": spec.name,
                                           "chartId": index, "width": 6, "height": 60}}  # id remapped on import
    return {"dashboard_title": "Terrestrial carbon sinks", "description": None, "css": "",
            "slug": "sinkload", "certified_by": "", "certification_details": "", "published": True,
            "uuid": stable_uuid("dashboard", "sinkload"), "version": VERSION, "position": position,
            "metadata": {"color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {},
                         "label_colors": {}, "shared_label_colors": [], "timed_refresh_immune_slices": [],
                         "cross_filters_enabled": False,
                         # The map and the heatmap average over the products and members shown: pick one.
                         "native_filter_configuration": [
                             _native_filter("product", "Product", list(range(1, len(specs) + 1))),
                             _native_filter("member", "Member", list(range(1, len(specs) + 1)))],
                         "chart_configuration": {}, "global_chart_configuration": {}, "default_filters": "{}"}}


def _database(database_uuid: str, sqlalchemy_uri: str) -> dict[str, Any]:
    return {"database_name": DATABASE_NAME, "sqlalchemy_uri": sqlalchemy_uri, "cache_timeout": None,
            "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False, "allow_cvas": False,
            "allow_dml": False, "allow_csv_upload": False, "impersonate_user": False,
            "extra": {"allows_virtual_table_explore": True, "schemas_allowed_for_file_upload": []},
            "uuid": database_uuid, "version": VERSION}


# The placeholder the bundle carries; `bootstrap` puts the real URI (and its password) in at import time.
PLACEHOLDER_URI = "postgresql+psycopg2://ANALYST@/sinkload?host=/path/to/socket/dir&port=5432"


# The six views of the public interface (design.md) become datasets; the other views stay for SQL Lab.
DATASETS = ("sink_cell_mean", "sink_monthly", "sink_annual", "sink_summary", "sink_zonal_monthly", "ensemble_spread")


def build_bundle(marts_yml: dict[str, Any], sqlalchemy_uri: str = PLACEHOLDER_URI) -> dict[str, dict[str, Any]]:
    """Bundle files (paths relative to the bundle root) -> content, from the parsed `_marts.yml`."""
    database_uuid = stable_uuid("database", DATABASE_NAME)
    specs = chart_specs()
    models = {m["name"]: m for m in marts_yml.get("models", []) if m["name"] in DATASETS}
    missing = sorted({s.dataset for s in specs} - set(models))
    if missing:
        raise ValueError(f"charts use views the dbt yml does not describe: {', '.join(missing)}")
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": VERSION, "type": "assets", "timestamp": "2026-01-01T00:00:00+00:00"},
        f"databases/{DATABASE_NAME}.yaml": _database(database_uuid, sqlalchemy_uri),
    }
    for name, model in sorted(models.items()):
        files[f"datasets/{DATABASE_NAME}/{name}.yaml"] = _dataset(model, database_uuid)
    for spec in specs:
        files[f"charts/{re.sub(r'[^A-Za-z0-9]+', '_', spec.name).strip('_')[:60]}.yaml"] = _chart(spec)
    files["dashboards/sinkload.yaml"] = _dashboard(specs)
    return files
