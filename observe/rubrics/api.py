"""Rubric routes of the JSON API."""

from __future__ import annotations

from flask import Response, jsonify
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from observe.api import bp
from observe.extensions import db
from observe.rubrics.models import Rubric
from observe.rubrics.schemas import version_json, version_summary
from observe.rubrics.views import version_or_404


@bp.get("/rubrics")
def rubrics() -> Response:
    """Every rubric with its versions, newest first."""
    found = db.session.scalars(
        select(Rubric).order_by(Rubric.key).options(selectinload(Rubric.versions))
    ).all()
    return jsonify(
        rubrics=[
            {
                "id": rubric.id,
                "key": rubric.key,
                "versions": [version_summary(v) for v in reversed(rubric.versions)],
            }
            for rubric in found
        ]
    )


@bp.get("/rubric-versions/<int:version_id>")
def rubric_version(version_id: int) -> Response:
    """One version: the validated document as loaded, plus the ids ratings refer to."""
    return jsonify(version_json(version_or_404(version_id)))
