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
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from observe.accounts.models import User, user_school
from observe.audit.operations import record_now
from observe.core import clock, confirm
from observe.core.database import begin_write
from observe.core.pdf import pdf_response, render_pdf
from observe.core.permissions import allowed, check, visible_school_ids
from observe.core.validation import form_number
from observe.errors import NotFound, ValidationFailed
from observe.extensions import db
from observe.reports import (
    access,
    charts,
    coverage,
    dimensions,
    export,
    goals,
    periods,
    summary,
    suppression,
    wording,
    years,
)
from observe.reports.headline import what_stands_out
from observe.roster import years as roster_years
from observe.roster.models import ClassroomAttribute, SchoolAttribute
from observe.roster.queries import visible_schools
from observe.rubrics.models import EquityDimension, RubricVersion
from observe.rubrics.queries import wording as rubric_wording
from observe.rubrics.translations import dimension_name

bp = Blueprint("reports", __name__, url_prefix="/reports")

MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def scope_from_request() -> tuple[str, export.Scope]:
    """The format and scope asked for; every problem with them named at once."""
    fmt = request.args.get("format") or "csv"  # exactly as documented: csv or json
    problems: dict[str, str] = {}
    if fmt not in export.FORMATS:
        problems["format"] = _("must be csv or json, not %(format)s", format=repr(fmt))
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
    splits: list[tuple[str, str | None]] = [(k, str(v)) for k, v in summary.ATTRIBUTES.items()]
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
    period = periods.read_period(request.args, {})  # parse_query has named any problem
    # The goals set for this rubric in this scope (and judged in its school year), with their
    # progress: their months and the trend's are hidden by one decision (reports/suppression.py).
    in_year = roster_years.period_for(str(period.year.id), None, {}) if period.year else None
    every_goal = goals.visible_goals(current_user)
    listed = [
        goal
        for goal in (years.goals_in(in_year, every_goal) if in_year else every_goal)
        if goal.rubric_version_id in query.version_ids
        and (
            goal.school is None or not query.school_codes or goal.school.code in query.school_codes
        )
    ]
    report = goals.summary_with_goals(current_user, query, listed)
    report["scope"]["period"] = _period_json(period)
    report["compare"] = years.compare_with_last_year(current_user, query, period, report)
    # What its rubric says, in the reader's language, before anything quotes it (the headline).
    wording.summary_in_reader_language(
        report, db.session.get_one(RubricVersion, query.rubric_version_id)
    )
    report["headline"] = what_stands_out(report)  # from the figures above, as shown
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
        **_year_choices(),
    ), status


def _period_json(period: roster_years.Period) -> dict[str, Any]:
    return {
        "label": _("the dates chosen") if period.start and not period.year else period.label,
        "year": roster_years.session_json(period.year) if period.year else None,
        "term": roster_years.session_json(period.term) if period.term else None,
        "chosen": period.chosen,
    }


def _year_choices() -> dict[str, Any]:
    """The year picker: every school year with its terms, and the one showing."""
    period = periods.read_period(request.args, {})
    listed = roster_years.school_years()
    return {
        "years": [(y, roster_years.terms(y)) for y in listed],
        "period": period,
    }


# What a link to the same summary (its PDF) carries: only the report's own parameters, never
# url_for's reserved ones (``_method``, ``_external``, ``_anchor``…) or ``paper``, which the
# links set themselves.
SUMMARY_PARAMETERS = (
    "rubric_version_id",
    "versions",
    "from",
    "to",
    "year",
    "term",
    "school",
    "observer",
    "by",
    "at_least",
)


def _summary_link_args() -> dict[str, list[str]]:
    return {k: request.args.getlist(k) for k in SUMMARY_PARAMETERS if k in request.args}


@bp.app_template_filter("reason_words")
def _reason_words(reason: str | None) -> str:
    """A hidden figure's reason in the reader's language (the JSON keeps its English value)."""
    return suppression.reason_words(reason)


@bp.app_template_filter("dimension_label")
def _dimension_label(key: str, report: dict[str, Any]) -> str:
    """An equity dimension's name for the reader of ``report`` (its key stays in the JSON)."""
    return dimensions.label(report, key)


@bp.get("/summary.pdf")
def summary_pdf() -> Response:
    report = summary_from_request()[1]
    return pdf_response(print_summary(report, request.args.get("paper")), "summary.pdf")


