"""The JSON API under /api/v1. Features add their routes to ``bp``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from flask import Blueprint, jsonify
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def user_json(user) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value}


@bp.get("/me")
def me():
    """The signed-in user (by session or token): who observe thinks you are."""
    return jsonify(
        **user_json(current_user),
        schools=[{"id": s.id, "code": s.code, "name": s.name} for s in current_user.schools],
    )


@bp.get("/session")
def session_info():
    """Who is signed in, and the CSRF token a page sends with its pushes (X-CSRFToken)."""
    return jsonify(user=user_json(current_user), csrf_token=generate_csrf())


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3.1 description (observe/api/openapi.yaml)."""
    return jsonify(_openapi_document())


@cache
def _openapi_document() -> dict:
    return yaml.safe_load((Path(__file__).parent / "openapi.yaml").read_text(encoding="utf-8"))
