"""Rubric versions as JSON: what devices and programs need to build and check a form."""

from __future__ import annotations

from typing import Any

from observe.rubrics.models import RubricVersion


def version_summary(version: RubricVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": version.number,
        "title": version.title,
        "content_hash": version.content_hash,
        "loaded_at": version.loaded_at.isoformat(),
        # Not offered for new walkthroughs; drafts and amendments on it are still accepted.
        "retired": version.retired,
    }


def version_json(version: RubricVersion) -> dict[str, Any]:
    """A rubric version as devices and programs need it to build and check a form."""
    return {
        **version_summary(version),
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
                "required": criterion.required,
                "levels": criterion.levels,
            }
            for competency in version.competencies
            for criterion in competency.criteria
        ],
    }
