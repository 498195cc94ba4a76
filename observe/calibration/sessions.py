"""Creating calibration sessions, who may see and run them, the reveal and consensus scores.

Functions flush; the request commits once, so a refused request writes nothing.

Blind scoring rests on one rule, kept here: a participant's scores are readable by anyone but
their author only through :func:`scored_observations`, which refuses until the reveal.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select

from observe.accounts.models import User
from observe.audit.operations import record
from observe.calibration import access
from observe.calibration.models import (
    CalibrationSession,
    ConsensusScore,
    SessionState,
    calibration_participant,
)
from observe.calibration.schemas import ConsensusSchema, SessionSchema, iso_seconds, person_json
from observe.core import clock, hooks
from observe.core.models import utcnow
from observe.core.permissions import Principal, allowed, can_see_school
from observe.core.validation import load_body
from observe.errors import Conflict, Forbidden, NotFound, ValidationFailed, plural
from observe.extensions import db
from observe.observations.models import Observation, ObservationState
from observe.roster.models import Classroom, School
from observe.rubrics.models import Criterion, RubricVersion

# A device keeps revealed sessions this long, to link to their reports.
RECENT_DAYS = 120


# ---- who may do what ------------------------------------------------------------------------


def get_session(user: User, session_id: int) -> CalibrationSession:
    session = db.session.get(CalibrationSession, session_id)
    if session is None or not allowed(user, access.VIEW, session):
        # Someone outside the team learns nothing, not even that the session exists.
        raise NotFound(f"no calibration session {session_id}")
    return session


def visible_sessions(user: User) -> list[CalibrationSession]:
    query = select(CalibrationSession).order_by(
        CalibrationSession.held_on.desc(), CalibrationSession.id.desc()
    )
    if not allowed(user, access.EVERY_SESSION):
        mine = select(calibration_participant.c.session_id).where(
            calibration_participant.c.user_id == user.id
        )
        query = query.where(
            or_(CalibrationSession.facilitator_id == user.id, CalibrationSession.id.in_(mine))
        )
    return list(db.session.scalars(query))


def device_sessions(user: User) -> list[CalibrationSession]:
    """What a participant's tablet keeps: sessions to score, and recently revealed ones."""
    since = clock.today() - timedelta(days=RECENT_DAYS)
    mine = select(calibration_participant.c.session_id).where(
        calibration_participant.c.user_id == user.id
    )
    return list(
        db.session.scalars(
            select(CalibrationSession)
            .where(
                CalibrationSession.id.in_(mine),
                or_(
                    CalibrationSession.state == SessionState.SCORING,
                    CalibrationSession.held_on >= since,
                ),
            )
            .order_by(CalibrationSession.held_on.desc(), CalibrationSession.id.desc())
        )
    )


# ---- creating -------------------------------------------------------------------------------


def create_session(user: User, body: Any) -> CalibrationSession:
    if not allowed(user, access.CREATE):
        raise Forbidden("only school leaders and district admins can create calibration sessions")
    data = load_body(SessionSchema(), body)

    problems: dict[str, str] = {}
    version = db.session.get(RubricVersion, data["rubric_version_id"])
    if version is None:
        problems["rubric_version_id"] = f"unknown rubric version {data['rubric_version_id']}"
    school = db.session.get(School, data["school_id"])
    if school is None:
        problems["school_id"] = f"unknown school {data['school_id']}"
    elif not can_see_school(user, school.id):
        problems["school_id"] = f"{school.name} is not one of your schools"
    if data["classroom_id"] is not None:
        classroom = db.session.get(Classroom, data["classroom_id"])
        if classroom is None:
            problems["classroom_id"] = f"unknown classroom {data['classroom_id']}"
        elif school is not None and classroom.school_id != school.id:
            problems["classroom_id"] = f"{classroom.name} is not in {school.name}"

    ids = data["participant_ids"]
    participants = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    unknown = [i for i in ids if i not in participants]
    inactive = [
        participants[i].name for i in ids if i in participants and not participants[i].active
    ]
    who = [
        f"{label}: {', '.join(map(str, found))}"
        for label, found in (
            ("listed more than once", repeated),
            ("unknown users", unknown),
            ("deactivated accounts", inactive),
        )
        if found
    ]
    if who:
        problems["participant_ids"] = "; ".join(who)
    if data["anchor_id"] is not None and data["anchor_id"] not in ids:
        problems["anchor_id"] = "the anchor rater must be one of the participants"
    if problems:
        raise ValidationFailed.naming("The session was not created", problems)
    assert version is not None and school is not None  # each is a problem above when unknown

    session = CalibrationSession(
        title=data["title"],
        team=data["team"],
        rubric_version_id=version.id,
        school_id=school.id,
        classroom_id=data["classroom_id"],
        lesson_reference=data["lesson_reference"],
        held_on=data["held_on"],
        facilitator_id=user.id,
        anchor_id=data["anchor_id"],
        participants=[participants[i] for i in ids],
    )
    db.session.add(session)
    db.session.flush()
    hooks.calibration_changed.send(db.session, hooks.Entity(session.id))
    return session


# ---- scores, the reveal, consensus ----------------------------------------------------------


def submitted_observations(session: CalibrationSession) -> dict[int, Observation]:
    """Each participant's submitted walkthrough of the lesson (the latest, if several)."""
    found: dict[int, Observation] = {}
    rows = db.session.scalars(
        select(Observation)
        .where(
            Observation.calibration_session_id == session.id,
            Observation.state == ObservationState.SUBMITTED,
            Observation.deleted_at.is_(None),
        )
        .order_by(Observation.submitted_at, Observation.id)
    )
    members = {p.id for p in session.participants}
    for observation in rows:
        if observation.author_id in members:
            found[observation.author_id] = observation
    return found


