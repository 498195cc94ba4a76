"""``observe agreement RATINGS.csv``: agreement statistics for a calibration session's ratings;
and ``observe report calibration``, a session's printed report.

The CSV has a header row of rater names after a first column of unit ids, one row per unit, and
a blank cell where a rater gave no rating. The statistics and their conventions are described in
docs/agreement.md.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from observe.audit.operations import record
from observe.calibration import report, views
from observe.calibration.agreement import SCALES, Category, available_statistics, compute
from observe.calibration.models import CalibrationSession
from observe.core.pdf import PAPER, write_pdf
from observe.core.permissions import SYSTEM
from observe.extensions import db

# Plain-language notes for the table; the docs explain each statistic in full.
NOTES = {
    "percent_exact": "share of rater pairs giving the same level",
    "percent_within_one": "pairs at most one level apart (certification asks ~0.80)",
    "cohen_kappa": "two raters, beyond chance: 0 = chance, 1 = perfect",
    "cohen_kappa_linear": "two raters, partial credit for near misses",
    "cohen_kappa_quadratic": "two raters, more credit for near misses",
    "fleiss_kappa": "beyond chance; needs the same number of raters per unit",
    "fleiss_kappa_gwet": "Fleiss' kappa allowing missing ratings",
    "krippendorff_alpha_nominal": "reliability, levels as unordered labels",
    "krippendorff_alpha_ordinal": "reliability: >= 0.800 reliable, >= 0.667 tentative",
    "krippendorff_alpha_interval": "reliability, levels as numbers",
    "krippendorff_alpha_ratio": "reliability, values as ratios",
    "gwet_ac1": "beyond chance; steady when one level dominates",
    "gwet_ac2_linear": "AC1 with partial credit for near misses",
    "gwet_ac2_quadratic": "AC1 with more credit for near misses",
    "gwet_ac2_ordinal": "AC1 with credit by how many levels apart",
    "icc_2_1": "agreement of the scores themselves, one rater",
    "icc_3_1": "consistency: ignores a rater's overall leniency",
}


def parse_categories(text: str) -> list[Category]:
    """``1,2,3,4`` → numbers; anything that is not all numbers stays as text labels."""
    labels = [part.strip() for part in text.split(",")]
    if not any(labels):
        raise click.ClickException("--categories is empty: list the levels, e.g. 1,2,3,4")
    if "" in labels:
        raise click.ClickException(f"--categories has an empty level: {text!r}")
    try:
        numbers = [float(label) for label in labels]
    except ValueError:
        return list(labels)
    if not all(math.isfinite(number) for number in numbers):
        return list(labels)
    return [int(number) if number.is_integer() else number for number in numbers]


def _shown(categories: list[Category]) -> str:
    return ", ".join(str(c) for c in categories)


def read_ratings(
    path: Path, categories: list[Category]
) -> tuple[list[str], list[list[Category | None]]]:
    """Rater names and the units x raters table, each cell a declared category or None."""
    numeric = all(not isinstance(c, str) for c in categories)
    by_number = {float(c): c for c in categories} if numeric else {}
    labels = set(categories)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{path} is not a UTF-8 text file") from error
    except csv.Error as error:
        raise click.ClickException(f"{path} is not a readable CSV file: {error}") from error
    if not rows:
        raise click.ClickException(f"{path} is empty: expected a header row of rater names")
    _, header = rows[0]
    if len(header) < 2:
        raise click.ClickException(
            f"{path}, line 1: the header needs a unit column and at least one rater column"
        )
    raters = [name.strip() or f"column {i + 2}" for i, name in enumerate(header[1:])]
    table: list[list[Category | None]] = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise click.ClickException(
                f"{path}, line {line}: {len(row)} cells, but the header has {len(header)}"
            )
        cells: list[Category | None] = []
        for rater, raw in zip(raters, row[1:], strict=True):
            text = raw.strip()
            if not text:
                cells.append(None)
                continue
            value: Category | None
            if numeric:
                try:
                    value = by_number.get(float(text))
                except ValueError:
                    value = None
            else:
                value = text if text in labels else None
            if value is None:
                raise click.ClickException(
                    f"{path}, line {line}, rater {rater!r}: {text!r} is not one of the "
                    f"categories {_shown(categories)}"
                )
            cells.append(value)
        table.append(cells)
    return raters, table


def format_table(result: dict[str, float | None]) -> str:
    lines = [("statistic", "value", "note")]
    for key, value in result.items():
        shown = "undefined" if value is None else f"{value:.3f}"
        note = "standard error" if key.endswith("_se") else NOTES.get(key, "")
        lines.append((key, shown, note))
    key_width = max(len(key) for key, _, _ in lines)
    value_width = max(len(value) for _, value, _ in lines)
    return "\n".join(
        f"{key:<{key_width}}  {value:>{value_width}}  {note}".rstrip() for key, value, note in lines
    )


@click.command("agreement")
@click.argument("ratings_file", metavar="RATINGS.csv", type=click.Path(path_type=Path))
@click.option(
    "--categories",
    required=True,
    help="The rubric's levels in order, comma-separated, e.g. 1,2,3,4.",
)
@click.option(
    "--scale",
    type=click.Choice(SCALES),
    default="ordinal",
    show_default=True,
    help="What the levels mean: labels (nominal), an order (ordinal), or numbers.",
)
@click.option(
    "--statistic",
    "statistics",
    multiple=True,
    metavar="KEY",
    help="Compute only this statistic (repeatable). Default: every one that applies.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def agreement_command(
    ratings_file: Path,
    categories: str,
    scale: str,
    statistics: tuple[str, ...],
    as_json: bool,
) -> None:
    """Inter-rater agreement for RATINGS.csv (units in rows, raters in columns).

    The first row names the raters, the first column identifies the units, and a blank cell
    means that rater did not score that unit. "undefined" means the statistic cannot be
    computed from these ratings (for example kappa when everyone gave the same level).
    """
    levels = parse_categories(categories)
    try:
        available_statistics(levels, scale)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    raters, table = read_ratings(ratings_file, levels)
    wanted = [key.strip() for entry in statistics for key in entry.split(",") if key.strip()]
    try:
        result = compute(table, levels, scale=scale, statistics=wanted or None)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    rated = [row for row in table if any(cell is not None for cell in row)]
    paired = sum(1 for row in rated if sum(cell is not None for cell in row) >= 2)
    click.echo(
        f"{len(rated)} units rated ({paired} by two or more raters), {len(raters)} raters; "
        f"{scale} scale, categories {_shown(levels)}"
    )
    click.echo()
    click.echo(format_table(result))


@click.command("calibration")
@click.argument("session_id", type=int, required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--paper", type=PAPER, default="letter", show_default=True)
def report_command(session_id: int | None, output: Path | None, paper: str) -> None:
    """A calibration session's report; without SESSION_ID, list the sessions."""
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
    built = report.build(SYSTEM, session, report.Thresholds.from_config())
    with current_app.test_request_context():
        write_pdf(output, views.print_session_report(session, built, paper))
    record(
        "calibration.report_printed",
        object_type="calibration_session",
        object_id=session_id,
        detail={"output": str(output)},
    )
    db.session.commit()
