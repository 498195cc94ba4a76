"""The walkthrough endpoints of the JSON API: the list, read one with its history, delete,
reconcile."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_login import current_user

from observe.api import bp
from observe.audit.operations import record_now
from observe.core.database import begin_write
from observe.extensions import db
from observe.observations import listing, operations
from observe.observations.schemas import history_json, listing_json


@bp.get("/observations")
def list_observations() -> Response:
    """The walkthroughs the requester may list, newest first, filtered, a cursor page at a time."""
    filters, cursor, limit = listing.parse(current_user, request.args)
    found = listing.page(current_user, filters, cursor, limit)
    return jsonify(listing_json(found.rows, found.next_cursor, found.limit))


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
