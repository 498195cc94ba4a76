"""Keeping the rollups current (see observe/reports/models.py) and reading them.

Writers do not call this module: they send hooks (``observe.core.hooks``) as a walkthrough
starts to count, stops or changes, and the listeners at the bottom note its contribution with
:func:`add`; the sums reach the tables as upserts just before the session commits, so a
rolled-back request (or savepoint, see ``core.database.savepoint``) changes nothing. Until the
rollups are first built (the first summary report builds them), nothing is noted: the build
counts everything anyway.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import Any

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
    RollupStamp,
    RollupState,
)
from observe.roster import profiles
from observe.roster.models import Classroom

_PENDING = pending_buffer("observe.rollup_deltas")
# Pending deltas are kept per walkthrough kind — rubric version, month, school, classroom
# profile, classroom (0: none) — as a count per (look-for, level): a batch of alike walkthroughs
# adds to one counter, and each table's rows are summed from the counters only at commit.
Group = tuple[int, str, int, str, int]
Rollup = type[RollupSchool] | type[RollupProfile] | type[RollupClassroom]
TABLES: dict[str, Rollup] = {
    "school": RollupSchool,
    "profile": RollupProfile,
    "classroom": RollupClassroom,
}


def profile_of(classroom: Classroom) -> str:
    """One key for what reports split classrooms by: alike classrooms share it
    (observe/roster/profiles.py, which keeps every profile ever seen)."""
    return profiles.profile_of(classroom)


def refresh_profiles(session: AnySession) -> bool:
    """Work out every classroom's current profile afresh (observe/roster/profiles.py, which
    also does it after every roster import); whether a classroom that had one changed. The
    rollups do not follow it: walkthroughs keep the profile of their visit."""
    return profiles.refresh(session)


def is_built(session: AnySession) -> bool:
    """Whether the rollups are built, in the months of the district's time zone as it is set
    (its name and rules: see clock.rules)."""
    return _current(session.get(RollupState, 1))


def _current(state: RollupState | None) -> bool:
    """Built in this zone's months, by a build that stamps its school-months (one before the
    stamps existed drew no token: reports could not tell what changed, so it counts afresh)."""
    return state is not None and state.timezone == clock.rules() and bool(state.token)


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
    group = (version_id, clock.month_of(observed_at), school_id, profile_key, classroom_id or 0)
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
        built = _current(state)
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
    for (version_id, month, school_id, profile_key, classroom_id), cells in deltas.items():
        for (criterion_id, level), delta in cells.items():
            if delta:
                sums["school"][(version_id, month, school_id, criterion_id, level)] += delta
                sums["profile"][(version_id, month, profile_key, criterion_id, level)] += delta
                sums["classroom"][
                    (version_id, month, school_id, profile_key, classroom_id, criterion_id, level)
                ] += delta
    connection = session.connection()
    for key, model in TABLES.items():
        rows = [(*cells, n) for cells, n in sorted(sums[key].items()) if n]
        columns = ("rubric_version_id", "month", *_WHERE[key], "criterion_id", "level", "count")
        executemany_plain(connection, _upsert(connection.dialect.name, model), columns, rows)
    # Every school-month a walkthrough left or reached, even where its counts net to nothing
    # (two walkthroughs swapping classrooms): what reports keep of it may rest on more.
    stamp(session, {(version_id, month, school_id) for version_id, month, school_id, *_ in deltas})


# Where a session keeps the stamps its open transaction read (reports/summary.py, _kept): the
# several parts of one report read them once.
STAMPS_READ = "observe.stamps_read"


def stamp(session: AnySession, changed: Iterable[tuple[int, str, int]]) -> None:
    """Note that these (rubric version, month, school) rollups changed (``RollupStamp``): what
    a report keeps of them in memory is read afresh. In key order, as the rollups are."""
    session.info.pop(STAMPS_READ, None)  # what this transaction read of them is past
    connection = session.connection()
    rows = [(*key, 1) for key in sorted(set(changed))]
    columns = ("rubric_version_id", "month", "school_id", "serial")
    executemany_plain(connection, _upsert(connection.dialect.name, RollupStamp, "serial"),
                      columns, rows)  # fmt: skip


_WHERE = {"school": ("school_id",), "profile": ("profile",),
          "classroom": ("school_id", "profile", "classroom_id")}  # fmt: skip


@cache
def _upsert(dialect: str, model: Rollup | type[RollupStamp], column: str = "count") -> Insert:
    """Add to a row's ``column`` (a rollup's count, a stamp's serial), or create the row. One
    statement object per database kind and table, so its SQL is compiled once."""
    table = model.__table__
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key],
        set_={column: table.c[column] + statement.excluded[column]},
    )


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop("observe.rollups_built", None)


def rebuild(session: AnySession, progress: Callable[[], None] | None = None) -> None:
    """Count everything afresh: the first time, or after a restore. ``progress`` is called
    as each of the ``len(TABLES) + 1`` steps (a table each, then the stamps) is done."""
    _lock(session, shared=False)
    refresh_profiles(session)
    session.flush()
    session.execute(delete(RollupSchool))
    session.execute(delete(RollupProfile))
    session.execute(delete(RollupClassroom))
    session.execute(delete(RollupStamp))
    month = clock.month_sql(Observation.observed_at, session.get_bind().dialect.name)
    counted = [
        Observation.state == ObservationState.SUBMITTED,
        Observation.deleted_at.is_(None),
        Observation.calibration_session_id.is_(None),
    ]
    level = case((Rating.not_observed, NOT_OBSERVED), else_=Rating.level)
    # Each walkthrough under the profile its classroom had at the visit.
    where_profile = func.coalesce(Observation.profile, "")
    where_classroom = func.coalesce(Observation.classroom_id, 0)
    keys: tuple[tuple[Rollup, tuple[Any, ...]], ...] = (
        (RollupSchool, (Observation.school_id,)),
        (RollupProfile, (where_profile,)),
        (RollupClassroom, (Observation.school_id, where_profile, where_classroom)),
    )
    for model, where in keys:
        column = {RollupSchool: ("school_id",), RollupProfile: ("profile",)}.get(
            model, ("school_id", "profile", "classroom_id")
        )
        names = ["rubric_version_id", "month", *column, "criterion_id", "level", "count"]
        ratings = (
            select(
                Observation.rubric_version_id,
                month,
                *where,
                Rating.criterion_id,
                level,
                func.count(),
            )
            .select_from(Observation)
            .join(Rating, Rating.observation_id == Observation.id)
            .where(*counted, (Rating.level.is_not(None)) | Rating.not_observed)
            .group_by(Observation.rubric_version_id, month, *where, Rating.criterion_id, level)
            # Stored in the order of the table's key: a report reads a month's rows as one
            # range of it, which then lies on neighbouring pages, not scattered over the table
            # (on PostgreSQL a month of rollup_classroom read 7x faster so).
            .order_by(Observation.rubric_version_id, month, *where, Rating.criterion_id, level)
        )
        visits = (
            select(
                Observation.rubric_version_id,
                month,
                *where,
                literal(VISITS),
                literal(0),
                func.count(),
            )
            .select_from(Observation)
            .where(*counted)
            .group_by(Observation.rubric_version_id, month, *where)
        )
        session.execute(insert(model).from_select(names, ratings))
        session.execute(insert(model).from_select(names, visits))
        if progress:
            progress()
    # Every (version, month, school) with walkthroughs starts at 0; writes add from there.
    session.execute(
        insert(RollupStamp).from_select(
            ["rubric_version_id", "month", "school_id", "serial"],
            select(
                RollupSchool.rubric_version_id, RollupSchool.month, RollupSchool.school_id,
                literal(0),
            ).where(RollupSchool.criterion_id == VISITS),
        )
    )  # fmt: skip
    if progress:
        progress()
    state = session.get(RollupState, 1) or RollupState(id=1)
    state.built_at, state.timezone = utcnow(), clock.rules()
    state.token = secrets.token_hex(16)
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
        fact.profile,
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
            new.profile,
            new.classroom_id,
            new.ratings,
            +1,
        )


def _note(
    session: AnySession,
    version_id: int,
    observed_at: datetime,
    school_id: int,
    profile_key: str,
    classroom_id: int | None,
    ratings: list[tuple[int, int | None, bool]],
    sign: int,
) -> None:
    """:func:`add`, under the profile the walkthrough's classroom had at the visit."""
    add(
        session,
        version_id=version_id,
        observed_at=observed_at,
        school_id=school_id,
        profile_key=profile_key,
        ratings=ratings,
        sign=sign,
        classroom_id=classroom_id,
    )


@hooks.database_restored.connect
def _restored(session: AnySession, fact: hooks.Nothing) -> None:
    """The rollups are never archived: a restored database counts them afresh."""
    rebuild(session)
