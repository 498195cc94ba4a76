"""The coverage report: which classrooms were visited how often in a period, and whether
attention is spread fairly — visits per classroom by school, course level, program and grade
band, with small groups suppressed as in the summary, gaps flagged only when chance cannot
explain them, and for each school the active classrooms nobody visited.

The database counts visits per classroom (one grouped query); Python puts the classrooms in
their groups and turns counts into shares, means and tests. The conventions are in
docs/reports.md ("Coverage").
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_babel.speaklater import LazyString
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, func, or_, select

from observe.core import clock, distributions
from observe.core.permissions import Principal, allowed, check, visible_school_ids
from observe.core.validation import flatten_messages, format_path
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.observations import access as walkthrough_access
from observe.observations.models import Observation, ObservationState
from observe.reports import access
from observe.reports.schemas import CoverageQuerySchema
from observe.reports.scope import check_schools, within
from observe.reports.summary import (
    BANDS,
    benjamini_hochberg,
    grade_band,
    protected,
)
from observe.roster import profiles
from observe.roster.models import Classroom, ClassroomAttribute, ClassroomProgram, School, Teacher

# The groupings, in the order the report shows them.
DIMENSIONS: dict[str, LazyString] = {
    "school": lazy_gettext("School"),
    "course_level": lazy_gettext("Course level"),
    "program": lazy_gettext("Program"),
    "grade_band": lazy_gettext("Grade band"),
}
# Equity of attention compares every course level and program with this course level, the one
# a district's attention most often drifts towards (the roster folds its spellings to "AP").
REFERENCE_LEVEL = "AP"
# The district attribute that names a classroom's room, when the roster records one.
ROOM_ATTRIBUTE = "room"
# A school year starts on 1 August (for the "school year to date" choice on the page).
SCHOOL_YEAR_MONTH = 8


class BadFilter(ValidationFailed):
    """A filter that cannot be used: 400, naming the parameter; nothing is counted."""

    status = 400
    code = "bad_filter"


class ClassroomProfile(NamedTuple):
    """What the coverage report knows of a classroom: who and where it is, and the attributes
    it is grouped by. (A named tuple: a district has thousands of classrooms, made per report.)"""

    id: int
    school_id: int
    name: str
    code: str
    teacher: str | None
    room: str | None
    course_level: str | None
    programs: tuple[str, ...]
    grade_band: str | None


def _rows(statement: Any) -> Any:
    """A statement's rows through the session's connection: plain Core rows, without the ORM's
    per-row work (a district's classrooms are thousands of rows)."""
    return db.session.connection().execute(statement)


# A classroom as the coverage report counts it: its id, the school and the profile key
# (observe/roster/profiles.py) of its visits — a classroom whose profile or school changed
# within the period counts once under each, as it was at each visit.
Unit = tuple[int, int, str]


def classroom_profiles(
    school_ids: Collection[int] | None, visits: Mapping[Unit | None, int]
) -> dict[Unit, ClassroomProfile]:
    """The active classrooms of these schools (None: of every school), each with the
    attributes coverage groups it by.

    This is the ONE place the report reads a classroom's attributes. Visits are grouped by
    the profile and school each walkthrough kept from the day of the visit (``visits``, from
    :func:`visits_per_classroom`): a visited classroom is one unit per profile and school it
    was visited under. A classroom nobody visited in the period is grouped by its current
    profile, in its current school. Keep every read of course level, programs, grade or room
    behind this function.
    """
    visited_ids = {unit[0] for unit in visits if unit is not None}
    active: list[ColumnElement[bool]] = [Classroom.active.is_(True)]
    if school_ids is not None:
        # Every school of the district is left unnamed: a few hundred bound ids cost SQLite
        # more than reading the whole table.
        active.append(
            or_(Classroom.school_id.in_(school_ids), Classroom.id.in_(sorted(visited_ids)))
        )
    rows = _rows(
        select(
            Classroom.id,
            Classroom.school_id,
            Classroom.name,
            Classroom.external_id,
            Teacher.name,
            Classroom.course_level,
            Classroom.grade,
        )
        .outerjoin(Teacher, Teacher.id == Classroom.teacher_id)
        .where(*active)
    ).all()
    programs: dict[int, list[str]] = defaultdict(list)
    for classroom_id, program in _rows(
        select(ClassroomProgram.classroom_id, ClassroomProgram.program)
        .join(Classroom, Classroom.id == ClassroomProgram.classroom_id)
        .where(*active)
        .order_by(ClassroomProgram.program)
    ):
        programs[classroom_id].append(program)
    rooms = dict(
        _rows(
            select(ClassroomAttribute.classroom_id, ClassroomAttribute.value)
            .join(Classroom, Classroom.id == ClassroomAttribute.classroom_id)
            .where(ClassroomAttribute.name == ROOM_ATTRIBUTE, *active)
        ).all()
    )
    bands: dict[str | None, str | None] = {}  # a district writes a few grades many times

    def band(grade: str | None) -> str | None:
        if grade not in bands:
            bands[grade] = grade_band(grade)
        return bands[grade]

    classrooms = {row[0]: row for row in rows}
    units: dict[Unit, ClassroomProfile] = {}
    known = profiles.lookup(db.session(), {unit[2] for unit in visits if unit is not None})
    for unit in visits:
        if unit is None or unit[0] not in classrooms:
            continue  # a whole-school visit, or a classroom no longer active
        cid, school_id, key = unit
        _, _, name, code, teacher, level, grade = classrooms[cid]
        kept = known.get(key)
        if kept is not None:
            level, grade, kept_programs = kept.course_level, kept.grade, tuple(kept.programs)
        else:  # a profile never recorded (cannot happen after the migration): as it is now
            kept_programs = tuple(programs.get(cid, ()))
        units[unit] = ClassroomProfile(
            cid, school_id, name, code, teacher, rooms.get(cid), level, kept_programs, band(grade)
        )
    for cid, school_id, name, code, teacher, level, grade in rows:
        if cid in visited_ids or (school_ids is not None and school_id not in school_ids):
            continue
        units[(cid, school_id, "")] = ClassroomProfile(
            cid, school_id, name, code, teacher, rooms.get(cid), level,
            tuple(programs.get(cid, ())), band(grade),
        )  # fmt: skip
    return units


def _group_keys(dimension: str, profile: ClassroomProfile) -> tuple[str | None, ...]:
    """The groups a classroom falls in (several programs: several groups; None: not recorded)."""
    if dimension == "school":
        return (str(profile.school_id),)
    if dimension == "course_level":
        return (profile.course_level,)
    if dimension == "grade_band":
        return (profile.grade_band,)
    return profile.programs or (None,)


# ---- the query ----------------------------------------------------------------------------------


@dataclass
class Query:
    start: date
    end: date
    school_codes: list[str] = field(default_factory=list)
    defaulted: bool = False  # no dates were given: this month so far


def this_month() -> tuple[date, date]:
    today = clock.today()
    return today.replace(day=1), today


def school_year() -> tuple[date, date]:
    today = clock.today()
    year = today.year if today.month >= SCHOOL_YEAR_MONTH else today.year - 1
    return date(year, SCHOOL_YEAR_MONTH, 1), today


def last_month() -> tuple[date, date]:
    end = clock.today().replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def parse_query(user: Principal, args: Mapping[str, Any]) -> Query:
    """The report's parameters from a request's arguments; every problem named (400)."""
    check(
        user,
        access.COVERAGE,
        refusal="The coverage report is for school leaders and district admins.",
    )
    raw: dict[str, Any] = {}
    for name in ("from", "to"):
        value = args.get(name)
        if value:
            raw[name] = value
    schools = _chosen(args, "school")
    if schools:
        raw["school"] = schools
    problems: dict[str, str] = {}
    loaded: dict[str, Any] = {}
    try:
        loaded = CoverageQuerySchema().load(raw)
    except ValidationError as error:
        loaded = error.valid_data if isinstance(error.valid_data, dict) else {}
        for path, message in flatten_messages(error.messages):
            problems.setdefault(str(path[0]) if path else format_path(path), message)
    start, end = loaded.get("start"), loaded.get("end")
    defaulted = "from" not in raw and "to" not in raw
    if defaulted:
        start, end = this_month()
    elif start is None and "from" not in problems:
        problems["from"] = "give the first day of the period too"
    elif end is None and "to" not in problems:
        end = max(clock.today(), start) if start else None
    if start and end and start > end:
        problems["to"] = "the end date is before the start date"
    codes = loaded.get("school", [])
    check_schools(user, codes, problems)
    if problems:
        raise BadFilter.naming("The coverage report could not be made", problems)
    assert start is not None and end is not None
    return Query(start=start, end=end, school_codes=codes, defaulted=defaulted)


def _chosen(args: Any, name: str) -> list[str]:
    """A multiple choice as sent: repeated parameters, or one with commas (a link, the CLI)."""
    values = args.getlist(name) if hasattr(args, "getlist") else args.get(name) or []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


# ---- counting -----------------------------------------------------------------------------------


class SchoolRow(NamedTuple):
    id: int
    code: str
    name: str


def _scope_schools(user: Principal, query: Query) -> tuple[list[SchoolRow], bool]:
    """The schools in scope, by name, and whether they are every school of the district."""
    statement = select(School.id, School.code, School.name).order_by(School.name, School.id)
    visible = visible_school_ids(user)
    if visible is not None:
        statement = statement.where(School.id.in_(visible))
    if query.school_codes:
        statement = statement.where(School.code.in_(query.school_codes))
    every = visible is None and not query.school_codes
    return [SchoolRow(*row) for row in db.session.execute(statement)], every


def _not_calibration() -> ColumnElement[bool]:
    """Not a calibration score, written so that each database counts a period from the index
    ix_observation_visits alone. SQLite, seeing ``IS NULL``, would walk the calibration index
    for it (nearly every row is NULL there) and read every walkthrough of every year; written
    as below, no index serves that term and the period's range wins (as the walkthrough list
    does, observe/observations/listing.py). PostgreSQL knows from its statistics."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.coalesce(Observation.calibration_session_id, 0) == 0
    return Observation.calibration_session_id.is_(None)


def visits_per_classroom(user: Principal, query: Query) -> dict[Unit | None, int]:
    """Walkthroughs per classroom, school and profile at the visit in the period (None: of the
    whole school), counted as every report counts them: submitted, not deleted, not
    calibration practice."""
    statement = (
        select(
            Observation.classroom_id,
            Observation.school_id,
            func.coalesce(Observation.profile, ""),
            func.count(),
        )
        .where(
            Observation.state == ObservationState.SUBMITTED,
            Observation.deleted_at.is_(None),
            _not_calibration(),
        )
        .group_by(Observation.classroom_id, Observation.school_id, Observation.profile)
    )
    statement = within(
        statement, user, start=query.start, end=query.end, school_codes=query.school_codes
    )
    counts: dict[Unit | None, int] = defaultdict(int)
    for classroom_id, school_id, key, n in _rows(statement):
        counts[None if classroom_id is None else (classroom_id, school_id, key)] += int(n)
    return dict(counts)


# ---- statistics ---------------------------------------------------------------------------------


def spread(counts: list[int]) -> dict[str, Any]:
    """Classrooms, how many were visited, and visits per classroom (mean, median, most)."""
    n = len(counts)
    visited = sum(1 for c in counts if c)
    return {
        "classrooms": n,
        "visited": visited,
        "share_visited": round(visited / n, 4) if n else None,
        "visits": sum(counts),
        "mean": round(sum(counts) / n, 2) if n else None,
        "median": _number(statistics.median(counts)) if n else None,
        "most": max(counts) if n else None,
    }


def _number(value: float) -> float | int:
    """A median as written: 2, not 2.0; 2.5 stays."""
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class Moments:
    """A group's visits per classroom as sums, so that "the rest" is a subtraction."""

    n: int
    total: float
    squares: float

    @classmethod
    def of(cls, counts: Iterable[int]) -> Moments:
        values = list(counts)
        return cls(len(values), float(sum(values)), float(sum(v * v for v in values)))

    def __sub__(self, other: Moments) -> Moments:
        return Moments(self.n - other.n, self.total - other.total, self.squares - other.squares)

    @property
    def mean(self) -> float:
        return self.total / self.n

    @property
    def variance(self) -> float:
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))


