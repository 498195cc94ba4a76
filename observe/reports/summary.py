"""The summary report: what the walkthroughs show, per look-for, competency and equity
dimension, over time, and split by one school or classroom attribute — with each figure's n and
interval, gaps flagged only when chance cannot explain them, and small groups suppressed.

Everything is aggregated in the database (counts per group, look-for and level); Python only
turns counts into shares, intervals and tests. The conventions are in docs/reports.md.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
)
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
from observe.reports import (
    access,
    cache,
    periods,
    raters,
    revisions,
    rollups,
    suppression,
    totals,
    uncertainty,
)
from observe.reports.models import (
    NOT_OBSERVED,
    VISITS,
    VISITS_ONLY,
    RollupClassroom,
    RollupProfile,
    RollupSchool,
    RollupStamp,
    RollupState,
)
from observe.reports.scope import check_schools, within
from observe.reports.suppression import Rules, Series, consistent, hide, hide_cells, note
from observe.reports.totals import Cells, Cluster, MonthTotals
from observe.roster import profiles
from observe.roster.models import School, SchoolAttribute
from observe.rubrics.models import Criterion, EquityDimension, RubricVersion

Z = 1.959964  # two-sided 95%
FALSE_DISCOVERY = 0.05  # Benjamini-Hochberg, over every group and look-for tested

# The attributes a report can be split by. District attributes come from the roster:
# "school:NAME" and "classroom:NAME".
ATTRIBUTES = {
    "school": lazy_gettext("School"),
    "school_level": lazy_gettext("School level"),
    "region": lazy_gettext("Region"),
    "title_i": lazy_gettext("Title I"),
    "grade_band": lazy_gettext("Grade band"),
    "subject": lazy_gettext("Subject"),
    "course_level": lazy_gettext("Course level"),
    "program": lazy_gettext("Program"),
}
WHOLE_SCHOOL = lazy_gettext("Whole-school visits")
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
    # A class of several grades (OneRoster's "10,11,12" is stored "10-12") belongs to the band
    # both its ends are in; one that spans two bands ("K-5") stays a group of its own.
    low_text, dash, high_text = text.partition("-")
    if dash and low_text and high_text and "-" not in high_text:
        ends = {grade_band(low_text), grade_band(high_text)}
        if len(ends) == 1 and ends <= set(BANDS):
            return ends.pop()
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
    # Following look-fors across the rubric's versions (reports.revisions): every version whose
    # walkthroughs count, and each of their look-fors → this version's of the same lineage.
    versions: list[int] = field(default_factory=list)
    fold: dict[int, int] = field(default_factory=dict)

    @property
    def version_ids(self) -> list[int]:
        return self.versions or [self.rubric_version_id]


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
        version_id = revisions.default_version(user)
        if version_id is None:
            problems["rubric_version_id"] = "no rubric is loaded yet"
    query = Query(rubric_version_id=version_id or 0)
    across = args.get("versions") or revisions.ALL
    if across not in revisions.CHOICES:
        problems["versions"] = f"must be {' or '.join(revisions.CHOICES)}, not {across!r}"
    elif across == revisions.ALL and version_id:
        following = revisions.follow(versions[version_id])
        query.versions, query.fold = following.version_ids, following.fold
    # The current school year unless the reader picks dates, a year or a term (reports.periods).
    query.start, query.end = periods.read_period(args, problems).dates
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
            query.at_least = default_level(values)
    if problems:
        raise ValidationFailed.naming("The report could not be made", problems)
    return query


def _list(args: Any, name: str) -> list[str]:
    values = args.getlist(name) if hasattr(args, "getlist") else args.get(name) or []
    return [part.strip() for value in values for part in str(value).split(",")]


def _scale(version: RubricVersion) -> list[int]:
    return sorted({level["value"] for c in version.criteria for level in c.levels})


scale_of = _scale  # its public name, for the command line


def default_level(values: list[int]) -> int:
    """The level a report counts from unless told: the one below the top ("meets")."""
    return values[-2] if len(values) > 1 else values[-1]


def _counted() -> list[ColumnElement[bool]]:
    """Walkthroughs that count in reports: submitted, not deleted, not calibration practice."""
    return [
        Observation.state == ObservationState.SUBMITTED,
        Observation.deleted_at.is_(None),
        Observation.calibration_session_id.is_(None),
    ]


# ---- aggregation in the database -----------------------------------------------------------------


def _filtered(statement: Select, user: Principal, query: Query) -> Select:
    statement = statement.where(*_counted(), Observation.rubric_version_id.in_(query.version_ids))
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
    kind, _, name = by.partition(":")
    if kind == "school":
        joined = statement.outerjoin(
            SchoolAttribute,
            and_(SchoolAttribute.school_id == Observation.school_id, SchoolAttribute.name == name),
        )
        return joined, SchoolAttribute.value
    # A classroom attribute: grouped by the profile the classroom had at the visit, which
    # _by_profile turns into the attribute's values.
    return statement, func.coalesce(Observation.profile, "")


def _by_profile(rows: Any, by: str | None) -> Any:
    """Rows grouped by profile key (first column) summed into the split's groups."""
    if by is None or school_split(by):
        return rows
    values = _profile_values(by)
    sums: dict[tuple[Any, ...], int] = defaultdict(int)
    for key, *rest, count in rows:
        for raw in values(key):
            sums[(raw, *rest)] += int(count)
    return [(*cells, count) for cells, count in sums.items()]


