"""Keeping the rollups current (see observe/reports/models.py) and reading them.

Writers do not call this module: they send hooks (``observe.core.hooks``) as a walkthrough
starts to count, stops or changes, and the listeners at the bottom note its contribution with
:func:`add`; the sums reach the tables as upserts just before the session commits, so a
rolled-back request (or savepoint, see ``core.database.savepoint``) changes nothing. Until the
rollups are first built (the first summary report builds them), nothing is noted: the build
counts everything anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from sqlalchemy import Insert, case, delete, event, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from observe.core import clock, hooks
from observe.core.database import AnySession, executemany_plain, pending_buffer
from observe.core.models import utcnow
from observe.observations.models import Observation, ObservationState, Rating
from observe.reports.models import (
    NOT_OBSERVED,
    VISITS,
    RollupClassroom,
    RollupProfile,
    RollupSchool,
    RollupState,
)
from observe.roster.models import Classroom

_PENDING = pending_buffer("observe.rollup_deltas")
# Pending deltas are kept per walkthrough kind — rubric version, month, school, classroom
# profile, classroom (minus the school's id for a whole-school visit) — as a count per
# (look-for, level): a batch of alike walkthroughs adds to one counter, and each table's rows
# are summed from the counters only at commit.
Group = tuple[int, str, int, str, int]
TABLES = {"school": RollupSchool, "profile": RollupProfile}


def profile_of(classroom: Classroom) -> str:
    """One key for what reports split classrooms by: alike classrooms share it."""
    facts = {
        "grade": classroom.grade,
        "subject": classroom.subject,
        "course_level": classroom.course_level,
        "programs": sorted(p.program for p in classroom.programs),
        "attributes": sorted((a.name, a.value) for a in classroom.attributes),
    }
    text = json.dumps(facts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def profile(classroom: Classroom | None) -> str:
    """A classroom's profile, worked out and kept the first time it is needed."""
    if classroom is None:
        return ""
    if classroom.profile is None:
        classroom.profile = profile_of(classroom)
    return classroom.profile


def refresh_profiles(session: AnySession) -> bool:
    """Work out every classroom's profile afresh; whether a classroom that had one changed."""
    changed = False
    for classroom in session.scalars(select(Classroom)):
        key = profile_of(classroom)
        if classroom.profile != key:
            changed = changed or classroom.profile is not None
            classroom.profile = key
    return changed


def is_built(session: AnySession) -> bool:
    """Whether the rollups are built, in the months of the district's time zone as it is set
    (its name and rules: see clock.rules)."""
    state = session.get(RollupState, 1)
    return state is not None and state.timezone == clock.rules()


def add(
    session: AnySession,
    *,
    version_id: int,
    observed_at: datetime,
    school_id: int,
    profile_key: str,
    ratings: Iterable[tuple[int, int | None, bool]],
    sign: int = 1,
    classroom_id: int | None = None,
) -> None:
    """Note one walkthrough's contribution (``sign`` -1 to take it back)."""
    if not kept(session):
        return
    deltas: dict[Group, Counter] = session.info.setdefault(_PENDING, {})
    group = (version_id, clock.month_of(observed_at), school_id, profile_key,
             unit(classroom_id, school_id))  # fmt: skip
    counter = deltas.get(group)
    if counter is None:
        counter = deltas[group] = Counter()
    cells = [(VISITS, 0)]
    for criterion_id, level, not_observed in ratings:
        if not_observed:
            cells.append((criterion_id, NOT_OBSERVED))
        elif level is not None:
            cells.append((criterion_id, level))
    if sign > 0:
        counter.update(cells)
    else:
        counter.subtract(cells)


def unit(classroom_id: int | None, school_id: int) -> int:
    """What ``rollup_classroom`` counts a walkthrough under: its classroom, or for a
    whole-school visit its school (as minus the school's id)."""
    return classroom_id if classroom_id is not None else -school_id