def welch_p(a: Moments, b: Moments) -> float | None:
    """Two-sided p-value of Welch's test of equal mean visits per classroom: the statistic read
    against Student's t with the Welch-Satterthwaite degrees of freedom (as scipy's
    ``ttest_ind(equal_var=False)``). Not the normal curve: with groups of ten classrooms, and
    counts of visits as skewed as they are, that flagged differences chance explains. None
    when it cannot be computed (no spread at all)."""
    if a.n < 2 or b.n < 2:
        return None
    va, vb = a.variance / a.n, b.variance / b.n
    spread_sq = va + vb
    if spread_sq <= 1e-12:
        return None
    t = (a.mean - b.mean) / math.sqrt(spread_sq)
    df = spread_sq**2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    return min(1.0, 2 * distributions.t_sf(abs(t), df))


@dataclass
class _Test:
    target: dict[str, Any]
    p: float
    direction: str


# ---- the report ---------------------------------------------------------------------------------

NONE = "\0none"  # the key of classrooms whose roster does not record the attribute


def build(user: Principal, query: Query) -> dict[str, Any]:
    min_group = current_app.config["OBSERVE_MIN_GROUP_SIZE"]
    schools, every = _scope_schools(user, query)
    names = {str(s.id): s.name for s in schools}
    visits = visits_per_classroom(user, query)
    units = classroom_profiles(None if every else {s.id for s in schools}, visits)
    counts = {unit: visits.get(unit, 0) for unit in units}
    whole_school = visits.get(None, 0)
    retired = sum(n for unit, n in visits.items() if unit is not None and unit not in units)
    per_classroom: dict[int, int] = defaultdict(int)  # the whole: each classroom once
    for unit, n in counts.items():
        per_classroom[unit[0]] += n
    overall = spread(list(per_classroom.values()))
    hidden = overall["classrooms"] < min_group

    report: dict[str, Any] = {
        "scope": {
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "this_month": query.defaulted,
            "schools": query.school_codes or None,
            "school_names": [s.name for s in schools] if query.school_codes else None,
            "min_group": min_group,
            "reference_level": REFERENCE_LEVEL,
        },
        "suppressed": hidden,
        "overall": None if hidden else overall,
        "other_visits": None if hidden else {"whole_school": whole_school, "retired": retired},
        "groups": [],
        "equity": None,
        "tests": 0,
        "not_visited": _not_visited(user, schools, units, counts),
    }
    if hidden:
        report["note"] = _(
            "Fewer than %(n)s active classrooms are in scope: no figures are shown, so "
            "that no classroom can be singled out.",
            n=min_group,
        )
        return report

    tests: list[_Test] = []
    everyone = Moments.of(counts.values())
    members: dict[str, dict[str, list[Unit]]] = {}
    shown: dict[str, dict[str, Any]] = {}
    for dimension, label in DIMENSIONS.items():
        groups: dict[str, list[Unit]] = defaultdict(list)
        for unit, profile in units.items():
            for key in _group_keys(dimension, profile):
                groups[NONE if key is None else key].append(unit)
        members[dimension] = groups
        shown[dimension] = _dimension(
            dimension, str(label), groups, counts, names, min_group, everyone, tests
        )
    report["groups"] = list(shown.values())
    report["equity"] = _equity(shown, members, counts, min_group, tests)
    flags = benjamini_hochberg([t.p for t in tests]) if tests else []
    for test, flagged in zip(tests, flags, strict=True):
        if flagged:
            test.target["flag"] = test.direction
    report["tests"] = len(tests)
    return report