def _counts(user: Principal, query: Query) -> dict[str, Any]:
    """Three grouped counts: ratings per group, look-for and level; walkthroughs per group;
    and per month and look-for, ratings at or above the level and ratings given."""
    base = select().select_from(Observation)
    ratings_base = base.join(Rating, Rating.observation_id == Observation.id)

    statement, group = _grouped(ratings_base, query.by)
    statement = statement.add_columns(
        group, Rating.criterion_id, Rating.level, Rating.not_observed, func.count()
    ).group_by(group, Rating.criterion_id, Rating.level, Rating.not_observed)
    ratings = _by_profile(db.session.execute(_filtered(statement, user, query)).all(), query.by)

    statement, group = _grouped(base, query.by)
    statement = statement.add_columns(group, func.count(func.distinct(Observation.id))).group_by(
        group
    )
    walkthroughs = _by_profile(
        db.session.execute(_filtered(statement, user, query)).all(), query.by
    )
    total = db.session.scalar(_filtered(select(func.count(Observation.id)), user, query))

    month = clock.month_sql(Observation.observed_at, db.engine.dialect.name)
    at_least = func.sum(case((Rating.level >= query.at_least, 1), else_=0))
    statement = ratings_base.add_columns(
        month, Rating.criterion_id, at_least, func.count(Rating.level)
    ).group_by(month, Rating.criterion_id)
    trend = db.session.execute(_filtered(statement, user, query)).all()
    statement = base.add_columns(month, func.count(Observation.id)).group_by(month)
    months = dict(db.session.execute(_filtered(statement, user, query)).all())
    # Distinct classrooms (a school's walkthroughs of no classroom count as one, the school's)
    # per group and month: what suppression counts besides walkthroughs.
    unit = case((Observation.classroom_id.is_(None), -Observation.school_id),
                else_=Observation.classroom_id)  # fmt: skip
    statement, group = _grouped(base, query.by)
    statement = statement.add_columns(group, unit).distinct()
    classrooms = _units_per_group(db.session.execute(_filtered(statement, user, query)), query.by)
    statement = base.add_columns(month, func.count(func.distinct(unit))).group_by(month)
    month_classrooms = dict(db.session.execute(_filtered(statement, user, query)).all())
    all_classrooms = db.session.scalar(
        _filtered(select(func.count(func.distinct(unit))).select_from(Observation), user, query)
    )
    return {"ratings": ratings, "walkthroughs": walkthroughs, "total": total or 0,
            "trend": trend, "months": months, "classrooms": classrooms,
            "month_classrooms": {m: int(n) for m, n in month_classrooms.items()},
            "all_classrooms": int(all_classrooms or 0)}  # fmt: skip


def _units_per_group(rows: Iterable[Any], by: str | None) -> dict[str, int]:
    """Distinct classrooms per group from rows of (raw group value — a profile key for a split
    by a classroom attribute —, classroom). A classroom whose profile changed within the period
    is counted once in each group, never twice in one."""
    values: Callable[[Any], tuple[Any, ...]] = (
        (lambda raw: (raw,)) if by is None or school_split(by) else _profile_values(by)
    )
    units: dict[str, set[int]] = defaultdict(set)
    for raw, unit in rows:
        for value in values(raw):
            units[_group_key(by, value)].add(int(unit))
    return {key: len(found) for key, found in units.items()}


def counted(user: Principal, query: Query) -> dict[str, Any]:
    """The report's counts: from the rollups when they can answer, else from the walkthroughs;
    across versions, folded onto the look-fors of the version shown."""
    counts = _rollup_counts(user, query) or _counts(user, query)
    return revisions.fold_counts(counts, query.fold) if query.versions else counts


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


@dataclass(frozen=True)
class _Kept:
    """The rollups a query can be answered from: its scope on them, and each of its
    school-months' stamp (``RollupStamp``) — what keeps reports/cache.py's entries current."""

    query: Query
    visible: frozenset[int] | None
    chosen: frozenset[int] | None  # the schools the query names, as ids (read once)
    first: str | None
    last: str | None
    token: str
    stamps: tuple[tuple[str, int, int, int], ...]  # (month, version, school, serial)

    def scoped(self, statement: Select, table: Any) -> Select:
        """``statement`` on ``table`` limited to the query's versions, months and schools
        (rollup_profile has no school: a split by a classroom attribute is district-wide)."""
        query = self.query
        statement = statement.where(table.rubric_version_id.in_(query.version_ids))
        if self.first:
            statement = statement.where(table.month >= self.first)
        if self.last:
            statement = statement.where(table.month <= self.last)
        if table is not RollupProfile:
            if self.visible is not None:
                statement = statement.where(table.school_id.in_(self.visible))
            if self.chosen is not None:
                statement = statement.where(table.school_id.in_(self.chosen))
        return statement

    def key(self, kind: str, *more: Hashable) -> tuple[Hashable, ...]:
        """A cache key for what ``kind`` makes of these rollups in this scope."""
        query = self.query

        def ids(found: frozenset[int] | None) -> tuple[int, ...] | None:
            return tuple(sorted(found)) if found is not None else None

        return (kind, str(db.engine.url), self.token, tuple(query.version_ids), self.first,
                self.last, ids(self.visible), ids(self.chosen), query.at_least, *more)  # fmt: skip

    def get(
        self, key: tuple[Hashable, ...], compute: Callable[[], Any], size: Callable[[Any], int]
    ) -> Any:
        """What ``key`` holds at these stamps, or ``compute()`` kept under them."""
        return _memo(key, self.stamps, compute, size)

    def by_month(self) -> dict[str, list[tuple[int, int, int]]]:
        """Per month, its (version, school, serial) stamps."""
        found: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for month, version_id, school_id, serial in self.stamps:
            found[month].append((version_id, school_id, serial))
        return found

    def month_get(
        self,
        kind: Hashable,
        month: str,
        parts: list[tuple[int, int, int]],
        compute: Callable[[], Any],
        size: Callable[[Any], int],
    ) -> Any:
        """What ``kind`` makes of one month of the scope (its ``parts``: version, school,
        stamp), kept while those stamps hold."""
        key = (kind, str(db.engine.url), self.token, month, tuple((v, s) for v, s, _ in parts))
        return _memo(key, tuple(serial for _, _, serial in parts), compute, size)

    def school_months(
        self,
        kind: Hashable,
        month: str,
        parts: list[tuple[int, int, int]],
        read: Callable[[set[tuple[int, int]]], dict[tuple[int, int], Any]],
        size: Callable[[Any], int],
    ) -> dict[tuple[int, int], Any]:
        """What ``kind`` reads of each (version, school) of one month: each kept one while its
        stamp holds; the stale ones read together, ``read(stale)`` answering for each."""
        prefix = (kind, str(db.engine.url), self.token, month)
        found: dict[tuple[int, int], Any] = {}
        stale: dict[tuple[int, int], int] = {}
        for version_id, school_id, serial in parts:
            value = cache.get((*prefix, version_id, school_id), serial)
            if value is None:
                stale[(version_id, school_id)] = serial
            else:
                found[(version_id, school_id)] = value
        if stale:
            fresh = read(set(stale))
            limit = cache.limit()
            for part, serial in stale.items():
                # At the serial its stamp had when the report began: a write since then only
                # makes it read again next time.
                cache.put((*prefix, *part), serial, fresh[part], size(fresh[part]), limit)
                found[part] = fresh[part]
        return found


def _memo(
    key: Hashable, stamp: Hashable, compute: Callable[[], Any], size: Callable[[Any], int]
) -> Any:
    """What reports/cache.py holds under ``key`` at ``stamp``, or ``compute()`` kept there."""
    found = cache.get(key, stamp)
    if found is None:
        found = compute()
        cache.put(key, stamp, found, size(found), cache.limit())
    return found


