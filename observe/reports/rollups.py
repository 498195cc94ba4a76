"""Keeping the rollups current (see observe/reports/models.py) and reading them.

Writers note a walkthrough's contribution — plus when it starts to count, minus when it stops
or changes — with :func:`add`; the sums reach the tables as upserts just before the session
commits, so a rolled-back request changes nothing. Until the rollups are first built (the
first summary report builds them), nothing is noted: the build counts everything anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, delete, event, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from observe.core.models import utcnow
from observe.observations.models import Observation, ObservationState, Rating
from observe.reports.models import NOT_OBSERVED, VISITS, RollupProfile, RollupSchool, RollupState
from observe.roster.models import Classroom

_PENDING = "observe.rollup_deltas"
Key = tuple[
    str, int, str, Any, int, int
]  # table, version, month, school or profile, look-for, level


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


def refresh_profiles(session: Session) -> bool:
    """Work out every classroom's profile afresh; whether a classroom that had one changed."""
    changed = False
    for classroom in session.scalars(select(Classroom)):
        key = profile_of(classroom)
        if classroom.profile != key:
            changed = changed or classroom.profile is not None
            classroom.profile = key
    return changed


def is_built(session: Session) -> bool:
    return session.get(RollupState, 1) is not None


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def counts(observation: Observation) -> bool:
    """Whether a walkthrough counts in reports (and so in the rollups)."""
    return (
        observation.state is ObservationState.SUBMITTED
        and observation.deleted_at is None
        and observation.calibration_session_id is None
    )


def add(
    session: Session,
    *,
    version_id: int,
    observed_at: datetime,
    school_id: int,
    profile_key: str,
    ratings: Iterable[tuple[int, int | None, bool]],
    sign: int = 1,
) -> None:
    """Note one walkthrough's contribution (``sign`` -1 to take it back)."""
    if not kept(session):
        return
    deltas: dict[Key, int] = session.info.setdefault(_PENDING, defaultdict(int))
    month = month_of(observed_at)
    school = ("school", version_id, month, school_id)
    kind = ("profile", version_id, month, profile_key)
    deltas[(*school, VISITS, 0)] += sign
    deltas[(*kind, VISITS, 0)] += sign
    for criterion_id, level, not_observed in ratings:
        if not_observed:
            level = NOT_OBSERVED
        elif level is None:
            continue
        deltas[(*school, criterion_id, level)] += sign
        deltas[(*kind, criterion_id, level)] += sign


def add_stored(session: Session, observation: Observation, sign: int) -> None:
    """Note a stored walkthrough's contribution, its ratings as they are in the database."""
    if not counts(observation):
        return
    ratings = session.execute(
        select(Rating.criterion_id, Rating.level, Rating.not_observed).where(
            Rating.observation_id == observation.id
        )
    ).all()
    classroom = (
        session.get(Classroom, observation.classroom_id) if observation.classroom_id else None
    )
    add(
        session,
        version_id=observation.rubric_version_id,
        observed_at=observation.observed_at,
        school_id=observation.school_id,
        profile_key=profile(classroom),
        ratings=ratings,
        sign=sign,
    )


def snapshot(session: Session) -> dict[Key, int]:
    """The pending deltas, to put back if a savepoint is rolled back."""
    return dict(session.info.get(_PENDING, {}))


def restore(session: Session, saved: dict[Key, int]) -> None:
    session.info[_PENDING] = defaultdict(int, saved)


# PostgreSQL advisory lock: writers hold it shared for their transaction once they have asked
# whether rollups exist; a build holds it alone. So no walkthrough commits uncounted between a
# build's count and its commit, and two builds never run at once. (SQLite writes one at a time.)
_LOCK = 7_245_011


def _lock(session: Session, shared: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        name = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(select(getattr(func, name)(_LOCK)))


def kept(session: Session) -> bool:
    """Whether there are rollups to keep current; asked of the database once a transaction."""
    key = "observe.rollups_built"
    if key not in session.info:
        _lock(session, shared=True)
        session.info[key] = is_built(session)
    return session.info[key]


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    deltas: dict[Key, int] = session.info.pop(_PENDING, None) or {}
    rows: dict[str, list[dict[str, Any]]] = {"school": [], "profile": []}
    for (table, version_id, month, where, criterion_id, level), delta in deltas.items():
        if delta:
            row = {"rubric_version_id": version_id, "month": month, "criterion_id": criterion_id,
                   "level": level, "count": delta}  # fmt: skip
            row["school_id" if table == "school" else "profile"] = where
            rows[table].append(row)
    if not rows["school"] and not rows["profile"]:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for model, key in ((RollupSchool, "school"), (RollupProfile, "profile")):
        if not rows[key]:
            continue
        # In key order, so two requests touching the same rows take their locks alike.
        column = "school_id" if key == "school" else "profile"
        rows[key].sort(key=lambda r: (r["rubric_version_id"], r["month"], r[column],
                                      r["criterion_id"], r["level"]))  # fmt: skip
        statement = dialect.insert(model)
        statement = statement.on_conflict_do_update(
            index_elements=[c.name for c in model.__table__.primary_key.columns],
            set_={"count": model.__table__.c.count + statement.excluded["count"]},
        )
        session.execute(statement, rows[key])


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop("observe.rollups_built", None)


def rebuild(session: Session) -> None:
    """Count everything afresh: after a roster import changed profiles, or the first time."""
    _lock(session, shared=False)
    refresh_profiles(session)
    session.flush()
    session.execute(delete(RollupSchool))
    session.execute(delete(RollupProfile))
    month = (
        func.to_char(Observation.observed_at, "YYYY-MM")
        if session.get_bind().dialect.name == "postgresql"
        else func.strftime("%Y-%m", Observation.observed_at)
    )
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
    state = session.get(RollupState, 1)
    if state is None:
        session.add(RollupState(id=1, built_at=utcnow()))
    else:
        state.built_at = utcnow()
    session.info.pop(_PENDING, None)
    session.info["observe.rollups_built"] = True
    session.flush()
