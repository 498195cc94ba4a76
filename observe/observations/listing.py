"""The walkthroughs a person may list: their scope, the filters (chosen from what they may see),
newest first, one page at a time.

Pages are *keyset* pages: the cursor is the position (observed_at, id) of the last row shown,
and the next page is the rows strictly after it in the order ``observed_at desc, id desc``. A
walkthrough stored while someone pages is never shown twice nor skips another, however many
share a timestamp, and each page costs the same (no OFFSET to count past); it reads the index
``ix_observation_observed`` backwards.

Never listed: calibration scores (practice in seeing alike, not visits) and deleted walkthroughs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import ColumnElement, Select, func, literal, or_, select, tuple_

from observe.accounts.models import User
from observe.core import clock
from observe.core.permissions import Principal, allowed, visible_school_ids
from observe.core.validation import EARLIEST_DATE, LATEST_DATE, MAX_ID, whole_number
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.observations import access
from observe.observations.models import Observation, ObservationState, Rating
from observe.roster.models import Classroom, School, Teacher
from observe.rubrics.models import Criterion, Rubric, RubricVersion

PAGE_SIZE = 50
MAX_LIMIT = 200
# "needs a person": edited on two devices from the same base, waiting to be reconciled.
STATES = {
    "draft": lazy_gettext("Draft"),
    "submitted": lazy_gettext("Submitted"),
    "conflict": lazy_gettext("Needs a person"),
}
ID_FILTERS = ("school", "classroom", "teacher", "observer", "rubric")


@dataclass
class Filters:
    school: int | None = None
    classroom: int | None = None
    teacher: int | None = None
    observer: int | None = None
    rubric: int | None = None  # a rubric version's id
    start: date | None = None
    end: date | None = None
    state: str | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as the query string that chose them (for links to the next page)."""
        args = {name: str(getattr(self, name)) for name in ID_FILTERS if getattr(self, name)}
        if self.start:
            args["from"] = self.start.isoformat()
        if self.end:
            args["to"] = self.end.isoformat()
        if self.state:
            args["state"] = self.state
        return args


@dataclass
class Choices:
    """What the reader may pick in each filter: (id, label) pairs."""

    schools: list[tuple[int, str]] = field(default_factory=list)
    classrooms: list[tuple[int, str]] = field(default_factory=list)
    teachers: list[tuple[int, str]] = field(default_factory=list)
    observers: list[tuple[int, str]] = field(default_factory=list)
    rubrics: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    limit: int


# ---- the scope --------------------------------------------------------------------------------


def scope(user: Principal) -> list[ColumnElement[bool]]:
    """The conditions that keep to what ``user`` may list: leaders their schools (and their own
    walkthroughs elsewhere), admins every school, observers their own; never a calibration
    score, never a deleted walkthrough. The same people as ``access.READ`` allows, row by row."""
    conditions: list[ColumnElement[bool]] = [
        Observation.deleted_at.is_(None),
        _not_calibration(),
    ]
    if not allowed(user, access.LIST_SCHOOLS):
        conditions.append(Observation.author_id == user.id)
        return conditions
    visible = visible_school_ids(user)
    if visible is not None:
        conditions.append(or_(Observation.school_id.in_(visible), Observation.author_id == user.id))
    return conditions