def _kept(user: Principal, query: Query) -> _Kept | None:
    """The rollups ``query`` can be answered from — whole months, any schools, any split —
    with their stamps; None when they cannot (part of a month, an observer team)."""
    months = _month_range(query)
    visible = visible_school_ids(user)
    if months is None or query.observer_ids:
        return None  # the rollups keep no observer: a team's walkthroughs are counted directly
    _ensure_rollups()
    state = db.session.get_one(RollupState, 1)
    # The named schools as ids once: a school recoded between two statements of one report
    # cannot make it read one school's rows under another's stamps.
    chosen = (
        frozenset(db.session.scalars(select(School.id).where(School.code.in_(query.school_codes))))
        if query.school_codes
        else None
    )
    kept = _Kept(query, frozenset(visible) if visible is not None else None, chosen, *months,
                 state.token, ())  # fmt: skip
    return _Kept(kept.query, kept.visible, kept.chosen, kept.first, kept.last, kept.token,
                 _stamps(kept))  # fmt: skip


def _stamps(kept: _Kept) -> tuple[tuple[str, int, int, int], ...]:
    """The stamps of ``kept``'s scope, read once per transaction: a report's counts, cells and
    observers rest on the same ones (a write of the rollups in between reads them again)."""
    connection = db.session.connection()
    transaction = connection.get_transaction()
    schools = [tuple(sorted(ids)) if ids is not None else None
               for ids in (kept.visible, kept.chosen)]  # fmt: skip
    scope = (kept.token, tuple(kept.query.version_ids), kept.first, kept.last, *schools)
    read: tuple[Any, dict[Hashable, tuple[tuple[str, int, int, int], ...]]] | None
    read = db.session.info.get(rollups.STAMPS_READ)
    if read is None or read[0] is not transaction:
        read = (transaction, {})
        db.session.info[rollups.STAMPS_READ] = read
    found = read[1].get(scope)
    if found is None:
        rows = connection.execute(
            kept.scoped(
                select(RollupStamp.month, RollupStamp.rubric_version_id, RollupStamp.school_id,
                       RollupStamp.serial).order_by(RollupStamp.month,
                                                    RollupStamp.rubric_version_id,
                                                    RollupStamp.school_id),
                RollupStamp,
            )
        )  # fmt: skip
        found = read[1][scope] = tuple(tuple(row) for row in rows)
    return found


def _rollup_counts(user: Principal, query: Query) -> dict[str, Any] | None:
    """``_counts`` from the rollups, when they can answer (``_kept``); None when they cannot.
    What the database says is kept (reports/cache.py); the groups are made of it afresh, so a
    school's new region or code shows at once."""
    kept = _kept(user, query)
    if kept is None:
        return None
    # Kept whole as well as by month: asked again, a consortium's report does not go through
    # its hundreds of thousands of (group, classroom) pairs again.
    # Shared by every request that finds it: read, never changed.
    split = query.by is not None and school_split(query.by)
    schools = cache.digest(_school_groups(query.by)) if split else None
    return kept.get(kept.key("counted", query.by, schools), partial(_counted_from, kept),
                    _counts_size)  # fmt: skip


COUNTS_PARTS = ("ratings", "walkthroughs", "trend", "months", "classrooms", "month_classrooms")


Parts = Sequence[tuple[int, int, int]]  # a month's (rubric version, school, stamp)


def _among(table: Any, parts: Parts) -> ColumnElement[bool]:
    """Exactly the (version, school) rows of a month's ``parts``: what is kept under their
    stamps holds them and no other school's, though a school's first walkthrough of the
    month may have been committed since the stamps were read."""
    return tuple_(table.rubric_version_id, table.school_id).in_([(v, s) for v, s, _ in parts])


def _counts_size(counts: dict[str, Any]) -> int:
    return cache.ROW_BYTES * sum(len(counts[part]) for part in COUNTS_PARTS)


def _counted_from(kept: _Kept) -> dict[str, Any]:
    """``_rollup_counts`` worked out: the scope's rows and each month's, kept apart."""
    query = kept.query
    scoped = kept.scoped

    model: type[RollupSchool] | type[RollupProfile] | type[RollupClassroom]
    where: InstrumentedAttribute[int] | InstrumentedAttribute[str]
    values: Callable[[int], tuple[Any, ...]] | Callable[[str], tuple[Any, ...]]
    if query.by is None or school_split(query.by):
        model, where = RollupSchool, RollupSchool.school_id
        values = _school_values(query.by)
    elif kept.visible is None and kept.chosen is None:
        model, where = RollupProfile, RollupProfile.profile
        values = _profile_values(query.by)
    else:
        # A classroom split of some schools (a leader's, or those named): rollup_profile has
        # no school, so their classrooms' rows, by profile — month by month, so that a push
        # reads its month again, not the year.
        model, where = RollupClassroom, RollupClassroom.profile
        values = _profile_values(query.by)
    room = RollupClassroom
    unit = case((room.classroom_id == 0, -room.school_id), else_=room.classroom_id)
    key_column = room.school_id if model is RollupSchool else room.profile
    visited = select().where(VISITS_ONLY, room.count > 0)

    connection = db.session.connection()

    def read(month: str | None = None, parts: Parts = ()) -> Sequence[Any]:
        statement = select(where, model.criterion_id, model.level, func.sum(model.count))
        if month is not None:
            statement = statement.where(model.month == month, _among(model, parts))
        return connection.execute(
            scoped(statement.group_by(where, model.criterion_id, model.level), model)
        ).all()

    def read_month(month: str, parts: Parts) -> tuple[Sequence[Any], Sequence[Any]]:
        # The month's ratings per look-for and level, and its (group key, classroom) pairs —
        # distinct classrooms per group, month and scope come from these.
        trend_rows = connection.execute(
            scoped(
                select(RollupSchool.criterion_id, RollupSchool.level,
                       func.sum(RollupSchool.count))
                .where(RollupSchool.month == month, _among(RollupSchool, parts))
                .group_by(RollupSchool.criterion_id, RollupSchool.level),
                RollupSchool,
            )
        ).all()  # fmt: skip
        pairs = connection.execute(
            scoped(visited.add_columns(key_column, unit)
                   .where(room.month == month, _among(room, parts)).distinct(), room)
        ).all()  # fmt: skip
        return trend_rows, pairs

    def rows_size(found: Sequence[Any]) -> int:
        return cache.ROW_BYTES * len(found)

    rows: Sequence[Any]
    if model is RollupClassroom:
        rows = []
        for month, parts in sorted(kept.by_month().items()):
            rows.extend(kept.month_get(("month rows", model.__tablename__), month, parts,
                                       partial(read, month, parts), rows_size))  # fmt: skip
    else:
        rows = kept.get(kept.key("counts", model.__tablename__), read, rows_size)
    by_month: list[tuple[Any, ...]] = []
    pairs: set[tuple[Any, int]] = set()
    month_classrooms: dict[str, int] = {}
    for month, parts in sorted(kept.by_month().items()):
        trend_rows, month_pairs = kept.month_get(
            ("month counts", model.__tablename__), month, parts,
            partial(read_month, month, parts),
            lambda found: cache.ROW_BYTES * (len(found[0]) + len(found[1])),
        )  # fmt: skip
        by_month.extend((month, *row) for row in trend_rows)
        pairs.update((key, int(found)) for key, found in month_pairs)
        month_classrooms[month] = len({int(found) for _, found in month_pairs})
    all_classrooms = len({found for _, found in pairs})
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
    trend: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    month_visits: dict[str, int] = defaultdict(int)
    for month, criterion_id, level, count in by_month:
        if criterion_id == VISITS:
            month_visits[month] += int(count)
        elif level != NOT_OBSERVED:
            cell = trend[(month, criterion_id)]
            cell[0] += int(count) if level >= query.at_least else 0
            cell[1] += int(count)
    classrooms: dict[str, set[int]] = defaultdict(set)
    for key, found in pairs:
        for raw in values(key):
            classrooms[_group_key(query.by, raw)].add(found)
    return {
        "ratings": [(*key, count) for key, count in ratings.items() if count],
        "walkthroughs": [(raw, count) for raw, count in walkthroughs.items() if count],
        "total": sum(month_visits.values()),
        "trend": [(m, c, hits, rated) for (m, c), (hits, rated) in trend.items()],
        "months": {m: n for m, n in month_visits.items() if n},
        "classrooms": {k: len(found) for k, found in classrooms.items()},
        "month_classrooms": {m: n for m, n in month_classrooms.items() if n},
        "all_classrooms": int(all_classrooms or 0),
    }


