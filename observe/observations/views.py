"""Walkthrough pages: the list (filtered, a cursor page at a time; a classroom's or a teacher's
visits over time), one walkthrough with its history, those edited on two devices (choosing the
version to keep) and the teacher's feedback page, on screen and printed; and the page a teacher
opens from the e-mailed link, without an account (``teacher_bp``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from observe.audit.operations import record_now
from observe.core import clock, confirm
from observe.core.database import begin_write
from observe.core.formatting import day
from observe.core.pdf import pdf_response, render_pdf
from observe.core.permissions import allowed
from observe.errors import Conflict, Forbidden, NotFound, ValidationFailed
from observe.extensions import db
from observe.observations import access, feedback, feedback_loop, listing, operations, sending
from observe.observations.models import Observation
from observe.observations.schemas import history_json

bp = Blueprint("walkthroughs", __name__, url_prefix="/walkthroughs")
teacher_bp = Blueprint("teacher_feedback", __name__, url_prefix="/feedback")


@bp.get("/")
def index() -> tuple[str, int]:
    problems: dict[str, Any] = {}
    try:
        filters, cursor, limit = listing.parse(current_user, request.args)
    except ValidationFailed as error:
        problems = error.details
        filters, cursor, limit = listing.Filters(), None, listing.PAGE_SIZE
    found = None if problems else listing.page(current_user, filters, cursor, limit)
    focus = listing.focus(filters) if not problems else None
    months = listing.visits_by_month(current_user, filters) if focus else []
    loop = feedback_loop.loop(current_user, filters) if found and cursor is None else None
    return render_template(
        "observations/index.html",
        problems=problems,
        args=request.args,
        filters=filters,
        choices=listing.choices(current_user, filters),
        states=listing.STATES,
        page=found,
        first_page=cursor is None,
        focus=focus,
        months=months,
        feedback_loop=loop,
        # Links to other pages keep the filters and the page size.
        query_args=filters.query_args() | ({} if limit == listing.PAGE_SIZE else {"limit": limit}),
        limit=limit,
    ), 422 if problems else 200


@bp.get("/<observation_id>")
def show(observation_id: str) -> str:
    observation = _for_feedback(observation_id)
    history = history_json(observation)
    record_now("walkthrough.history_viewed", "observation", observation.id, page="walkthrough")
    return render_template(
        "observations/show.html",
        observation=observation,
        feedback=feedback.build(observation),
        versions=list(reversed(history["versions"])),
        sends=sending.sends_of(observation),
        may_send=allowed(current_user, access.SEND_FEEDBACK, observation),
        can_delete=allowed(current_user, access.DELETE, observation),
    )


@bp.get("/<observation_id>/delete")
def confirm_delete(observation_id: str) -> str:
    observation = _deletable(observation_id)
    built = feedback.build(observation)
    when = clock.local(observation.observed_at)
    return confirm.page(
        confirm.Confirmation(
            title=_(
                "Delete the walkthrough of %(classroom)s, %(date)s?",
                classroom=built["classroom"],
                date=day(when.date()),
            ),
            action=url_for("walkthroughs.delete", observation_id=observation.id),
            button=_("Delete this walkthrough"),
            back=url_for("walkthroughs.show", observation_id=observation.id),
            lines=[
                _(
                    "%(observer)s's walkthrough at %(school)s, %(time)s. Deleting it takes it "
                    "out of the reports, the lists and the teacher's feedback; the observer's "
                    "tablets learn of it at their next sync.",
                    observer=built["observer"],
                    school=built["school"],
                    time=when.strftime("%H:%M"),
                ),
                _(
                    "This cannot be undone here: its versions stay on the server for the "
                    "record, but the walkthrough does not come back."
                ),
            ],
            cancel=_("Keep it"),
        )
    )


@bp.post("/<observation_id>/delete")
def delete(observation_id: str) -> WerkzeugResponse:
    begin_write()
    observation = _deletable(observation_id)
    if not confirm.confirmed():
        db.session.rollback()
        asked = url_for("walkthroughs.confirm_delete", observation_id=observation.id)
        return confirm.ask_first(asked)
    try:
        operations.delete_observation(current_user, observation.id)
    except Conflict as error:
        db.session.rollback()
        flash(_("Nothing was deleted. %(problem)s", problem=error.message), "error")
        return redirect(url_for("walkthroughs.show", observation_id=observation_id))
    db.session.commit()
    flash(_("The walkthrough is deleted."), "info")
    return redirect(url_for("walkthroughs.index"))


def _deletable(observation_id: str) -> Observation:
    """A walkthrough (not a calibration score, not deleted) the requester may delete: 404 for
    one they cannot read, 403 for one they may read but not delete."""
    observation = _for_feedback(observation_id)
    if not allowed(current_user, access.DELETE, observation):
        raise Forbidden(_("only its author or a district admin can delete a walkthrough"))
    return observation


@bp.get("/conflicts")
def conflicts() -> str:
    return render_template(
        "observations/conflicts.html", observations=operations.conflicted(current_user)
    )


def _walkthrough(observation_id: str) -> Observation:
    return operations.walkthrough_for(current_user, observation_id)


@bp.get("/<observation_id>/reconcile")
def reconcile_page(observation_id: str) -> str:
    observation = _walkthrough(observation_id)
    history = history_json(observation)
    candidates = [v for v in history["versions"] if v["leaf"]]
    record_now("walkthrough.history_viewed", "observation", observation.id, page="reconcile")
    return render_template(
        "observations/reconcile.html",
        observation=observation,
        candidates=candidates,
        rows=_compare(observation, candidates),
    )


def _compare(observation: Observation, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per look-for (then the strengths, the next step and the notes): what each
    candidate says, and whether they differ."""
    rows = []
    for criterion in observation.rubric_version.criteria:
        labels = {level["value"]: level["label"] for level in criterion.levels}
        cells = []
        for version in candidates:
            rating = next(
                (r for r in version["payload"]["ratings"] if r["criterion"] == criterion.key), None
            )
            if rating is None:
                cells.append({"text": "Not rated", "evidence": ""})
            elif rating["not_observed"]:
                cells.append({"text": "Not observed", "evidence": rating["evidence"]})
            else:
                level = rating["level"]
                text = "Not rated" if level is None else f"{level} · {labels.get(level, '')}"
                cells.append({"text": text, "evidence": rating["evidence"]})
        differs = len({(c["text"], c["evidence"]) for c in cells}) > 1
        rows.append({"label": criterion.text, "cells": cells, "differs": differs})
    for label, key in (("Strengths", "strengths"), ("One next step", "next_step")):
        cells = [{"text": v["payload"].get(key) or "—", "evidence": ""} for v in candidates]
        rows.append(
            {"label": label, "cells": cells, "differs": len({c["text"] for c in cells}) > 1}
        )
    notes = [{"text": v["payload"]["notes"] or "—", "evidence": ""} for v in candidates]
    rows.append(
        {"label": "Overall notes", "cells": notes, "differs": len({c["text"] for c in notes}) > 1}
    )
    return rows


