"""Report routes of the JSON API: the export, the summary's and coverage figures, equity goals."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_login import current_user

from observe.api import bp
from observe.core.database import begin_write
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.reports import goals, views, years
from observe.roster import years as roster_years


@bp.get("/exports/observations")
def api_export() -> Response:
    """Every rating of the walkthroughs the caller may see, one row each, streamed."""
    return views.download(*views.scope_from_request())


@bp.get("/reports/summary")
def api_summary() -> Response:
    """The summary report's figures, with the same scope and suppression as the page."""
    return jsonify(views.summary_from_request()[1])


@bp.get("/reports/coverage")
def api_coverage() -> Response:
    """The coverage report's figures and not-visited lists, as the page shows them."""
    return jsonify(views.coverage_from_request())


@bp.get("/goals")
def api_goals() -> Response:
    """Equity goals the caller may see, each with its progress month by month."""
    problems: dict[str, str] = {}
    period = roster_years.period_for(request.args.get("year"), None, problems)
    if problems:
        raise ValidationFailed.naming("The goals could not be listed", problems)
    listed = years.goals_in(period, goals.visible_goals(current_user))
    return jsonify(goals=goals.progress_all(listed), year=period.label)


@bp.post("/goals")
def api_create_goal() -> tuple[Response, int]:
    begin_write()
    goal = goals.create_goal(current_user, request.get_json(silent=True))
    db.session.commit()
    return jsonify(goals.progress(goal)), 201


@bp.delete("/goals/<int:goal_id>")
def api_delete_goal(goal_id: int) -> Response:
    begin_write()
    goals.delete_goal(current_user, goal_id)
    db.session.commit()
    return jsonify(id=goal_id, deleted=True)