# ---- per-classroom totals, for the clustered intervals and tests (reports/uncertainty.py) -------


@dataclass
class Clustered:
    """What ``clustered`` finds: per raw group value, its cells (``totals.Cells``); per month,
    a ``MonthTotals``."""

    groups: dict[Any, Cells] = field(default_factory=dict)
    months: MonthTotals = field(default_factory=MonthTotals)
    # Whether the months' cells are those reports/cache.py keeps (and counts) on their own.
    months_shared: bool = False
    # The months' cells summed over the span (``whole``), once: kept with the rest, a report
    # asked again does not sum a consortium's millions of cells again.
    overall: Cells | None = None

    def whole(self) -> Cells:
        """Per classroom and look-for over every month (``MonthTotals.whole``)."""
        if self.overall is None:
            self.overall = self.months.whole()
        return self.overall

    def nbytes(self) -> int:
        """What it holds in memory, for reports/cache.py."""
        groups = sum(cells.nbytes() for cells in self.groups.values())
        overall = self.overall.nbytes() if self.overall is not None else 0
        return groups + overall + (0 if self.months_shared else self.months.nbytes())

    def group_rows(self) -> list[tuple[Any, Cluster, int, int, int]]:
        """(raw group value, cluster, look-for, hits, ratings), one per cell (for tests)."""
        return [(raw, *row) for raw, cells in self.groups.items() for row in cells.rows()]


def clustered(user: Principal, query: Query, groups: bool = True) -> Clustered:
    """Per classroom and look-for, ratings at the level or above and ratings given: by group
    (``groups``: per raw group value) and by month. From the rollups when they can answer (and
    then kept, reports/cache.py); across versions, folded onto the look-fors of the version
    shown (as ``revisions.fold_counts`` does for the counts)."""

    def folded(found: Clustered) -> Clustered:
        if not query.versions:
            return found
        months = found.months.folded(query.fold)
        return Clustered(
            {raw: cells.folded(query.fold) for raw, cells in found.groups.items()},
            months,
            found.months_shared and months is found.months,
        )

    kept = _kept(user, query)
    if kept is None:
        return folded(_clustered_direct(user, query, groups))
    # The groups a split's schools fall in are part of the key: a school's new region is
    # read at once. (A profile's groups never change: profiles are never edited.)
    schools = cache.digest(_school_groups(query.by)) if groups and school_split(query.by) else None
    key = kept.key("clustered", query.by if groups else None, schools,
                   tuple(sorted(query.fold.items())) if query.versions else None)  # fmt: skip

    def compute() -> Clustered:
        found = folded(_rollup_clustered(kept, groups))
        if groups:  # the summary's (a goal reads only the months)
            found.whole()  # summed before it is kept, so that its size is counted
        return found

    return kept.get(key, compute, Clustered.nbytes)


def _clustered_direct(user: Principal, query: Query, groups: bool) -> Clustered:
    """``clustered`` counted from the walkthroughs themselves."""
    assert query.at_least is not None  # parse_query (or the goal) sets it
    base = (
        select()
        .select_from(Observation)
        .join(Rating, Rating.observation_id == Observation.id)
        .where(Rating.level.is_not(None))
    )
    cluster = (Observation.school_id, func.coalesce(Observation.classroom_id, 0))
    hits = func.sum(case((Rating.level >= query.at_least, 1), else_=0))
    result: dict[str, list[tuple]] = {"groups": [], "months": []}
    keys: list[tuple[str, Select, Any]] = []
    if groups:
        keys.append(("groups", *_grouped(base, query.by)))
    keys.append(("months", base, clock.month_sql(Observation.observed_at, db.engine.dialect.name)))
    for name, statement, key in keys:
        statement = statement.add_columns(
            key, *cluster, Rating.criterion_id, hits, func.count()
        ).group_by(key, *cluster, Rating.criterion_id)
        result[name] = [
            (raw, (school, room), criterion, int(h or 0), int(n))
            for raw, school, room, criterion, h, n in db.session.execute(
                _filtered(statement, user, query)
            )
        ]
    found = Clustered(months=MonthTotals.from_rows(result["months"]))
    # Grouped by the profile of each visit for a classroom split: each profile's cells go to
    # every group it counts in, as _by_profile does for the counts.
    values: Callable[[Any], tuple[Any, ...]] = (
        (lambda raw: (raw,))
        if query.by is None or school_split(query.by)
        else _profile_values(query.by)
    )
    by_group: dict[Any, list[tuple[Cluster, int, int, int]]] = defaultdict(list)
    for key, at, criterion, h, n in result["groups"]:
        for raw in values(key):
            by_group[raw].append((at, criterion, h, n))
    found.groups = {raw: Cells.from_rows(rows) for raw, rows in by_group.items()}
    return found


