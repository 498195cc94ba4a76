"""``observe roster …``: import schools and classrooms from files, and list them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy import func, select

from observe.errors import ValidationFailed
from observe.extensions import db
from observe.roster import years
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


years_cli = click.Group("years", help="School years and terms: add, list, close (docs/reports.md).")


@years_cli.command("add")
@click.argument("title")
@click.option("--start", required=True, metavar="DATE", help="The first day (YYYY-MM-DD).")
@click.option("--end", required=True, metavar="DATE", help="The last day (YYYY-MM-DD).")
@click.option(
    "--term",
    "terms",
    multiple=True,
    metavar="TITLE:START:END",
    help="A term of the year, e.g. 'Fall:2026-08-17:2026-12-18' (repeat for each).",
)
def add_year_command(title: str, start: str, end: str, terms: tuple[str, ...]) -> None:
    """Add the school year TITLE with its first and last day, and its terms. Years may not
    overlap; terms lie within their year. Nothing is added when anything is wrong."""
    problems: dict[str, str] = {}
    days = _dates(start, end, "", problems)
    parsed = []
    for text in terms:
        parts = text.rsplit(":", 2)
        if len(parts) != 3 or not parts[0].strip():
            problems[f"term {text}"] = "give it as TITLE:START:END"
            continue
        name = parts[0]
        found = _dates(parts[1], parts[2], f"term {name}: ", problems)
        if found:
            parsed.append((name, *found))
    if problems or days is None:
        raise click.ClickException(
            "Nothing was added: " + "; ".join(f"{k}: {v}" for k, v in problems.items())
        )
    try:
        year = years.add_session(title, *days)
        for name, term_start, term_end in parsed:
            years.add_session(name, term_start, term_end, kind="term", year=year.title)
    except ValidationFailed as error:
        db.session.rollback()
        details = "; ".join(f"{k}: {v}" for k, v in error.details.items())
        raise click.ClickException(f"Nothing was added: {error.message} ({details})") from None
    db.session.commit()
    click.echo(f"Added the school year {year.title}: {year.start_date} to {year.end_date}.")
    for name, term_start, term_end in parsed:
        click.echo(f"  term {name}: {term_start} to {term_end}")


def _dates(start: str, end: str, prefix: str, problems: dict[str, str]) -> tuple[date, date] | None:
    found = []
    for name, text in (("start", start), ("end", end)):
        try:
            found.append(date.fromisoformat(text.strip()))
        except ValueError:
            problems[f"{prefix}{name}"] = f"{text!r} is not a date (YYYY-MM-DD)"
    return (found[0], found[1]) if len(found) == 2 else None


@years_cli.command("list")
def list_years_command() -> None:
    """List the school years, latest first, with their terms and whether they are closed."""
    listed = years.school_years()
    if not listed:
        click.echo("No school year yet. Add one with: observe years add TITLE --start --end")
        return
    current = years.current_year()
    for year in listed:
        marks = [m for m, on in (("current", year is current), ("closed", year.closed_at)) if on]
        click.echo(
            f"{year.title}\t{year.start_date} to {year.end_date}"
            + (f"\t({', '.join(marks)})" if marks else "")
        )
        for term in years.terms(year):
            click.echo(f"  {term.kind} {term.title}\t{term.start_date} to {term.end_date}")
