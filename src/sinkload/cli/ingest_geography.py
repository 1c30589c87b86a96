"""`sinkload ingest regions` and `sinkload ingest landcover`."""

from __future__ import annotations

from pathlib import Path

import typer

from sinkload.cli.app import ingest_app, settings
from sinkload.db.connection import database_url


@ingest_app.command("regions")
def ingest_regions(
    file: Path = typer.Argument(..., help="GeoJSON, Shapefile or GeoPackage (any CRS)."),
    scope: str = typer.Option(..., "--scope", help="national or division."),
    name_field: str = typer.Option(..., "--name-field", help="Attribute holding each unit's name."),
) -> None:
    """Replace the region layer of one scope."""
    from sinkload.geography.regions import ingest_region_file

    s = settings()
    ingest_region_file(s, database_url(s), file, scope=scope, name_field=name_field)


@ingest_app.command("landcover")
def ingest_landcover(
    file: Path = typer.Argument(..., help="Vegetation map: polygons (any vector format) or a GeoTIFF of codes."),
    code_field: str = typer.Option("code", "--code-field", help="Attribute holding the vegetation group code."),
) -> None:
    """Replace the land-cover layer."""
    from sinkload.geography.landcover import ingest_landcover_file

    s = settings()
    ingest_landcover_file(s, database_url(s), file, code_field=code_field)
