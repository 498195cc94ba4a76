"""Rubric routes of the JSON API."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from observe.api import bp
from observe.extensions import db
from observe.rubrics.models import Rubric, RubricVersion
from observe.rubrics.views import version_or_404


def _version_summary(version: RubricVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": version.number,
        "title": version.title,
        "content_hash": version.content_hash,
        "loaded_at": version.loaded_at.isoformat(),
    }


@bp.get("/rubrics")
def rubrics():
    """Every rubric with its versions, newest first."""
    found = db.session.scalars(
        select(Rubric).order_by(Rubric.key).options(selectinload(Rubric.versions))
    ).all()
    return jsonify(
        rubrics=[
            {
                "id": rubric.id,
                "key": rubric.key,
                "versions": [_version_summary(v) for v in reversed(rubric.versions)],
            }
            for rubric in found
        ]
    )


@bp.get("/rubric-versions/<int:version_id>")
def rubric_version(version_id: int):
    """One version: the validated document as loaded, plus the ids ratings refer to."""
    return jsonify(version_json(version_or_404(version_id)))


def version_json(version: RubricVersion) -> dict[str, Any]:
    """A rubric version as devices and programs need it to build and check a form."""
    return {
        **_version_summary(version),
        "rubric": {"id": version.rubric.id, "key": version.rubric.key},
        "source_name": version.source_name,
        "document": version.document,
        "competencies": [
            {"id": c.id, "key": c.key, "name": c.name, "position": c.position}
            for c in version.competencies
        ],
        "criteria": [
            {
                "id": criterion.id,
                "key": criterion.key,
                "competency_id": competency.id,
                "kind": criterion.kind.value,
                "position": criterion.position,
                "dimensions": criterion.dimension_names,
                "allows_not_observed": criterion.allows_not_observed,
                "levels": criterion.levels,
            }
            for competency in version.competencies
            for criterion in competency.criteria
        ],
    }
