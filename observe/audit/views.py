"""The audit log's page and export (district admins only), and the helpers other views use to
record what has no write of its own to ride with (a read of teacher-level data, a failed
sign-in): those commit an event in a transaction of its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from sqlalchemy import select

from observe.accounts.models import Role
from observe.audit import operations, queries
from observe.audit.models import AuditEvent
from observe.core.database import begin_write
from observe.core.models import utcnow
from observe.core.permissions import require_role
from observe.errors import ValidationFailed
from observe.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def record_now(action: str, object_type: str = "", object_id: object = "", **detail: Any) -> None:
    """Record what the signed-in user did that writes nothing else (read or downloaded
    teacher-level data, signed out), and commit.

    Call it after the data is loaded and the access check passed, with nothing else unsaved:
    the request's transaction is committed and a writing one begun.
    """
    begin_write()
    operations.record(action, object_type=object_type, object_id=object_id, detail=detail)
    db.session.commit()


def record_failed_sign_in(email: str, reason: str) -> None:
    """A refused sign-in is recorded although nothing else is saved: its own transaction."""
    begin_write()
    operations.record("sign_in.failed", actor_email=email, detail={"reason": reason})
    db.session.commit()


def record_throttled_sign_in(email: str, window: timedelta) -> None:
    """A sign-in held by the throttle (429) is recorded once per email and window, not per
    attempt: the attack shows in the log, and cannot grow it without bound."""
    stored_email = operations.storable_email(email)
    since = utcnow() - window
    already = db.session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.action == "sign_in.throttled",
            AuditEvent.actor_email == stored_email,
            AuditEvent.at > since,
        )
        .limit(1)
    )
    db.session.rollback()
    if already is not None:
        return
    begin_write()
    operations.record(
        "sign_in.throttled",
        actor_email=email,
        detail={"reason": "too many failed sign-ins; later attempts in this window not recorded"},
    )
    db.session.commit()


def _filters_or_problems() -> tuple[queries.Filters, int, dict[str, str]]:
    try:
        return queries.parse_filters(request.args), queries.parse_page(request.args.get("page")), {}
    except ValidationFailed as error:
        return queries.Filters(), 1, {key: str(value) for key, value in error.details.items()}


@bp.get("")
@require_role(Role.DISTRICT_ADMIN)
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
@require_role(Role.DISTRICT_ADMIN)
def export() -> Response:
    filters = queries.parse_filters(request.args)
    record_now("audit.exported", filters=filters.as_args())
    response = Response(
        stream_with_context(queries.csv_chunks(filters)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
