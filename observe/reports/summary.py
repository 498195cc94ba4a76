"""The summary report: what the walkthroughs show, per look-for, competency and equity
dimension, over time, and split by one school or classroom attribute — with each figure's n and
interval, gaps flagged only when chance cannot explain them, and small groups suppressed.

Everything is aggregated in the database (counts per group, look-for and level); Python only
turns counts into shares, intervals and tests. The conventions are in docs/reports.md.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import Select

from observe.accounts.models import User, user_school
from observe.core import clock
from observe.core.database import begin_write
from observe.core.permissions import Principal, check, visible_school_ids
from observe.core.validation import MAX_ID, whole_number
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.observations.models import Observation, ObservationState, Rating
from observe.reports import access, rollups, suppression
from observe.reports.models import (
    NOT_OBSERVED,
    VISITS,
    RollupClassroom,
    RollupProfile,
    RollupSchool,
)
from observe.reports.scope import check_schools, read_dates, within
from observe.reports.suppression import Rules, Series, consistent, hide, hide_cells, note
from observe.roster.models import (
    Classroom,
    ClassroomAttribute,
    ClassroomProgram,
    School,
    SchoolAttribute,
)
from observe.rubrics.models import Criterion, EquityDimension, RubricVersion

Z = 1.959964  # two-sided 95%
FALSE_DISCOVERY = 0.05  # Benjamini-Hochberg, over every group and look-for tested

# The attributes a report can be split by. District attributes come from the roster:
# "school:NAME" and "classroom:NAME".
ATTRIBUTES = {
    "school": "School",
    "school_level": "School level",
    "region": "Region",
    "title_i": "Title I",
    "grade_band": "Grade band",
    "subject": "Subject",
    "course_level": "Course level",
    "program": "Program",
}
WHOLE_SCHOOL = "Whole-school visits"
WHOLE = "\x01whole-school"  # the group key of walkthroughs of no classroom
BANDS = ["K-2", "3-5", "6-8", "9-12"]


def grade_band(grade: str | None) -> str | None:
    """K-2, 3-5, 6-8, 9-12 from a roster grade ("K", "3", "10"); anything else as it is."""
    if grade is None or grade == WHOLE:
        return grade
    text = grade.strip().upper()
    if text in ("K", "PK", "TK", "0"):
        return BANDS[0]
    if text.isdigit():
        number = int(text)
        for band, (low, high) in zip(BANDS, ((0, 2), (3, 5), (6, 8), (9, 12)), strict=True):
            if low <= number <= high:
                return band
    return text


@dataclass
class Query:
    rubric_version_id: int
    start: date | None = None
    end: date | None = None
    school_codes: list[str] = field(default_factory=list)
    # An observer team: only these observers' walkthroughs (user ids).
    observer_ids: list[int] = field(default_factory=list)
    by: str | None = None
    at_least: int | None = None


def parse_query(user: Principal, args: Any) -> Query:
    """The report's parameters from a request's (or the CLI's) arguments; every problem named."""
    check(
        user,
        access.SUMMARY,
        refusal="The summary report is for school leaders and district admins.",
    )
    problems: dict[str, str] = {}
    versions = {v.id: v for v in db.session.scalars(select(RubricVersion))}
    version_text = args.get("rubric_version_id") or ""
    version_id = None
    if version_text:
        number = whole_number(version_text, 1, MAX_ID)
        if number is not None and number in versions:
            version_id = number
        else:
            problems["rubric_version_id"] = f"unknown rubric version {version_text!r}"
    else:
        version_id = _most_used_version(user) or (max(versions) if versions else None)
        if version_id is None:
            problems["rubric_version_id"] = "no rubric is loaded yet"
    query = Query(rubric_version_id=version_id or 0)
    query.start, query.end = read_dates(args.get("from"), args.get("to"), problems)
    query.school_codes = [c for c in _list(args, "school") if c]
    check_schools(user, query.school_codes, problems)
    emails = [e.lower() for e in _list(args, "observer") if e]
    if emails:
        lookup = select(func.lower(User.email), User.id).where(func.lower(User.email).in_(emails))
        visible = visible_school_ids(user)
        if visible is not None:  # only people who work in the reader's schools
            mine = select(user_school.c.user_id).where(user_school.c.school_id.in_(visible))
            lookup = lookup.where(User.id.in_(mine))
        found: dict[str, int] = dict(db.session.execute(lookup).all())
        unknown = [e for e in emails if e not in found]
        if unknown:
            problems["observer"] = f"not an observer in your schools: {', '.join(unknown)}"
        query.observer_ids = sorted(set(found.values()))
    by = args.get("by") or ""
    if by:
        if by in ATTRIBUTES or (by.partition(":")[0] in ("school", "classroom") and ":" in by):
            query.by = by
        else:
            problems["by"] = f"cannot split by {by!r} (choose one of {', '.join(ATTRIBUTES)})"
    at_least = args.get("at_least") or ""
    if version_id:
        values = _scale(versions[version_id])
        if at_least:
            number = whole_number(at_least, -MAX_ID, MAX_ID)
            if number is not None and number in values:
                query.at_least = number
            else:
                problems["at_least"] = f"{at_least!r} is not a level (levels: {values})"
        else:
            query.at_least = values[-2] if len(values) > 1 else values[-1]
    if problems:
        raise ValidationFailed.naming("The report could not be made", problems)
    return query


def _list(args: Any, name: str) -> list[str]:
    values = args.getlist(name) if hasattr(args, "getlist") else args.get(name) or []
    return [part.strip() for value in values for part in str(value).split(",")]


def _scale(version: RubricVersion) -> list[int]:
    return sorted({level["value"] for c in version.criteria for level in c.levels})


def _most_used_version(user: Principal) -> int | None:
    statement = (
        select(Observation.rubric_version_id)
        .where(*_counted())
        .group_by(Observation.rubric_version_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    visible = visible_school_ids(user)
    if visible is not None:
        statement = statement.where(Observation.school_id.in_(visible))
    return db.session.scalar(statement)


def _counted() -> list[ColumnElement[bool]]:
    """Walkthroughs that count in reports: submitted, not deleted, not calibration practice."""
    return [
        Observation.state == ObservationState.SUBMITTED,
        Observation.deleted_at.is_(None),
        Observation.calibration_session_id.is_(None),
    ]


# ---- aggregation in the database -----------------------------------------------------------------


def _filtered(statement: Select, user: Principal, query: Query) -> Select:
    statement = statement.where(
        *_counted(), Observation.rubric_version_id == query.rubric_version_id
    )
    if query.observer_ids:
        statement = statement.where(Observation.author_id.in_(query.observer_ids))
    return within(
        statement, user, start=query.start, end=query.end, school_codes=query.school_codes
    )


def _grouped(statement: Select, by: str | None) -> tuple[Select, Any]:
    """Join what the attribute needs; return the statement and the grouping column."""
    if by is None:
        return statement, literal("all")
    school_join = School.id == Observation.school_id
    if by in ("school", "school_level", "region", "title_i"):
        column = {"school": School.code, "school_level": School.level, "region": School.region,
                  "title_i": School.title_i}[by]  # fmt: skip
        return statement.join(School, school_join), column
    if by in ("grade_band", "subject", "course_level"):
        column = {"grade_band": Classroom.grade, "subject": Classroom.subject,
                  "course_level": Classroom.course_level}[by]  # fmt: skip
        joined = statement.outerjoin(Classroom, Classroom.id == Observation.classroom_id)
        return joined, _apart(column)
    if by == "program":
        joined = statement.outerjoin(
            ClassroomProgram, ClassroomProgram.classroom_id == Observation.classroom_id
        )
        return joined, _apart(ClassroomProgram.program)
    kind, _, name = by.partition(":")
    if kind == "school":
        joined = statement.outerjoin(
            SchoolAttribute,
            and_(SchoolAttribute.school_id == Observation.school_id, SchoolAttribute.name == name),
        )
        return joined, SchoolAttribute.value
    joined = statement.outerjoin(
        ClassroomAttribute,
        and_(
            ClassroomAttribute.classroom_id == Observation.classroom_id,
            ClassroomAttribute.name == name,
        ),
    )
    return joined, _apart(ClassroomAttribute.value)


def _apart(column: Any) -> Any:
    """A classroom attribute, with walkthroughs of no classroom as a group of their own."""
    return case((Observation.classroom_id.is_(None), literal(WHOLE)), else_=column)


def _counts(user: Principal, query: Query) -> dict[str, Any]:
    """Three grouped counts: ratings per group, look-for and level; walkthroughs per group;
    and per month and look-for, ratings at or above the level and ratings given."""
    base = select().select_from(Observation)
    ratings_base = base.join(Rating, Rating.observation_id == Observation.id)

    statement, group = _grouped(ratings_base, query.by)
    statement = statement.add_columns(
        group, Rating.criterion_id, Rating.level, Rating.not_observed, func.count()
    ).group_by(group, Rating.criterion_id, Rating.level, Rating.not_observed)
    ratings = db.session.execute(_filtered(statement, user, query)).all()

    statement, group = _grouped(base, query.by)
    statement = statement.add_columns(group, func.count(func.distinct(Observation.id))).group_by(
        group
    )
    walkthroughs = db.session.execute(_filtered(statement, user, query)).all()
    total = db.session.scalar(_filtered(select(func.count(Observation.id)), user, query))

    month = clock.month_sql(Observation.observed_at, db.engine.dialect.name)
    at_least = func.sum(case((Rating.level >= query.at_least, 1), else_=0))
    statement = ratings_base.add_columns(
        month, Rating.criterion_id, at_least, func.count(Rating.level)
    ).group_by(month, Rating.criterion_id)
    trend = db.session.execute(_filtered(statement, user, query)).all()
    statement = base.add_columns(month, func.count(Observation.id)).group_by(month)
    months = dict(db.session.execute(_filtered(statement, user, query)).all())
    # Distinct classrooms (a whole-school visit counts its school) per group and month.
    unit = func.count(
        func.distinct(func.coalesce(Observation.classroom_id, -Observation.school_id))
    )
    statement, group = _grouped(base, query.by)
    statement = statement.add_columns(group, unit).group_by(group)
    classrooms: dict[str, int] = defaultdict(int)
    for raw, count in db.session.execute(_filtered(statement, user, query)):
        classrooms[_group_key(query.by, raw)] += count
    statement = base.add_columns(month, unit).group_by(month)
    month_classrooms = dict(db.session.execute(_filtered(statement, user, query)).all())
    all_classrooms = db.session.scalar(_filtered(select(unit), user, query))
    return {"ratings": ratings, "walkthroughs": walkthroughs, "total": total or 0,
            "trend": trend, "months": months, "classrooms": dict(classrooms),
            "month_classrooms": month_classrooms,
            "all_classrooms": all_classrooms or 0}  # fmt: skip


def counted(user: Principal, query: Query) -> dict[str, Any]:
    """The report's counts: from the rollups when they can answer, else from the walkthroughs."""
    return _rollup_counts(user, query) or _counts(user, query)


def _month_range(query: Query) -> tuple[str | None, str | None] | None:
    """The months a query covers when its dates are whole months (or open); else None."""
    if query.start and query.start.day != 1:
        return None
    if query.end and (query.end + timedelta(days=1)).day != 1:
        return None
    return (
        query.start.strftime("%Y-%m") if query.start else None,
        query.end.strftime("%Y-%m") if query.end else None,
    )


def school_split(by: str | None) -> bool:
    """Whether a split's groups are sets of schools (or no split)."""
    return by in (None, "school", "school_level", "region", "title_i") or (
        by is not None and by.startswith("school:")
    )


def _ensure_rollups() -> None:
    """Build the rollups the first time a report needs them."""
    if not rollups.is_built(db.session()):
        begin_write()
        if not rollups.is_built(db.session()):
            rollups.rebuild(db.session())
        db.session.commit()


def _rollup_counts(user: Principal, query: Query) -> dict[str, Any] | None:
    """``_counts`` from the rollups, when they can answer: whole months, and for a split by a
    classroom attribute the whole district. None when they cannot."""
    months = _month_range(query)
    visible = visible_school_ids(user)
    district = visible is None and not query.school_codes
    if months is None or query.observer_ids or (not school_split(query.by) and not district):
        return None  # the rollups keep no observer: a team's walkthroughs are counted directly
    _ensure_rollups()
    first, last = months

    def scoped(statement: Select, model: Any) -> Select:
        statement = statement.where(model.rubric_version_id == query.rubric_version_id)
        if first:
            statement = statement.where(model.month >= first)
        if last:
            statement = statement.where(model.month <= last)
        if model is not RollupProfile:
            if visible is not None:
                statement = statement.where(model.school_id.in_(visible))
            if query.school_codes:
                chosen = select(School.id).where(School.code.in_(query.school_codes))
                statement = statement.where(model.school_id.in_(chosen))
        return statement

    model: type[RollupSchool] | type[RollupProfile]
    where: InstrumentedAttribute[int] | InstrumentedAttribute[str]
    values: Callable[[int], tuple[Any, ...]] | Callable[[str], tuple[Any, ...]]
    if query.by is None or school_split(query.by):
        model, where = RollupSchool, RollupSchool.school_id
        values = _school_values(query.by)
    else:
        model, where = RollupProfile, RollupProfile.profile
        values = _profile_values(query.by)
    rows = db.session.execute(
        scoped(
            select(where, model.criterion_id, model.level, func.sum(model.count)).group_by(
                where, model.criterion_id, model.level
            ),
            model,
        )
    ).all()
    ratings: dict[tuple[Any, int, int | None, bool], int] = defaultdict(int)
    walkthroughs: dict[Any, int] = defaultdict(int)
    for key, criterion_id, level, count in rows:
        for raw in values(key):
            if criterion_id == VISITS:
                walkthroughs[raw] += int(count)
            elif level == NOT_OBSERVED:
                ratings[(raw, criterion_id, None, True)] += int(count)
            else:
                ratings[(raw, criterion_id, level, False)] += int(count)

    by_month = db.session.execute(
        scoped(
            select(
                RollupSchool.month,
                RollupSchool.criterion_id,
                RollupSchool.level,
                func.sum(RollupSchool.count),
            ).group_by(RollupSchool.month, RollupSchool.criterion_id, RollupSchool.level),
            RollupSchool,
        )
    ).all()
    trend: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    month_visits: dict[str, int] = defaultdict(int)
    for month, criterion_id, level, count in by_month:
        if criterion_id == VISITS:
            month_visits[month] += int(count)
        elif level != NOT_OBSERVED:
            cell = trend[(month, criterion_id)]
            cell[0] += int(count) if level >= query.at_least else 0
            cell[1] += int(count)
    # Distinct classrooms: a classroom is in one school and has one profile, so a group's
    # are the sum of its schools' (or profiles') distinct classrooms.
    unit_key = RollupClassroom.school_id if model is RollupSchool else RollupClassroom.profile
    distinct = func.count(func.distinct(RollupClassroom.classroom))
    classrooms: dict[str, int] = defaultdict(int)
    for key, count in db.session.execute(
        scoped(
            select(unit_key, distinct).where(RollupClassroom.count > 0).group_by(unit_key),
            RollupClassroom,
        )
    ):
        for raw in values(key):
            classrooms[_group_key(query.by, raw)] += int(count)
    month_classrooms = dict(
        db.session.execute(
            scoped(
                select(RollupClassroom.month, distinct)
                .where(RollupClassroom.count > 0)
                .group_by(RollupClassroom.month),
                RollupClassroom,
            )
        ).all()
    )
    all_classrooms = db.session.scalar(
        scoped(select(distinct).where(RollupClassroom.count > 0), RollupClassroom)
    )
    return {
        "ratings": [(*key, count) for key, count in ratings.items() if count],
        "walkthroughs": [(raw, count) for raw, count in walkthroughs.items() if count],
        "total": sum(month_visits.values()),
        "trend": [(m, c, hits, rated) for (m, c), (hits, rated) in trend.items()],
        "months": {m: n for m, n in month_visits.items() if n},
        "classrooms": {k: n for k, n in classrooms.items() if n},
        "month_classrooms": {m: int(n) for m, n in month_classrooms.items() if n},
        "all_classrooms": int(all_classrooms or 0),
    }


def _school_values(by: str | None) -> Callable[[int], tuple[Any, ...]]:
    """School id → the group it falls in, for a split by a school attribute."""
    if by is None:
        return lambda school_id: ("all",)
    schools = {s.id: s for s in db.session.scalars(select(School))}

    def value(school_id: int) -> tuple[Any, ...]:
        school = schools.get(school_id)
        if school is None:
            return (None,)
        if by == "school":
            return (school.code,)
        if by in ("school_level", "region", "title_i"):
            return ({"school_level": school.level, "region": school.region,
                     "title_i": school.title_i}[by],)  # fmt: skip
        name = by.partition(":")[2]
        return (next((a.value for a in school.attributes if a.name == name), None),)

    return value


def _profile_values(by: str) -> Callable[[str], tuple[Any, ...]]:
    """Classroom profile → the groups it falls in (several programs: several groups)."""
    known: dict[str, Classroom] = {}
    for classroom in db.session.scalars(select(Classroom).where(Classroom.profile.is_not(None))):
        if classroom.profile is not None:  # as the query asks; a type checker cannot tell
            known.setdefault(classroom.profile, classroom)

    def value(key: str) -> tuple[Any, ...]:
        classroom = known.get(key)
        if classroom is None:  # a whole-school visit
            return (WHOLE,)
        if by == "program":
            return tuple(sorted(p.program for p in classroom.programs)) or (None,)
        if by in ("grade_band", "subject", "course_level"):
            return ({"grade_band": classroom.grade, "subject": classroom.subject,
                     "course_level": classroom.course_level}[by],)  # fmt: skip
        name = by.partition(":")[2]
        return (next((a.value for a in classroom.attributes if a.name == name), None),)

    return value


# ---- statistics --------------------------------------------------------------------------------


def wilson(successes: int, n: int) -> tuple[float, float] | None:
    """Wilson's score interval for a proportion (Wilson 1927), 95%."""
    if n <= 0:
        return None
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_p(a: int, n: int, b: int, m: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test of a/n against b/m."""
    if n == 0 or m == 0:
        return None
    pooled = (a + b) / (n + m)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    if spread == 0:
        return None
    z = (a / n - b / m) / spread
    return math.erfc(abs(z) / math.sqrt(2))


def hidden_note(small: int, min_group: int, counted: str, secondary: bool) -> str:
    """What a split says about the groups it hides: how many had fewer than ``min_group``
    ``counted`` (walkthroughs, active classrooms), and whether others are hidden with them so
    that a hidden one cannot be worked out from the total."""
    return (
        f"{small} group{'s' if small != 1 else ''} with fewer than {min_group} {counted} "
        + ("is" if small == 1 else "are")
        + " not shown"
        + (
            ", nor are others, so that the hidden ones cannot be worked out from the total"
            if secondary
            else ""
        )
        + "."
    )


def benjamini_hochberg(p_values: list[float], q: float = FALSE_DISCOVERY) -> list[bool]:
    """Which hypotheses to reject, keeping the expected share of false flags at most ``q``
    (Benjamini & Hochberg 1995)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    cutoff = -1
    for rank, i in enumerate(order, 1):
        if p_values[i] <= q * rank / len(p_values):
            cutoff = rank
    rejected = [False] * len(p_values)
    for rank, i in enumerate(order, 1):
        if rank <= cutoff:
            rejected[i] = True
    return rejected


@dataclass
class Tally:
    """Ratings of one look-for (or a pooled set) in one group."""

    levels: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    not_observed: int = 0

    def add(self, level: int | None, not_observed: bool, count: int) -> None:
        if not_observed:
            self.not_observed += count
        elif level is not None:
            self.levels[level] += count

    def merge(self, other: Tally) -> None:
        for level, count in other.levels.items():
            self.levels[level] += count
        self.not_observed += other.not_observed

    @property
    def rated(self) -> int:
        return sum(self.levels.values())

    def at_least(self, level: int) -> int:
        return sum(count for value, count in self.levels.items() if value >= level)

    def figures(self, at_least: int, values: list[int], n: int | None = None) -> dict[str, Any]:
        """Share at or above the level, with an interval over ``n`` units (the ratings, or
        the walkthroughs when ratings are pooled over look-fors and so not independent)."""
        rated = self.rated
        hits = self.at_least(at_least)
        units = n if n is not None else rated
        interval = wilson(round(hits / rated * units), units) if rated and units else None
        given = rated + self.not_observed
        return {
            "rated": rated,
            "distribution": {str(v): self.levels.get(v, 0) for v in values},
            "share": round(hits / rated, 4) if rated else None,
            "interval": [round(interval[0], 4), round(interval[1], 4)] if interval else None,
            "not_observed_rate": round(self.not_observed / given, 4) if given else None,
        }


def _label(by: str | None, value: Any) -> str:
    if value == WHOLE:
        return WHOLE_SCHOOL
    if value is None:
        return "Not recorded" if by != "program" else "No program"
    if by == "title_i":
        return "Title I" if value else "Not Title I"
    return str(value)


def build(user: Principal, query: Query, goal_series: list[Series] | None = None) -> dict[str, Any]:
    """The report. ``goal_series``: the month figures of the goals shown with it, whose
    months are hidden alike (``suppression.consistent``: one decision per response)."""
    rules = Rules.from_config()
    min_group = rules.min_group
    # parse_query has checked that the version exists and chosen the level to count from.
    version = db.session.get_one(RubricVersion, query.rubric_version_id)
    assert query.at_least is not None
    criteria = list(
        db.session.scalars(
            select(Criterion)
            .where(Criterion.rubric_version_id == version.id)
            .order_by(Criterion.position)
        )
    )
    values = _scale(version)
    labels = {level["value"]: level["label"] for c in criteria for level in c.levels}
    counts = counted(user, query)
    total = counts["total"]
    why_hidden = rules.reason(total, counts["all_classrooms"])
    hidden = why_hidden is not None
    at_least = query.at_least

    # Per group and look-for.
    tallies: dict[str, dict[int, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for raw, criterion_id, level, not_observed, count in counts["ratings"]:
        key = _group_key(query.by, raw)
        tallies[key][criterion_id].add(level, not_observed, count)
    group_n: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {}
    for raw, count in counts["walkthroughs"]:
        key = _group_key(query.by, raw)
        group_n[key] += count
        names[key] = _label(query.by, None if key == "\0none" else _unkey(query.by, raw))

    overall: dict[int, Tally] = defaultdict(Tally)
    for by_criterion in tallies.values():
        for criterion_id, tally in by_criterion.items():
            overall[criterion_id].merge(tally)
    if query.by == "program":  # a walkthrough may count in several programs, or in none
        overall = _overall_without_split(user, query)

    def pooled(source: dict[int, Tally], members: Iterable[Criterion], n: int) -> dict:
        tally = Tally()
        most = 0
        for criterion in members:
            one = source.get(criterion.id, Tally())
            tally.merge(one)
            most = max(most, one.rated)
        # Units: the walkthroughs that rated the pool — at least as many as rated its most
        # rated look-for, at most all of them. The fewer is the cautious choice.
        return tally.figures(at_least, values, min(n, most))

    dimensions = [d.value for d in EquityDimension]
    by_dimension = {d: [c for c in criteria if d in c.dimension_names] for d in dimensions}
    competencies = []
    for competency in version.competencies:
        members = [c for c in criteria if c.competency_id == competency.id]
        competencies.append({"name": competency.name, **pooled(overall, members, total)})

    report: dict[str, Any] = {
        "scope": {
            "rubric_version_id": version.id,
            "rubric": version.label,
            "from": query.start.isoformat() if query.start else None,
            "to": query.end.isoformat() if query.end else None,
            "schools": query.school_codes or None,
            "observers": len(query.observer_ids) or None,
            "by": query.by,
            "by_label": by_label(query.by),
            "at_least": at_least,
            "at_least_label": labels.get(at_least, str(at_least)),
            "min_group": min_group,
            "min_classrooms": rules.min_classrooms,
            "min_cell": rules.min_cell,
            "printed_note": suppression.PRINTED_NOTE,
        },
        "levels": [{"value": v, "label": labels.get(v, str(v))} for v in values],
        "observations": None if hidden else total,
        "suppressed": hidden,
    }
    if hidden:
        report["reason"] = why_hidden
        report["note"] = (
            f"Fewer than {min_group} walkthroughs match: nothing is shown, so that no "
            "classroom can be singled out."
            if total < min_group
            else f"The walkthroughs that match are in fewer than {rules.min_classrooms} "
            "classrooms: nothing is shown, so that no teacher can be singled out."
        )
        return report
    # Look-fors rated too seldom show only their n; a pooled figure hiding fewer ratings of
    # them than a cell must hold would give them away, so it shows only its n too.
    few = hide_cells({c.id: overall[c.id].rated for c in criteria}, rules)
    report["dimensions"] = [
        {
            "name": d,
            "criteria": len(by_dimension[d]),
            **_pool_cell(
                pooled(overall, by_dimension[d], total), by_dimension[d], few, overall, rules
            ),
        }
        for d in dimensions
        if by_dimension[d]
    ]
    report["competencies"] = [
        _pool_cell(
            figures,
            [c for c in criteria if c.competency.name == figures["name"]],
            few,
            overall,
            rules,
        )
        for figures in competencies
    ]
    report["criteria"] = [
        {
            "key": c.key,
            "text": c.text,
            "competency": c.competency.name,
            "dimensions": c.dimension_names,
            **_cell(overall[c.id].figures(at_least, values), few.get(c.id)),
        }
        for c in criteria
    ]
    report["trend"] = _trend(counts, criteria, by_dimension, _hidden_months(
        user, query, counts, goal_series or [], rules))  # fmt: skip
    if query.by:
        report["groups"] = _groups(
            query, tallies, group_n, names, overall, criteria, by_dimension, values, rules,
            counts["classrooms"],
        )  # fmt: skip
    return report


def _cell(figures: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """A cell's figures, or only its n when it is hidden (and why)."""
    if reason is None:
        return {**figures, "suppressed": None}
    return {**figures, "distribution": None, "share": None, "interval": None,
            "not_observed_rate": None, "suppressed": reason}  # fmt: skip


def _pool_cell(
    figures: dict[str, Any],
    members: list[Criterion],
    few: dict[int, str],
    source: dict[int, Tally],
    rules: Rules,
) -> dict[str, Any]:
    held = sum(source.get(c.id, Tally()).rated for c in members if c.id in few)
    return _cell(figures, suppression.COVER if 0 < held < rules.min_cell else None)


def school_months(version_ids: Iterable[int]) -> dict[tuple[int, str, int], tuple[int, int]]:
    """Walkthroughs and distinct classrooms per (rubric version, month, school), from the
    rollups: what nested scopes' month figures are made of."""
    _ensure_rollups()
    rows = db.session.execute(
        select(
            RollupClassroom.rubric_version_id,
            RollupClassroom.month,
            RollupClassroom.school_id,
            func.sum(RollupClassroom.count),
            func.count(RollupClassroom.classroom),
        )
        .where(RollupClassroom.rubric_version_id.in_(list(version_ids)), RollupClassroom.count > 0)
        .group_by(
            RollupClassroom.rubric_version_id, RollupClassroom.month, RollupClassroom.school_id
        )
    ).all()
    return {(v, m, s): (int(n), int(u)) for v, m, s, n, u in rows}


def _hidden_months(
    user: Principal,
    query: Query,
    counts: dict[str, Any],
    goal_series: list[Series],
    rules: Rules,
) -> dict[str, str]:
    """The trend's hidden months, decided with the goals' shown beside it."""
    visible = visible_school_ids(user)
    schools: frozenset[int] | None = None
    if query.school_codes:
        chosen = db.session.scalars(select(School.id).where(School.code.in_(query.school_codes)))
        schools = frozenset(chosen)
    if visible is not None:
        schools = frozenset(visible) if schools is None else schools & frozenset(visible)
    trend = Series(
        schools=schools,
        version_id=query.rubric_version_id,
        months=dict(counts["months"]),
        classrooms=dict(counts["month_classrooms"]),
        hidden={},
        total_shown=True,
        comparable=_month_range(query) is not None and not query.observer_ids,
    )
    per_school = school_months({query.rubric_version_id}) if goal_series else {}
    consistent([trend, *goal_series], per_school, rules)
    return trend.hidden


def _group_key(by: str | None, raw: Any) -> str:
    if by == "grade_band":
        raw = grade_band(raw)
    return "\0none" if raw is None else str(raw)


def _unkey(by: str | None, raw: Any) -> Any:
    return grade_band(raw) if by == "grade_band" else raw


def by_label(by: str | None) -> str | None:
    if by is None:
        return None
    if by in ATTRIBUTES:
        return ATTRIBUTES[by]
    kind, _, name = by.partition(":")
    return f"{kind.capitalize()} {name.replace('_', ' ')}"


def _overall_without_split(user: Principal, query: Query) -> dict[int, Tally]:
    plain = Query(**{**query.__dict__, "by": None})
    overall: dict[int, Tally] = defaultdict(Tally)
    counts = counted(user, plain)
    for _, criterion_id, level, not_observed, count in counts["ratings"]:
        overall[criterion_id].add(level, not_observed, count)
    return overall


def protected(sizes: dict[str, int], min_group: int) -> tuple[set[str], bool]:
    """Which groups to hide: those under ``min_group``, and then — while the hidden ones
    together are still under it, so that subtracting the shown ones from the total would
    single them out — the next smallest shown one too. Whether any was hidden that way."""
    hidden = {key for key, n in sizes.items() if n < min_group}
    added = False
    while hidden and 0 < sum(sizes[k] for k in hidden) < min_group and len(hidden) < len(sizes):
        hidden.add(min((k for k in sizes if k not in hidden), key=lambda k: (sizes[k], k)))
        added = True
    return hidden, added


def _trend(
    counts: dict[str, Any],
    criteria: list[Criterion],
    by_dimension: dict[str, list[Criterion]],
    hidden: dict[str, str],
) -> list[dict[str, Any]]:
    per_month: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for month, criterion_id, hits, rated in counts["trend"]:
        per_month[month][criterion_id] = (int(hits or 0), int(rated or 0))
    rows = []
    for month in sorted(counts["months"]):
        n = counts["months"][month]
        if month in hidden:
            rows.append({"month": month, "observations": None, "suppressed": True,
                         "reason": hidden[month]})  # fmt: skip
            continue
        cells = per_month.get(month, {})
        hits = sum(h for h, _ in cells.values())
        rated = sum(r for _, r in cells.values())
        row = {"month": month, "observations": n, "suppressed": False,
               "share": round(hits / rated, 4) if rated else None, "dimensions": {}}  # fmt: skip
        for dimension, members in by_dimension.items():
            h = sum(cells.get(c.id, (0, 0))[0] for c in members)
            r = sum(cells.get(c.id, (0, 0))[1] for c in members)
            if members:
                row["dimensions"][dimension] = round(h / r, 4) if r else None
        rows.append(row)
    return rows


def _groups(
    query: Query,
    tallies: dict[str, dict[int, Tally]],
    group_n: dict[str, int],
    names: dict[str, str],
    overall: dict[int, Tally],
    criteria: list[Criterion],
    by_dimension: dict[str, list[Criterion]],
    values: list[int],
    rules: Rules,
    classrooms: dict[str, int],
) -> dict[str, Any]:
    at_least = query.at_least
    min_group = rules.min_group
    assert at_least is not None  # build's query comes from parse_query, which sets it

    def order(key: str) -> tuple[Any, ...]:
        band = BANDS.index(key) if query.by == "grade_band" and key in BANDS else len(BANDS)
        return (key in ("\0none", WHOLE), band, names[key].lower())

    keys = sorted(group_n, key=order)
    hidden = hide(group_n, classrooms, rules)
    if query.by == "program" and hidden:
        # A walkthrough may be in several programs: the shown groups overlap, and what lies
        # outside them all could be worked out. When any group is too small, none is shown.
        hidden = {k: hidden.get(k, suppression.COVER) for k in keys}
    # Per look-for, the cells of shown groups on too few ratings show only their n, with cover
    # so that the overall figure minus the shown cells gives none of them away.
    shown_keys = [k for k in keys if k not in hidden]
    few: dict[int, dict[str, str]] = {}
    for c in criteria:
        rated = {k: tallies[k].get(c.id, Tally()).rated for k in shown_keys}
        remainder = overall.get(c.id, Tally()).rated - sum(rated.values())
        few[c.id] = hide_cells(
            rated, rules, hidden_parts=[remainder] if query.by != "program" else []
        )

    rows: list[dict[str, Any]] = []
    tests: list[tuple[int, str, float, str]] = []
    for key in keys:
        if key in hidden:
            rows.append({"key": key, "label": names[key], "suppressed": True,
                         "reason": hidden[key]})  # fmt: skip
            continue
        n = group_n[key]
        row: dict[str, Any] = {"key": key, "label": names[key], "suppressed": False,
                               "observations": n, "criteria": {}, "dimensions": {}}  # fmt: skip
        for c in criteria:
            mine = tallies[key].get(c.id, Tally())
            figures = mine.figures(at_least, values)
            rest = Tally()
            rest.merge(overall.get(c.id, Tally()))
            rest_rated = rest.rated - mine.rated
            rest_hits = rest.at_least(at_least) - mine.at_least(at_least)
            p = two_proportion_p(mine.at_least(at_least), mine.rated, rest_hits, rest_rated)
            figures["gap"] = None
            figures = _cell(figures, few[c.id].get(key))
            if (
                p is not None
                and figures["suppressed"] is None
                and mine.rated >= min_group
                and rest_rated >= min_group
            ):
                direction = "above" if figures["share"] > rest_hits / rest_rated else "below"
                tests.append((len(rows), c.key, p, direction))
            row["criteria"][c.key] = figures
        for dimension, members in by_dimension.items():
            if members:
                tally, most = Tally(), 0
                for c in members:
                    one = tallies[key].get(c.id, Tally())
                    tally.merge(one)
                    most = max(most, one.rated)
                held = sum(
                    tallies[key].get(c.id, Tally()).rated for c in members if key in few[c.id]
                )
                row["dimensions"][dimension] = _cell(
                    tally.figures(at_least, values, min(n, most)),
                    suppression.COVER if 0 < held < rules.min_cell else None,
                )
        rows.append(row)
    flags = benjamini_hochberg([t[2] for t in tests]) if tests else []
    for (index, criterion_key, _, direction), flagged in zip(tests, flags, strict=True):
        if flagged:
            rows[index]["criteria"][criterion_key]["gap"] = direction
    label = "group"
    notes = [note(hidden, label)]
    cells = sum(len(r) for r in few.values())
    if cells:
        notes.append(
            f"{cells} look-for cell{'s' if cells != 1 else ''} show only their number of "
            f"ratings: fewer than {rules.min_cell}, or hidden so that a smaller one cannot be "
            "worked out."
        )
    return {"by": query.by, "label": by_label(query.by), "rows": rows,
            "note": " ".join(n for n in notes if n) or None, "tests": len(tests)}  # fmt: skip
