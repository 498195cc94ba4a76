"""Reads of the rubrics that several features share."""

from __future__ import annotations

from sqlalchemy import func, select

from observe.core.i18n import current_language
from observe.extensions import db
from observe.rubrics import translations
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


# A version never changes, so its wording for a language is worked out once per process; keyed
# by content hash, which names the content whatever the row's id.
_WORDINGS: dict[tuple[str, str], translations.Wording] = {}


def wording(version: RubricVersion, language: str | None = None) -> translations.Wording:
    """``version``'s texts in ``language`` (default: the reader's, this request's language),
    falling back to the file's own language where it gives no translation."""
    language = language or current_language()
    key = (version.content_hash, language)
    if key not in _WORDINGS:
        if len(_WORDINGS) > 256:
            _WORDINGS.clear()
        _WORDINGS[key] = translations.wording(version.document, language)
    return _WORDINGS[key]
