"""The JSON API under /api/v1. Features add their routes to ``bp``."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/me")
def me():
    """The signed-in user (by session or token): who observe thinks you are."""
    return jsonify(
        id=current_user.id,
        email=current_user.email,
        name=current_user.name,
        role=current_user.role.value,
        schools=[{"id": s.id, "code": s.code, "name": s.name} for s in current_user.schools],
    )


# Feature routes register themselves on ``bp`` when their modules are imported.
from observe.roster import api as _roster_api  # noqa: E402, F401
from observe.rubrics import api as _rubrics_api  # noqa: E402, F401
