"""How `sinkload report` and `sinkload demo` show what they return: the study's tables (plain text for unit,
product and member names) and the demo's steps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sinkload.cli.render import print_ingest
from sinkload.geography.layers import LayerSummary
from sinkload.ingest.flux import IngestSummary
from sinkload.report import SCOPE_TITLES, MartData, Report, scope_order, unit_label, unit_order

DEMO_CONSOLE = Console()


# -- demo ---------------------------------------------------------------------------------------------------

def demo_step(title: str, action: Callable[[], Any], out: Console | None = None) -> Any:
    """Run one demo step between its title and its "ok" line (with the seconds it took), showing what it
    returned: flux ingest tables and the report before the "ok", the layers' findings after it."""
    out = out or DEMO_CONSOLE
    started = time.perf_counter()
    out.print(f"[bold]>[/bold] {title}")
    result = action()
    for item in result if isinstance(result, list) else [result]:
        if isinstance(item, IngestSummary):
            print_ingest(item)
        elif isinstance(item, Report):
            print_report(item, out)
    out.print(f"[green]ok[/green] {title} ({time.perf_counter() - started:.1f} s)")
    for layer in result if isinstance(result, list) else []:
        if isinstance(layer, LayerSummary):
            out.print(Text(f"  layer {layer.layer}: {len(layer.units)} units; {'; '.join(layer.findings)}"))
    return result


# -- report -------------------------------------------------------------------------------------------------

def print_report(report: Report, out: Console | None = None) -> None:
    """The study's tables, then the figures' paths."""
    out = out or Console()
    data = report.data
    for scope in scope_order(data):
        out.print(summary_table(data, scope, report.heads))
    out.print(member_table(data))
    if data.spread:
        out.print(spread_table(data))
    out.print(Text(f"figures: {', '.join(str(p) for p in report.figures)}"))


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def summary_table(data: MartData, scope: str, heads: dict[str, str]) -> Table:
    """Mean ± SD (Pg C/yr) and share per unit of one scope, one column per product (names as plain text)."""
    table = Table(title=Text(f"{SCOPE_TITLES.get(scope, scope)}: mean ± interannual SD, Pg C yr⁻¹ (share %)"))
    table.add_column("unit", overflow="fold")
    products = sorted(heads)
    for product in products:
        table.add_column(Text(f"{product}\n[{heads[product]}]"), justify="right")
    cells = {(p, u): (mean, sd, share) for p, m, s, u, _n, mean, sd, share in data.summary
             if s == scope and heads.get(p) == m}
    units = unit_order(data, scope, {u for _p, u in cells})
    for unit in units:
        row = [Text(unit_label(data, scope, unit))]
        for product in products:
            mean, sd, share = cells.get((product, unit), (None, None, None))
            text = f"{_fmt(mean)} ± {_fmt(sd)}" if mean is not None else "—"
            row.append(Text(text + (f" ({share:.1f} %)" if share is not None else "")))
        table.add_row(*row)
    return table


def member_table(data: MartData) -> Table:
    """National mean ± SD of every member of every product."""
    table = Table(title="National per member: mean ± interannual SD, Pg C yr⁻¹ (years)")
    for column in ("product", "member", "mean ± SD", "years"):
        table.add_column(column, justify="right" if column != "product" else "left")
    for product, member, scope, _unit, n_years, mean, sd, _share in data.summary:
        if scope == "national":
            table.add_row(Text(product), Text(member), f"{_fmt(mean)} ± {_fmt(sd)}", str(n_years))
    return table


def spread_table(data: MartData) -> Table:
    table = Table(title="Ensemble spread over members' mean annual sinks, Pg C yr⁻¹")
    for column in ("product", "scope", "unit", "n", "mean", "SD", "min", "max"):
        table.add_column(column, justify="left" if column in ("product", "scope", "unit") else "right")
    for product, scope, unit, n, mean, sd, low, high in data.spread:
        table.add_row(Text(product), Text(scope), Text(unit), str(n), _fmt(mean), _fmt(sd), _fmt(low), _fmt(high))
    return table