def progress(session: CalibrationSession) -> list[dict[str, Any]]:
    """Who has submitted, and when — never what they scored."""
    if session.is_revealed:
        record = {r["user_id"]: r for r in session.reveal_record}
        return [
            {
                "user": person_json(p),
                "submitted": p.id in record,
                "submitted_at": record[p.id]["submitted_at"] if p.id in record else None,
            }
            for p in session.participants
        ]
    submitted = submitted_observations(session)
    return [
        {
            "user": person_json(p),
            "submitted": p.id in submitted,
            "submitted_at": iso_seconds(submitted[p.id].submitted_at)
            if p.id in submitted
            else None,
        }
        for p in session.participants
    ]


def scored_observations(user: Principal, session: CalibrationSession) -> dict[int, Observation]:
    """The team's scores, for the report: refused until the facilitator reveals them."""
    if not allowed(user, access.VIEW, session):
        raise NotFound(f"no calibration session {session.id}")
    if not session.is_revealed:
        raise Conflict(
            "Scores stay hidden until the facilitator reveals them, so that nobody anchors on "
            "anyone else's scores.",
            details={"state": session.state.value},
        )
    # Exactly the walkthroughs the reveal recorded: they can no longer change or be deleted.
    recorded = {r["observation_id"]: r["user_id"] for r in session.reveal_record}
    found = db.session.scalars(select(Observation).where(Observation.id.in_(recorded)))
    return {recorded[o.id]: o for o in found}


MIN_TO_REVEAL = 2


def reveal(user: User, session: CalibrationSession) -> CalibrationSession:
    if not allowed(user, access.MANAGE, session):
        raise Forbidden("only the session's facilitator or a district admin can reveal scores")
    # Locked, as a push of a score locks it: a score lands wholly before the reveal or is
    # refused after it (PostgreSQL; on SQLite writes are one at a time anyway).
    db.session.refresh(session, with_for_update=True)
    if session.is_revealed:
        raise Conflict(f"the scores were already revealed at {iso_seconds(session.revealed_at)}")
    submitted = submitted_observations(session)
    if len(submitted) < MIN_TO_REVEAL:
        raise Conflict(
            f"Agreement needs at least {MIN_TO_REVEAL} submitted walkthroughs; "
            f"{plural(len(submitted), 'participant')} ha{'s' if len(submitted) == 1 else 've'} "
            "submitted so far."
        )
    session.state = SessionState.REVEALED
    session.revealed_at = utcnow()
    session.revealed_by_id = user.id
    session.reveal_record = [
        {
            "user_id": author_id,
            "observation_id": observation.id,
            "submitted_at": iso_seconds(observation.submitted_at),
        }
        for author_id, observation in sorted(submitted.items())
    ]
    db.session.flush()
    hooks.calibration_changed.send(db.session, hooks.Entity(session.id))
    record(
        "calibration.revealed", object_type="calibration_session", object_id=session.id, actor=user
    )
    return session


def record_consensus(user: User, session: CalibrationSession, body: Any) -> list[ConsensusScore]:
    """Set the team's agreed score for the criteria named; all of them or, on a problem, none."""
    if not allowed(user, access.MANAGE, session):
        raise Forbidden("only the session's facilitator or a district admin can record consensus")
    if not session.is_revealed:
        raise Conflict("consensus is recorded after the scores are revealed")
    data = load_body(ConsensusSchema(), body)

    criteria = {
        c.key: c
        for c in db.session.scalars(
            select(Criterion).where(Criterion.rubric_version_id == session.rubric_version_id)
        )
    }
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for i, item in enumerate(data["scores"]):
        where = f"scores[{i}]"
        criterion = criteria.get(item["criterion"])
        if item["criterion"] in seen:
            problems[f"{where}.criterion"] = f"{item['criterion']!r} is given twice"
        seen.add(item["criterion"])
        if criterion is None:
            problems[f"{where}.criterion"] = f"{item['criterion']!r} is not in this rubric version"
            continue
        values = [level["value"] for level in criterion.levels]
        if item["not_observed"] and item["level"] is not None:
            problems[f"{where}.level"] = "give a level or mark it not observed, not both"
        elif item["not_observed"] and not criterion.allows_not_observed:
            problems[f"{where}.not_observed"] = (
                f"{item['criterion']!r} cannot be marked not observed"
            )
        elif not item["not_observed"] and item["level"] is None:
            problems[f"{where}.level"] = "give a level or mark it not observed"
        elif item["level"] is not None and item["level"] not in values:
            problems[f"{where}.level"] = (
                f"{item['level']} is not a level of {item['criterion']!r} "
                f"(levels: {', '.join(map(str, values))})"
            )
    if problems:
        raise ValidationFailed.naming("No consensus score was saved", problems)

    existing = {score.criterion_id: score for score in session.consensus}
    saved = []
    for item in data["scores"]:
        criterion = criteria[item["criterion"]]
        score = existing.get(criterion.id)
        if score is None:
            score = ConsensusScore(session=session, criterion_id=criterion.id)
            db.session.add(score)
        score.level = item["level"]
        score.not_observed = item["not_observed"]
        score.rationale = item["rationale"].strip()
        score.recorded_by_id = user.id
        score.recorded_at = utcnow()
        saved.append(score)
    db.session.flush()
    return saved
