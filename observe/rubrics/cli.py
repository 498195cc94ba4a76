"""``observe rubrics load`` and ``observe rubrics list``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from observe import paths
from observe.extensions import db
from observe.rubrics.format import ParsedRubric, RubricFileError
from observe.rubrics.models import Rubric
from observe.rubrics.operations import display_name, read_rubric_file, store_rubric

rubrics_cli = click.Group("rubrics", help="Load and list rubric files.")

_SUFFIXES = {".yaml", ".yml"}


def rubrics_dir() -> Path:
    """Where ``observe rubrics load`` looks when given no paths."""
    configured = current_app.config.get("OBSERVE_RUBRICS_DIR") or ""
    return Path(configured) if configured else paths.SAMPLE_RUBRICS


def _rubric_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in _SUFFIXES)


@rubrics_cli.command("load")
@click.argument(
    "sources", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
def load(sources: tuple[Path, ...]) -> None:
    """Load rubric files (or every .yaml/.yml file in a directory).

    Without paths, loads the rubrics directory (OBSERVE_RUBRICS_DIR, else the samples).
    Every file is checked first: if any has a problem, nothing is loaded.
    Loading a file whose content is already stored changes nothing.
    """
    files: list[Path] = []
    for source in sources or (rubrics_dir(),):
        files.extend(_rubric_files(source) if source.is_dir() else [source])
    if not files:
        where = ", ".join(display_name(s) for s in sources or (rubrics_dir(),))
        raise click.ClickException(f"no .yaml or .yml rubric files in {where}")

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
        result = store_rubric(rubric)
        version = result.version
        if result.created:
            lines.append(f"loaded {version.title} as version {version.number}")
        else:
            lines.append(f"unchanged: {version.title} (version {version.number})")
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
            )
