"""`sinkload build`, `reload`, `report`, `sample` and `demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from sinkload.cli.app import app, settings, warehouse


@app.command("build")
def build(
    select: str | None = typer.Option(None, help="dbt selection (default: everything)."),
    full_refresh: bool = typer.Option(False, "--full-refresh",
                                      help="Rebuild the incremental models from scratch (docs/operations.md)."),
    force: bool = typer.Option(False, "--force", help="Build even when nothing changed since the last build."),
    var: list[str] = typer.Option([], "--var", metavar="NAME=VALUE",
                                  help="A dbt variable for this build (repeatable), e.g. period_start_year=2016 or "
                                       "landcover_rule=merge_first; the defaults are dbt_project.yml's vars."),
) -> None:
    """dbt build: staging -> intermediate -> marts, with the models' tests (skipped when nothing changed)."""
    from sinkload.build_state import BuildCheck
    from sinkload.dbt import run_dbt
    from sinkload.dbt.runner import DbtProcess
    from sinkload.dbt.variables import declared_vars, parse_vars

    dbt_vars = parse_vars(var, declared_vars(settings().dbt_project_dir))  # before starting any database
    wh = warehouse()
    with DbtProcess() as dbt:  # importing dbt while the build state is read
        check = BuildCheck.read(wh, select, forced=force or bool(select) or full_refresh, extra_vars=dbt_vars)
        if check.decision.message:
            typer.echo(check.decision.message)
        if check.decision.skip:
            return
        args = ["build"] + (["--select", select] if select else []) + (["--full-refresh"] if full_refresh else [])
        typer.echo(run_dbt(wh, args, dbt_vars=dbt_vars, process=dbt).stdout, nl=False)
    if not select:
        check.record(wh)


@app.command("sample")
def sample(directory: Path = typer.Argument(..., help="Where to write the sample files.")) -> None:
    """Write the deterministic sample data set as files in the real formats."""
    from sinkload.cli.output import console
    from sinkload.sample import write_sample

    with console(stderr=True).status("writing the sample data set") as status:
        manifest = write_sample(directory, status.update)
    typer.echo(f"sample data set written to {directory} ({manifest.n_files} files)")


@app.command("reload")
def reload(
    inbox: Path = typer.Argument(..., help="Inbox folder: INBOX/<product>/<flux files> (docs/operations.md)."),
    wait: bool = typer.Option(False, "--wait", help="Wait for a running reload instead of exiting with 75."),
    catalog: Path | None = typer.Option(None, "--catalog", help="Another product catalog (YAML)."),
) -> None:
    """The scheduled job: ingest what is new or changed, rebuild what depends on it.

    Exits 75 (EX_TEMPFAIL) without doing anything when another reload holds the lock."""
    from sinkload.cli.output import console
    from sinkload.cli.render import month_progress, print_reload
    from sinkload.db.locks import LockBusy
    from sinkload.reload import run_reload

    out, err = console(), console(stderr=True)
    try:
        with month_progress(err) as progress:
            summary = run_reload(warehouse(), inbox, wait=wait, catalog_path=catalog, note=out.print,
                                 progress=progress)
    except LockBusy as busy:
        typer.echo(f"reload: another reload is running ({busy.holder.describe() if busy.holder else 'unknown'}); "
                   "nothing done, try again later (exit 75)", err=True)
        raise typer.Exit(75) from None
    print_reload(summary, out, err)
    if (error := summary.error()) is not None:
        raise error


@app.command("report")
def report(out: Path = typer.Option(Path("report"), "--out", help="Folder for the figures (PNG).")) -> None:
    """Print the study's tables from the marts and write its figures."""
    from sinkload.cli.render_report import print_report
    from sinkload.report import write_report

    print_report(write_report(warehouse(), out))


@app.command("demo")
def demo(
    workdir: Path = typer.Option(Path(".sinkload/demo"), help="Where the sample files go."),
    out: Path = typer.Option(Path("report"), "--out", help="Where the figures go."),
) -> None:
    """The main job on the sample data: db up, migrate, sample, ingest, build, report."""
    from sinkload.cli.render_report import demo_step
    from sinkload.demo import run_demo

    run_demo(settings(), workdir, out, demo_step)


@app.command("reharmonise")
def reharmonise() -> None:
    """Recompute the 1° harmonisation of stored months (raw.flux_month_1deg) from raw.flux_tile, no file needed.

    Only the months that lack a row of the current definition (sinkload.harmonise.HARMONISATION_VERSION) are
    recomputed, in one transaction; `sinkload build` refuses to build until none lacks one. Run after an upgrade
    that changed the definition (docs/operations.md), then `sinkload build`."""
    from sinkload.cli.output import console
    from sinkload.ingest.one_degree import reharmonise as recompute

    with console(stderr=True).status("finding the months to reharmonise") as status, warehouse().loading() as conn:
        count = recompute(conn, lambda done, total: status.update(f"reharmonised {done} of {total} months"))
    typer.echo(f"reharmonised {count} stored month(s)" if count else "every stored month is harmonised already")
