"""Calibration pages: the sessions, a new session, one session (progress, then its report),
and the team trends. They call the same operations as the JSON API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from observe.accounts.models import User
from observe.audit.operations import record_now
from observe.calibration import access, charts, reminders, report, sessions, trends
from observe.calibration.models import CalibrationSession
from observe.calibration.raters import refusal_words
from observe.core import clock, confirm, formatting
from observe.core.database import begin_write
from observe.core.formatting import day
from observe.core.mail import MailUnavailable
from observe.core.pdf import pdf_response, render_pdf
from observe.core.permissions import allowed
from observe.core.validation import form_number
from observe.errors import Conflict, Forbidden, ValidationFailed
from observe.extensions import db
from observe.roster import years
from observe.roster.queries import visible_schools
from observe.rubrics.models import Rubric

bp = Blueprint("calibration", __name__, url_prefix="/calibration")


@bp.app_template_filter("refusal_words")
def _refusal_words(stored: str | None) -> str:
    """Why a rater fit estimated no lean, in the reader's language (stored and in the JSON in
    English)."""
    return refusal_words(stored, _, formatting.percent)


@bp.get("/")
def index() -> str:
    listed = sessions.visible_sessions(current_user)
    progress = {s.id: sessions.progress(s) for s in listed}
    return render_template(
        "calibration/index.html",
        sessions=listed,
        progress=progress,
        can_create=allowed(current_user, access.CREATE),
    )


def _form_choices() -> dict[str, Any]:
    versions = [
        max(rubric.versions, key=lambda v: v.number)
        for rubric in db.session.scalars(select(Rubric).order_by(Rubric.key))
        if rubric.versions
    ]
    people = db.session.scalars(select(User).where(User.active).order_by(User.name))
    return {
        "schools": visible_schools(current_user),
        "versions": versions,
        "people": list(people),
    }


# Form text as the API's integer where it is one; anything else is left for the schema to name.
_as_number = form_number


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response | tuple[str, int]:
    if not allowed(current_user, access.CREATE):
        raise Forbidden("Only school leaders and district admins can create calibration sessions.")
    form = request.form
    problems: dict[str, str] = {}
    if request.method == "POST":
        body = {
            "title": form.get("title", ""),
            "team": form.get("team", ""),
            "rubric_version_id": _as_number(form.get("rubric_version_id")),
            "school_id": _as_number(form.get("school_id")),
            "classroom_id": _as_number(form.get("classroom_id")),
            "lesson_reference": form.get("lesson_reference", ""),
            "held_on": form.get("held_on", ""),
            "participant_ids": [_as_number(v) for v in form.getlist("participant_ids")],
            "anchor_id": _as_number(form.get("anchor_id")),
        }
        begin_write()
        try:
            session = sessions.create_session(current_user, body)
        except ValidationFailed as error:
            db.session.rollback()
            problems = {k: str(v) for k, v in error.details.items()} or {"": error.message}
        else:
            db.session.commit()
            flash(
                _(
                    "“%(title)s” is ready. Participants find it on their tablets at the next sync.",
                    title=session.title,
                ),
                "success",
            )
            return redirect(url_for("calibration.show", session_id=session.id))
    status = 422 if problems else 200
    return render_template(
        "calibration/new.html", form=form, problems=problems, **_form_choices()
    ), status


@bp.get("/<int:session_id>")
def show(session_id: int) -> str:
    session = sessions.get_session(current_user, session_id)
    context: dict[str, Any] = {
        "session": session,
        "progress": sessions.progress(session),
        "can_manage": allowed(current_user, access.MANAGE, session),
        "reminded": reminders.last_reminded(session),
    }
    if session.is_revealed:
        built = report.build(current_user, session, report.Thresholds.from_config())
        context["report"] = built
        context["agreement_chart"] = charts.agreement(built)
        record_now("calibration.report_viewed", "calibration_session", session_id)
    return render_template("calibration/session.html", **context)


@bp.get("/<int:session_id>/reveal")
def confirm_reveal(session_id: int) -> str | Response:
    """Before the reveal: who has not submitted, by name, and that scoring closes for them."""
    session = sessions.get_session(current_user, session_id)
    back = url_for("calibration.show", session_id=session_id)
    if not allowed(current_user, access.MANAGE, session):
        raise Forbidden("only the session's facilitator or a district admin can reveal scores")
    if session.is_revealed:
        return redirect(back)
    progress = sessions.progress(session)
    waiting = [p["user"]["name"] for p in progress if not p["submitted"]]
    done = len(progress) - len(waiting)
    lines = [
        _(
            "%(done)s of %(total)s participants have submitted their scores.",
            done=done,
            total=len(progress),
        ),
        _(
            "Revealing shows everyone's scores to the team and closes scoring: it cannot be "
            "undone, and nobody can add or change a score afterwards."
        ),
    ]
    return confirm.page(
        confirm.Confirmation(
            title=_("Reveal the scores of %(title)s?", title=session.title),
            action=url_for("calibration.reveal", session_id=session_id),
            button=_("Reveal the scores"),
            back=back,
            lines=lines,
            names_intro=_("Not submitted yet — they cannot score this lesson after the reveal:")
            if waiting
            else "",
            names=waiting,
            cancel=_("Not yet: back to the session"),
            danger=bool(waiting),
        )
    )


@bp.post("/<int:session_id>/reveal")
def reveal(session_id: int) -> Response:
    begin_write()
    session = sessions.get_session(current_user, session_id)
    if not allowed(current_user, access.MANAGE, session):
        raise Forbidden("only the session's facilitator or a district admin can reveal scores")
    if not confirm.confirmed():
        return confirm.ask_first(url_for("calibration.confirm_reveal", session_id=session_id))
    try:
        sessions.reveal(current_user, session)
    except Conflict as error:  # a Forbidden is a 403, as from the API
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The scores are revealed. Scoring is closed."), "success")
    return redirect(url_for("calibration.show", session_id=session_id))


@bp.post("/<int:session_id>/remind/<int:user_id>")
def remind(session_id: int, user_id: int) -> Response:
    """E-mail a participant who has not scored a link to the app (at most once an hour)."""
    begin_write()
    session = sessions.get_session(current_user, session_id)
    try:
        reminded = reminders.remind(current_user, session, user_id)
    except (Conflict, MailUnavailable) as error:  # a Forbidden is a 403, as elsewhere
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Reminded %(name)s by e-mail to score the lesson.", name=reminded.name), "success")
    return redirect(url_for("calibration.show", session_id=session_id) + "#progress-heading")


@bp.post("/<int:session_id>/consensus")
def consensus(session_id: int) -> Response:
    begin_write()
    session = sessions.get_session(current_user, session_id)
    if not allowed(current_user, access.MANAGE, session):
        raise Forbidden("only the session's facilitator or a district admin can record consensus")
    scores = []
    for key in request.form.getlist("criterion"):
        choice = request.form.get(f"level-{key}", "")
        if choice == "":
            continue  # not discussed
        scores.append(
            {
                "criterion": key,
                "level": None if choice == "none" else _as_number(choice),
                "not_observed": choice == "none",
                "rationale": request.form.get(f"rationale-{key}", ""),
            }
        )
    if not scores:
        flash(_("Choose the agreed level of at least one look-for."), "error")
        return redirect(url_for("calibration.show", session_id=session_id) + "#consensus")
    try:
        saved = sessions.record_consensus(current_user, session, {"scores": scores})
    except (Conflict, ValidationFailed) as error:  # a Forbidden is a 403, as from the API
        db.session.rollback()
        flash(_("No consensus score was saved. %(problem)s", problem=error.message), "error")
    else:
        db.session.commit()
        flash(
            ngettext(
                "Saved the consensus for %(num)d look-for.",
                "Saved the consensus for %(num)d look-fors.",
                len(saved),
            ),
            "success",
        )
    return redirect(url_for("calibration.show", session_id=session_id) + "#consensus")


@bp.get("/<int:session_id>/report.pdf")
def report_pdf(session_id: int) -> Response:
    session = sessions.get_session(current_user, session_id)
    built = report.build(current_user, session, report.Thresholds.from_config())
    pdf = print_session_report(session, built, request.args.get("paper"))
    record_now("calibration.report_printed", "calibration_session", session_id)
    return pdf_response(pdf, f"calibration-{session_id}.pdf")


def print_session_report(
    session: CalibrationSession, built: dict[str, Any], paper: str | None
) -> bytes:
    return render_pdf(
        "calibration/report_print.html",
        paper=paper,
        session=session,
        report=built,
        agreement_chart=charts.agreement(built),
        print_title=_("Calibration report: %(title)s", title=session.title),
        print_scope=session.team or session.school.name,
        print_period=day(session.held_on),
        printed_on=clock.today().isoformat(),
    )


@bp.get("/trends")
def trends_page() -> str:
    thresholds = report.Thresholds.from_config()
    problems: dict[str, str] = {}
    period = years.period_for(request.args.get("year"), request.args.get("term"), problems)
    built = trends.build(current_user, thresholds, period)
    return render_template(
        "calibration/trends.html",
        trends=built,
        problems=problems,
        years=[(y, years.terms(y)) for y in years.school_years()],
        period=period,
        charts=charts.for_trends(built, thresholds.within_one),
    )
