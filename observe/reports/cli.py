"""``observe report summary`` (the summary report as a PDF file) and ``observe export
observations``, from the server's command line, which acts as ``core.permissions.SYSTEM``:
every school (it runs where the database is). The ``report`` group is put together in
observe/commands.py from each feature's printed reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from observe.audit import operations as audit
from observe.core.database import begin_write
from observe.core.pdf import PAPER, write_pdf
from observe.core.permissions import SYSTEM
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.observations.models import Observation
from observe.reports import export, raters, rollups, summary, years
from observe.reports.headline import what_stands_out
from observe.reports.models import RollupStamp
from observe.roster import years as roster_years
from observe.rubrics.models import RubricVersion


@click.command("summary")
@click.option("--from", "start", metavar="DATE", help="Observed on or after (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Observed on or before (YYYY-MM-DD).")
@click.option("--year", metavar="YEAR", help="A school year's title or all (default: current).")
@click.option("--school", "schools", multiple=True, metavar="CODE", help="Only these schools.")
@click.option("--observer", "observers", multiple=True, metavar="EMAIL",
              help="Only this observer team's walkthroughs.")  # fmt: skip
@click.option("--by", metavar="ATTRIBUTE", help="Split by: school, course_level, program, …")
@click.option("--rubric-version", "version", metavar="ID", help="Default: the most used.")
@click.option("--at-least", metavar="LEVEL", help="Count ratings at this level or above.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--paper", type=PAPER, default="letter", show_default=True)
def report_command(
    start: str | None,
    end: str | None,
    year: str | None,
    schools: tuple[str, ...],
    observers: tuple[str, ...],
    by: str | None,
    version: str | None,
    at_least: str | None,
    output: Path,
    paper: str,
) -> None:
    """The summary report: what the walkthroughs show, with small groups suppressed."""
    from observe.reports.views import print_summary

    args = {"from": start, "to": end, "year": year, "school": list(schools),
            "observer": list(observers), "by": by, "rubric_version_id": version,
            "at_least": at_least}  # fmt: skip
    try:
        built = summary.build(SYSTEM, summary.parse_query(SYSTEM, args))
        built["headline"] = what_stands_out(built)
    except ValidationFailed as error:
        raise click.ClickException(error.message) from None
    with current_app.test_request_context():
        write_pdf(output, print_summary(built, paper))


@click.group("export")
def export_cli() -> None:
    """Export data for data teams."""


@export_cli.command("observations")
@click.option(
    "--format", "fmt", type=click.Choice(export.FORMATS), default="csv", show_default=True
)
@click.option("--from", "start", metavar="DATE", help="Observed on or after (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Observed on or before (YYYY-MM-DD).")
@click.option("--school", "schools", multiple=True, metavar="CODE", help="Only these schools.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_observations(
    fmt: str, start: str | None, end: str | None, schools: tuple[str, ...], output: Path
) -> None:
    """Every rating of every submitted walkthrough, one row each (tidy long form)."""
    try:
        scope = export.parse_scope(SYSTEM, start, end, list(schools))
    except ValidationFailed as error:
        raise click.ClickException(error.message) from None
    count = 0

    def counted() -> Iterator[export.Parts]:
        nonlocal count
        for record in export.parts(SYSTEM, scope):
            count += 1
            yield record

    with output.open("w", encoding="utf-8", newline="") as handle:
        for chunk in export.chunks(fmt, counted()):
            handle.write(chunk)
    audit.record(
        "ratings.exported",
        detail={
            "format": fmt,
            "start": start or "",
            "end": end or "",
            "schools": list(schools),
            "output": str(output),
            "rows": count,
        },
    )
    db.session.commit()
    click.echo(f"Wrote {count:,} ratings to {output}.")


@click.command("close")
@click.argument("title")
def close_year_command(title: str) -> None:
    """Close the school year TITLE once it is over: each of its goals keeps its final status
    and figures from now on (a later roster import or re-rating changes nothing of them), and
    the year's dates can no longer change. It cannot be undone."""
    try:
        year, frozen = years.close_year(SYSTEM, roster_years.year_named(title))
    except ValidationFailed as error:
        db.session.rollback()
        details = "; ".join(str(v) for v in error.details.values())
        message = f"{error.message}: {details}" if details else error.message
        raise click.ClickException(message) from None
    db.session.commit()
    click.echo(f"Closed {year.title}.")
    for goal in frozen:
        final = goal.final or {}
        figure = final.get("decided_by")
        decided = (
            f"{figure['share']:.0%} of ratings, {figure['observations']} walkthroughs, "
            f"{figure['from_month']} to {figure['to_month']}"
            if figure
            else "no month had enough walkthroughs"
        )
        click.echo(f"  “{goal.title}”: {final.get('status')} ({decided})")
    if not frozen:
        click.echo("  It had no goals.")


