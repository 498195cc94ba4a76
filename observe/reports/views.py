"""The export page and its downloads: the same rows for the page, the API and the CLI."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user

from observe.api import bp as api_bp
from observe.errors import ValidationFailed
from observe.reports import export

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
