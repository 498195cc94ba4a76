"""Writing the audit log. ``record`` flushes; the caller commits with the action it records, so
an action rolled back leaves no event. The retention purge is the only way events leave."""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from flask import g, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy import CursorResult, delete, func, select

from observe.audit.models import PURGE_OPTION, PURGE_SETTING, AuditEvent
from observe.core.database import begin_write
from observe.core.models import utcnow
from observe.extensions import db


class Actor(Protocol):
    """Whoever acted: a user (accounts.models.User) — by id and email."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


# Every action code the app records, and what it means. The codes are stable: programs that read
# an export may rely on them. (Other features add theirs here.)
ACTIONS: dict[str, LazyString] = {
    "sign_in": _l("signed in"),
    "sign_in.failed": _l("failed to sign in (the reason says why)"),
    "sign_in.throttled": _l("was held from signing in after too many failures"),
    "sign_out": _l("signed out"),
    "user.created": _l("created an account"),
    "user.provisioned": _l("signed in with single sign-on for the first time (account created)"),
    "user.role_set": _l("changed an account's role and schools"),
    "user.updated": _l("changed an account's name or email"),
    "user.password_set": _l("set an account's password (its sessions end)"),
    "user.signed_out_everywhere": _l("ended every session of an account"),
    "user.deactivated": _l("deactivated an account (its sessions end)"),
    "user.activated": _l("reactivated an account"),
    "token.created": _l("created an API token"),
    "token.revoked": _l("revoked an API token"),
    "rubric.loaded": _l("loaded a rubric version"),
    "rubric.retired": _l("retired a rubric version (tablets no longer offer it)"),
    "rubric.unretired": _l("brought a retired rubric version back"),
    "roster.imported": _l("imported a roster"),
    "roster.recoded": _l("gave a school a new code"),
    "roster.merged": _l("closed a school into another (its classrooms, walkthroughs, people move)"),
    "roster.relabelled": _l("gave past walkthroughs their classroom's current profile and teacher"),
    "calibration.revealed": _l("revealed a calibration session's scores"),
    "calibration.report_viewed": _l("read a calibration session's report"),
    "calibration.report_printed": _l("printed a calibration session's report"),
    "walkthrough.deleted": _l("deleted a walkthrough"),
    "walkthroughs.imported_offline": _l("imported a tablet's offline export for its author"),
    "goal.created": _l("set an equity goal"),
    "goal.deleted": _l("removed an equity goal"),
    "goal.carried": _l("started a new year's goal from last year's"),
    "year.added": _l("added a school year or term"),
    "year.closed": _l("closed a school year, freezing its goals"),
    "walkthrough.reconciled": _l("reconciled a walkthrough's conflicting versions"),
    "walkthrough.feedback_viewed": _l("read a walkthrough's feedback page"),
    "walkthrough.feedback_printed": _l("printed a walkthrough's feedback"),
    "walkthrough.history_viewed": _l("read a walkthrough's versions"),
    "feedback.sent": _l("e-mailed a walkthrough's feedback to its teacher (a signed link)"),
    "feedback.acknowledged": _l("acknowledged a walkthrough's feedback (the teacher, by its link)"),
    "feedback.reflected": _l("wrote a reflection on a walkthrough's feedback (the teacher)"),
    "calibration.reminded": _l("e-mailed a calibration participant a reminder to score"),
    "ratings.exported": _l("exported walkthrough ratings"),
    "audit.exported": _l("exported the audit log"),
    "audit.purged": _l("removed audit events past the retention period"),
    "backup.made": _l("wrote a backup archive of the whole database"),
    "backup.restored": _l("restored the database from a backup archive"),
}

_EMAIL, _TYPE, _ID, _ADDRESS = 254, 40, 64, 64


def command_line_actor() -> str:
    """Who runs a command: there is no signed-in user, so the operating system's."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = f"uid {os.getuid()}"
    return f"command line ({name})"