def _rollup_clustered(kept: _Kept, groups: bool) -> Clustered:
    """``clustered`` from ``rollup_classroom`` (the rollups can answer: ``_kept``).

    Month by month, each school's month read once and kept (reports/cache.py) until its stamp
    changes: per profile, classroom and look-for, summed over levels. The months keep their
    cells as arrays; each group takes the cells of its schools or profiles, summed over the
    months with numpy."""
    query = kept.query
    model = RollupClassroom
    # A stale school-month is read as one range of the table's key, summed over levels: per
    # profile, classroom and look-for. Core, not the ORM: a district's year is a million rows.
    per_month = (
        select(
            model.rubric_version_id,
            model.school_id,
            model.classroom_id,
            model.criterion_id,
            cast(func.sum(case((model.level >= query.at_least, model.count), else_=0)),
                 BigInteger),
            cast(func.sum(model.count), BigInteger),
            model.profile,
        )
        .where(model.criterion_id != VISITS, model.level != NOT_OBSERVED)
        .group_by(
            model.rubric_version_id, model.school_id, model.profile, model.classroom_id,
            model.criterion_id,
        )
    )  # fmt: skip
    result = Clustered(months_shared=True)
    parts: list[tuple[np.ndarray, ...]] = []
    for month, stamps in sorted(kept.by_month().items()):
        # The month's cells over its schools are kept too (what a report by any split shares):
        # without groups, a month kept whole needs none of its schools' chunks.
        chunks = _month_chunks(kept, per_month, month, stamps) if groups else None
        month_cells = kept.month_get(
            ("month cells", query.at_least), month, stamps,
            partial(_month_cells, kept, per_month, month, stamps, chunks), Cells.nbytes,
        )  # fmt: skip
        if len(month_cells):
            result.months.add(month, month_cells)
        if chunks:
            parts.append(_chunk_columns(chunks))
    if groups and parts:
        columns = zip(*parts, strict=True)
        codes, profile, criterion, hits, rated = (np.concatenate(c) for c in columns)
        profile_index = {cache.profile_name(i): i for i in np.unique(profile).tolist()}
        result.groups = _split_cells(
            query.by, codes, profile, profile_index, criterion, hits, rated
        )
    return result


Chunks = list[tuple[int, cache.Chunk]]  # (school id, its month's chunk)


def _month_chunks(
    kept: _Kept, per_month: Select, month: str, stamps: list[tuple[int, int, int]]
) -> Chunks:
    """One month's non-empty chunks, each school's kept while its stamp holds; the stale ones
    read as one range of ``rollup_classroom``'s key."""
    model = RollupClassroom

    def read(stale: set[tuple[int, int]]) -> dict[tuple[int, int], cache.Chunk]:
        statement = per_month.where(
            model.month == month,
            model.rubric_version_id.in_({v for v, _ in stale}),
            model.school_id.in_({s for _, s in stale}),
        )
        return _read_chunks(db.session.connection(), statement, stale)

    found = kept.school_months(("month", kept.query.at_least), month, stamps, read,
                               cache.Chunk.nbytes)  # fmt: skip
    return [(school_id, chunk) for (_, school_id), chunk in sorted(found.items()) if len(chunk)]


def _month_cells(
    kept: _Kept,
    per_month: Select,
    month: str,
    stamps: list[tuple[int, int, int]],
    chunks: Chunks | None,
) -> Cells:
    """A month's cells over its schools, from its chunks (read if not given)."""
    if chunks is None:
        chunks = _month_chunks(kept, per_month, month, stamps)
    if not chunks:
        return Cells.empty()
    codes, _, criterion, hits, rated = _chunk_columns(chunks)
    return Cells(codes, criterion, hits, rated)


def _chunk_columns(chunks: Chunks) -> tuple[np.ndarray, ...]:
    """(school, chunk) pairs as columns: classroom codes, profile, look-for, hits, ratings."""
    school = np.concatenate([np.full(len(c), s, dtype=np.int64) for s, c in chunks])
    room, profile, criterion, hits, rated = (
        np.concatenate([getattr(c, name) for _, c in chunks])
        for name in ("room", "profile", "criterion", "hits", "rated")
    )
    return totals.code(school, room), profile, criterion, hits, rated


def _read_chunks(
    connection: Any, statement: Select, stale: set[tuple[int, int]]
) -> dict[tuple[int, int], cache.Chunk]:
    """The stale (version, school) parts of one month (empty where the statement found none)."""
    found = connection.execute(statement)
    # The driver's own rows: a million SQLAlchemy Row objects would cost more than the query
    # (every column a plain integer, cast so, but the profile).
    rows = found.cursor.fetchall()
    found.close()
    empty = np.zeros(0, dtype=np.int32)
    chunks = {key: cache.Chunk(empty, empty, empty, empty, empty) for key in stale}
    if not rows:
        return chunks
    cells = np.array([r[:6] for r in rows], dtype=np.int64)
    names = {r[6] for r in rows}
    ids = dict(zip(names, cache.profile_ids(names).tolist(), strict=True))
    profile = np.fromiter((ids[r[6]] for r in rows), dtype=np.int64, count=len(rows))
    whose = cells[:, 0] * (1 << 32) + cells[:, 1]
    keys, of = np.unique(whose, return_inverse=True)
    order = np.argsort(of.ravel(), kind="stable")
    bounds = np.searchsorted(of.ravel()[order], np.arange(len(keys) + 1))
    for i, key in enumerate(keys.tolist()):
        at = order[bounds[i] : bounds[i + 1]]
        part = cells[at]
        version_school = (key >> 32, key & 0xFFFFFFFF)
        if version_school not in stale:
            continue  # a school or version read only because another was stale
        chunks[version_school] = cache.Chunk(
            part[:, 2].astype(np.int32),
            part[:, 3].astype(np.int32),
            part[:, 4].astype(np.int32),
            part[:, 5].astype(np.int32),
            profile[at].astype(np.int32),
        )
    return chunks


