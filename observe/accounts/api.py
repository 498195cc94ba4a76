"""Account routes of the JSON API: who you are, and the CSRF token a page sends."""

from __future__ import annotations

from flask import Response, jsonify
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from observe.accounts.schemas import user_json
from observe.api import bp


@bp.get("/me")
def me() -> Response:
    """The signed-in user (by session or token): who observe thinks you are."""
    return jsonify(
        **user_json(current_user),
        schools=[{"id": s.id, "code": s.code, "name": s.name} for s in current_user.schools],
    )


@bp.get("/session")
def session_info() -> Response:
    """Who is signed in, and the CSRF token a page sends with its pushes (X-CSRFToken)."""
    return jsonify(user=user_json(current_user), csrf_token=generate_csrf())
