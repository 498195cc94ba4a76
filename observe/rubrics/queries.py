"""Reads of the rubrics that several features share."""

from __future__ import annotations

from sqlalchemy import func, select

from observe.extensions import db
from observe.rubrics.models import RubricRetirement, RubricVersion


def current_version_ids() -> list[int]:
    """The version new walkthroughs use, of each rubric: its newest that is not retired.
    A rubric whose versions are all retired has none."""
    retired = select(RubricRetirement.rubric_version_id)
    statement = (
        select(func.max(RubricVersion.id))
        .where(RubricVersion.id.not_in(retired))
        .group_by(RubricVersion.rubric_id)
    )
    return [version_id for version_id in db.session.scalars(statement) if version_id is not None]
