"""Pages listing the schools a user may see and the classrooms of one school."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from observe.core.permissions import can_see_school
from observe.extensions import db
from observe.roster.models import Classroom, School
from observe.roster.queries import visible_schools

bp = Blueprint("roster", __name__)


@bp.get("/schools")
def schools() -> str:
    listed = visible_schools(current_user)
    counts = dict(
        db.session.execute(
            select(Classroom.school_id, func.count(Classroom.id))
            .where(Classroom.active, Classroom.school_id.in_([s.id for s in listed]))
            .group_by(Classroom.school_id)
        ).all()
    )
    return render_template("roster/schools.html", schools=listed, counts=counts)


@bp.get("/schools/<code>")
def school(code: str) -> str:
    school = db.session.scalar(select(School).where(School.code == code))
    if school is None or not can_see_school(current_user, school.id):
        # Another school's code answers as an unknown one: its roster is not the reader's.
        abort(404, f"There is no school with code {code} among your schools.")
    classrooms = db.session.scalars(
        select(Classroom)
        .where(Classroom.school_id == school.id)
        .options(selectinload(Classroom.programs), selectinload(Classroom.attributes))
        .order_by(Classroom.active.desc(), Classroom.name)
    ).all()
    return render_template("roster/school.html", school=school, classrooms=classrooms)