def _not_calibration() -> ColumnElement[bool]:
    """Not a calibration score, written for each database's planner so that a page reads
    ix_observation_observed backwards and stops after a page. SQLite would walk the
    calibration index for ``IS NULL`` (nearly every row is NULL there) and sort the lot, so
    there it is written so that no index serves it (as the export's query is); PostgreSQL
    knows from its statistics that nearly every row is NULL, but guesses that the SQLite form
    matches few rows, and would then read them all and sort."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.coalesce(Observation.calibration_session_id, 0) == 0
    return Observation.calibration_session_id.is_(None)


def _school_ids(user: Principal) -> set[int] | None:
    """The schools whose roster the filters offer; None for every school."""
    return visible_school_ids(user)


# ---- what the filters offer ---------------------------------------------------------------------


def choices(user: Principal, filters: Filters) -> Choices:
    """The filters' options: only what ``user`` may see. Classrooms and teachers are those of
    the chosen school (or the classroom's school, or the reader's one school): a district has
    thousands, too many for one list."""
    visible = _school_ids(user)
    schools = select(School.id, School.name).order_by(School.name, School.id)
    if visible is not None:
        schools = schools.where(School.id.in_(visible))
    made = Choices(schools=[(i, n) for i, n in db.session.execute(schools).all()])
    school_id = filters.school
    if school_id is None and filters.classroom is not None:
        school_id = db.session.scalar(
            select(Classroom.school_id).where(Classroom.id == filters.classroom)
        )
    if school_id is None and len(made.schools) == 1:
        school_id = made.schools[0][0]
    if school_id is not None and (visible is None or school_id in visible):
        rooms = db.session.execute(
            select(Classroom.id, Classroom.name, Teacher.id, Teacher.name)
            .outerjoin(Teacher, Teacher.id == Classroom.teacher_id)
            .where(Classroom.school_id == school_id)
            .order_by(Classroom.name, Classroom.id)
        ).all()
        made.classrooms = [
            (room_id, f"{name} · {teacher}" if teacher else name)
            for room_id, name, _, teacher in rooms
        ]
        teachers = {t_id: t_name for _, _, t_id, t_name in rooms if t_id is not None}
        made.teachers = sorted(teachers.items(), key=lambda t: (t[1], t[0]))
    if allowed(user, access.LIST_SCHOOLS):
        # Who has a walkthrough the reader may list: one indexed probe per person
        # (ix_observation_author_id), not a pass over every walkthrough of the district.
        listed = select(Observation.id).where(Observation.author_id == User.id, *scope(user))
        made.observers = [
            (i, n)
            for i, n in db.session.execute(
                select(User.id, User.name).where(listed.exists()).order_by(User.name, User.id)
            ).all()
        ]
    made.rubrics = [
        (i, f"{title} (version {number})")
        for i, title, number in db.session.execute(
            select(RubricVersion.id, RubricVersion.title, RubricVersion.number)
            .join(Rubric, Rubric.id == RubricVersion.rubric_id)
            .order_by(RubricVersion.title, RubricVersion.number.desc())
        ).all()
    ]
    return made


# ---- reading the filters ------------------------------------------------------------------------


def _date(text: str, problems: dict[str, str], name: str) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        problems[name] = f"{text[:40]!r} is not a date (YYYY-MM-DD)"
        return None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        problems[name] = f"must be between {EARLIEST_DATE} and {LATEST_DATE}"
        return None
    return day


def parse(user: Principal, args: Mapping[str, str]) -> tuple[Filters, str | None, int]:
    """The filters, the cursor and the page size from a query string; every problem named
    (``ValidationFailed``, nothing listed), or values that are each the reader's to choose."""
    problems: dict[str, str] = {}
    filters = Filters()
    for name in ID_FILTERS:
        text = (args.get(name) or "").strip()
        if not text:
            continue
        number = whole_number(text, 1, MAX_ID)
        if number is None:
            problems[name] = f"unknown {name} {text[:40]!r}: choose one from the list"
        else:
            setattr(filters, name, number)
    for name, attribute in (("from", "start"), ("to", "end")):
        text = (args.get(name) or "").strip()
        if text:
            setattr(filters, attribute, _date(text, problems, name))
    if filters.start and filters.end and filters.start > filters.end:
        problems["to"] = "the end date is before the start date"
    chosen = (args.get("state") or "").strip()
    if chosen and chosen not in STATES:
        problems["state"] = f"must be one of {', '.join(STATES)}"
    filters.state = chosen or None
    limit = PAGE_SIZE
    if (asked := args.get("limit")) is not None:
        number = whole_number(asked, 1, MAX_LIMIT)
        if number is None:
            problems["limit"] = f"must be a whole number from 1 to {MAX_LIMIT}"
        else:
            limit = number
    cursor = args.get("cursor") or None
    if cursor is not None and decode_cursor(cursor) is None:
        problems["cursor"] = (
            "unknown cursor: not a position this list gave; start again from the first page"
        )
    if not problems:
        _check_choices(user, filters, problems)
    if problems:
        raise ValidationFailed.naming("Nothing is listed", problems)
    return filters, cursor, limit


