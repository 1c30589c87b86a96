"""`sinkload ingest flux`."""

from __future__ import annotations

from pathlib import Path

import typer

from sinkload.cli.app import ingest_app, warehouse


@ingest_app.command("flux")
def ingest_flux(
    paths: list[Path] = typer.Argument(..., help="Flux files or folders (the MIP archive layout)."),
    product: str = typer.Option(..., "--product", help="Product name in the catalog."),
    member: str | None = typer.Option(None, "--member", help="Member name (default: from the file name)."),
    catalog: Path | None = typer.Option(None, "--catalog", help="Another product catalog (YAML)."),
    force: bool = typer.Option(False, "--force",
                               help="Load files already loaded (same sha256) again, after a catalog correction "
                                    "(units, sign) or a loader fix: months whose values changed are rewritten."),
) -> None:
    """Load gridded monthly flux files, normalised to g C m-2 per month, positive = sink."""
    from sinkload.cli.output import console
    from sinkload.cli.render import month_progress, print_ingest
    from sinkload.ingest.flux import ingest_paths

    err = console(stderr=True)
    with month_progress(err) as progress:
        summary = ingest_paths(warehouse(), paths, product=product, member=member, catalog_path=catalog,
                               progress=progress, force=force)
    print_ingest(summary, err=err)
