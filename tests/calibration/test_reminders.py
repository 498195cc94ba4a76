"""Reminding calibration participants who have not scored: a real e-mail, at most once an hour
(observe/calibration/reminders.py), from the session page."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select

from observe.audit.models import AuditEvent
from observe.calibration.models import CalibrationReminder
from observe.extensions import db


def remind(client, session_id: int, user_id: int):
    return client.post_form(
        f"/calibration/{session_id}/remind/{user_id}", {}, token_from=f"/calibration/{session_id}"
    )


def test_remind_sends_once_and_is_rate_limited(client, sign_in, team, new_session, score, mailbox):
    session = new_session()
    ann, ben = team.observers[:2]
    score(ann, session, {"ct-explain-reasoning": 3})
    sign_in(team.facilitator)
    page = client.get(f"/calibration/{session['id']}").get_data(as_text=True)
    # Only those who have not submitted can be reminded.
    assert f'aria-label="Remind {ben.name} by e-mail"' in page
    assert f'aria-label="Remind {ann.name} by e-mail"' not in page

    done = remind(client, session["id"], ben.id)
    assert done.status_code == 302
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == ben.email
    assert "Grade 3 number talk" in message["Subject"]
    assert mailbox.links() == ["https://observe.test/app/"]
    assert "Fay Facilitator is waiting for your scores" in mailbox.body()
    page = client.get(f"/calibration/{session['id']}").get_data(as_text=True)
    assert "Reminded Ben Boyd by e-mail" in page and "reminded at" in page

    again = remind(client, session["id"], ben.id)
    assert again.status_code == 302
    assert len(mailbox.messages) == 1  # not a second e-mail within the hour
    page = client.get(f"/calibration/{session['id']}").get_data(as_text=True)
    assert "reminders go at most once an hour" in page

    # An hour later the facilitator may remind again.
    db.session.rollback()
    row = db.session.get(CalibrationReminder, (session["id"], ben.id))
    row.reminded_at -= timedelta(minutes=61)
    db.session.commit()
    remind(client, session["id"], ben.id)
    assert len(mailbox.messages) == 2
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "calibration.reminded")
    ).all()
    assert [e.detail["participant_id"] for e in events] == [ben.id, ben.id]


def test_who_has_submitted_is_not_reminded(client, sign_in, team, new_session, score, mailbox):
    session = new_session()
    ann = team.observers[0]
    score(ann, session, {"ct-explain-reasoning": 3})
    sign_in(team.facilitator)
    remind(client, session["id"], ann.id)
    assert mailbox.messages == []
    page = client.get(f"/calibration/{session['id']}").get_data(as_text=True)
    assert "Ann Ames has already submitted" in page


def test_only_the_facilitator_reminds(client, sign_in, team, new_session, mailbox):
    session = new_session()
    sign_in(team.observers[0])
    assert remind(client, session["id"], team.observers[1].id).status_code == 403
    assert mailbox.messages == []


def test_someone_outside_the_session_is_unknown(client, sign_in, team, new_session, mailbox):
    session = new_session()
    sign_in(team.facilitator)
    assert remind(client, session["id"], team.outsider.id).status_code == 404
    assert mailbox.messages == []


def test_mail_down_leaves_no_reminded_at(app, client, sign_in, team, new_session, mailbox):
    session = new_session()
    mailbox.refuse = True
    sign_in(team.facilitator)
    remind(client, session["id"], team.observers[1].id)
    page = client.get(f"/calibration/{session['id']}").get_data(as_text=True)
    assert "nothing was sent" in page and "reminded at" not in page
    db.session.rollback()
    assert db.session.scalars(select(CalibrationReminder)).all() == []


def test_a_title_with_a_line_break_is_one_subject_line(client, sign_in, team, new_session, mailbox):
    """A session's title may hold a line break (the API keeps what it is sent): the reminder
    still goes, its subject on one line and no header smuggled in by the title."""
    session = new_session(title="Number talk\r\nBcc: someone@elsewhere.test")
    ben = team.observers[1]
    sign_in(team.facilitator)
    assert remind(client, session["id"], ben.id).status_code == 302
    [message] = mailbox.messages
    assert (
        message["Subject"] == "Calibration: please score “Number talk Bcc: someone@elsewhere.test”"
    )
    assert message["Bcc"] is None


def test_two_first_reminders_at_once_send_one_and_refuse_the_other(
    app, team, new_session, mailbox, monkeypatch
):
    """Two servers (here two threads, each its own connection) remind the same participant
    for the first time at the same moment: one e-mail goes, the other is told "at most once
    an hour" — not a database error. The first holds its transaction open while its e-mail
    goes; on PostgreSQL the second used to find no reminder row, insert its own and fail on
    the first's (500)."""
    from observe.accounts.models import User
    from observe.calibration import reminders
    from observe.calibration.models import CalibrationSession
    from observe.core import mail
    from observe.core.database import begin_write
    from observe.errors import Conflict

    session_id = new_session()["id"]
    ben_id, facilitator_id = team.observers[1].id, team.facilitator.id
    first_sending = threading.Event()
    real_send = mail.send

    def slow_send(*args, **kwargs):
        first_sending.set()
        time.sleep(0.8)  # the second request reaches the database meanwhile
        return real_send(*args, **kwargs)

    monkeypatch.setattr(mail, "send", slow_send)
    # Each request's outcome under its own name: the first can commit, the second read that
    # and answer, before the first's thread gets back to saying what it did.
    outcomes: dict[str, str] = {}

    def attempt(name: str) -> None:
        with app.test_request_context():
            try:
                begin_write()
                facilitator = db.session.get(User, facilitator_id)
                session = db.session.get(CalibrationSession, session_id)
                reminders.remind(facilitator, session, ben_id)
                db.session.commit()
                outcomes[name] = "sent"
            except Conflict as refused:
                db.session.rollback()
                outcomes[name] = "refused: " + refused.message
            except Exception as error:  # what the request would answer with a 500
                db.session.rollback()
                outcomes[name] = f"error: {type(error).__name__}"

    db.session.rollback()
    first = threading.Thread(target=attempt, args=("first",))
    first.start()
    assert first_sending.wait(10)
    second = threading.Thread(target=attempt, args=("second",))
    second.start()
    first.join(20)
    second.join(20)
    assert outcomes.get("first") == "sent", outcomes
    assert outcomes["second"].startswith("refused: "), outcomes
    assert "at most once an hour" in outcomes["second"]
    assert len(mailbox.messages) == 1


def test_a_reminder_is_in_the_participants_language(client, sign_in, team, new_session, mailbox):
    session = new_session()
    ben = team.observers[1]
    ben.language = "es"
    db.session.commit()
    sign_in(team.facilitator)
    remind(client, session["id"], ben.id)
    message = mailbox.messages[0]
    assert message["Subject"] == "Calibración: puntúe «Grade 3 number talk»"
    assert mailbox.body().startswith(f"Hola, {ben.name}:")
    assert "Fay Facilitator espera sus puntuaciones" in mailbox.body()
    # The facilitator, who chose no language, reads the page in English.
    page = client.get(f"/calibration/{session['id']}").get_data(as_text=True)
    assert "Reminded Ben Boyd by e-mail" in page
