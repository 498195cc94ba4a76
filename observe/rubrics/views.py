"""Rubric pages: every rubric with its versions, and one version as observers will use it."""

from __future__ import annotations

import re

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from observe.errors import NotFound
from observe.extensions import db
from observe.rubrics.format import DIMENSIONS
from observe.rubrics.models import Competency, Criterion, Rubric, RubricVersion

bp = Blueprint("rubrics", __name__)


def version_or_404(version_id: int) -> RubricVersion:
    version = db.session.scalar(
        select(RubricVersion)
        .where(RubricVersion.id == version_id)
        .options(
            selectinload(RubricVersion.rubric).selectinload(Rubric.versions),
            selectinload(RubricVersion.competencies)
            .selectinload(Competency.criteria)
            .selectinload(Criterion.dimensions),
        )
    )
    if version is None:
        raise NotFound(f"There is no rubric version {version_id}.")
    return version


# Signing in is enforced for every page by observe.accounts.auth; any signed-in user may read
# rubrics, because observers need to study the look-fors before they walk.
@bp.get("/rubrics")
def index():
    rubrics = db.session.scalars(
        select(Rubric).order_by(Rubric.key).options(selectinload(Rubric.versions))
    ).all()
    return render_template("rubrics/index.html", rubrics=rubrics)


@bp.get("/rubrics/<int:version_id>")
def show(version_id: int):
    version = version_or_404(version_id)
    document = version.document
    criteria = {c.key: c for competency in version.competencies for c in competency.criteria}
    glossary = document.get("glossary", [])
    entry_ids: list[str] = []
    for entry in glossary:
        anchor = base = f"term-{_anchor(entry['term'])}"
        # "Co-teaching" and "Co teaching" are different terms but would share an id.
        while anchor in entry_ids:
            anchor = f"{base}-{len(entry_ids) + 1}"
        entry_ids.append(anchor)
    # A dimension tag links to the glossary entry that defines it, when the district wrote one.
    glossary_ids = {
        entry["term"].casefold(): anchor
        for entry, anchor in zip(glossary, entry_ids, strict=True)
        if entry["term"].casefold() in DIMENSIONS
    }
    items = [item for competency in document["competencies"] for item in competency["criteria"]]
    return render_template(
        "rubrics/show.html",
        version=version,
        document=document,
        criteria=criteria,
        latest=version.rubric.latest,
        criterion_count=len(items),
        has_specific=any(item["descriptors"] for item in items),
        any_not_observed=any(c.allows_not_observed for c in criteria.values()),
        entry_ids=entry_ids,
        glossary_ids=glossary_ids,
    )


def _anchor(term: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", term.casefold()).strip("-") or "term"