def _check_choices(user: Principal, filters: Filters, problems: dict[str, str]) -> None:
    """Each id chosen must be one the reader may choose: refused by name, as if unknown."""
    visible = _school_ids(user)

    def in_scope(school_id: int | None) -> bool:
        return school_id is not None and (visible is None or school_id in visible)

    if filters.school is not None and not in_scope(
        db.session.scalar(select(School.id).where(School.id == filters.school))
    ):
        problems["school"] = "not one of your schools"
    if filters.classroom is not None:
        room_school = db.session.scalar(
            select(Classroom.school_id).where(Classroom.id == filters.classroom)
        )
        if not in_scope(room_school):
            problems["classroom"] = "unknown classroom, or not in one of your schools"
    if filters.teacher is not None:
        schools = select(Classroom.school_id).where(Classroom.teacher_id == filters.teacher)
        if visible is not None:
            schools = schools.where(Classroom.school_id.in_(visible))
        observed = select(Observation.school_id).where(Observation.teacher_id == filters.teacher)
        if visible is not None:
            observed = observed.where(Observation.school_id.in_(visible))
        if (
            db.session.scalar(schools.limit(1)) is None
            and db.session.scalar(observed.limit(1)) is None
        ):
            problems["teacher"] = "unknown teacher, or not in one of your schools"
    if filters.observer is not None:
        if allowed(user, access.LIST_SCHOOLS):
            known = db.session.scalar(
                select(Observation.author_id)
                .where(*scope(user), Observation.author_id == filters.observer)
                .limit(1)
            )
        else:
            known = user.id if filters.observer == user.id else None
        if known is None:
            problems["observer"] = "unknown observer, or none of their walkthroughs is yours to see"
    if filters.rubric is not None and db.session.get(RubricVersion, filters.rubric) is None:
        problems["rubric"] = "unknown rubric version"


# ---- the cursor ---------------------------------------------------------------------------------


def encode_cursor(observed_at: datetime, observation_id: str) -> str:
    text = f"{observed_at.astimezone(UTC).isoformat(timespec='microseconds')}|{observation_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    """The position a cursor names, or None for anything this list did not make."""
    if len(cursor) > 200:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, _, observation_id = text.partition("|")
        moment = datetime.fromisoformat(moment_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if moment.tzinfo is None or not observation_id or len(observation_id) > 36:
        return None
    if not EARLIEST_DATE.year < moment.year < LATEST_DATE.year:
        return None  # year 1 at +14:00 is before year 1 in UTC: an OverflowError
    if not observation_id.isascii() or not observation_id.isprintable():
        return None
    return moment.astimezone(UTC), observation_id


# ---- the query ----------------------------------------------------------------------------------


def _filtered(user: Principal, filters: Filters) -> list[ColumnElement[bool]]:
    conditions = scope(user)
    if filters.school is not None:
        conditions.append(Observation.school_id == filters.school)
    if filters.classroom is not None:
        conditions.append(Observation.classroom_id == filters.classroom)
    if filters.teacher is not None:
        # The teacher observed at the visit, whoever teaches those classes now.
        conditions.append(Observation.teacher_id == filters.teacher)
    if filters.observer is not None:
        conditions.append(Observation.author_id == filters.observer)
    if filters.rubric is not None:
        conditions.append(Observation.rubric_version_id == filters.rubric)
    if filters.start is not None:
        conditions.append(Observation.observed_at >= clock.day_start(filters.start))
    if filters.end is not None:
        conditions.append(Observation.observed_at < clock.day_start(filters.end + timedelta(1)))
    if filters.state == "conflict":
        conditions.append(Observation.has_conflict.is_(True))
    elif filters.state is not None:
        conditions.append(Observation.state == ObservationState(filters.state))
    return conditions


def conditions(user: Principal, filters: Filters) -> list[ColumnElement[bool]]:
    """What the list shows for ``filters`` (its scope included), for figures over the same
    walkthroughs (``feedback_loop``)."""
    return _filtered(user, filters)


def keyset_query(
    user: Principal, filters: Filters, cursor: str | None, limit: int
) -> Select[str, datetime, int, int | None, int, int, ObservationState, bool, int | None]:
    """One page's rows, and one more (to know whether there is a next page)."""
    statement = (
        select(
            Observation.id,
            Observation.observed_at,
            Observation.school_id,
            Observation.classroom_id,
            Observation.author_id,
            Observation.rubric_version_id,
            Observation.state,
            Observation.has_conflict,
            Observation.teacher_id,
        )
        .where(*_filtered(user, filters))
        .order_by(Observation.observed_at.desc(), Observation.id.desc())
        .limit(limit + 1)
    )
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        moment, observation_id = position
        # Bound as the columns' own types: the moment as naive UTC, as stored. A bare aware
        # datetime goes to PostgreSQL as timestamptz, which it compares with the column read
        # in the session's TimeZone, shifting the page by the server's offset from UTC.
        statement = statement.where(
            tuple_(Observation.observed_at, Observation.id)
            < tuple_(
                literal(moment, Observation.observed_at.type),
                literal(observation_id, Observation.id.type),
            )
        )
    return statement


