"""The walkthrough lifecycle: storing a version and keeping the walkthrough's row and ratings
in step with its head version; deleting; reconciling a conflict; finding what needs a person.
Functions flush; the request (or command) commits once.

A walkthrough is the chain of versions its observer's devices made. The *head* is the leaf (a
version nobody edited further) saved last — see :func:`leaves` — and the ``observation`` row and
its ``rating`` rows mirror it, so reports read one row per walkthrough. What the sync protocol
does with a pushed version (observe/sync/push.py) ends in the functions here.

Whoever reacts to a walkthrough's change — the change feed devices pull, the report rollups —
hears of it through ``observe.core.hooks``, sent from here.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select

from observe.accounts.models import User
from observe.audit.operations import record
from observe.core import hooks
from observe.core.database import executemany_plain, table_of
from observe.core.models import utcnow
from observe.core.permissions import Principal, allowed
from observe.core.timestamps import iso
from observe.errors import Conflict, Forbidden, NotFound, ValidationFailed
from observe.extensions import db
from observe.observations import access
from observe.observations.models import (
    Observation,
    ObservationState,
    ObservationVersion,
    Rating,
    VersionOutcome,
)
from observe.roster import profiles
from observe.roster.queries import current_school_id
from observe.rubrics.models import Criterion, RubricVersion


@dataclass
class Device:
    """Who made a version, from where: kept with every version received."""

    user: User
    device_id: str
    app_version: str = ""
    user_agent: str = ""


def content_hash(payload: dict[str, Any]) -> str:
    """A version's identity for retries: SHA-256 of its canonical JSON."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# ---- storing versions and mirroring the head ---------------------------------------------------


def version_row(
    device: Device,
    payload: dict[str, Any],
    saved_at: datetime,
    digest: str,
    outcome: VersionOutcome,
    received_at: datetime,
) -> dict[str, Any]:
    """A version as stored: what the device sent, normalised, and where it came from."""
    return {
        "id": payload["version_id"],
        "observation_id": payload["observation_id"],
        "base_version_id": payload["base_version_id"],
        "pushed_by_id": device.user.id,
        "device_id": device.device_id,
        "app_version": device.app_version,
        "user_agent": device.user_agent,
        "saved_at": saved_at,
        "payload": payload,
        "content_hash": digest,
        "outcome": outcome,
        "received_at": received_at,
    }


def head_columns(payload: dict[str, Any]) -> dict[str, Any]:
    """The walkthrough row's columns that mirror its head version."""
    return {
        "head_version_id": payload["version_id"],
        "rubric_version_id": payload["rubric_version_id"],
        "school_id": payload["school_id"],
        "classroom_id": payload["classroom_id"],
        "observed_at": datetime.fromisoformat(payload["observed_at"]),
        "duration_seconds": payload["duration_seconds"],
        "context": payload["context"],
        "notes": payload["notes"],
        # Left out of a version that has none (see sync.push.normalise): empty.
        "strengths": payload.get("strengths", ""),
        "next_step": payload.get("next_step", ""),
        "language": payload.get("language"),
        "state": ObservationState(payload["state"]),
        "calibration_session_id": payload.get("calibration_session_id"),
    }


_RATING_COLUMNS = ("observation_id", "criterion_id", "level", "not_observed", "evidence")
_INSERT_RATINGS = insert(table_of(Rating))


def rating_rows(payload: dict[str, Any], criterion_ids: dict[str, int]) -> list[tuple[Any, ...]]:
    """A version's ratings as rows of the rating table, in the order of ``_RATING_COLUMNS``."""
    observation_id = payload["observation_id"]
    return [
        (
            observation_id,
            criterion_ids[r["criterion"]],
            r["level"],
            r["not_observed"],
            r["evidence"],
        )
        for r in payload["ratings"]
    ]


def store_ratings(rows: list[tuple[Any, ...]]) -> None:
    executemany_plain(db.session.connection(), _INSERT_RATINGS, _RATING_COLUMNS, rows)


