"""Report pages and their API routes: exports, the summary report, equity goals. Each page, its
PDF, its API route and its command share one operation, so they say the same thing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from observe.accounts.models import User, user_school
from observe.audit.operations import record_now
from observe.core import clock, confirm
from observe.core.database import begin_write
from observe.core.pdf import pdf_response, render_pdf
from observe.core.permissions import allowed, visible_school_ids
from observe.core.validation import form_number
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.reports import access, charts, coverage, export, goals, summary
from observe.roster.models import ClassroomAttribute, SchoolAttribute
from observe.roster.queries import visible_schools
from observe.rubrics.models import EquityDimension, RubricVersion

bp = Blueprint("reports", __name__, url_prefix="/reports")

MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def scope_from_request() -> tuple[str, export.Scope]:
    """The format and scope asked for; every problem with them named at once."""
    fmt = request.args.get("format") or "csv"  # exactly as documented: csv or json
    problems: dict[str, str] = {}
    if fmt not in export.FORMATS:
        problems["format"] = f"must be csv or json, not {fmt!r}"
    try:
        scope = export.parse_scope(
            current_user,
            request.args.get("from"),
            request.args.get("to"),
            request.args.getlist("school"),
        )
    except ValidationFailed as error:
        problems.update(error.details)
    if problems:
        raise ValidationFailed.naming("Nothing was exported", problems)
    return fmt, scope


def download(fmt: str, scope: export.Scope) -> Response:
    record_now(
        "ratings.exported",
        format=fmt,
        start=str(scope.start or ""),
        end=str(scope.end or ""),
        schools=scope.school_codes,
    )
    records = export.parts(current_user._get_current_object(), scope)
    response = Response(stream_with_context(export.chunks(fmt, records)), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="observations.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/export")
def export_page() -> str:
    return render_template("reports/export.html", problems={}, args=request.args)


@bp.get("/export/download")
def export_download() -> Response | tuple[str, int]:
    try:
        fmt, scope = scope_from_request()
    except ValidationFailed as error:
        problems = {k: str(v) for k, v in error.details.items()}
        return render_template("reports/export.html", problems=problems, args=request.args), 422
    return download(fmt, scope)


# ---- the summary report ------------------------------------------------------------------------


def _form_choices() -> dict[str, Any]:
    versions = db.session.scalars(select(RubricVersion).order_by(RubricVersion.id)).all()
    districts = sorted(
        {f"school:{n}" for n in db.session.scalars(select(SchoolAttribute.name).distinct())}
        | {f"classroom:{n}" for n in db.session.scalars(select(ClassroomAttribute.name).distinct())}
    )
    splits: list[tuple[str, str | None]] = list(summary.ATTRIBUTES.items())
    splits += [(key, summary.by_label(key)) for key in districts]
    return {
        "versions": versions,
        "splits": splits,
        "schools": visible_schools(current_user),
        "people": _visible_people(),
        "chosen_schools": _chosen(request.args, "school"),
        "chosen_people": [email.lower() for email in _chosen(request.args, "observer")],
    }


def _visible_people() -> list[User]:
    """The people a reader may pick an observer team from: those who work in the reader's
    schools (everyone, for a district admin) — as the report itself accepts them."""
    people = select(User).order_by(User.name, User.email)
    visible = visible_school_ids(current_user)
    if visible is not None:
        mine = select(user_school.c.user_id).where(user_school.c.school_id.in_(visible))
        people = people.where(User.id.in_(mine))
    return list(db.session.scalars(people))


def _chosen(args: Any, name: str) -> list[str]:
    """A multiple choice as sent: repeated parameters, or one with commas (a link, the CLI)."""
    return [
        part.strip() for value in args.getlist(name) for part in value.split(",") if part.strip()
    ]


def summary_from_request() -> tuple[summary.Query, dict[str, Any]]:
    query = summary.parse_query(current_user, request.args)
    # The goals set for this rubric in this scope, with their progress: their months and the
    # trend's are hidden by one decision (observe/reports/suppression.py).
    listed = [
        goal
        for goal in goals.visible_goals(current_user)
        if goal.rubric_version_id == query.rubric_version_id
        and (
            goal.school is None or not query.school_codes or goal.school.code in query.school_codes
        )
    ]
    report = goals.summary_with_goals(current_user, query, listed)
    return query, report


@bp.get("/summary")
def summary_page() -> tuple[str, int]:
    problems: dict[str, str] = {}
    report = query = None
    try:
        query, report = summary_from_request()
    except ValidationFailed as error:
        problems = {k: str(v) for k, v in error.details.items()}
    status = 422 if problems else 200
    return render_template(
        "reports/summary.html",
        report=report,
        query=query,
        problems=problems,
        args=request.args,
        link_args=_summary_link_args(),
        charts=charts.for_summary(report) if report and not report["suppressed"] else {},
        **_form_choices(),
    ), status


# What a link to the same summary (its PDF) carries: only the report's own parameters, never
# url_for's reserved ones (``_method``, ``_external``, ``_anchor``…) or ``paper``, which the
# links set themselves.
SUMMARY_PARAMETERS = ("rubric_version_id", "from", "to", "school", "observer", "by", "at_least")


def _summary_link_args() -> dict[str, list[str]]:
    return {k: request.args.getlist(k) for k in SUMMARY_PARAMETERS if k in request.args}


@bp.get("/summary.pdf")
def summary_pdf() -> Response:
    report = summary_from_request()[1]
    return pdf_response(print_summary(report, request.args.get("paper")), "summary.pdf")


def print_summary(report: dict[str, Any], paper: str | None) -> bytes:
    scope = report["scope"]
    schools = ", ".join(scope["schools"]) if scope["schools"] else "all schools in scope"
    period = f"{scope['from'] or 'the beginning'} to {scope['to'] or 'today'}"
    return render_pdf(
        "reports/summary_print.html",
        paper=paper,
        report=report,
        charts=charts.for_summary(report) if not report["suppressed"] else {},
        print_title=f"Walkthrough summary: {scope['rubric']}",
        print_scope=schools + (f", by {scope['by_label']}" if scope["by"] else ""),
        print_period=period,
        printed_on=clock.today().isoformat(),
    )


# ---- the coverage report -----------------------------------------------------------------------

COVERAGE_PARAMETERS = ("from", "to", "school")
# Up to this many schools, the page shows each one's not-visited list; beyond, a district's
# thousands of rooms would be a page nobody reads: a link to each school's list instead.
COVERAGE_LISTS_INLINE = 12


def coverage_from_request() -> dict[str, Any]:
    """The coverage report for the request's filters (a bad one: 400, named)."""
    return coverage.build(current_user, coverage.parse_query(current_user, request.args))


