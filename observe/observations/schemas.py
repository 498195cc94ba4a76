"""Walkthroughs as JSON: as a device stores one, and with its whole history of versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from observe.accounts.models import User
from observe.core.timestamps import iso
from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion
from observe.observations.operations import leaves


def observation_json(
    observation: Observation, head: ObservationVersion | None = None
) -> dict[str, Any]:
    """An observation as a device stores it: the head version and the server's flags."""
    if observation.is_deleted:
        return {"id": observation.id, "deleted": True}
    head = head or db.session.get(ObservationVersion, observation.head_version_id)
    return {
        "id": observation.id,
        "deleted": False,
        "head_version_id": observation.head_version_id,
        "has_conflict": observation.has_conflict,
        "state": observation.state.value,
        "version": _as_placed(head.payload, observation) if head else None,
    }


def _as_placed(payload: dict[str, Any], observation: Observation) -> dict[str, Any]:
    """The head version, in the school the walkthrough is in: the same, unless the school it
    names was merged into another since (a device no longer knows the old one)."""
    if payload.get("school_id") == observation.school_id:
        return payload
    return {**payload, "school_id": observation.school_id}


def history_json(observation: Observation) -> dict[str, Any]:
    """A walkthrough with every version received, oldest first; the leaves are the candidates
    a person chooses between when it is in conflict."""
    leaf_ids = {v.id for v in leaves(observation.id)}
    versions = db.session.scalars(
        select(ObservationVersion)
        .where(ObservationVersion.observation_id == observation.id)
        .order_by(ObservationVersion.received_at, ObservationVersion.id)
    ).all()
    ids = {observation.author_id} | {v.pushed_by_id for v in versions}
    people = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    return {
        **observation_json(observation),
        "author": {"id": observation.author_id, "name": people.get(observation.author_id)},
        # The observer's feedback for the teacher, as the head version says (empty if none).
        "strengths": observation.strengths,
        "next_step": observation.next_step,
        "versions": [
            {
                "id": v.id,
                "base_version_id": v.base_version_id,
                "saved_at": iso(v.saved_at),
                "received_at": iso(v.received_at),
                "pushed_by": {"id": v.pushed_by_id, "name": people.get(v.pushed_by_id)},
                "device_id": v.device_id,
                "app_version": v.app_version,
                "outcome": v.outcome.value,
                "leaf": v.id in leaf_ids,
                "head": v.id == observation.head_version_id,
                "payload": v.payload,
            }
            for v in versions
        ],
    }


def listing_json(rows: list[dict[str, Any]], next_cursor: str | None, limit: int) -> dict[str, Any]:
    """A page of the walkthrough list (``observations.listing``): rows newest first, and the
    cursor of the next page (None on the last)."""
    return {
        "observations": [{**row, "observed_at": iso(row["observed_at"])} for row in rows],
        "next_cursor": next_cursor,
        "limit": limit,
    }