def page(user: Principal, filters: Filters, cursor: str | None, limit: int) -> Page:
    found = db.session.execute(keyset_query(user, filters, cursor, limit)).all()
    more = len(found) > limit
    found = found[:limit]
    next_cursor = encode_cursor(found[-1].observed_at, found[-1].id) if more else None
    return Page(rows=_described(found), next_cursor=next_cursor, limit=limit)


def _described(found: Sequence[Any]) -> list[dict[str, Any]]:
    """The page's rows with names: each looked up once for the page, not once a row."""
    if not found:
        return []
    ids = [r.id for r in found]
    schools = dict(
        db.session.execute(
            select(School.id, School.name).where(School.id.in_({r.school_id for r in found}))
        ).all()
    )
    rooms = dict(
        db.session.execute(
            select(Classroom.id, Classroom.name).where(
                Classroom.id.in_({r.classroom_id for r in found if r.classroom_id})
            )
        ).all()
    )
    # The teacher at each visit (observe/roster/profiles.py), not the class's teacher now.
    teachers = dict(
        db.session.execute(
            select(Teacher.id, Teacher.name).where(
                Teacher.id.in_({r.teacher_id for r in found if r.teacher_id})
            )
        ).all()
    )
    people = dict(
        db.session.execute(
            select(User.id, User.name).where(User.id.in_({r.author_id for r in found}))
        ).all()
    )
    version_ids = {r.rubric_version_id for r in found}
    versions = {
        i: (title, number)
        for i, title, number in db.session.execute(
            select(RubricVersion.id, RubricVersion.title, RubricVersion.number).where(
                RubricVersion.id.in_(version_ids)
            )
        ).all()
    }
    look_fors = dict(
        db.session.execute(
            select(Criterion.rubric_version_id, func.count())
            .where(Criterion.rubric_version_id.in_(version_ids))
            .group_by(Criterion.rubric_version_id)
        ).all()
    )
    rated = dict(
        db.session.execute(
            select(Rating.observation_id, func.count())
            .where(
                Rating.observation_id.in_(ids),
                or_(Rating.level.is_not(None), Rating.not_observed.is_(True)),
            )
            .group_by(Rating.observation_id)
        ).all()
    )
    rows = []
    for r in found:
        room = rooms.get(r.classroom_id) if r.classroom_id else None
        title, number = versions[r.rubric_version_id]
        rows.append(
            {
                "id": r.id,
                "observed_at": r.observed_at,
                "school": {"id": r.school_id, "name": schools.get(r.school_id)},
                "classroom": {"id": r.classroom_id, "name": room} if room else None,
                "teacher": {"id": r.teacher_id, "name": teachers.get(r.teacher_id)}
                if r.teacher_id
                else None,
                "observer": {"id": r.author_id, "name": people.get(r.author_id)},
                "rubric_version": {"id": r.rubric_version_id, "title": title, "number": number},
                "state": r.state.value,
                "has_conflict": r.has_conflict,
                "rated": rated.get(r.id, 0),
                "look_fors": look_fors.get(r.rubric_version_id, 0),
            }
        )
    return rows


def focus(filters: Filters) -> dict[str, Any] | None:
    """The classroom or teacher the list is narrowed to: its name and teacher, for the
    heading over its visits (both already checked to be the reader's to see)."""
    if filters.classroom is not None:
        room = db.session.get(Classroom, filters.classroom)
        if room is None:
            return None
        teacher = room.teacher
        return {
            "kind": "classroom",
            "name": room.name,
            "school": room.school.name,
            "details": [
                d
                for d in (room.grade and f"Grade {room.grade}", room.subject, room.course_level)
                if d
            ],
            "teacher": {"id": teacher.id, "name": teacher.name} if teacher else None,
        }
    if filters.teacher is not None:
        person = db.session.get(Teacher, filters.teacher)
        return {"kind": "teacher", "name": person.name, "teacher": None} if person else None
    return None


def visits_by_month(user: Principal, filters: Filters) -> list[tuple[str, int]]:
    """How many walkthroughs (of the filters, in scope) each month had, newest month first,
    months in the district's time zone ("December 2026"): a classroom's or a teacher's visits
    over time."""
    dialect = db.session.get_bind().dialect.name
    month = clock.month_sql(Observation.observed_at, dialect).label("month")
    found = db.session.execute(
        select(month, func.count())
        .where(*_filtered(user, filters))
        .group_by(month)
        .order_by(month.desc())
    ).all()
    return [(f"{date.fromisoformat(m + '-01'):%B %Y}", n) for m, n in found]
