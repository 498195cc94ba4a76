"""The home page (what a signed-in person starts from), the favicon and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select, text
from werkzeug.wrappers import Response as WerkzeugResponse

from observe.core.permissions import visible_school_ids
from observe.extensions import db
from observe.observations import operations as walkthroughs
from observe.observations.models import Observation
from observe.roster.models import Classroom, School
from observe.rubrics.models import Rubric

bp = Blueprint("home", __name__)


@bp.get("/")
def home() -> str:
    visible = visible_school_ids(current_user)
    schools = select(func.count(School.id))
    classrooms = select(func.count(Classroom.id)).where(Classroom.active)
    # Walkthroughs: calibration scores are practice, and deleted ones are gone.
    observations = select(func.count(Observation.id)).where(
        Observation.calibration_session_id.is_(None), Observation.deleted_at.is_(None)
    )
    if visible is not None:
        schools = schools.where(School.id.in_(visible))
        classrooms = classrooms.where(Classroom.school_id.in_(visible))
        observations = observations.where(Observation.school_id.in_(visible))
    counts = {
        "schools": db.session.scalar(schools),
        "classrooms": db.session.scalar(classrooms),
        "observations": db.session.scalar(observations),
    }
    rubrics = db.session.scalars(select(Rubric).order_by(Rubric.key)).all()
    to_reconcile = len(walkthroughs.conflicted(current_user))
    return render_template(
        "home/home.html", counts=counts, rubrics=rubrics, to_reconcile=to_reconcile
    )


@bp.get("/favicon.ico")
def favicon() -> WerkzeugResponse:
    """Browsers ask for /favicon.ico whatever the page says; answer with the app's icon."""
    return redirect(url_for("static", filename="icons/observe.svg"), code=301)


@bp.get("/health")
def health() -> Response:
    """For load balancers and the quick start: the app answers and the database is reachable."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