def _for_feedback(observation_id: str) -> Observation:
    observation = _walkthrough(observation_id)
    if observation.is_deleted or observation.calibration_session_id is not None:
        # A calibration score is practice in seeing alike, not a visit to give feedback on.
        raise NotFound(_("There is no walkthrough %(id)s to give feedback on.", id=observation_id))
    return observation


@bp.get("/<observation_id>/feedback")
def feedback_page(observation_id: str) -> str:
    built = feedback.build(_for_feedback(observation_id))
    record_now("walkthrough.feedback_viewed", "observation", observation_id)
    return render_template("observations/feedback.html", feedback=built)


@bp.get("/<observation_id>/feedback.pdf")
def feedback_pdf(observation_id: str) -> Response:
    observation = _for_feedback(observation_id)
    pdf = print_feedback(observation, request.args.get("paper"))
    name = f"walkthrough-{clock.local(observation.observed_at):%Y-%m-%d}-{observation.id[:8]}.pdf"
    record_now("walkthrough.feedback_printed", "observation", observation.id)
    return pdf_response(pdf, name)


def print_feedback(observation: Observation, paper: str | None) -> bytes:
    built = feedback.build(observation)
    return render_pdf(
        "observations/feedback_print.html",
        paper=paper,
        feedback=built,
        print_title=_("Walkthrough feedback"),
        print_scope=f"{built['classroom']}, {built['school']}",
        print_period=day(clock.local(observation.observed_at).date()),
        printed_on=clock.today().isoformat(),
    )


@bp.post("/<observation_id>/reconcile")
def reconcile(observation_id: str) -> WerkzeugResponse:
    begin_write()
    _walkthrough(observation_id)
    try:
        operations.reconcile(current_user, observation_id, request.form.get("version_id"))
    except (Conflict, ValidationFailed) as error:
        db.session.rollback()
        flash(_("Nothing was changed. %(problem)s", problem=error.message), "error")
        return redirect(url_for("walkthroughs.reconcile_page", observation_id=observation_id))
    db.session.commit()
    flash(
        _(
            "Reconciled: the version you chose is the walkthrough now, and every version is "
            "kept. The observer's tablets receive it at their next sync."
        ),
        "success",
    )
    return redirect(url_for("walkthroughs.conflicts"))


# ---- the teacher's page, opened from the e-mailed link ------------------------------------------


@teacher_bp.route("/t/<token>", methods=["GET", "POST"])
def teacher_page(token: str) -> tuple[str, int] | WerkzeugResponse:
    """The feedback, "I have read this" and a short reflection, for whoever holds the link (no
    account). A link that does not work says so and nothing else."""
    try:
        send = sending.send_for_token(token)
    except sending.LinkRefused as refused:
        return render_template(
            "observations/link_refused.html", message=refused.message, status=refused.status
        ), refused.status
    problems: dict[str, str] = {}
    reflection = send.reflection
    if request.method == "POST":
        reflection = request.form.get("reflection", "")
        begin_write()
        send = sending.send_for_token(token)
        try:
            sending.acknowledge(send, reflection)
        except ValidationFailed as error:
            db.session.rollback()
            problems = {"reflection": error.message}
            send = sending.send_for_token(token)
        else:
            db.session.commit()
            thanks = (
                _(
                    "Thank you. %(observer)s will see that you have read it and your reflection.",
                    observer=send.observation.author.name,
                )
                if send.reflection
                else _(
                    "Thank you. %(observer)s will see that you have read it.",
                    observer=send.observation.author.name,
                )
            )
            flash(thanks, "success")
            return redirect(url_for("teacher_feedback.teacher_page", token=token))
    return render_template(
        "observations/teacher_feedback.html",
        feedback=feedback.build(send.observation),
        send=send,
        reflection=reflection,
        problems=problems,
        max_reflection=sending.MAX_REFLECTION,
    ), 422 if problems else 200
