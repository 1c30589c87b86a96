"""`sinkload ingest budgets`: the OCO-2 MIP national CO2 budgets (country CSV, optional 1-degree grid)."""

from __future__ import annotations

from pathlib import Path

import typer

from sinkload.cli.app import ingest_app, warehouse


@ingest_app.command("budgets")
def ingest_budgets(
    file: Path = typer.Argument(..., help="The country CSV (pilot_topdown_CO2_Budget_countries_v1.csv layout)."),
    grid: Path | None = typer.Option(None, "--grid", help="The 1-degree gridded budget NetCDF (<E>_NBE, <E>_NBE_std)."),
) -> None:
    """Replace the stored national budgets (Tg CO2/yr, positive = to the atmosphere); then `sinkload build`."""
    from sinkload.ingest.budgets import ingest_budgets as ingest

    summary = ingest(warehouse(), file, grid)
    years = f"{summary.years[0]}-{summary.years[-1]}" if summary.years else "none"
    typer.echo(f"budgets from {file.name}: {summary.countries} countries, {summary.regions} regions, years {years}"
               f"{' + mean' if summary.has_mean else ''}, {summary.values} values"
               + (f"; grid {grid.name}: {summary.grid_years} experiment-years" if grid else ""))
