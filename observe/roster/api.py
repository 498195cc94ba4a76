"""Roster routes of the JSON API."""

from __future__ import annotations

from flask import Response, jsonify
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from observe.api import bp
from observe.core.permissions import visible_school_ids
from observe.extensions import db
from observe.roster import years
from observe.roster.models import School
from observe.roster.schemas import school_json


@bp.get("/schools")
def schools() -> Response:
    """The schools the caller may see, each with its classrooms and district attributes."""
    visible = visible_school_ids(current_user)
    query = select(School).options(selectinload(School.classrooms)).order_by(School.code)
    if visible is not None:
        query = query.where(School.id.in_(visible))
    return jsonify(schools=[school_json(school) for school in db.session.scalars(query)])


@bp.get("/years")
def school_years() -> Response:
    """The school years, latest first, each with its terms, and which one is current."""
    current = years.current_year()
    return jsonify(
        years=[years.year_json(year) for year in years.school_years()],
        current=current.id if current else None,
    )
