"""``observe rubrics load``, ``list``, ``export``, ``retire`` and ``unretire``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from observe import paths
from observe.core.permissions import SYSTEM
from observe.extensions import db
from observe.rubrics.export import to_yaml
from observe.rubrics.format import ParsedRubric, RubricFileError
from observe.rubrics.lineage import previous_version
from observe.rubrics.models import Rubric, RubricVersion
from observe.rubrics.operations import (
    display_name,
    read_rubric_file,
    retire,
    store_rubric,
    unretire,
)
from observe.rubrics.spreadsheet import SpreadsheetExportError, is_csv_folder, write_workbook

rubrics_cli = click.Group("rubrics", help="Load, list, export and retire rubric versions.")

_SUFFIXES = {".yaml", ".yml", ".xlsx"}


def rubrics_dir() -> Path:
    """Where ``observe rubrics load`` looks when given no paths."""
    configured = current_app.config.get("OBSERVE_RUBRICS_DIR") or ""
    return Path(configured) if configured else paths.SAMPLE_RUBRICS


def _rubric_files(directory: Path) -> list[Path]:
    """The rubrics in a directory: its YAML and .xlsx files and its folders of CSV files.

    A directory that itself holds rubric.csv is one rubric written as CSV files.
    """
    if is_csv_folder(directory):
        return [directory]
    return sorted(
        p
        for p in directory.iterdir()
        if (p.is_file() and p.suffix.lower() in _SUFFIXES and not p.name.startswith("~$"))
        or is_csv_folder(p)
    )


@rubrics_cli.command("load")
@click.argument(
    "sources", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
@click.option(
    "--retire-previous",
    is_flag=True,
    help="Retire the version each new one follows, so tablets offer only the new one.",
)
def load(sources: tuple[Path, ...], retire_previous: bool) -> None:
    """Load rubric files: YAML, .xlsx workbooks, or folders of CSV files.

    A directory is loaded whole: every .yaml/.yml/.xlsx file and CSV folder in it (or, if it
    holds rubric.csv, the directory itself as one rubric written as CSV files).

    Without paths, loads the rubrics directory (OBSERVE_RUBRICS_DIR, else the samples).
    Every file is checked first: if any has a problem, nothing is loaded.
    Loading a file whose content is already stored changes nothing.
    A new version does not retire the one before it unless --retire-previous says so.
    """
    files: list[Path] = []
    for source in sources or (rubrics_dir(),):
        files.extend(_rubric_files(source) if source.is_dir() else [source])
    if not files:
        where = ", ".join(display_name(s) for s in sources or (rubrics_dir(),))
        raise click.ClickException(f"no .yaml, .yml or .xlsx rubric files in {where}")

    parsed: list[ParsedRubric] = []
    problems: list[str] = []
    for path in files:
        try:
            parsed.append(read_rubric_file(path))
        except RubricFileError as error:
            problems.extend(error.problems)
    if problems:
        for line in problems:
            click.echo(line, err=True)
        bad = len(files) - len(parsed)
        click.echo(
            f"Nothing was loaded: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
            f"in {bad} of {len(files)} file{'s' if len(files) != 1 else ''}.",
            err=True,
        )
        raise click.exceptions.Exit(1)

    lines = []
    for rubric in parsed:
        try:
            result = store_rubric(rubric)
        except RubricFileError as error:
            problems.extend(error.problems)
            continue
        version = result.version
        if result.created:
            lines.append(f"loaded {version.title} as version {version.number}")
            previous = previous_version(version)
            if retire_previous and previous is not None and not previous.retired:
                retire(previous, SYSTEM)
                lines.append(f"retired {previous.label}: tablets no longer offer it")
        else:
            lines.append(f"unchanged: {version.title} (version {version.number})")
    if problems:
        db.session.rollback()
        for line in problems:
            click.echo(line, err=True)
        click.echo("Nothing was loaded.", err=True)
        raise click.exceptions.Exit(1)
    db.session.commit()
    for line in lines:
        click.echo(line)


@rubrics_cli.command("list")
def list_rubrics() -> None:
    """List every rubric with its versions, newest first."""
    rubrics = db.session.scalars(select(Rubric).order_by(Rubric.key)).all()
    if not rubrics:
        click.echo("No rubrics are loaded yet. Load one with: observe rubrics load")
        return
    for rubric in rubrics:
        click.echo(f"{rubric.key}")
        for version in reversed(rubric.versions):
            loaded = version.loaded_at.strftime("%Y-%m-%d %H:%M UTC")
            click.echo(
                f"  version {version.number}  {version.title}  id {version.id}  "
                f"loaded {loaded} from {version.source_name}  sha256 {version.content_hash[:12]}"
                + ("  (retired)" if version.retired else "")
            )


def find_version(name: str) -> RubricVersion | None:
    """A version by the id ``rubrics list`` shows, ``KEY@NUMBER``, or ``KEY`` (its latest)."""
    if name.isdigit():
        return db.session.get(RubricVersion, int(name))
    key, _, number = name.partition("@")
    rubric = db.session.scalar(select(Rubric).where(Rubric.key == key))
    if rubric is None or not rubric.versions:
        return None
    if not number:
        return rubric.latest
    return next((v for v in rubric.versions if str(v.number) == number), None)


@rubrics_cli.command("export")
@click.argument("version_name", metavar="VERSION")
@click.option(
    "--format",
    "form",
    type=click.Choice(["yaml", "xlsx"]),
    help="yaml (the default) or xlsx; taken from -o's suffix when not given.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="FILE")
def export(version_name: str, form: str | None, output: Path | None) -> None:
    """Write a stored rubric version as a YAML file or an .xlsx workbook.

    VERSION is the id that `observe rubrics list` shows, KEY@NUMBER, or KEY for the latest
    version. Loading what this writes reports `unchanged`: it is the same content.
    YAML goes to standard output unless -o is given; a workbook needs -o.
    """
    version = find_version(version_name)
    if version is None:
        raise click.ClickException(
            f"there is no rubric version {version_name!r}; see observe rubrics list"
        )
    if form is None:
        form = "xlsx" if output is not None and output.suffix.lower() == ".xlsx" else "yaml"
    if form == "xlsx":
        if output is None:
            raise click.ClickException("an .xlsx workbook needs a file: add -o FILE.xlsx")
        try:
            data = write_workbook(version.document)
        except SpreadsheetExportError as error:
            raise click.ClickException(f"cannot write a workbook: {error}") from None
        output.write_bytes(data)
    else:
        text = to_yaml(
            version.document,
            note=f"{version.title}, version {version.number} (sha256 {version.content_hash})",
        )
        if output is None:
            click.echo(text, nl=False)
            return
        output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {version.title} version {version.number} to {display_name(output)}")


def _version_or_fail(name: str) -> RubricVersion:
    version = find_version(name)
    if version is None:
        raise click.ClickException(f"there is no rubric version {name!r}; see observe rubrics list")
    return version


@rubrics_cli.command("retire")
@click.argument("version_name", metavar="VERSION")
def retire_command(version_name: str) -> None:
    """Stop offering a version for new walkthroughs.

    Tablets drop it from the start screen at their next sync; drafts and amendments on it are
    still accepted, and reports keep counting it. VERSION is an id from `observe rubrics list`
    or KEY@NUMBER.
    """
    version = _version_or_fail(version_name)
    if not retire(version, SYSTEM):
        click.echo(f"{version.label} was already retired.")
        return
    db.session.commit()
    if version.rubric.current is None:
        click.echo(f"retired {version.label}; no version of {version.rubric.key} is offered now")
    else:
        click.echo(f"retired {version.label}; tablets offer {version.rubric.current.label}")


@rubrics_cli.command("unretire")
@click.argument("version_name", metavar="VERSION")
def unretire_command(version_name: str) -> None:
    """Offer a retired version for new walkthroughs again."""
    version = _version_or_fail(version_name)
    if not unretire(version, SYSTEM):
        click.echo(f"{version.label} is not retired.")
        return
    db.session.commit()
    click.echo(f"{version.label} is offered again")
