"""The walkthrough endpoints of the JSON API: the list, read one with its history, delete,
reconcile, send its feedback to the teacher and see what the teacher did with it."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_login import current_user

from observe.api import bp
from observe.audit.operations import record_now
from observe.core.database import begin_write
from observe.errors import NotFound
from observe.extensions import db
from observe.observations import feedback_loop, listing, operations, sending
from observe.observations.schemas import history_json, listing_json


@bp.get("/observations")
def list_observations() -> Response:
    """The walkthroughs the requester may list, newest first, filtered, a cursor page at a time."""
    filters, cursor, limit = listing.parse(current_user, request.args)
    found = listing.page(current_user, filters, cursor, limit)
    answer = listing_json(found.rows, found.next_cursor, found.limit)
    # The share whose teacher heard back in time: over the whole filtered set, so it is
    # counted once, with the first page.
    loop = feedback_loop.loop(current_user, filters) if cursor is None else None
    answer["feedback_loop"] = loop.as_json() if loop else None
    return jsonify(answer)


@bp.delete("/observations/<observation_id>")
def delete_observation(observation_id: str) -> Response:
    begin_write()
    observation = operations.delete_observation(current_user, observation_id)
    db.session.commit()
    return jsonify(id=observation.id, deleted=True)


@bp.get("/observations/<observation_id>")
def observation_history(observation_id: str) -> Response:
    """A walkthrough's head and every version received: for reconciling a conflict."""
    history = history_json(operations.walkthrough_for(current_user, observation_id))
    record_now("walkthrough.history_viewed", "observation", history["id"])
    return jsonify(history)


@bp.post("/observations/<observation_id>/reconcile")
def reconcile(observation_id: str) -> Response:
    body = request.get_json(silent=True)
    version_id = body.get("version_id") if isinstance(body, dict) else None
    begin_write()
    observation = operations.reconcile(current_user, observation_id, version_id)
    db.session.commit()
    return jsonify(history_json(observation))


@bp.post("/observations/<observation_id>/send-feedback")
def send_feedback(observation_id: str) -> tuple[Response, int]:
    """E-mail the feedback to the walkthrough's teacher, once per ``send_id``."""
    body = request.get_json(silent=True)
    begin_write()
    # A failure (the mail server down: 503) leaves the row and its audit event uncommitted.
    send, new = sending.send_feedback(current_user, observation_id, body)
    db.session.commit()
    return jsonify({**sending.send_json(send), "replayed": not new}), 201 if new else 200


@bp.get("/observations/<observation_id>/feedback-sends")
def feedback_sends(observation_id: str) -> Response:
    """Each time the feedback was e-mailed, and whether the teacher read it and replied."""
    observation = operations.walkthrough_for(current_user, observation_id)
    if observation.calibration_session_id is not None or observation.is_deleted:
        raise NotFound(f"There is no walkthrough {observation_id} to give feedback on.")
    sends = [sending.send_json(s) for s in sending.sends_of(observation)]
    return jsonify(observation_id=observation.id, sends=sends)