def _storable(value: Any) -> Any:
    """Text either database stores: no NUL (PostgreSQL refuses it), no lone surrogate (UTF-8
    cannot encode it). An email typed at the sign-in form is anyone's text."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_storable(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def storable_email(email: str) -> str:
    """An email as an event stores it (searched by record_throttled_sign_in)."""
    return _storable(email[:_EMAIL])


def record(
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
    actor: Actor | None = None,
    actor_email: str | None = None,
    address: str | None = None,
) -> AuditEvent:
    """Add one event to the session, to be committed with the action it records.

    The actor defaults to the signed-in user (else, outside a request, the command line's
    operating-system user); the address to the request's client.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to ACTIONS")
    detail = dict(detail or {})
    in_request = has_request_context()
    if actor is None and in_request and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if actor is not None:
        email = actor.email
    elif actor_email is not None:
        email = actor_email
    else:
        email = "" if in_request else command_line_actor()
    if address is None:
        address = (request.remote_addr or "") if in_request else ""
    if in_request and g.get("authenticated_by_token"):
        detail.setdefault("via", "api token")
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_email=storable_email(email),
        action=action,
        object_type=_storable(object_type[:_TYPE]),
        object_id=_storable(str(object_id)[:_ID]),
        address=_storable(address[:_ADDRESS]),
        detail=_storable(detail),
    )
    db.session.add(event)
    db.session.flush()
    return event


def purge(retention_days: int, now: datetime | None = None) -> int:
    """Remove the events older than ``retention_days``, and record that it was done; how many
    were removed."""
    if retention_days < 1:
        raise ValueError("the retention period must be at least one day")
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    if db.session.get_bind().dialect.name == "postgresql":
        # Lets the database's guard (see models) through for this transaction only.
        db.session.execute(select(func.set_config(PURGE_SETTING, "on", True)))
    # A bulk DELETE's result is a CursorResult, which has the row count; Session.execute is
    # typed for every kind of statement, so it promises only a Result.
    result = cast(
        CursorResult[Any],
        db.session.execute(
            delete(AuditEvent)
            .where(AuditEvent.at < cutoff)
            .execution_options(**{PURGE_OPTION: True, "synchronize_session": False})
        ),
    )
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.set_config(PURGE_SETTING, "off", True)))
    removed = result.rowcount
    record(
        "audit.purged",
        detail={
            "retention_days": retention_days,
            "cutoff": cutoff.isoformat(),
            "removed": removed,
        },
    )
    return removed


# ---- at the request boundary -----------------------------------------------------------------
# What has no write of its own to ride with (a read of teacher-level data, a failed sign-in) is
# recorded by these, which commit the event in a transaction of its own — the one exception to
# "operations only flush", and so only called from views, with nothing else unsaved.


def record_now(action: str, object_type: str = "", object_id: object = "", **detail: Any) -> None:
    """Record what the signed-in user did that writes nothing else (read or downloaded
    teacher-level data, signed out), and commit.

    Call it after the data is loaded and the access check passed, with nothing else unsaved:
    the request's transaction is committed and a writing one begun.
    """
    begin_write()
    record(action, object_type=object_type, object_id=object_id, detail=detail)
    db.session.commit()


def record_failed_sign_in(email: str, reason: str) -> None:
    """A refused sign-in is recorded although nothing else is saved: its own transaction."""
    begin_write()
    record("sign_in.failed", actor_email=email, detail={"reason": reason})
    db.session.commit()


def record_throttled_sign_in(email: str, window: timedelta) -> None:
    """A sign-in held by the throttle (429) is recorded once per email and window, not per
    attempt: the attack shows in the log, and cannot grow it without bound."""
    stored_email = storable_email(email)
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
    record(
        "sign_in.throttled",
        actor_email=email,
        detail={"reason": "too many failed sign-ins; later attempts in this window not recorded"},
    )
    db.session.commit()