def _split_cells(
    by: str | None,
    codes: np.ndarray,
    profile: np.ndarray,
    profile_index: dict[str, int],
    criterion: np.ndarray,
    hits: np.ndarray,
    rated: np.ndarray,
) -> dict[Any, Cells]:
    """Per raw group value, the cells of its schools (a school split) or of the classroom
    profiles at the visit that count in it (a classroom split), summed over the months."""
    if by is None or school_split(by):
        key = codes >> 32
        groups_of = _school_values(by)
        members: dict[Any, list[int]] = defaultdict(list)
        for school_id in np.unique(key).tolist():
            for raw in groups_of(school_id):
                members[raw].append(school_id)
    else:
        key = profile
        split = _profile_values(by)
        members = defaultdict(list)
        for name, i in profile_index.items():
            for raw in split(name):
                members[raw].append(i)
    found: dict[Any, Cells] = {}
    keys = np.unique(key)
    counted = Counter(i for ids in members.values() for i in ids)
    if len(counted) == len(keys) and all(n == 1 for n in counted.values()):
        # Each school or profile in one group (every split but programs): one sort of the
        # cells by group, then a slice each — not a pass over every cell per group.
        raws = list(members)
        group_of = {i: g for g, raw in enumerate(raws) for i in members[raw]}
        lookup = np.array([group_of[i] for i in keys.tolist()], dtype=np.int64)
        group = lookup[np.searchsorted(keys, key)]
        order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[order], np.arange(len(raws) + 1))
        for g, raw in enumerate(raws):
            at = order[bounds[g] : bounds[g + 1]]
            found[raw] = Cells(codes[at], criterion[at], hits[at], rated[at])
        return found
    for raw, ids in members.items():
        mask = np.isin(key, np.array(ids, dtype=np.int64))
        found[raw] = Cells(codes[mask], criterion[mask], hits[mask], rated[mask])
    return found


def uncertain(found: uncertainty.Estimate) -> dict[str, Any]:
    """The JSON of a clustered share: n, classrooms, share, standard error and interval."""
    return {
        "rated": found.ratings,
        "classrooms": found.classrooms,
        "share": round(found.share, 4) if found.share is not None else None,
        "se": round(found.se, 4) if found.se is not None else None,
        "interval": [round(found.interval[0], 4), round(found.interval[1], 4)]
        if found.interval
        else None,
    }


def _school_groups(by: str | None) -> tuple[tuple[int, tuple[Any, ...]], ...]:
    """Every school with the groups a split by a school attribute puts it in."""
    values = _school_values(by)
    return tuple((s, values(s)) for s in sorted(db.session.scalars(select(School.id))))


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


def _profile_values(by: str) -> Callable[[str | None], tuple[Any, ...]]:
    """A walkthrough's profile (its classroom's at the visit) → the groups it falls in."""
    return profiles.split_values(db.session(), by, WHOLE)


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

    def figures(
        self, at_least: int, values: list[int], found: uncertainty.Estimate | None = None
    ) -> dict[str, Any]:
        """Share at or above the level, with the interval ``found`` over its classrooms
        (reports/uncertainty.py): none under two classrooms."""
        rated = self.rated
        hits = self.at_least(at_least)
        found = found or uncertainty.from_moments(*totals.NO_MOMENTS)
        given = rated + self.not_observed
        return {
            "rated": rated,
            "classrooms": found.classrooms,
            "distribution": {str(v): self.levels.get(v, 0) for v in values},
            "share": round(hits / rated, 4) if rated else None,
            "se": round(found.se, 4) if rated and found.se is not None else None,
            "interval": [round(found.interval[0], 4), round(found.interval[1], 4)]
            if rated and found.interval
            else None,
            "not_observed_rate": round(self.not_observed / given, 4) if given else None,
        }


def _label(by: str | None, value: Any) -> str:
    if value == WHOLE:
        return str(WHOLE_SCHOOL)
    if value is None:
        return gettext("Not recorded") if by != "program" else gettext("No program")
    if by == "title_i":
        return gettext("Title I") if value else gettext("Not Title I")
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
    per_classroom = clustered(user, query) if not hidden else Clustered()
    # Per group, look-for and classroom.
    by_key: dict[str, list[Cells]] = defaultdict(list)
    for raw, cells in per_classroom.groups.items():
        by_key[_group_key(query.by, raw)].append(cells)
    group_clusters = {key: Cells.joined(parts) for key, parts in by_key.items()}
    # Over the whole scope from the months, not the groups: a classroom re-profiled during the
    # year is in two groups of a classroom split, each with part of its totals.
    overall_clusters = per_classroom.whole()
    overall_moments = overall_clusters.moments_by_criterion()

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
        # One classroom's ratings of several look-fors go together: the interval comes from
        # each classroom's totals over the pool, so they are never counted as independent.
        members = list(members)
        tally = Tally()
        for criterion in members:
            tally.merge(source.get(criterion.id, Tally()))
        found = overall_clusters.estimate([c.id for c in members])
        return tally.figures(at_least, values, found)

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
            "printed_note": str(suppression.PRINTED_NOTE),
        },
        "levels": [{"value": v, "label": labels.get(v, str(v))} for v in values],
        "observations": None if hidden else total,
        "suppressed": hidden,
    }
    if hidden:
        report["reason"] = why_hidden
        report["note"] = (
            gettext(
                "Fewer than %(n)s walkthroughs match: nothing is shown, so that no "
                "classroom can be singled out.",
                n=min_group,
            )
            if total < min_group
            else gettext(
                "The walkthroughs that match are in fewer than %(n)s classrooms: nothing is "
                "shown, so that no teacher can be singled out.",
                n=rules.min_classrooms,
            )
        )
        revisions.annotate(report, version, revisions.follow(version) if query.versions else None)
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
            **_cell(overall[c.id].figures(at_least, values, uncertainty.from_moments(
                *overall_moments.get(c.id, totals.NO_MOMENTS))), few.get(c.id)),
        }
        for c in criteria
    ]  # fmt: skip
    hidden_months = _hidden_months(user, query, counts, goal_series or [], rules)
    report["trend"] = _trend(counts, criteria, by_dimension, hidden_months)
    _trend_uncertainty(report["trend"], per_classroom.months, by_dimension)
    if query.by:
        report["groups"], few_cells = _groups(
            query, tallies, group_n, names, overall, criteria, by_dimension, values, rules,
            counts["classrooms"],
        )  # fmt: skip
        _group_uncertainty(
            report["groups"], group_clusters, overall_moments, criteria, by_dimension, rules,
            few_cells,
        )  # fmt: skip
        # "Adjusted for who observed": observer-adjusted comparisons (reports/raters.py).
        report["groups"]["adjustment"] = raters.adjust_groups(
            report["groups"], _observer_counts(user, query), version.id, at_least
        )
        # The scope adjusted the same way, for comparing an adjusted group with it (headline).
        whole = _observer_counts(user, Query(**{**query.__dict__, "by": None}))
        raters.adjust_scope(
            report["groups"], report["dimensions"], whole.get("all", {}), version.id, at_least
        )
    revisions.annotate(report, version, revisions.follow(version) if query.versions else None)
    return report