def _label(dimension: str, key: str, names: Mapping[str, str]) -> str:
    if key == NONE:
        return _("No program") if dimension == "program" else _("Not recorded")
    if dimension == "school":
        return names.get(key, key)
    return key


def _dimension(
    dimension: str,
    label: str,
    groups: dict[str, list[Unit]],
    counts: dict[Unit, int],
    names: Mapping[str, str],
    min_group: int,
    everyone: Moments,
    tests: list[_Test],
) -> dict[str, Any]:
    """One grouping's rows, small groups hidden as the summary hides them: by their number of
    active classrooms (the people a figure could single out)."""

    def order(key: str) -> tuple[Any, ...]:
        band = BANDS.index(key) if dimension == "grade_band" and key in BANDS else len(BANDS)
        return (key == NONE, band, _label(dimension, key, names).lower())

    keys = sorted(groups, key=order)
    sizes = {k: len(groups[k]) for k in keys}
    small = [k for k in keys if sizes[k] < min_group]
    hidden, secondary = protected(sizes, min_group)
    if dimension == "program" and hidden:
        # A classroom may be in several programs: the shown groups overlap, and what lies
        # outside them all could be worked out. When any group is too small, none is shown.
        hidden, secondary = set(sizes), True
    rows = []
    for key in keys:
        row: dict[str, Any] = {
            "key": None if key == NONE else key,
            "label": _label(dimension, key, names),
        }
        if key in hidden:
            rows.append({**row, "suppressed": True})
            continue
        mine = [counts[c] for c in groups[key]]
        figures = spread(mine)
        ratio = (
            round(figures["visits"] / figures["classrooms"] / everyone.mean, 2)
            if everyone.total and figures["classrooms"]
            else None
        )
        row.update(suppressed=False, **figures, ratio=ratio, flag=None)
        group = Moments.of(mine)
        rest = everyone - group
        if group.n >= min_group and rest.n >= min_group:
            p = welch_p(group, rest)
            if p is not None:
                tests.append(_Test(row, p, "more" if group.mean > rest.mean else "fewer"))
        rows.append(row)
    note = None
    if small or secondary:
        note = _hidden_note(len(small), min_group, bool(secondary))
    return {"dimension": dimension, "label": label, "rows": rows, "note": note}


