"""Views benchmark: latency of a typical query on each public mart view, as an analyst login, against the
target of 100 ms median.

What is measured
  The sample data set (`sinkload sample`, the study's scale) with the default regions and the sample land cover
  is loaded into a throw-away database and built (`sinkload build`; not timed). An analyst login is created
  with `sinkload analyst create` (read-only member of the analyst role, as a BI tool connects) and dropped at
  the end. On every view of schema `marts` it runs a typical query — the BI question of benchmarks/build.py for
  the six study views, a filtered question for the others, the whole view for the small ones (products,
  build_info, region_layer_quality, budget_comparison) — once to warm up, then --repeats times: median and
  95th percentile in ms. A view without a typical query here is timed whole and flagged, so a new view is not
  left out.
"""

from __future__ import annotations

import datetime
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from benchmarks._common import machine_info, publish, results_parser, sinkload_binary, timed
from benchmarks.build import (
    ENSEMBLE,
    LATENCY_AIM_MS,
    MIP,
    TYPICAL_QUERIES,
    load_inputs,
    run_build,
    time_query,
)
from sinkload.db.connection import database_url
from sinkload.settings import Settings
from tests.support import cli_env, fresh_database

ROOT = Path(__file__).resolve().parents[1]
MORE_QUERIES = {
    "unit_cell_weights": ("cell weights of the divisions",
                          "select unit, lon, lat, cell_fraction, weight_m2 from marts.unit_cell_weights "
                          "where scope = 'division'"),
    "method_comparison": ("methods compared for the ensemble mean",
                          "select scope, unit, method, mean_pgc_yr, difference_pct from marts.method_comparison "
                          "where product = %(product)s and member = %(member)s"),
    "sink_lineage": ("the files behind one member's months",
                     "select month, source_member, file_name, sha256, loaded_at from marts.sink_lineage "
                     "where product = %(product)s and member = 'CAMS' order by month"),
    "product_comparison": ("national comparison of the products",
                           "select product_a, product_b, a_mean_pgc_yr, b_mean_pgc_yr, difference_pgc_yr "
                           "from marts.product_comparison where scope = 'national'"),
    "products": ("the product list", "select * from marts.products"),
    "build_info": ("what built the marts", "select * from marts.build_info"),
    "region_layer_quality": ("quality of the region layers", "select * from marts.region_layer_quality"),
    "budget_comparison": ("national budgets against the warehouse", "select * from marts.budget_comparison"),
}


def create_login(settings: Settings, name: str, password_file: Path) -> str:
    """`sinkload analyst create NAME`; returns the database URL with that login's credentials."""
    done = subprocess.run([sinkload_binary(), "analyst", "create", name, "--password-file", str(password_file)],
                          env=cli_env(settings), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"sinkload analyst create failed:\n{done.stdout}\n{done.stderr}")
    parts = urlsplit(settings.database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    password = password_file.read_text(encoding="utf-8").strip()
    return urlunsplit(parts._replace(netloc=f"{name}:{quote(password, safe='')}@{host}"))


def drop_login(settings: Settings, name: str) -> None:
    subprocess.run([sinkload_binary(), "analyst", "drop", name], env=cli_env(settings), capture_output=True,
                   check=False)


def measure(url: str, repeats: int) -> list[dict]:
    params = {"product": MIP, "member": ENSEMBLE}
    queries = {**TYPICAL_QUERIES, **MORE_QUERIES}
    results = []
    with psycopg.connect(url, autocommit=True) as conn:
        views = [name for (name,) in conn.execute(
            "select table_name from information_schema.views where table_schema = 'marts' order by 1")]
        for view in views:
            whole = sql.SQL("select * from marts.{}").format(sql.Identifier(view)).as_string(conn)
            question, query = queries.get(view, ("(no typical query: the whole view)", whole))
            timing = time_query(conn, query, params, repeats)
            results.append({"view": view, "question": question, "query": query, "known": view in queries, **timing})
            print(f"  {view}: median {timing['median_ms']} ms, p95 {timing['p95_ms']} ms ({timing['rows']} rows)",
                  flush=True)
    return results


def render_markdown(res: dict) -> str:
    views = res["views"]
    worst = max(views, key=lambda v: v["median_ms"])
    over = [v["view"] for v in views if v["median_ms"] >= LATENCY_AIM_MS]
    lines = [
        "# Views benchmark: a typical query on each public view, as an analyst login",
        "",
        f"Run {res['started']} on {res['machine']['cores']} cores ({res['machine']['cpu']}), "
        f"{res['machine']['memory_gib']} GiB; load average at start {res['machine']['loadavg']}, before the queries "
        f"{res['loadavg_before_queries']}. Generated by `benchmarks/views.py`; the numbers are copied from "
        "`views.json`. The machine is shared with other work.",
        "",
        f"- {len(views)} views, {res['settings']['repeats']} timed runs each after one warm-up, as a login made by "
        "`sinkload analyst create`.",
        f"- Slowest median: `{worst['view']}` at **{worst['median_ms']:.1f} ms**; target: every view under "
        f"{LATENCY_AIM_MS:g} ms median: **{'met' if not over else 'NOT met (' + ', '.join(over) + ')'}**.",
        "",
        "| view | typical query | rows | median ms | p95 ms | max ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for v in views:
        lines.append(f"| `{v['view']}` | {v['question']} | {v['rows']:,} | {v['median_ms']:.2f} | {v['p95_ms']:.2f} "
                     f"| {v['max_ms']:.2f} |")
    lines += ["", "The queries (parameters: product `oco2_v10_mip_lnlgis`, member `ensemble_mean`):", ""]
    lines += [f"- `{v['view']}`: `{v['query']}`" for v in views]
    lines += ["", f"Machine: {res['machine']['os']}, Python {res['machine']['python']}.", ""]
    return "\n".join(lines)


def run(repeats: int) -> dict:
    started = datetime.datetime.now().astimezone()
    machine = machine_info()
    base = Settings.from_env()
    login = f"bench_views_{secrets.token_hex(4)}"
    with timed() as total, tempfile.TemporaryDirectory(prefix="sinkload-benchviews-") as tmp, \
            fresh_database(database_url(base), base, "benchviews") as scratch:
        load_inputs(scratch, Path(tmp) / "sample")
        run_build(scratch, "first")
        password_file = Path(tmp) / "password"
        password_file.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        try:
            url = create_login(scratch, login, password_file)
            load = [round(x, 2) for x in os.getloadavg()]
            views = measure(url, repeats)
        finally:
            drop_login(scratch, login)
    return {"benchmark": "views", "started": started.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]), "elapsed_s": round(total.seconds, 1),
            "settings": {"repeats": repeats}, "machine": machine, "loadavg_before_queries": load, "views": views}


def main(argv: list[str] | None = None) -> None:
    parser = results_parser(__doc__, "views")
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per query (default 50)")
    args = parser.parse_args(argv)
    res = run(args.repeats)
    publish(args, "views", res, render_markdown(res))


if __name__ == "__main__":
    main()
