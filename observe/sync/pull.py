"""The pull: what a device reads to catch up — the user's recent walkthroughs for a new device,
and the change feed after a cursor (observe/core/changes.py numbers it in commit order)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import selectinload

from observe.accounts.models import User
from observe.calibration.models import CalibrationSession, calibration_participant
from observe.calibration.schemas import session_json
from observe.core import changes
from observe.core.changes import Change
from observe.core.models import utcnow
from observe.core.permissions import visible_school_ids
from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion
from observe.observations.schemas import observation_json
from observe.roster.models import School
from observe.roster.schemas import school_json
from observe.rubrics.models import RubricVersion
from observe.rubrics.schemas import version_json

RECENT_DAYS = 120
RECENT_LIMIT = 500


def recent_observations(user: User) -> list[dict[str, Any]]:
    """The user's own walkthroughs of recent months, for a new device to show and amend."""
    since = utcnow() - timedelta(days=RECENT_DAYS)
    found = db.session.scalars(
        select(Observation)
        .where(
            Observation.author_id == user.id,
            Observation.deleted_at.is_(None),
            Observation.observed_at >= since,
        )
        .order_by(Observation.observed_at.desc())
        .limit(RECENT_LIMIT)
    ).all()
    heads = {
        v.id: v
        for v in db.session.scalars(
            select(ObservationVersion).where(
                ObservationVersion.id.in_([o.head_version_id for o in found])
            )
        )
    }
    return [observation_json(o, heads.get(o.head_version_id or "")) for o in found]


def pull(user: User, cursor: int, limit: int) -> dict[str, Any]:
    """Changes after ``cursor`` that ``user`` may see, oldest first, at most ``limit``.

    The ceiling is read first: every change numbered up to it has committed (numbers are taken
    in commit order), so a cursor never moves past a change the reader has not seen.
    """
    ceiling = changes.latest_seq(db.session)
    visible = visible_school_ids(user)
    school_filter = true() if visible is None else Change.entity_id.in_(visible)
    my_sessions = select(calibration_participant.c.session_id).where(
        calibration_participant.c.user_id == user.id
    )
    rows = db.session.scalars(
        select(Change)
        .where(
            Change.seq > cursor,
            Change.seq <= ceiling,
            or_(
                and_(Change.kind == "observation", Change.author_id == user.id),
                and_(Change.kind == "access", Change.author_id == user.id),
                Change.kind == "rubric_version",
                and_(Change.kind == "school", school_filter),
                and_(Change.kind == "calibration_session", Change.entity_id.in_(my_sessions)),
            ),
        )
        .order_by(Change.seq)
        .limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = rows[-1].seq if has_more else max(cursor, ceiling)

    # A page may name one observation several times; its current state is sent once.
    last_seq = {_subject(row): row.seq for row in rows}
    out = []
    for row in rows:
        if last_seq[_subject(row)] != row.seq:
            continue
        out.append({"seq": row.seq, "kind": row.kind, **_change_body(row)})
    return {"changes": out, "cursor": str(next_cursor), "has_more": has_more}


def device_schools(user: User) -> list[School]:
    """The schools ``user`` may record in now, with their classrooms: what a device holds
    (bootstrap, and the pull after their schools changed)."""
    query = select(School).options(selectinload(School.classrooms)).order_by(School.name)
    visible = visible_school_ids(user)
    if visible is not None:
        query = query.where(School.id.in_(visible))
    return list(db.session.scalars(query))


def _subject(row: Change) -> tuple[str, str | int | None]:
    return (row.kind, row.observation_id or row.entity_id)


def _change_body(row: Change) -> dict[str, Any]:
    """The row a change names, as it is now. Rows the feed names are never deleted (a deleted
    walkthrough is marked so), so each is there."""
    if row.kind == "observation":
        observation = db.session.get_one(Observation, row.observation_id)
        return {"observation": observation_json(observation)}
    if row.kind == "calibration_session":
        session = db.session.get_one(CalibrationSession, row.entity_id)
        # With its rubric version, which may be older than the one a device has.
        return {
            "calibration_session": session_json(session),
            "rubric_version": version_json(session.rubric_version),
        }
    if row.kind == "access":
        # Their schools now, whole: a device replaces the rosters it holds with these.
        user = db.session.get_one(User, row.author_id)
        return {"schools": [school_json(school) for school in device_schools(user)]}
    if row.kind == "rubric_version":
        return {"rubric_version": version_json(db.session.get_one(RubricVersion, row.entity_id))}
    return {"school": school_json(db.session.get_one(School, row.entity_id))}
