"""Feedback that reaches the teacher: e-mailing a walkthrough's feedback with a signed link, and
what the teacher does with it (reads it, says so, may reply with a short reflection).

The link carries the send's id, signed with the app's secret key and a salt of its own
(itsdangerous), and stamped with the time it was made: it works for
``OBSERVE_FEEDBACK_LINK_DAYS`` days, only while the walkthrough exists, and for nothing but its
own page (docs/security.md says what a holder can do). Functions flush; the request commits.

Sending is idempotent on the id the device made: the tablet's offline queue may replay the
request after a lost answer, and the replay finds the row and sends nothing. The row is written
before the e-mail goes and the request commits after it has gone, so a mail server that fails
leaves nothing behind (503, the tablet tries again); the walkthrough's row is locked first, so
two replays at once wait for each other instead of both sending.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from observe.audit.operations import record
from observe.core import clock, formatting, mail
from observe.core.models import utcnow
from observe.core.permissions import Principal, allowed
from observe.errors import Conflict, Forbidden, NotFound, ObserveError, ValidationFailed
from observe.extensions import db
from observe.observations import access, feedback_loop
from observe.observations.models import FeedbackSend, Observation, ObservationState

SALT = "observe.feedback-link"
MAX_REFLECTION = 2000
RESEND_AFTER = timedelta(hours=1)  # at most one e-mail of a walkthrough's feedback an hour


class NoRecipient(ObserveError):
    """The walkthrough has no teacher with an e-mail address to send its feedback to."""

    status = 422
    code = "no_teacher_email"


class LinkRefused(ObserveError):
    """A teacher's link that does not work: 404 when it is not one of ours, 410 when it was
    but is no more. The message names nothing of the walkthrough."""

    code = "link_refused"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=SALT)


def link_days() -> int:
    return int(current_app.config["OBSERVE_FEEDBACK_LINK_DAYS"])


def token_for(send: FeedbackSend) -> str:
    return _serializer().dumps(send.id)


def send_for_token(token: str) -> FeedbackSend:
    """The send a teacher's link names, or LinkRefused: forged or altered (404), expired or
    its walkthrough deleted (410)."""
    try:
        send_id = _serializer().loads(token, max_age=link_days() * 86400)
    except SignatureExpired:
        raise LinkRefused(
            410,
            _(
                "This link has expired. Links to walkthrough feedback work for %(n)s days; "
                "ask the observer to send the feedback again.",
                n=link_days(),
            ),
        ) from None
    except BadSignature:
        raise LinkRefused(
            404, _("This link does not work: check that it was copied whole.")
        ) from None
    send = db.session.get(FeedbackSend, send_id) if isinstance(send_id, str) else None
    if send is None:
        raise LinkRefused(404, _("This link does not work: check that it was copied whole."))
    observation = send.observation
    if observation.is_deleted:
        raise LinkRefused(410, _("This feedback is no longer available."))
    # The link opens the walkthrough as it is now: once an amendment has moved it to another
    # teacher's class, it is another teacher's feedback. The teacher is the one observed (kept
    # with the walkthrough), so a roster giving the class a new teacher later changes nothing.
    if observation.classroom_id is None or observation.teacher_id != send.teacher_id:
        raise LinkRefused(410, _("This feedback is no longer available."))
    if observation.state is not ObservationState.SUBMITTED:
        raise LinkRefused(
            409,
            _(
                "The observer is changing this feedback. Open the link again later: it works "
                "again once they have finished."
            ),
        )
    return send


def _send_id(body: Any) -> str:
    value = body.get("send_id") if isinstance(body, dict) else None
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationFailed(
            "Nothing was sent: send_id must be a UUID the device made for this send "
            "(a replay with the same id sends nothing twice).",
            details={"send_id": "a UUID, such as 3f2b8e0c-5a55-4f7e-9a53-6c6f3c1d2a10"},
        ) from None


def send_feedback(user: Principal, observation_id: str, body: Any) -> tuple[FeedbackSend, bool]:
    """E-mail the walkthrough's feedback to its teacher; the send, and whether it is new (a
    replay of a send already made returns that one and sends nothing)."""
    send_id = _send_id(body)
    try:
        observation_id = str(uuid.UUID(observation_id))
    except ValueError:
        raise NotFound(f"no walkthrough {observation_id}") from None
    observation = db.session.get(Observation, observation_id, with_for_update=True)
    if (
        observation is None
        or not allowed(user, access.READ, observation)
        or observation.is_deleted
        or observation.calibration_session_id is not None
    ):
        raise NotFound(f"There is no walkthrough {observation_id} to send feedback on.")
    if not allowed(user, access.SEND_FEEDBACK, observation):
        raise Forbidden(
            "Only the walkthrough's observer or a leader of its school can send its feedback."
        )
    existing = db.session.get(FeedbackSend, send_id)
    if existing is not None:
        if existing.observation_id != observation.id:
            raise Conflict(
                "Nothing was sent: this send_id was already used for another walkthrough; "
                "make a new one for each send.",
                details={"send_id": "already used for another walkthrough"},
            )
        return existing, False
    if observation.state is not ObservationState.SUBMITTED:
        raise Conflict("Nothing was sent: this walkthrough is a draft. Submit it first.")
    teacher = _recipient(observation)
    # A new send_id is a new e-mail: a script or a misbehaving device making a fresh id each
    # time must not flood a teacher's inbox. The walkthrough's row is locked, so servers agree.
    last = db.session.scalar(
        select(func.max(FeedbackSend.sent_at)).where(FeedbackSend.observation_id == observation.id)
    )
    if last is not None and utcnow() - last < RESEND_AFTER:
        again = clock.local(last + RESEND_AFTER)
        raise Conflict(
            f"Nothing was sent: this feedback was e-mailed to {teacher.name} at "
            f"{clock.local(last):%H:%M}; it can be sent again from {again:%H:%M}."
        )
    send = FeedbackSend(
        id=send_id,
        observation_id=observation.id,
        sent_by_id=user.id,
        teacher_id=teacher.id,
        sent_to=str(teacher.email),
        sent_at=utcnow(),
    )
    send.on_time = feedback_loop.on_time(
        clock.local(observation.observed_at).date(), clock.local(send.sent_at).date()
    )
    db.session.add(send)
    db.session.flush()
    record(
        "feedback.sent",
        object_type="observation",
        object_id=observation.id,
        detail={"send_id": send.id, "teacher_id": teacher.id, "on_time": send.on_time},
    )
    subject, text = _message(observation, send)
    mail.send(send.sent_to, subject, text)
    return send, True


def _recipient(observation: Observation) -> Any:
    classroom = observation.classroom
    if classroom is None:
        raise NoRecipient(
            "Nothing was sent: this walkthrough is of the whole school, not a classroom, so "
            "there is no teacher to send its feedback to."
        )
    # The teacher who was observed, whoever teaches the class now.
    teacher = observation.teacher
    if teacher is None:
        raise NoRecipient(
            f"Nothing was sent: the classroom {classroom.name} has no teacher on the roster for "
            "this visit. "
            "Print the feedback instead, or ask an administrator to import the roster."
        )
    if not (teacher.email or "").strip():
        raise NoRecipient(
            f"Nothing was sent: {teacher.name}, the teacher of {classroom.name}, has no e-mail "
            "address on the roster. Print the feedback instead, or ask an administrator to "
            "add it to the roster."
        )
    return teacher


def _message(observation: Observation, send: FeedbackSend) -> tuple[str, str]:
    link = mail.link(url_for("teacher_feedback.teacher_page", token=token_for(send)))
    classroom = observation.classroom
    assert classroom is not None and observation.teacher is not None  # checked by _recipient
    # In the sender's language (the request's): the e-mail goes out as they send it.
    day = formatting.day(clock.local(observation.observed_at).date())
    expires = formatting.day(clock.local(send.sent_at + timedelta(days=link_days())).date())
    observer = observation.author.name
    district = current_app.config["OBSERVE_DISTRICT_NAME"]
    subject = _("Walkthrough feedback: %(classroom)s, %(day)s", classroom=classroom.name, day=day)
    text = (
        _("Hello %(teacher)s,", teacher=observation.teacher.name)
        + "\n\n"
        + _(
            "%(observer)s visited %(classroom)s at %(school)s on %(day)s. Here is what they saw:",
            observer=observer,
            classroom=classroom.name,
            school=observation.school.name,
            day=day,
        )
        + f"\n\n{link}\n\n"
        + _(
            "No account is needed. On that page you can say you have read it and, if you "
            "like, reply with a short reflection that %(observer)s will see. The link works "
            "until %(expires)s. Please do not forward it: whoever has it can read this "
            "feedback and reply in your name.",
            observer=observer,
            expires=expires,
        )
        + "\n\n"
        + _(
            "A walkthrough is a short, non-evaluative visit: it describes what was seen "
            "during a few minutes of a lesson, not the teacher."
        )
        + f"\n\n{district}\n"
    )
    return subject, text


def sends_of(observation: Observation) -> list[FeedbackSend]:
    """Every time the walkthrough's feedback was e-mailed, oldest first."""
    return list(
        db.session.scalars(
            select(FeedbackSend)
            .where(FeedbackSend.observation_id == observation.id)
            .order_by(FeedbackSend.sent_at, FeedbackSend.id)
        )
    )


