"""Reminding a calibration participant who has not scored: an e-mail with a link to the
walkthrough app, where the session waits on the home screen. At most one an hour per participant
(a facilitator tapping twice, or every few minutes, must not flood anyone's inbox); the last
one is kept to say "reminded at …", and every one is in the audit log.

Functions flush; the request commits after the e-mail has gone, so a mail server that fails
leaves no "reminded at" behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from observe.accounts.models import User
from observe.audit.operations import record
from observe.calibration import access
from observe.calibration.models import CalibrationReminder, CalibrationSession
from observe.calibration.sessions import submitted_observations
from observe.core import clock, formatting, i18n, mail
from observe.core.models import utcnow
from observe.core.permissions import allowed
from observe.errors import Conflict, Forbidden, NotFound
from observe.extensions import db

EVERY = timedelta(hours=1)


def last_reminded(session: CalibrationSession) -> dict[int, datetime]:
    """When each participant was last reminded, by user id."""
    found = db.session.execute(
        select(CalibrationReminder.user_id, CalibrationReminder.reminded_at).where(
            CalibrationReminder.session_id == session.id
        )
    ).all()
    return {row.user_id: row.reminded_at for row in found}


def remind(user: User, session: CalibrationSession, participant_id: int) -> User:
    """E-mail ``participant_id`` a reminder to score ``session``; the participant reminded."""
    if not allowed(user, access.MANAGE, session):
        raise Forbidden("Only the session's facilitator or a district admin can send reminders.")
    participant = next((p for p in session.participants if p.id == participant_id), None)
    if participant is None:
        raise NotFound(f"No participant {participant_id} in “{session.title}”.")
    if session.is_revealed:
        raise Conflict("The scores are revealed: scoring is closed, so there is nothing to remind.")
    if participant.id in submitted_observations(session):
        raise Conflict(f"{participant.name} has already submitted; nobody was reminded.")
    # The session's row is locked first: it always exists, so two servers reminding the same
    # participant for the first time wait for each other here instead of both finding no
    # reminder row (nothing to lock), both inserting one and the second failing on the key.
    db.session.execute(
        select(CalibrationSession.id).where(CalibrationSession.id == session.id).with_for_update()
    )
    last = db.session.get(CalibrationReminder, (session.id, participant.id), with_for_update=True)
    now = utcnow()
    if last is not None and now - last.reminded_at < EVERY:
        again = clock.local(last.reminded_at + EVERY)
        raise Conflict(
            _(
                "%(name)s was reminded at %(last)s; reminders go at most once an hour, so the "
                "next can go at %(next)s.",
                name=participant.name,
                last=clock.local(last.reminded_at).strftime("%H:%M"),
                next=again.strftime("%H:%M"),
            )
        )
    if last is None:
        last = CalibrationReminder(session_id=session.id, user_id=participant.id)
        db.session.add(last)
    last.reminded_at = now
    last.reminded_by_id = user.id
    db.session.flush()
    record(
        "calibration.reminded",
        object_type="calibration_session",
        object_id=session.id,
        detail={"participant_id": participant.id},
    )
    where = session.classroom.name if session.classroom else session.lesson_reference
    district = current_app.config["OBSERVE_DISTRICT_NAME"]
    # In the participant's own language when they chose one, else the sender's.
    with force_locale(participant.language or i18n.current_language()):
        place = f"{where}, {session.school.name}" if where else session.school.name
        subject = _("Calibration: please score “%(title)s”", title=session.title)
        text = (
            _("Hello %(name)s,", name=participant.name)
            + "\n\n"
            + _(
                "%(facilitator)s is waiting for your scores in the calibration session "
                "“%(title)s” (%(place)s, %(day)s). Score the lesson in the walkthrough app, "
                "where the session is on the home screen under Calibration sessions:",
                facilitator=user.name,
                title=session.title,
                place=place,
                day=formatting.day(session.held_on),
            )
            + f"\n\n{mail.link(url_for('tablet.app'))}\n\n"
            + _(
                "Score on your own: nobody sees anyone's scores until the facilitator reveals them."
            )
            + f"\n\n{district}\n"
        )
    mail.send(participant.email, subject, text)
    return participant