def _observer_counts(user: Principal, query: Query) -> dict[str, dict[int, int]]:
    """Per group of the split: walkthroughs per observer (what the adjustment weighs by).
    Counted per school (or classroom profile at the visit) and observer; from the rollups'
    scope, each school-month's count is kept (reports/cache.py) while its stamp holds — every
    change to a counted walkthrough stamps its school-month — and the groups are made of
    them afresh."""
    school_wise = query.by is None or school_split(query.by)
    unit = Observation.school_id if school_wise else func.coalesce(Observation.profile, "")
    kept = _kept(user, query)
    if kept is None:
        statement = (
            select(unit, Observation.author_id, func.count(Observation.id))
            .select_from(Observation)
            .group_by(unit, Observation.author_id)
        )
        return _by_observer(query.by, db.session.execute(_filtered(statement, user, query)))
    schools = cache.digest(_school_groups(query.by)) if school_wise else None

    def summed() -> dict[str, dict[int, int]]:
        # Each month's counts are kept per group (a few groups by observers), so a push costs
        # one month's sum again, not every month's per school or profile.
        counts: dict[str, dict[int, int]] = defaultdict(dict)
        for month, parts in kept.by_month().items():
            month_counts = kept.month_get(
                ("observers by group", str(unit), query.by, schools), month, parts,
                partial(_observer_month_groups, kept, unit, query.by, month, parts),
                lambda found: cache.ROW_BYTES * sum(map(len, found.values())),
            )  # fmt: skip
            for key, authors in month_counts.items():
                mine = counts[key]
                for author_id, n in authors.items():
                    mine[author_id] = mine.get(author_id, 0) + n
        return counts

    kept_counts = kept.get(
        kept.key("observers", query.by, schools),
        summed,
        lambda found: cache.ROW_BYTES * sum(map(len, found.values())),
    )
    # A copy: what is kept is shared by every request of this process.
    return defaultdict(dict, {key: dict(authors) for key, authors in kept_counts.items()})


def _observer_month_groups(
    kept: _Kept, unit: Any, by: str | None, month: str, parts: list[tuple[int, int, int]]
) -> dict[str, dict[int, int]]:
    found = _observer_month(kept, unit, month, parts)
    return _by_observer(by, ((where, author_id, n) for (where, author_id), n in found.items()))


def _by_observer(by: str | None, rows: Iterable[Any]) -> dict[str, dict[int, int]]:
    """(school or profile, observer, walkthroughs) rows summed into the split's groups."""
    values: Callable[[Any], tuple[Any, ...]] = (
        _school_values(by) if by is None or school_split(by) else _profile_values(by)
    )
    keys: dict[Any, list[str]] = {}  # per school or profile, its groups' keys (asked once)
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for raw_unit, author_id, n in rows:
        found = keys.get(raw_unit)
        if found is None:
            found = keys[raw_unit] = [_group_key(by, raw) for raw in values(raw_unit)]
        for key in found:
            mine = counts[key]
            mine[author_id] = mine.get(author_id, 0) + n
    return counts


def _observer_month(
    kept: _Kept, unit: Any, month: str, parts: list[tuple[int, int, int]]
) -> Counter[tuple[Any, int]]:
    """One month's walkthroughs per (school or profile, observer), from its schools' counts:
    kept ones from memory, stale ones counted (one query for all of them)."""

    def read(stale: set[tuple[int, int]]) -> dict[tuple[int, int], list[Any]]:
        # The month's bounds in the district's time zone, as the rollups count months.
        start = date.fromisoformat(f"{month}-01")
        after = (start + timedelta(days=32)).replace(day=1)
        columns = (Observation.rubric_version_id, Observation.school_id, unit,
                   Observation.author_id)  # fmt: skip
        counting = (
            select(*columns, func.count(Observation.id))
            .where(
                *_counted(),
                tuple_(Observation.rubric_version_id, Observation.school_id).in_(sorted(stale)),
                Observation.observed_at >= clock.day_start(start),
                Observation.observed_at < clock.day_start(after),
            )
            .group_by(*columns)
        )
        per_part: dict[tuple[int, int], list[Any]] = {part: [] for part in stale}
        for version_id, school_id, where, author_id, n in db.session.execute(counting):
            per_part[(version_id, school_id)].append(((where, author_id), int(n)))
        return per_part

    found: Counter[tuple[Any, int]] = Counter()
    for rows in kept.school_months(
        ("observers", str(unit)), month, parts, read, lambda rows: cache.ROW_BYTES * len(rows)
    ).values():
        for key, n in rows:
            found[key] += n
    return found


