"""School years and terms as plain data: reading OneRoster's ``academicSessions.csv`` and the
checks every set of years and terms must pass, wherever it comes from (a file, a command, the
database). Pure: no Flask, no database; the callers pass what is stored.

A *school year* (OneRoster type ``schoolYear``) has a first and a last day; years never overlap.
A *term* (``term``, ``semester`` or ``gradingPeriod``) lies inside its parent — a year, or a
longer term — and terms of one kind under one parent never overlap. The layout and every
check are described for districts in docs/roster-format.md; keep the two in step.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

SCHOOL_YEAR = "schoolYear"
TERM_KINDS = ("term", "semester", "gradingPeriod")
KINDS = (SCHOOL_YEAR, *TERM_KINDS)
REQUIRED_COLUMNS = ("sourcedid", "title", "type", "startdate", "enddate")
# The file's own spelling of its columns, for messages (the reader folds headers to lower case).
COLUMN = {
    "sourcedid": "sourcedId",
    "title": "title",
    "type": "type",
    "startdate": "startDate",
    "enddate": "endDate",
    "parentsourcedid": "parentSourcedId",
}
MAX_TITLE = 200
MAX_ID = 128
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


@dataclass
class SessionRecord:
    """One year or term: from a file's row, a command, or the database (``where`` says which)."""

    sourced_id: str
    title: str
    kind: str
    start: date
    end: date
    parent: str | None = None  # the parent's sourced id
    where: str = ""
    closed: bool = False


def read_rows(
    rows: Iterable[tuple[str, dict[str, str]]], problem: Callable[[str], None]
) -> list[SessionRecord]:
    """The sessions of ``academicSessions.csv`` rows (``(where, values)``, headers in lower
    case), each bad cell named through ``problem`` as "FILE line N: COLUMN …". Rows whose
    ``status`` is ``tobedeleted`` are left out (OneRoster's way of saying a row is gone)."""
    records: list[SessionRecord] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if row.get("status", "").lower() == "tobedeleted":
            continue
        failures: list[str] = []
        fail = failures.append

        sourced_id = row.get("sourcedid", "")
        title = " ".join(row.get("title", "").split())
        kind = row.get("type", "")
        for column, value, limit in (
            ("sourcedid", sourced_id, MAX_ID),
            ("title", title, MAX_TITLE),
        ):
            if not value:
                fail(f"{COLUMN[column]} is empty")
            elif len(value) > limit:
                fail(f"{COLUMN[column]} is longer than {limit} characters")
        if sourced_id in seen:
            fail(f'duplicate sourcedId "{sourced_id}" (also at {seen[sourced_id]})')
        elif sourced_id:
            seen[sourced_id] = where
        if kind not in KINDS:
            fail(f'type "{kind}" is not one of {", ".join(KINDS)}')
        days = {}
        for column in ("startdate", "enddate"):
            days[column] = _day(row.get(column, ""), COLUMN[column], fail)
        start, end = days["startdate"], days["enddate"]
        if start and end and end < start:
            fail(f"endDate {end} is before startDate {start}")
        parent = row.get("parentsourcedid", "") or None
        if parent is not None and parent == sourced_id:
            fail("parentSourcedId is the row's own sourcedId")
        for failure in failures:
            problem(f"{where}: {failure}")
        if not failures and start and end:
            records.append(SessionRecord(sourced_id, title, kind, start, end, parent, where))
    return records


def _day(text: str, column: str, fail: Callable[[str], None]) -> date | None:
    if not text:
        fail(f"{column} is empty")
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        fail(f'{column} "{text}" is not a date (YYYY-MM-DD)')
        return None
    if not EARLIEST <= day <= LATEST:
        fail(f"{column} {day} is not between {EARLIEST} and {LATEST}")
        return None
    return day


def check(new: list[SessionRecord], stored: list[SessionRecord]) -> list[str]:
    """What is wrong with ``new`` once merged over ``stored`` (a new record replaces the stored
    one of the same sourced id): a term without a year around it, a parent that is missing or
    does not hold it, overlapping years, overlapping terms of one kind, a closed year changed.
    A term with no parent is put in the year that holds it (its ``parent`` is set)."""
    problems: list[str] = []
    by_id = {r.sourced_id: r for r in stored}
    for record in new:
        before = by_id.get(record.sourced_id)
        if before is not None and before.closed and _differs(before, record):
            problems.append(
                f"{record.where}: {record.title} is a closed year; its dates, title and type "
                "cannot change"
            )
        by_id[record.sourced_id] = record
    years = sorted((r for r in by_id.values() if r.kind == SCHOOL_YEAR), key=_order)
    for record in new:
        if record.kind == SCHOOL_YEAR:
            if record.parent is not None:
                problems.append(f"{record.where}: parentSourcedId: a schoolYear has no parent")
            continue
        if record.parent is None:
            holding = [y for y in years if y.start <= record.start and record.end <= y.end]
            if not holding:
                problems.append(
                    f"{record.where}: no school year holds {record.title} "
                    f"({record.start} to {record.end}); give its parentSourcedId or add the year"
                )
                continue
            record.parent = holding[0].sourced_id
        parent = by_id.get(record.parent)
        if parent is None:
            problems.append(
                f'{record.where}: parentSourcedId "{record.parent}" is not a session in the '
                "file or stored"
            )
        elif parent.kind != SCHOOL_YEAR and KINDS.index(parent.kind) >= KINDS.index(record.kind):
            problems.append(
                f"{record.where}: parentSourcedId: a {record.kind} cannot be inside a {parent.kind}"
            )
        elif not (parent.start <= record.start and record.end <= parent.end):
            problems.append(
                f"{record.where}: {record.title} ({record.start} to {record.end}) is not within "
                f"its parent {parent.title} ({parent.start} to {parent.end})"
            )
    changed = {r.sourced_id for r in new}
    for first, second in itertools.pairwise(years):
        if second.start <= first.end and {first.sourced_id, second.sourced_id} & changed:
            named = second if second.sourced_id in changed else first
            other = first if named is second else second
            problems.append(
                f"{named.where}: the school year {named.title} ({named.start} to {named.end}) "
                f"overlaps {other.title} ({other.start} to {other.end}){_at(other)}"
            )
    siblings: dict[tuple[str | None, str], list[SessionRecord]] = defaultdict(list)
    for record in by_id.values():
        if record.kind != SCHOOL_YEAR:
            siblings[(record.parent, record.kind)].append(record)
    for group in siblings.values():
        group.sort(key=_order)
        for first, second in itertools.pairwise(group):
            if second.start <= first.end and {first.sourced_id, second.sourced_id} & changed:
                named = second if second.sourced_id in changed else first
                other = first if named is second else second
                problems.append(
                    f"{named.where}: the {named.kind} {named.title} ({named.start} to "
                    f"{named.end}) overlaps {other.title} ({other.start} to {other.end})"
                    f"{_at(other)}"
                )
    return problems


def _order(record: SessionRecord) -> tuple[date, date, str]:
    return (record.start, record.end, record.sourced_id)


def _at(record: SessionRecord) -> str:
    return f" at {record.where}" if record.where else ""


def _differs(before: SessionRecord, after: SessionRecord) -> bool:
    return (before.title, before.kind, before.start, before.end) != (
        after.title,
        after.kind,
        after.start,
        after.end,
    )