goals_cli = click.Group("goals", help="Equity goals across school years.")


@goals_cli.command("carry")
@click.option("--from", "from_title", required=True, metavar="YEAR", help="Last year's title.")
@click.option("--to", "to_title", required=True, metavar="YEAR", help="The new year's title.")
def carry_goals_command(from_title: str, to_title: str) -> None:
    """Start YEAR's goals from last year's: the same targets, with dates as far into the new
    year as they were into the old. Goals carried before are not carried again."""
    try:
        carried, to_year = years.carry_goals(SYSTEM, from_title, to_title)
    except ValidationFailed as error:
        db.session.rollback()
        details = "; ".join(f"{k}: {v}" for k, v in error.details.items())
        raise click.ClickException(f"{error.message} ({details})") from None
    db.session.commit()
    for line in carried.lines(to_year):
        click.echo(line)


@click.group("reports")
def reports_cli() -> None:
    """Keep the reports' stored figures current."""


@reports_cli.command("recount")
def recount() -> None:
    """Count the report rollups afresh from the walkthroughs. `observe restore` does it by
    itself; run it after restoring the database by any other means (a PostgreSQL dump or
    point-in-time recovery), so that no server keeps figures from before the restore."""
    begin_write()
    with click.progressbar(length=len(rollups.TABLES) + 1, label="Counting") as bar:
        rollups.rebuild(db.session(), progress=lambda: bar.update(1))
    db.session.commit()
    rows = {
        name: db.session.scalar(select(func.count()).select_from(model))
        for name, model in rollups.TABLES.items()
    }
    click.echo(
        "Counted afresh: "
        + ", ".join(f"{n:,} rows per {name}" for name, n in rows.items())
        + f", from {db.session.scalar(select(func.count()).select_from(RollupStamp)):,} "
        "school-months. Every server reads them afresh."
    )


@reports_cli.command("fit-raters")
@click.option("--rubric-version", "version", type=int, metavar="ID",
              help="Default: every rubric version with walkthroughs.")  # fmt: skip
@click.option("--at-least", type=int, metavar="LEVEL",
              help="The level whose share the leans are in. Default: the summary's.")  # fmt: skip
def fit_raters(version: int | None, at_least: int | None) -> None:
    """Fit the rater-effects model afresh (observer leans for the summary's adjusted figures);
    run it nightly, or after a large import, so no reader waits for a first fit."""
    versions = (
        [version]
        if version is not None
        else list(db.session.scalars(select(Observation.rubric_version_id).distinct()))
    )
    for version_id in versions:
        rubric = db.session.get(RubricVersion, version_id)
        if rubric is None:
            raise click.ClickException(f"unknown rubric version {version_id}")
        levels = summary.scale_of(rubric)
        level = at_least if at_least is not None else summary.default_level(levels)
        if level not in levels:
            raise click.ClickException(f"{level} is not a level of {rubric.label} ({levels})")
        begin_write()
        fit = raters.refit(db.session(), version_id, level)
        db.session.commit()
        if fit.refused:
            click.echo(f"{rubric.label}: no fit. {fit.refused}")
        else:
            click.echo(
                f"{rubric.label}, at {level} or above: {len(fit.leans)} observers, "
                f"{fit.walkthroughs_fitted:,} walkthroughs, {fit.lessons:,} classrooms and "
                f"lessons, {len(fit.left_out)} observers left out, in {fit.seconds:.2f} s."
            )
