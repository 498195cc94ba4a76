"""Roster routes of the JSON API."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from observe.api import bp
from observe.core.permissions import visible_school_ids
from observe.extensions import db
from observe.roster.models import Classroom, School


@bp.get("/schools")
def schools():
    """The schools the caller may see, each with its classrooms and district attributes."""
    visible = visible_school_ids(current_user)
    query = select(School).options(selectinload(School.classrooms)).order_by(School.code)
    if visible is not None:
        query = query.where(School.id.in_(visible))
    return jsonify(schools=[school_json(school) for school in db.session.scalars(query)])


def school_json(school: School) -> dict[str, Any]:
    return {
        "id": school.id,
        "code": school.code,
        "name": school.name,
        "level": school.level,
        "region": school.region,
        "title_i": school.title_i,
        "attributes": {a.name: a.value for a in school.attributes},
        "classrooms": [classroom_json(c) for c in school.classrooms],
    }


def classroom_json(classroom: Classroom) -> dict[str, Any]:
    teacher = classroom.teacher
    return {
        "id": classroom.id,
        "external_id": classroom.external_id,
        "name": classroom.name,
        "teacher": {"id": teacher.external_id, "name": teacher.name} if teacher else None,
        "grade": classroom.grade,
        "subject": classroom.subject,
        "course_level": classroom.course_level,
        "programs": classroom.program_names,
        "attributes": {a.name: a.value for a in classroom.attributes},
        "students": classroom.students,
        "active": classroom.active,
    }