@bp.get("/coverage")
def coverage_page() -> tuple[str, int]:
    problems: dict[str, str] = {}
    report = None
    try:
        report = coverage_from_request()
    except ValidationFailed as error:
        problems = {k: str(v) for k, v in error.details.items()}
    periods = {
        "This month": coverage.this_month(),
        "Last month": coverage.last_month(),
        "School year to date": coverage.school_year(),
    }
    link_args = {k: request.args.getlist(k) for k in COVERAGE_PARAMETERS if k in request.args}
    return render_template(
        "reports/coverage.html",
        report=report,
        problems=problems,
        args=request.args,
        link_args=link_args,
        periods={label: (a.isoformat(), b.isoformat()) for label, (a, b) in periods.items()},
        schools=visible_schools(current_user),
        chosen_schools=_chosen(request.args, "school"),
        lists_inline=COVERAGE_LISTS_INLINE,
    ), (coverage.BadFilter.status if problems else 200)


@bp.get("/coverage.pdf")
def coverage_pdf() -> Response:
    report = coverage_from_request()
    return pdf_response(print_coverage(report, request.args.get("paper")), "coverage.pdf")


def print_coverage(report: dict[str, Any], paper: str | None) -> bytes:
    scope = report["scope"]
    schools = ", ".join(scope["school_names"]) if scope["school_names"] else "all schools in scope"
    return render_pdf(
        "reports/coverage_print.html",
        paper=paper,
        report=report,
        print_title="Walkthrough coverage",
        print_scope=schools,
        print_period=f"{scope['from']} to {scope['to']}",
        printed_on=clock.today().isoformat(),
    )