# PostgreSQL advisory lock: writers hold it shared for their transaction once they have asked
# whether rollups exist; a build holds it alone. So no walkthrough commits uncounted between a
# build's count and its commit, and two builds never run at once. (SQLite writes one at a time.)
_LOCK = 7_245_011


def _lock(session: AnySession, shared: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        name = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(select(getattr(func, name)(_LOCK)))


def kept(session: AnySession) -> bool:
    """Whether there are rollups to keep current; asked of the database once a transaction."""
    key = "observe.rollups_built"
    if key not in session.info:
        _lock(session, shared=True)
        state = session.get(RollupState, 1)
        built = state is not None and state.timezone == clock.rules()
        if state is not None and not built:
            # Counted in other months than this process's (its OBSERVE_TIMEZONE differs, or
            # the zone's rules changed): it cannot keep them true, so no report may read them
            # until one counts afresh.
            session.delete(state)
            session.flush()
        session.info[key] = built
    return session.info[key]


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    deltas: dict[Group, Counter] = session.info.pop(_PENDING, None) or {}
    if not deltas:
        return
    # Per table, summed over the groups that share its key (a school's classroom profiles; a
    # profile's schools), in key order: two requests touching the same rows lock them alike.
    sums: dict[str, defaultdict[tuple, int]] = {key: defaultdict(int) for key in TABLES}
    visits: defaultdict[tuple, int] = defaultdict(int)
    for (version_id, month, school_id, profile_key, classroom), cells in deltas.items():
        for (criterion_id, level), delta in cells.items():
            if delta:
                sums["school"][(version_id, month, school_id, criterion_id, level)] += delta
                sums["profile"][(version_id, month, profile_key, criterion_id, level)] += delta
        if cells[(VISITS, 0)]:
            visits[(version_id, month, classroom, school_id, profile_key)] += cells[(VISITS, 0)]
    connection = session.connection()
    for key, model in TABLES.items():
        rows = [(*cells, n) for cells, n in sorted(sums[key].items()) if n]
        columns = ("rubric_version_id", "month", _WHERE[key], "criterion_id", "level", "count")
        executemany_plain(connection, _upsert(connection.dialect.name, model), columns, rows)
    rows = [(*cells, n) for cells, n in sorted(visits.items()) if n]
    columns = ("rubric_version_id", "month", "classroom", "school_id", "profile", "count")
    executemany_plain(connection, _upsert(connection.dialect.name, RollupClassroom), columns, rows)


_WHERE = {"school": "school_id", "profile": "profile"}


@cache
def _upsert(
    dialect: str, model: type[RollupSchool] | type[RollupProfile] | type[RollupClassroom]
) -> Insert:
    """Add to a rollup row's count, or create the row. One statement object per database kind
    and table, so its SQL is compiled once."""
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(model.__table__)
    return statement.on_conflict_do_update(
        index_elements=[c.name for c in model.__table__.primary_key],
        set_={"count": model.__table__.c.count + statement.excluded["count"]},
    )


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop("observe.rollups_built", None)


def rebuild(session: AnySession) -> None:
    """Count everything afresh: after a roster import changed profiles, or the first time."""
    _lock(session, shared=False)
    refresh_profiles(session)
    session.flush()
    session.execute(delete(RollupSchool))
    session.execute(delete(RollupProfile))
    session.execute(delete(RollupClassroom))
    month = clock.month_sql(Observation.observed_at, session.get_bind().dialect.name)
    counted = [
        Observation.state == ObservationState.SUBMITTED,
        Observation.deleted_at.is_(None),
        Observation.calibration_session_id.is_(None),
    ]
    level = case((Rating.not_observed, NOT_OBSERVED), else_=Rating.level)
    where_profile = func.coalesce(Classroom.profile, "")
    for model, where, joined in (
        (RollupSchool, Observation.school_id, False),
        (RollupProfile, where_profile, True),
    ):
        column = "school_id" if model is RollupSchool else "profile"
        names = ["rubric_version_id", "month", column, "criterion_id", "level", "count"]
        ratings = (
            select(
                Observation.rubric_version_id,
                month,
                where,
                Rating.criterion_id,
                level,
                func.count(),
            )
            .select_from(Observation)
            .join(Rating, Rating.observation_id == Observation.id)
            .where(*counted, (Rating.level.is_not(None)) | Rating.not_observed)
            .group_by(Observation.rubric_version_id, month, where, Rating.criterion_id, level)
        )
        visits = (
            select(
                Observation.rubric_version_id,
                month,
                where,
                literal(VISITS),
                literal(0),
                func.count(),
            )
            .select_from(Observation)
            .where(*counted)
            .group_by(Observation.rubric_version_id, month, where)
        )
        if joined:
            ratings = ratings.outerjoin(Classroom, Classroom.id == Observation.classroom_id)
            visits = visits.outerjoin(Classroom, Classroom.id == Observation.classroom_id)
        session.execute(insert(model).from_select(names, ratings))
        session.execute(insert(model).from_select(names, visits))
    unit_sql = func.coalesce(Observation.classroom_id, -Observation.school_id)
    per_classroom = (
        select(
            Observation.rubric_version_id,
            month,
            unit_sql,
            Observation.school_id,
            where_profile,
            func.count(),
        )
        .select_from(Observation)
        .outerjoin(Classroom, Classroom.id == Observation.classroom_id)
        .where(*counted)
        .group_by(
            Observation.rubric_version_id, month, unit_sql, Observation.school_id, where_profile
        )
    )
    names = ["rubric_version_id", "month", "classroom", "school_id", "profile", "count"]
    session.execute(insert(RollupClassroom).from_select(names, per_classroom))
    state = session.get(RollupState, 1) or RollupState(id=1)
    state.built_at, state.timezone = utcnow(), clock.rules()
    session.add(state)
    session.info.pop(_PENDING, None)
    session.info["observe.rollups_built"] = True
    session.flush()


# ---- what the rollups hear -------------------------------------------------------------------


@hooks.walkthrough_counted.connect
def _counted(session: AnySession, fact: hooks.WalkthroughCounted) -> None:
    """A stored walkthrough's contribution, its ratings as they are in the database."""
    if not fact.counts or not kept(session):
        return
    ratings = session.execute(
        select(Rating.criterion_id, Rating.level, Rating.not_observed).where(
            Rating.observation_id == fact.observation_id
        )
    ).all()
    _note(
        session,
        fact.rubric_version_id,
        fact.observed_at,
        fact.school_id,
        fact.classroom_id,
        [(row[0], row[1], row[2]) for row in ratings],
        fact.sign,
    )


@hooks.walkthroughs_added.connect
def _added(session: AnySession, walkthroughs: list[hooks.NewWalkthrough]) -> None:
    if not walkthroughs or not kept(session):
        return
    for new in walkthroughs:
        _note(
            session,
            new.rubric_version_id,
            new.observed_at,
            new.school_id,
            new.classroom_id,
            new.ratings,
            +1,
        )


def _note(
    session: AnySession,
    version_id: int,
    observed_at: datetime,
    school_id: int,
    classroom_id: int | None,
    ratings: list[tuple[int, int | None, bool]],
    sign: int,
) -> None:
    """:func:`add`, the classroom's profile found from its id (loaded already, in a push)."""
    classroom = session.get(Classroom, classroom_id) if classroom_id else None
    add(
        session,
        version_id=version_id,
        observed_at=observed_at,
        school_id=school_id,
        profile_key=profile(classroom),
        ratings=ratings,
        sign=sign,
        classroom_id=classroom_id,
    )


@hooks.classrooms_changed.connect
def _classrooms_changed(session: AnySession, fact: hooks.Nothing) -> None:
    """Reports split classrooms by their attributes, which a roster import may change: once the
    rollups exist, they are counted afresh when a classroom's profile changed."""
    if is_built(session) and refresh_profiles(session):
        rebuild(session)


@hooks.database_restored.connect
def _restored(session: AnySession, fact: hooks.Nothing) -> None:
    """The rollups are never archived: a restored database counts them afresh."""
    rebuild(session)