# Rubric versions never change, so their criteria's ids can be kept for the life of the process
# instead of being read for every version. Keyed by load time too, so a database emptied and
# refilled (tests) is never confused.
_CRITERION_IDS: dict[tuple[int, str], dict[str, int]] = {}


def criterion_ids(version: RubricVersion) -> dict[str, int]:
    """Each criterion key of a rubric version, and its row id."""
    key = (version.id, version.loaded_at.isoformat())
    if key not in _CRITERION_IDS:
        rows = db.session.execute(
            select(Criterion.key, Criterion.id).where(Criterion.rubric_version_id == version.id)
        ).all()
        _CRITERION_IDS[key] = {row.key: row.id for row in rows}
    return _CRITERION_IDS[key]


def leaves(observation_id: str) -> list[ObservationVersion]:
    """The versions of a walkthrough nobody has edited further, the head first.

    The head is the one saved last, then the highest id: deterministic whatever order versions
    arrive in, so every server and every retry agrees.
    """
    edited = select(ObservationVersion.base_version_id).where(
        ObservationVersion.observation_id == observation_id,
        ObservationVersion.base_version_id.is_not(None),
    )
    return list(
        db.session.scalars(
            select(ObservationVersion)
            .where(
                ObservationVersion.observation_id == observation_id,
                ObservationVersion.id.not_in(edited),
            )
            .order_by(ObservationVersion.saved_at.desc(), ObservationVersion.id.desc())
        )
    )


def choose_head(observation_id: str) -> ObservationVersion:
    return leaves(observation_id)[0]


def counted(observation: Observation, sign: int) -> hooks.WalkthroughCounted:
    """The fact the rollups hear when ``observation`` starts (+1) or stops (-1) counting."""
    return hooks.WalkthroughCounted(
        observation_id=observation.id,
        rubric_version_id=observation.rubric_version_id,
        observed_at=observation.observed_at,
        school_id=observation.school_id,
        classroom_id=observation.classroom_id,
        counts=observation.counts_in_reports,
        sign=sign,
        profile=observation.profile or "",
    )


def mirror(observation: Observation, head: ObservationVersion, criteria: dict[str, int]) -> None:
    """Make the observation row and its ratings say what the head version says."""
    first = observation.head_version_id is None
    if not first:
        # What it counted as until now.
        hooks.walkthrough_counted.send(db.session, counted(observation, -1))
    classroom_before = observation.classroom_id
    columns = head_columns(head.payload)
    if columns["school_id"] != observation.school_id:
        # A version made before its school was merged into another names the old school.
        columns["school_id"] = current_school_id(columns["school_id"])
    for name, value in columns.items():
        setattr(observation, name, value)
    if first or observation.classroom_id != classroom_before or observation.profile is None:
        # The classroom as it is now, kept from then on: an amendment keeps what the first
        # version found unless it moves the walkthrough to another classroom.
        for name, value in profiles.at_visit(db.session, observation.classroom_id).items():
            setattr(observation, name, value)
    if observation.state is ObservationState.SUBMITTED and observation.submitted_at is None:
        observation.submitted_at = head.saved_at
    # The ratings are replaced in two statements rather than through the ORM collection,
    # which loads the old rows and tracks each new object: this runs for every version pushed.
    db.session.flush()
    db.session.execute(delete(Rating).where(Rating.observation_id == observation.id))
    store_ratings(rating_rows(head.payload, criteria))
    hooks.walkthrough_counted.send(db.session, counted(observation, +1))
    db.session.expire(observation, ["ratings"])


def changed(observation: Observation) -> None:
    """Tell whoever keeps a copy (the change feed devices pull) that it changed."""
    hooks.walkthrough_changed.send(
        db.session, hooks.WalkthroughChanged(observation.id, observation.author_id)
    )


# ---- what a person does to a walkthrough ------------------------------------------------------


def walkthrough_for(user: Principal, observation_id: str) -> Observation:
    """A walkthrough ``user`` may read in full, or NotFound (as if it did not exist)."""
    observation = db.session.get(Observation, observation_id)
    if observation is None or not allowed(user, access.READ, observation):
        raise NotFound(f"no walkthrough {observation_id}")
    return observation