def _cell(figures: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """A cell's figures, or only its n when it is hidden (and why)."""
    if reason is None:
        return {**figures, "suppressed": None}
    return {**figures, "distribution": None, "share": None, "se": None, "interval": None,
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


def school_months(
    version_sets: Iterable[frozenset[int]],
) -> dict[tuple[frozenset[int], str, int], tuple[int, int]]:
    """Walkthroughs and distinct classrooms per (set of rubric versions, month, school), from
    the rollups (rollup_classroom's walkthrough counts): what nested scopes' month figures are
    made of."""
    _ensure_rollups()
    room = RollupClassroom
    unit = case((room.classroom_id == 0, -room.school_id), else_=room.classroom_id)
    found: dict[tuple[frozenset[int], str, int], tuple[int, int]] = {}
    for versions in set(version_sets):
        rows = db.session.execute(
            select(room.month, room.school_id, func.sum(room.count))
            .add_columns(func.count(func.distinct(unit)))
            .where(
                room.rubric_version_id.in_(sorted(versions)),
                VISITS_ONLY,
                room.count > 0,
            )
            .group_by(room.month, room.school_id)
        ).all()
        for month, school_id, n, units in rows:
            found[(versions, month, school_id)] = (int(n), int(units))
    return found


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
        versions=frozenset(query.version_ids),
        months=dict(counts["months"]),
        classrooms=dict(counts["month_classrooms"]),
        hidden={},
        total_shown=True,
        partial=partial_months(query.start, query.end, counts["months"])
        if not query.observer_ids
        else frozenset(counts["months"]),
        window=None if query.observer_ids else (query.start, query.end),
    )
    versions = {trend.versions, *(one.versions for one in goal_series)}
    per_school = school_months(versions) if goal_series else {}
    consistent([trend, *goal_series], per_school, rules)
    return trend.hidden


def partial_months(start: date | None, end: date | None, months: Iterable[str]) -> frozenset[str]:
    """Of ``months``, those a period from ``start`` to ``end`` (both included) covers only in
    part: their figures are not whole months, so they are not compared with other scopes'."""
    partial = set()
    if start and start.day != 1:
        partial.add(start.strftime("%Y-%m"))
    if end and (end + timedelta(days=1)).day != 1:
        partial.add(end.strftime("%Y-%m"))
    return frozenset(m for m in months if m in partial)


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
        return str(ATTRIBUTES[by])
    kind, _colon, name = by.partition(":")
    if kind == "school":
        return gettext("School %(attribute)s", attribute=name.replace("_", " "))
    if kind == "classroom":
        return gettext("Classroom %(attribute)s", attribute=name.replace("_", " "))
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
) -> tuple[dict[str, Any], dict[int, dict[str, str]]]:
    """The split's rows, and per look-for the cells of shown groups that show only their n
    (with why): cells on too few ratings, and cover so that the overall figure minus the shown
    cells gives none of them away."""
    at_least = query.at_least
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
    shown_keys = [k for k in keys if k not in hidden]
    few: dict[int, dict[str, str]] = {}
    for c in criteria:
        rated = {k: tallies[k].get(c.id, Tally()).rated for k in shown_keys}
        remainder = overall.get(c.id, Tally()).rated - sum(rated.values())
        few[c.id] = hide_cells(
            rated, rules, hidden_parts=[remainder] if query.by != "program" else []
        )

    rows: list[dict[str, Any]] = []
    for key in keys:
        if key in hidden:
            rows.append({"key": key, "label": names[key], "suppressed": True,
                         "reason": hidden[key]})  # fmt: skip
            continue
        n = group_n[key]
        row: dict[str, Any] = {"key": key, "label": names[key], "suppressed": False,
                               "observations": n, "criteria": {}, "dimensions": {}}  # fmt: skip
        # Intervals and gap flags are added by _group_uncertainty, from each classroom's totals.
        for c in criteria:
            row["criteria"][c.key] = _cell(
                tallies[key].get(c.id, Tally()).figures(at_least, values), few[c.id].get(key)
            )
        for dimension, members in by_dimension.items():
            if members:
                tally = Tally()
                for c in members:
                    tally.merge(tallies[key].get(c.id, Tally()))
                held = sum(
                    tallies[key].get(c.id, Tally()).rated for c in members if key in few[c.id]
                )
                row["dimensions"][dimension] = _cell(
                    tally.figures(at_least, values),
                    suppression.COVER if 0 < held < rules.min_cell else None,
                )
        rows.append(row)
    notes = [note(hidden, "group")]
    cells = sum(len(r) for r in few.values())
    if cells:
        notes.append(
            ngettext(
                "%(num)d look-for cell shows only its number of ratings: fewer than %(min)s, "
                "or hidden so that a smaller one cannot be worked out.",
                "%(num)d look-for cells show only their number of ratings: fewer than %(min)s, "
                "or hidden so that a smaller one cannot be worked out.",
                cells,
                min=rules.min_cell,
            )
        )
    return {"by": query.by, "label": by_label(query.by), "rows": rows,
            "note": " ".join(n for n in notes if n) or None, "tests": 0}, few  # fmt: skip


def _trend_uncertainty(
    rows: list[dict[str, Any]], months: MonthTotals, by_dimension: dict[str, list[Criterion]]
) -> None:
    """Each shown month's share with its n, classrooms and clustered interval, overall and per
    dimension (``dimension_figures``)."""
    for row in rows:
        if row["suppressed"]:
            continue
        row.update(uncertain(months.estimate(row["month"])))
        row["dimension_figures"] = {
            dimension: uncertain(months.estimate(row["month"], [c.id for c in members]))
            for dimension, members in by_dimension.items()
            if members
        }


def _group_uncertainty(
    groups: dict[str, Any],
    clusters: dict[str, Cells],
    whole: dict[int, totals.Moments],
    criteria: list[Criterion],
    by_dimension: dict[str, list[Criterion]],
    rules: Rules,
    few: dict[int, dict[str, str]],
) -> None:
    """Each shown group's intervals over its classrooms, and its gaps tested against the rest of
    the scope with the clustered (Welch-type) test, Benjamini-Hochberg across all of them. A
    cell that shows only its n (``few``) gets neither, nor does a dimension hiding one."""
    min_group = rules.min_group
    tests: list[tuple[dict[str, Any], float, str]] = []
    for row in groups["rows"]:
        if row["suppressed"]:
            continue
        mine = clusters.get(row["key"]) or Cells.empty()
        parts = mine.moments_by_criterion()
        for c in criteria:
            cell = row["criteria"][c.key]
            if cell["suppressed"]:
                cell.update(gap=None, classrooms=None)
                continue
            part = parts.get(c.id, totals.NO_MOMENTS)
            group = uncertainty.from_moments(*part)
            rest = uncertainty.from_moments(
                *uncertainty.minus(whole.get(c.id, totals.NO_MOMENTS), part)
            )
            cell.update(uncertain(group))
            cell["gap"] = None
            p = uncertainty.gap_p(group, rest)
            if p is not None and group.ratings >= min_group and rest.ratings >= min_group:
                assert group.share is not None and rest.share is not None
                tests.append((cell, p, "above" if group.share > rest.share else "below"))
                # What the test compares with, for the sentence that cites it (review minor
                # c); the look-for's shown figure less this shown cell, so nothing new.
                cell["rest_share"] = round(rest.share, 4)
        for dimension, members in by_dimension.items():
            if members:
                found = mine.estimate([c.id for c in members])
                figures = row["dimensions"][dimension]
                if figures["suppressed"]:
                    figures["classrooms"] = None
                    continue
                figures["classrooms"] = found.classrooms
                figures["se"] = uncertain(found)["se"]
                figures["interval"] = uncertain(found)["interval"]
    flags = benjamini_hochberg([p for _, p, _ in tests]) if tests else []
    for (cell, _, direction), flagged in zip(tests, flags, strict=True):
        cell["gap"] = direction if flagged else None
    groups["tests"] = len(tests)