def _hidden_note(small: int, min_group: int, secondary: bool) -> str:
    """What a grouping says about the groups it hides (the summary's wording, in the reader's
    language): how many had fewer than ``min_group`` active classrooms, and whether others
    are hidden with them so that a hidden one cannot be worked out from the total."""
    if secondary:
        return ngettext(
            "%(num)d group with fewer than %(min)s active classrooms is not shown, nor are "
            "others, so that the hidden ones cannot be worked out from the total.",
            "%(num)d groups with fewer than %(min)s active classrooms are not shown, nor are "
            "others, so that the hidden ones cannot be worked out from the total.",
            small,
            min=min_group,
        )
    return ngettext(
        "%(num)d group with fewer than %(min)s active classrooms is not shown.",
        "%(num)d groups with fewer than %(min)s active classrooms are not shown.",
        small,
        min=min_group,
    )


def _equity(
    shown: dict[str, dict[str, Any]],
    members: dict[str, dict[str, list[Unit]]],
    counts: dict[Unit, int],
    min_group: int,
    tests: list[_Test],
) -> dict[str, Any]:
    """Are general and EL classrooms visited as often as AP? Each shown course level and
    program against the AP classrooms (an AP classroom in a program is left out of that
    program's side, so the two sides never share a classroom)."""
    levels = {row["key"]: row for row in shown["course_level"]["rows"] if not row["suppressed"]}
    reference = levels.get(REFERENCE_LEVEL)
    if reference is None or not reference["visits"]:
        return {"reference": REFERENCE_LEVEL, "reference_mean": None, "rows": []}
    ap = set(members["course_level"][REFERENCE_LEVEL])
    ap_moments = Moments.of(counts[c] for c in ap)
    rows = []
    for dimension in ("course_level", "program"):
        for row in shown[dimension]["rows"]:
            if row["suppressed"] or row["key"] is None or row is reference:
                continue
            compared: dict[str, Any] = {
                "dimension": dimension,
                "label": row["label"],
                "classrooms": row["classrooms"],
                "mean": row["mean"],
                "ratio": round(row["visits"] / row["classrooms"] / ap_moments.mean, 2),
                "flag": None,
            }
            mine = Moments.of(counts[c] for c in members[dimension][row["key"]] if c not in ap)
            if mine.n >= min_group and ap_moments.n >= min_group:
                p = welch_p(mine, ap_moments)
                if p is not None:
                    more = mine.mean > ap_moments.mean
                    tests.append(_Test(compared, p, "more" if more else "fewer"))
            rows.append(compared)
    return {"reference": REFERENCE_LEVEL, "reference_mean": reference["mean"], "rows": rows}


def _not_visited(
    user: Principal,
    schools: list[SchoolRow],
    units: dict[Unit, ClassroomProfile],
    counts: dict[Unit, int],
) -> list[dict[str, Any]]:
    """For each school whose walkthroughs the reader may list one by one (as the walkthrough
    list allows: leaders their schools, district admins every school), its active classrooms
    with no visit in the period. Record-level, like that list: never counted, never printed."""
    if not allowed(user, walkthrough_access.LIST_SCHOOLS):
        return []
    visible = visible_school_ids(user)
    by_school: dict[int, list[ClassroomProfile]] = defaultdict(list)
    for unit, profile in units.items():
        if not counts[unit]:
            by_school[profile.school_id].append(profile)
    listed = []
    for school in schools:
        if visible is not None and school.id not in visible:
            continue
        rooms = sorted(by_school.get(school.id, []), key=lambda p: (p.name.lower(), p.code))
        listed.append(
            {
                "school": school.code,
                "school_name": school.name,
                "classrooms": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "code": p.code,
                        "teacher": p.teacher,
                        "room": p.room,
                    }
                    for p in rooms
                ],
            }
        )
    return listed
