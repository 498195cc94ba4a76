"""The audit log's page and export (district admins only)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context

from observe.audit import access, operations, queries
from observe.audit.operations import record_now
from observe.core.permissions import requires
from observe.errors import ValidationFailed

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def _filters_or_problems() -> tuple[queries.Filters, int, dict[str, str]]:
    try:
        return queries.parse_filters(request.args), queries.parse_page(request.args.get("page")), {}
    except ValidationFailed as error:
        return queries.Filters(), 1, {key: str(value) for key, value in error.details.items()}


@bp.get("")
@requires(access.READ)
def index() -> tuple[str, int]:
    filters, page, problems = _filters_or_problems()
    events, more = ([], False) if problems else queries.search(filters, page)
    return render_template(
        "audit/index.html",
        events=events,
        more=more,
        page=page,
        filters=filters,
        args=request.args,
        problems=problems,
        actions=operations.ACTIONS,
    ), (422 if problems else 200)


@bp.get("/export.csv")
@requires(access.READ)
def export() -> Response:
    filters = queries.parse_filters(request.args)
    record_now("audit.exported", filters=filters.as_args())
    response = Response(
        stream_with_context(queries.csv_chunks(filters)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