def send_json(send: FeedbackSend) -> dict[str, Any]:
    """A send as its observer sees it: where it went, when, and what the teacher did."""
    from observe.core.timestamps import iso

    return {
        "send_id": send.id,
        "observation_id": send.observation_id,
        "sent_at": iso(send.sent_at),
        "sent_by": {"id": send.sent_by_id, "name": send.sent_by.name},
        "teacher": {"id": send.teacher_id, "name": send.teacher.name},
        "on_time": send.on_time,
        "acknowledged_at": iso(send.acknowledged_at) if send.acknowledged_at else None,
        "reflection": send.reflection or None,
        "reflected_at": iso(send.reflected_at) if send.reflected_at else None,
    }


def acknowledge(send: FeedbackSend, reflection: str) -> None:
    """The teacher read it ("I have read this"), with an optional reflection (which replaces
    an earlier one). Too long a reflection changes nothing."""
    reflection = reflection.replace("\r\n", "\n").strip()
    if len(reflection) > MAX_REFLECTION:
        raise ValidationFailed(
            f"Nothing was saved: the reflection is {len(reflection):,} characters; "
            f"keep it to {MAX_REFLECTION:,}.",
            details={"reflection": f"at most {MAX_REFLECTION} characters"},
        )
    now = utcnow()
    if send.acknowledged_at is None:
        send.acknowledged_at = now
        record(
            "feedback.acknowledged",
            object_id=send.observation_id,
            object_type="observation",
            detail={"send_id": send.id, "via": "teacher's link"},
            actor_email=send.sent_to,
        )
    if reflection and reflection != send.reflection:
        send.reflection = reflection
        send.reflected_at = now
        record(
            "feedback.reflected",
            object_id=send.observation_id,
            object_type="observation",
            detail={"send_id": send.id, "characters": len(reflection), "via": "teacher's link"},
            actor_email=send.sent_to,
        )
    db.session.flush()