# ---- equity goals ------------------------------------------------------------------------------


@bp.get("/goals")
def goals_page() -> tuple[str, int]:
    return _goals_page({}, {})


def _goals_page(
    problems: dict[str, str], form: Mapping[str, str], status: int = 200
) -> tuple[str, int]:
    versions = db.session.scalars(select(RubricVersion).order_by(RubricVersion.id)).all()
    visible_goals = goals.visible_goals(current_user)
    listed = goals.progress_all(visible_goals)
    removable = {g.id for g in visible_goals if allowed(current_user, access.REMOVE_GOAL, g)}
    return render_template(
        "reports/goals.html",
        goals=listed,
        goal_charts={g["id"]: charts.goal(g) for g in listed},
        versions=versions,
        schools=visible_schools(current_user),
        targets=_goal_targets(versions),
        problems=problems,
        form=form,
        can_set=allowed(current_user, access.SET_GOALS),
        removable=removable,
        dimensions=[d.value for d in EquityDimension],
    ), status


@bp.post("/goals")
def create_goal_form() -> BaseResponse | tuple[str, int]:
    form = request.form
    share = form.get("target_percent", "").strip()
    body = {
        "title": form.get("title", ""),
        "rubric_version_id": form_number(form.get("rubric_version_id")),
        "target_kind": form.get("target_kind", ""),
        "target_key": form.get("target_key", "").strip(),
        "at_least": form_number(form.get("at_least")),
        "target_share": _share(share),
        "school_code": form.get("school_code") or None,
        "deadline": form.get("deadline", ""),
    }
    if form.get("starts_on"):
        body["starts_on"] = form["starts_on"]
    begin_write()
    try:
        goal = goals.create_goal(current_user, body)
    except ValidationFailed as error:
        db.session.rollback()
        problems = {k: str(v) for k, v in error.details.items()} or {"": error.message}
        return _goals_page(problems, form, 422)
    db.session.commit()
    flash(f"Goal set: “{goal.title}”.", "success")
    return redirect(url_for("reports.goals_page"))


def _share(text: str) -> float | str:
    """A percentage typed in the form as the API's share (0.8 for 80); anything else as typed,
    for the API to name."""
    if _PERCENT.fullmatch(text):
        return float(text) / 100
    return text


_PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,4})?")


@bp.get("/goals/<int:goal_id>/delete")
def confirm_delete_goal(goal_id: int) -> str:
    goal = goals.removable_goal(current_user, goal_id)
    where = goal.school.name if goal.school else "the district"
    return confirm.page(
        confirm.Confirmation(
            title=f"Remove the goal “{goal.title}”?",
            action=url_for("reports.delete_goal_form", goal_id=goal_id),
            button="Remove this goal",
            back=url_for("reports.goals_page"),
            lines=[
                f"It is {where}'s goal. Removing it takes it off the goals page and the summary "
                "report for everyone; it cannot be undone (it can only be set again, by hand).",
                "The walkthroughs it measured are not touched.",
            ],
            cancel="Keep it",
        )
    )


@bp.post("/goals/<int:goal_id>/delete")
def delete_goal_form(goal_id: int) -> BaseResponse:
    begin_write()
    if not confirm.confirmed():
        goals.removable_goal(current_user, goal_id)  # refused (404, 403) before being asked
        db.session.rollback()
        return confirm.ask_first(url_for("reports.confirm_delete_goal", goal_id=goal_id))
    goals.delete_goal(current_user, goal_id)
    db.session.commit()
    flash("The goal is removed.", "info")
    return redirect(url_for("reports.goals_page"))


def _goal_targets(versions: Sequence[RubricVersion]) -> list[tuple[str, str]]:
    """What a goal may be set on, as (key, what a person reads) for the form's type-ahead: the
    equity dimensions, then each rubric version's competencies and look-fors."""
    targets = [(d.value, f"Equity dimension: {d.value}") for d in EquityDimension]
    for version in versions:
        targets += [
            (c.key, f"Competency: {c.name} ({version.label})") for c in version.competencies
        ]
        targets += [(c.key, f"Look-for: {c.text} ({version.label})") for c in version.criteria]
    return targets
