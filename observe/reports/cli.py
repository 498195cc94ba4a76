"""``observe report …``: the printed reports as PDF files, from the server's command line.

The command line acts with a district admin's view (it runs where the database is), but the
rules that protect people still hold: a calibration report only after the reveal, and no
feedback page for a calibration score.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from observe.accounts.models import Role
from observe.audit import operations as audit
from observe.calibration import report
from observe.calibration.models import CalibrationSession
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.observations.models import Observation
from observe.reports import export, summary


class Console:
    """Who the command line acts as: every school, no participant of anything."""

    id = 0
    name = "observe command line"
    role = Role.DISTRICT_ADMIN
    is_district_admin = True
    schools: list = []


PAPER = click.Choice(["letter", "a4"], case_sensitive=False)


@click.group("report")
def report_cli() -> None:
    """Print reports as PDF files."""


def _write(output: Path, pdf: bytes) -> None:
    output.write_bytes(pdf)
    click.echo(f"Wrote {output} ({len(pdf):,} bytes).")


@report_cli.command("calibration")
@click.argument("session_id", type=int, required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--paper", type=PAPER, default="letter", show_default=True)
def calibration_command(session_id: int | None, output: Path | None, paper: str) -> None:
    """A calibration session's report; without SESSION_ID, list the sessions."""
    from observe.calibration.views import print_session_report

    if session_id is None:
        sessions = db.session.scalars(
            select(CalibrationSession).order_by(
                CalibrationSession.held_on.desc(), CalibrationSession.id.desc()
            )
        ).all()
        if not sessions:
            click.echo("No calibration session yet.")
        for s in sessions:
            click.echo(f"{s.id}\t{s.held_on.isoformat()}\t{s.state.value}\t{s.title}")
        return
    if output is None:
        raise click.UsageError("give the file to write with -o FILE.pdf")
    session = db.session.get(CalibrationSession, session_id)
    if session is None:
        raise click.ClickException(f"no calibration session {session_id} (list them with no id)")
    if not session.is_revealed:
        raise click.ClickException(
            f"session {session_id} has not been revealed: its scores stay hidden until the "
            "facilitator reveals them"
        )
    built = report.build(Console(), session, report.Thresholds.from_config())
    with current_app.test_request_context():
        _write(output, print_session_report(session, built, paper))
    audit.record(
        "calibration.report_printed",
        object_type="calibration_session",
        object_id=session_id,
        detail={"output": str(output)},
    )
    db.session.commit()


@report_cli.command("summary")
@click.option("--from", "start", metavar="DATE", help="Observed on or after (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Observed on or before (YYYY-MM-DD).")
@click.option("--school", "schools", multiple=True, metavar="CODE", help="Only these schools.")
@click.option("--observer", "observers", multiple=True, metavar="EMAIL",
              help="Only this observer team's walkthroughs.")  # fmt: skip
@click.option("--by", metavar="ATTRIBUTE", help="Split by: school, course_level, program, …")
@click.option("--rubric-version", "version", metavar="ID", help="Default: the most used.")
@click.option("--at-least", metavar="LEVEL", help="Count ratings at this level or above.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--paper", type=PAPER, default="letter", show_default=True)
def summary_command(
    start: str | None,
    end: str | None,
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

    args = {"from": start, "to": end, "school": list(schools), "observer": list(observers),
            "by": by, "rubric_version_id": version, "at_least": at_least}  # fmt: skip
    try:
        built = summary.build(Console(), summary.parse_query(Console(), args))
    except ValidationFailed as error:
        raise click.ClickException(error.message) from None
    with current_app.test_request_context():
        _write(output, print_summary(built, paper))


@report_cli.command("observation")
@click.argument("observation_id")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--paper", type=PAPER, default="letter", show_default=True)
def observation_command(observation_id: str, output: Path, paper: str) -> None:
    """The feedback page of one walkthrough, for its teacher."""
    from observe.observations.views import print_feedback

    observation = db.session.get(Observation, observation_id)
    if observation is None or observation.is_deleted:
        raise click.ClickException(f"no walkthrough {observation_id}")
    if observation.calibration_session_id is not None:
        raise click.ClickException(
            f"walkthrough {observation_id} is a score in a calibration session, not a visit; "
            "print the session's report instead"
        )
    with current_app.test_request_context():
        _write(output, print_feedback(observation, paper))
    audit.record(
        "walkthrough.feedback_printed",
        object_type="observation",
        object_id=observation.id,
        detail={"output": str(output)},
    )
    db.session.commit()


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
    console = Console()
    try:
        scope = export.parse_scope(console, start, end, list(schools))
    except ValidationFailed as error:
        raise click.ClickException(error.message) from None
    count = 0

    def counted():
        nonlocal count
        for record in export.parts(console, scope):
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
