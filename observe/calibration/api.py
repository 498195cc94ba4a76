"""Calibration routes of the JSON API: sessions, the reveal, consensus, the report."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user

from observe.api import bp
from observe.audit.operations import record_now
from observe.calibration import report, sessions, trends
from observe.calibration.models import CalibrationSession
from observe.calibration.schemas import session_json
from observe.core.database import begin_write
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.roster import years


def session_detail(session: CalibrationSession) -> dict[str, Any]:
    """A session with who has submitted (never what), and its consensus once revealed."""
    detail = session_json(session)
    detail["progress"] = sessions.progress(session)
    detail["reveal_record"] = session.reveal_record if session.is_revealed else None
    detail["consensus"] = (
        [
            {
                "criterion": score.criterion.key,
                "level": score.level,
                "not_observed": score.not_observed,
                "rationale": score.rationale,
            }
            for score in sorted(session.consensus, key=lambda s: s.criterion.position)
        ]
        if session.is_revealed
        else None
    )
    return detail


@bp.get("/calibration/sessions")
def calibration_sessions() -> Response:
    return jsonify(sessions=[session_json(s) for s in sessions.visible_sessions(current_user)])


@bp.post("/calibration/sessions")
def create_calibration_session() -> tuple[Response, int]:
    begin_write()
    session = sessions.create_session(current_user, request.get_json(silent=True))
    db.session.commit()
    return jsonify(session_detail(session)), 201


@bp.get("/calibration/sessions/<int:session_id>")
def calibration_session(session_id: int) -> Response:
    return jsonify(session_detail(sessions.get_session(current_user, session_id)))


@bp.post("/calibration/sessions/<int:session_id>/reveal")
def reveal_calibration_session(session_id: int) -> Response:
    begin_write()
    session = sessions.reveal(current_user, sessions.get_session(current_user, session_id))
    db.session.commit()
    return jsonify(session_detail(session))


@bp.put("/calibration/sessions/<int:session_id>/consensus")
def record_consensus(session_id: int) -> Response:
    begin_write()
    session = sessions.get_session(current_user, session_id)
    sessions.record_consensus(current_user, session, request.get_json(silent=True))
    db.session.commit()
    return jsonify(session_detail(session))


@bp.get("/calibration/sessions/<int:session_id>/report")
def calibration_report(session_id: int) -> Response:
    session = sessions.get_session(current_user, session_id)
    built = report.build(current_user, session, report.Thresholds.from_config())
    record_now("calibration.report_viewed", "calibration_session", session_id)
    return jsonify(built)


@bp.get("/calibration/trends")
def calibration_trends() -> Response:
    """Each team's agreement per session, each observer's drift, the hardest criteria, over
    the sessions of the school year asked for (by default the current one)."""
    problems: dict[str, str] = {}
    period = years.period_for(request.args.get("year"), request.args.get("term"), problems)
    if problems:
        raise ValidationFailed.naming("The trends could not be made", problems)
    return jsonify(trends.build(current_user, report.Thresholds.from_config(), period))