def print_summary(report: dict[str, Any], paper: str | None) -> bytes:
    scope = report["scope"]
    schools = ", ".join(scope["schools"]) if scope["schools"] else _("all schools in scope")
    period = _(
        "%(start)s to %(end)s",
        start=scope["from"] or _("the beginning"),
        end=scope["to"] or _("today"),
    )
    if scope.get("period") and scope["period"]["year"]:
        period = f"{scope['period']['label']}: {period}"
    return render_pdf(
        "reports/summary_print.html",
        paper=paper,
        report=report,
        charts=charts.for_summary(report) if not report["suppressed"] else {},
        print_title=_("Walkthrough summary: %(rubric)s", rubric=scope["rubric"]),
        print_scope=(
            _("%(schools)s, by %(split)s", schools=schools, split=scope["by_label"])
            if scope["by"]
            else schools
        ),
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
        _("This month"): coverage.this_month(),
        _("Last month"): coverage.last_month(),
        _("School year to date"): coverage.school_year(),
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
    year_problems: dict[str, str] = {}
    period = roster_years.period_for(request.args.get("year"), None, year_problems)
    every_goal = goals.visible_goals(current_user)
    visible_goals = years.goals_in(period, every_goal)
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
        period=period,
        year_problems=year_problems,
        school_years=years.year_rows(current_user, every_goal),
        default_year=roster_years.current_year(),
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
    flash(_("Goal set: “%(title)s”.", title=goal.title), "success")
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
    flash(_("The goal is removed."), "info")
    return redirect(url_for("reports.goals_page"))


def _goal_targets(versions: Sequence[RubricVersion]) -> list[tuple[str, str]]:
    """What a goal may be set on, as (key, what a person reads) for the form's type-ahead: the
    equity dimensions, then each rubric version's competencies and look-fors."""
    targets = [
        (d.value, _("Equity dimension: %(name)s", name=dimension_name(d.value).lower()))
        for d in EquityDimension
    ]
    for version in versions:
        said = rubric_wording(version)
        targets += [
            (
                c.key,
                _(
                    "Competency: %(name)s (%(version)s)",
                    name=said.competency(c.name, c.key),
                    version=version.label,
                ),
            )
            for c in version.competencies
        ]
        targets += [
            (
                c.key,
                _(
                    "Look-for: %(text)s (%(version)s)",
                    text=said.criterion(c.text, c.key),
                    version=version.label,
                ),
            )
            for c in version.criteria
        ]
    return targets


# ---- school years: closing one, carrying its goals -------------------------------------------


@bp.get("/years/<int:year_id>/close")
def confirm_close_year(year_id: int) -> str:
    year = years.closable(current_user, _year(year_id))
    count = len(years.goals_of(year))
    return confirm.page(
        confirm.Confirmation(
            title=_("Close the school year %(year)s?", year=year.title),
            action=url_for("reports.close_year_form", year_id=year_id),
            button=_("Close %(year)s", year=year.title),
            back=url_for("reports.goals_page", year=year.id),
            lines=[
                ngettext(
                    "Its %(num)d goal keeps its final result (met or not met, with the figure "
                    "that decided it) from now on: a later roster import, re-rating or rubric "
                    "change does not change it.",
                    "Its %(num)d goals keep their final result (met or not met, with the figure "
                    "that decided it) from now on: a later roster import, re-rating or rubric "
                    "change does not change them.",
                    count,
                ),
                _("The year's dates can no longer change. Closing cannot be undone."),
            ],
            cancel=_("Keep it open"),
        )
    )


@bp.post("/years/<int:year_id>/close")
def close_year_form(year_id: int) -> BaseResponse:
    begin_write()
    year = _year(year_id)
    if not confirm.confirmed():
        years.closable(current_user, year)  # refused (403, 422) before being asked
        db.session.rollback()
        return confirm.ask_first(url_for("reports.confirm_close_year", year_id=year_id))
    _closed, frozen = years.close_year(current_user, year)
    db.session.commit()
    flash(
        _(
            "%(year)s is closed; %(n)s goal(s) keep their final result.",
            year=year.title,
            n=len(frozen),
        ),
        "info",
    )
    return redirect(url_for("reports.goals_page", year=year_id))


@bp.get("/years/<int:year_id>/carry")
def confirm_carry_goals(year_id: int) -> str:
    year, last = _carry_years(year_id)
    count = len(years.goals_of(last))
    return confirm.page(
        confirm.Confirmation(
            title=_("Start %(year)s's goals from %(last)s's?", year=year.title, last=last.title),
            action=url_for("reports.carry_goals_form", year_id=year_id),
            button=_("Start the goals"),
            back=url_for("reports.goals_page", year=year.id),
            lines=[
                ngettext(
                    "%(last)s's %(num)d goal is set again for %(year)s: the same target, "
                    "level, share and school, with dates as far into the new year as they were "
                    "into the old. Goals carried before are skipped.",
                    "Each of %(last)s's %(num)d goals is set again for %(year)s: the same "
                    "target, level, share and school, with dates as far into the new year as "
                    "they were into the old. Goals carried before are skipped.",
                    count,
                    last=last.title,
                    year=year.title,
                ),
                _("Each new goal can be removed afterwards like any other."),
            ],
            danger=False,
        )
    )


@bp.post("/years/<int:year_id>/carry")
def carry_goals_form(year_id: int) -> BaseResponse:
    begin_write()
    year, last = _carry_years(year_id)
    if not confirm.confirmed():
        db.session.rollback()
        return confirm.ask_first(url_for("reports.confirm_carry_goals", year_id=year_id))
    carried, _skipped = years.carry_goals(current_user, last.title, year.title)
    db.session.commit()
    flash(" ".join(carried.lines(year)), "success")
    return redirect(url_for("reports.goals_page", year=year_id))


def _year(year_id: int) -> roster_years.AcademicSession:
    year = db.session.get(roster_years.AcademicSession, year_id)
    if year is None or not year.is_year:
        raise NotFound(_("no school year %(id)s", id=year_id))
    return year


def _carry_years(
    year_id: int,
) -> tuple[roster_years.AcademicSession, roster_years.AcademicSession]:
    """The year to start goals in and the year before it, for a district admin."""
    check(current_user, access.CLOSE_YEAR, refusal=_("only a district admin carries goals"))
    year = _year(year_id)
    last = roster_years.year_before(year)
    if last is None:
        raise ValidationFailed.naming(
            _("No goal was carried"),
            {"year": _("no school year before %(year)s is stored", year=year.title)},
        )
    return year, last
