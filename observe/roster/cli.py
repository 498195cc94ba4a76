"""``observe roster …``: import schools and classrooms from files, and list them."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import func, select

from observe.errors import ValidationFailed
from observe.extensions import db
from observe.roster.models import Classroom, School
from observe.roster.operations import (
    RosterImportError,
    import_roster,
    merge_schools,
    recode_school,
)

roster_cli = click.Group("roster", help="Import schools and classrooms.")


@roster_cli.command("import")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH...",
)
@click.option(
    "--accept-moves",
    is_flag=True,
    help="Import even when a school's classrooms would all move to a new school code.",
)
@click.option(
    "--accept-blanks",
    is_flag=True,
    help="Import even when blank cells would clear classrooms' stored values, or course levels "
    "guessed from course titles would replace recorded ones.",
)
def import_command(paths: tuple[Path, ...], accept_moves: bool, accept_blanks: bool) -> None:
    """Import roster files: observe CSV files, OneRoster folders or OneRoster .zip files.

    Every file is checked first; if any row is bad, every problem is listed and nothing is
    imported. See docs/roster-format.md for the layouts.
    """
    try:
        summary = import_roster(list(paths), accept_moves=accept_moves, accept_blanks=accept_blanks)
    except RosterImportError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(problem, err=True)
        count = len(error.problems)
        click.echo(
            f"Nothing was imported: {count} problem{'s' if count != 1 else ''}. "
            "Fix the files and run the import again.",
            err=True,
        )
        raise SystemExit(1) from None
    db.session.commit()
    click.echo("Roster imported.")
    for line in summary.lines():
        click.echo(line)


@roster_cli.command("recode")
@click.argument("old_code", metavar="OLD")
@click.argument("new_code", metavar="NEW")
def recode_command(old_code: str, new_code: str) -> None:
    """Give school OLD the code NEW. Its classrooms, walkthroughs, people and goals follow it
    (they belong to the school, not to its code); tablets learn the new code at their next
    sync. Run it before importing a roster that uses the new code."""
    try:
        school = recode_school(old_code, new_code)
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(
        f"{school.name} is now {school.code} (was {old_code.strip()}); its classrooms, "
        "walkthroughs, people and goals are unchanged."
    )


@roster_cli.command("merge")
@click.argument("old_code", metavar="OLD")
@click.argument("into_code", metavar="INTO")
@click.option("--yes", is_flag=True, help="Merge; without it, only show what would move.")
def merge_command(old_code: str, into_code: str, yes: bool) -> None:
    """Close school OLD into school INTO: OLD's classrooms, walkthroughs, people's assignments,
    goals, calibration sessions and report counts become INTO's, and OLD is removed. Tablets
    learn it at their next sync; drafts they hold for OLD are accepted into INTO. Without
    --yes, shows what would move and changes nothing."""
    try:
        result = merge_schools(old_code, into_code)
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    old = f"{result.old_name} ({result.old_code})"
    into = f"{result.into.name} ({result.into.code})"
    lines = result.lines()
    if not yes:
        db.session.rollback()
        click.echo(f"Merging {old} into {into} would move:")
        for line in lines:
            click.echo(f"  {line}")
        click.echo(f"and remove {result.old_code}. Nothing has changed: run again with --yes.")
        return
    db.session.commit()
    click.echo(f"{old} is merged into {into}; moved:")
    for line in lines:
        click.echo(f"  {line}")


@roster_cli.command("list")
def list_command() -> None:
    """List every school with its number of active and inactive classrooms."""
    active = func.count(Classroom.id).filter(Classroom.active)
    inactive = func.count(Classroom.id).filter(~Classroom.active)
    rows = db.session.execute(
        select(School.code, School.name, School.level, active, inactive)
        .outerjoin(Classroom, Classroom.school_id == School.id)
        .group_by(School.id, School.code, School.name, School.level)
        .order_by(School.name)
    ).all()
    if not rows:
        click.echo("No schools yet. Import a roster with: observe roster import PATH…")
        return
    for code, name, level, active_count, inactive_count in rows:
        counts = f"{active_count} classroom{'s' if active_count != 1 else ''}"
        if inactive_count:
            counts += f" ({inactive_count} inactive)"
        click.echo(f"{code}\t{name}\t{level or '-'}\t{counts}")