def conflicted(user: Principal) -> list[Observation]:
    """Walkthroughs edited on two devices that ``user`` may reconcile, newest first."""
    query = (
        select(Observation)
        .where(Observation.has_conflict, Observation.deleted_at.is_(None))
        .order_by(Observation.observed_at.desc())
    )
    return [o for o in db.session.scalars(query) if allowed(user, access.READ, o)]


def delete_observation(user: User, observation_id: str) -> Observation:
    """Mark an observation deleted (its versions are kept); devices learn of it by pull."""
    try:
        observation_id = str(uuid.UUID(observation_id))
    except ValueError:
        raise NotFound(f"no observation {observation_id}") from None
    observation = db.session.get(Observation, observation_id, with_for_update=True)
    if observation is None:
        raise NotFound(f"no observation {observation_id}")
    if not allowed(user, access.DELETE, observation):
        if not allowed(user, access.READ, observation):
            # Someone who may not read it learns nothing, not even that it exists.
            raise NotFound(f"no observation {observation_id}")
        raise Forbidden("only its author or a district admin can delete an observation")
    session = observation.calibration_session
    if session is not None and session.is_revealed:
        raise Conflict(
            f"this walkthrough is a score in the revealed calibration session {session.title!r}; "
            "the team's report rests on it, so it is kept"
        )
    if observation.deleted_at is None:
        hooks.walkthrough_counted.send(db.session, counted(observation, -1))
        observation.deleted_at = utcnow()
        observation.deleted_by_id = user.id
        changed(observation)
        hooks.walkthrough_deleted.send(
            db.session, hooks.WalkthroughChanged(observation.id, observation.author_id)
        )
        db.session.flush()
        record(
            "walkthrough.deleted", object_type="observation", object_id=observation.id, actor=user
        )
    return observation


_UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


def reconcile(user: User, observation_id: str, version_id: Any) -> Observation:
    """Settle a conflict: the chosen version's content becomes a new head, made from the
    current head, and the flag is cleared. Nothing is deleted: every version stays."""
    observation = db.session.get(Observation, str(observation_id), with_for_update=True)
    if observation is None or not allowed(user, access.READ, observation):
        raise NotFound(f"no walkthrough {observation_id}")
    if observation.is_deleted:
        raise Conflict("this walkthrough was deleted")
    if not observation.has_conflict:
        raise Conflict("this walkthrough has no conflict to reconcile")
    session = observation.calibration_session
    if session is not None and session.is_revealed:
        raise Conflict(f"the scores of {session.title!r} were revealed; they no longer change")
    chosen = None
    if isinstance(version_id, str) and _UUID_TEXT.fullmatch(version_id):
        chosen = db.session.get(ObservationVersion, str(uuid.UUID(version_id)))
    if chosen is None or chosen.observation_id != observation.id:
        raise ValidationFailed(
            "The walkthrough was not changed: version_id must be one of its versions.",
            details={"version_id": "not a version of this walkthrough"},
        )
    # Saved after every version that is still a leaf (a tablet's clock may run ahead), so the
    # head rule keeps choosing it; an offline edit of another branch arriving later is a new
    # conflict, since it was not made from this head.
    latest = max(v.saved_at for v in leaves(observation.id))
    now = max(utcnow(), latest + timedelta(milliseconds=1))
    payload = {
        **chosen.payload,
        "version_id": str(uuid.uuid4()),
        "base_version_id": observation.head_version_id,
        "saved_at": iso(now),
    }
    device = Device(user, "observe-server", "reconcile")
    db.session.execute(
        insert(table_of(ObservationVersion)),
        [version_row(device, payload, now, content_hash(payload), VersionOutcome.APPLIED, now)],
    )
    observation.has_conflict = False
    head = db.session.get(ObservationVersion, payload["version_id"])
    assert head is not None  # just written
    mirror(observation, head, criterion_ids(observation.rubric_version))
    db.session.flush()
    changed(observation)
    record(
        "walkthrough.reconciled",
        object_type="observation",
        object_id=observation.id,
        actor=user,
        detail={"chosen_version": chosen.id, "new_version": payload["version_id"]},
    )
    return observation
