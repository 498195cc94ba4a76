"""The export page and its downloads: the same rows for the page, the API and the CLI."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context
from flask_login import current_user
from sqlalchemy import select

from observe.api import bp as api_bp
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.reports import charts, export, summary
from observe.reports.pdf import pdf_response, render_pdf
from observe.roster.models import ClassroomAttribute, SchoolAttribute
from observe.rubrics.models import RubricVersion

bp = Blueprint("reports", __name__, url_prefix="/reports")

MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _scope_from_request() -> tuple[str, export.Scope]:
    """The format and scope asked for; every problem with them named at once."""
    fmt = (request.args.get("format") or "csv").lower()
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
        summary = "; ".join(f"{k}: {v}" for k, v in problems.items())
        raise ValidationFailed(f"Nothing was exported: {summary}", details=problems)
    return fmt, scope


def _download(fmt: str, scope: export.Scope) -> Response:
    records = export.parts(current_user._get_current_object(), scope)
    response = Response(stream_with_context(export.chunks(fmt, records)), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="observations.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/export")
def export_page():
    return render_template("reports/export.html", problems={}, args=request.args)


@bp.get("/export/download")
def export_download():
    try:
        fmt, scope = _scope_from_request()
    except ValidationFailed as error:
        problems = {k: str(v) for k, v in error.details.items()}
        return render_template("reports/export.html", problems=problems, args=request.args), 422
    return _download(fmt, scope)


@api_bp.get("/exports/observations")
def api_export():
    """Every rating of the walkthroughs the caller may see, one row each, streamed."""
    return _download(*_scope_from_request())


# ---- the summary report ------------------------------------------------------------------------


def _form_choices() -> dict:
    versions = db.session.scalars(select(RubricVersion).order_by(RubricVersion.id)).all()
    districts = sorted(
        {f"school:{n}" for n in db.session.scalars(select(SchoolAttribute.name).distinct())}
        | {f"classroom:{n}" for n in db.session.scalars(select(ClassroomAttribute.name).distinct())}
    )
    splits = [(key, label) for key, label in summary.ATTRIBUTES.items()]
    splits += [(key, summary._by_label(key)) for key in districts]
    return {"versions": versions, "splits": splits}


def _summary_from_request() -> tuple[summary.Query, dict]:
    query = summary.parse_query(current_user, request.args)
    return query, summary.build(current_user, query)


@bp.get("/summary")
def summary_page():
    problems: dict[str, str] = {}
    report = query = None
    try:
        query, report = _summary_from_request()
    except ValidationFailed as error:
        problems = {k: str(v) for k, v in error.details.items()}
    status = 422 if problems else 200
    return render_template(
        "reports/summary.html",
        report=report,
        query=query,
        problems=problems,
        args=request.args,
        charts=charts.for_summary(report) if report and not report["suppressed"] else {},
        **_form_choices(),
    ), status


@bp.get("/summary.pdf")
def summary_pdf():
    report = _summary_from_request()[1]
    return pdf_response(print_summary(report, request.args.get("paper")), "summary.pdf")


def print_summary(report: dict, paper: str | None) -> bytes:
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
        printed_on=date.today().isoformat(),
    )


@api_bp.get("/reports/summary")
def api_summary():
    """The summary report's figures, with the same scope and suppression as the page."""
    return jsonify(_summary_from_request()[1])
