"""Sending a walkthrough's feedback to its teacher: a real SMTP server receives it, and the
signed link opens the teacher's page without an account (observe/observations/sending.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select

from observe.audit.models import AuditEvent
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations import sending
from observe.observations.feedback_loop import on_time, school_days_after, still_open_since
from observe.observations.models import FeedbackSend
from observe.roster.models import Teacher
from tests.conftest import edit_of
from tests.mailbox import free_port


@pytest.fixture
def taught(setting):
    """The setting's classroom, taught by a teacher with an e-mail address."""
    teacher = Teacher(external_id="T-1", name="Maya Lopez", email="maya.lopez@district.test")
    db.session.add(teacher)
    setting.classroom.teacher = teacher
    db.session.commit()
    return teacher


@pytest.fixture
def visit(push, make_version, taught):
    version = make_version()
    push(version)
    return version["observation_id"]


def send(client, headers, observation_id, send_id=None, expect=None):
    response = client.post(
        f"/api/v1/observations/{observation_id}/send-feedback",
        json={"send_id": send_id or str(uuid.uuid4())},
        headers=headers,
    )
    if expect is not None:
        assert response.status_code == expect, response.get_json()
    return response


def link_path(link: str) -> str:
    assert link.startswith("https://observe.test/feedback/t/")
    return link.removeprefix("https://observe.test")


def sends() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(FeedbackSend))


def test_the_teacher_receives_the_feedback_and_a_link(client, bearer, setting, visit, mailbox):
    answer = send(client, bearer(setting.observer), visit, expect=201).get_json()
    assert answer["teacher"]["name"] == "Maya Lopez"
    assert answer["replayed"] is False and answer["on_time"] is True
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "maya.lopez@district.test"
    assert message["From"] == "observe@district.test"
    assert message["Subject"].startswith("Walkthrough feedback: Grade 3, ")
    body = mailbox.body()
    assert "Hello Maya Lopez" in body and "Riverside Elementary" in body
    [link] = mailbox.links()
    page = client.get(link_path(link))  # the test client is signed in as nobody
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Walkthrough feedback" in text and "Pairs argued." in text
    assert "I have read this" in text
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert "feedback.sent" in events


def test_a_replayed_send_sends_one_email(client, bearer, setting, visit, mailbox):
    headers = bearer(setting.observer)
    send_id = str(uuid.uuid4())
    send(client, headers, visit, send_id, expect=201)
    again = send(client, headers, visit, send_id, expect=200).get_json()
    assert again["replayed"] is True and again["send_id"] == send_id
    assert len(mailbox.messages) == 1 and sends() == 1
    # A new send id is a new e-mail (sent again on purpose, say after an amendment) — but
    # not within the hour: a device or script making fresh ids must not flood the teacher.
    refused = send(client, headers, visit, expect=409).get_json()
    assert "it can be sent again from" in refused["error"]["message"]
    assert "Maya Lopez" in refused["error"]["message"]
    assert len(mailbox.messages) == 1 and sends() == 1
    earlier = db.session.scalars(select(FeedbackSend)).one()
    earlier.sent_at -= timedelta(minutes=61)
    db.session.commit()
    send(client, headers, visit, expect=201)
    assert len(mailbox.messages) == 2 and sends() == 2


def test_a_send_id_of_another_walkthrough_is_refused(
    client, bearer, setting, visit, push, make_version, mailbox
):
    other = make_version()
    push(other)
    headers = bearer(setting.observer)
    send_id = str(uuid.uuid4())
    send(client, headers, visit, send_id, expect=201)
    refused = send(client, headers, other["observation_id"], send_id, expect=409).get_json()
    assert refused["error"]["details"] == {"send_id": "already used for another walkthrough"}
    assert len(mailbox.messages) == 1


@pytest.mark.parametrize("send_id", [None, "", "not-a-uuid", 12, ["x"]])
def test_a_send_without_a_proper_send_id_is_refused(
    client, bearer, setting, visit, mailbox, send_id
):
    response = client.post(
        f"/api/v1/observations/{visit}/send-feedback",
        json={"send_id": send_id},
        headers=bearer(setting.observer),
    )
    assert response.status_code == 422
    assert "send_id" in response.get_json()["error"]["details"]
    assert mailbox.messages == [] and sends() == 0


def test_no_teacher_email_is_refused_naming_the_classroom(
    client, bearer, setting, visit, taught, mailbox, push, make_version
):
    taught.email = None
    db.session.commit()
    refused = send(client, bearer(setting.observer), visit, expect=422).get_json()["error"]
    assert refused["code"] == "no_teacher_email"
    assert "Maya Lopez, the teacher of Grade 3, has no e-mail address" in refused["message"]
    setting.classroom.teacher = None
    db.session.commit()
    # The visit keeps the teacher observed (history as it was): still Maya, still no address.
    refused = send(client, bearer(setting.observer), visit, expect=422).get_json()["error"]
    assert "Maya Lopez, the teacher of Grade 3, has no e-mail address" in refused["message"]
    # A visit made once the class has no teacher has nobody to send to.
    later = make_version()
    push(later)
    refused = send(client, bearer(setting.observer), later["observation_id"], expect=422)
    message = refused.get_json()["error"]["message"]
    assert "the classroom Grade 3 has no teacher on the roster" in message
    assert mailbox.messages == [] and sends() == 0


def test_a_whole_school_walkthrough_has_no_teacher(client, bearer, setting, push, make_version):
    version = make_version(classroom_id=None)
    push(version)
    refused = send(client, bearer(setting.observer), version["observation_id"], expect=422)
    assert "whole school" in refused.get_json()["error"]["message"]


def test_a_draft_is_not_sent(client, bearer, setting, push, make_version, taught, mailbox):
    version = make_version(state="draft")
    push(version)
    refused = send(client, bearer(setting.observer), version["observation_id"], expect=409)
    assert "draft" in refused.get_json()["error"]["message"]
    assert mailbox.messages == []


def test_the_mail_server_down_is_a_clear_503_and_nothing_is_kept(
    app, client, bearer, setting, visit
):
    app.config["OBSERVE_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens
    app.config["OBSERVE_MAIL_FROM"] = "observe@district.test"
    app.config["OBSERVE_BASE_URL"] = "https://observe.test"
    try:
        response = send(client, bearer(setting.observer), visit, expect=503)
    finally:
        for name in ("OBSERVE_SMTP_URL", "OBSERVE_MAIL_FROM", "OBSERVE_BASE_URL"):
            app.config[name] = ""
    error = response.get_json()["error"]
    assert error["code"] == "mail_unavailable"
    assert "could not be reached" in error["message"] and "Try again later" in error["message"]
    assert response.headers["Retry-After"]
    assert sends() == 0
    assert "feedback.sent" not in db.session.scalars(select(AuditEvent.action)).all()


def test_a_mail_server_that_refuses_the_message_is_a_503(client, bearer, setting, visit, mailbox):
    mailbox.refuse = True
    response = send(client, bearer(setting.observer), visit, expect=503)
    assert response.get_json()["error"]["code"] == "mail_unavailable"
    assert sends() == 0
    mailbox.refuse = False
    send(client, bearer(setting.observer), visit, expect=201)  # the tablet's retry, later
    assert len(mailbox.messages) == 1


def test_unset_mail_settings_name_what_to_set(client, bearer, setting, visit):
    response = send(client, bearer(setting.observer), visit, expect=503)
    message = response.get_json()["error"]["message"]
    assert "OBSERVE_BASE_URL" in message or "OBSERVE_SMTP_URL" in message
    assert sends() == 0


def test_who_may_send(client, bearer, create_user, setting, visit, mailbox):
    leader = create_user(Role.SCHOOL_LEADER, schools=[setting.school])
    other_leader = create_user(Role.SCHOOL_LEADER, schools=[setting.other_school])
    admin = create_user(Role.DISTRICT_ADMIN)
    colleague = create_user(Role.OBSERVER, schools=[setting.school])
    send(client, bearer(leader), visit, expect=201)
    send(client, bearer(other_leader), visit, expect=404)
    send(client, bearer(colleague), visit, expect=404)
    send(client, bearer(admin), visit, expect=403)
    assert len(mailbox.messages) == 1


def acknowledge(client, path, reflection=""):
    return client.post_form(path, {"reflection": reflection})


def test_the_teacher_acknowledges_and_reflects_and_the_observer_sees_it(
    client, bearer, setting, visit, mailbox, sign_in
):
    send(client, bearer(setting.observer), visit, expect=201)
    path = link_path(mailbox.links()[0])
    done = acknowledge(client, path, "I will try cold calling with wait time.")
    assert done.status_code == 302
    db.session.rollback()
    row = db.session.scalars(select(FeedbackSend)).one()
    assert row.acknowledged_at is not None
    assert row.reflection == "I will try cold calling with wait time."
    after = client.get(path).get_data(as_text=True)
    assert "You said you had read this" in after
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert {"feedback.acknowledged", "feedback.reflected"} <= set(events)
    listed = client.get(
        f"/api/v1/observations/{visit}/feedback-sends", headers=bearer(setting.observer)
    ).get_json()["sends"]
    assert listed[0]["reflection"] == "I will try cold calling with wait time."
    assert listed[0]["acknowledged_at"]
    sign_in(setting.observer)
    page = client.get(f"/walkthroughs/{visit}").get_data(as_text=True)
    assert "I will try cold calling with wait time." in page and "Read" in page


def test_a_reflection_too_long_is_refused_and_nothing_is_saved(
    client, bearer, setting, visit, mailbox
):
    send(client, bearer(setting.observer), visit, expect=201)
    path = link_path(mailbox.links()[0])
    refused = acknowledge(client, path, "x" * 2001)
    assert refused.status_code == 422
    assert "keep it to 2,000" in refused.get_data(as_text=True)
    db.session.rollback()
    row = db.session.scalars(select(FeedbackSend)).one()
    assert row.acknowledged_at is None and row.reflection == ""


def test_the_acknowledgement_needs_the_csrf_token(client, bearer, setting, visit, mailbox):
    send(client, bearer(setting.observer), visit, expect=201)
    path = link_path(mailbox.links()[0])
    assert client.post(path, data={"reflection": "forged"}).status_code == 400
    db.session.rollback()
    assert db.session.scalars(select(FeedbackSend)).one().acknowledged_at is None


def test_a_tampered_link_is_a_404_that_reveals_nothing(client, bearer, setting, visit, mailbox):
    send(client, bearer(setting.observer), visit, expect=201)
    path = link_path(mailbox.links()[0])
    other_send = sending._serializer().dumps(str(uuid.uuid4()))  # signed, names no send
    for bad in (path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"), "/feedback/t/x",
                f"/feedback/t/{other_send}"):  # fmt: skip
        response = client.get(bad)
        assert response.status_code == 404, bad
        text = response.get_data(as_text=True)
        assert "This link does not work" in text
        assert "Maya" not in text and "Grade 3" not in text and "Riverside" not in text
        assert client.post_form(bad, {"reflection": "x"}, token_from=path).status_code == 404


def test_an_expired_link_is_a_410(client, bearer, setting, visit, mailbox):
    send(client, bearer(setting.observer), visit, expect=201)
    path = link_path(mailbox.links()[0])
    later = datetime.now().timestamp() + 31 * 86400
    with mock.patch("itsdangerous.timed.time.time", return_value=later):
        response = client.get(path)
    assert response.status_code == 410
    text = response.get_data(as_text=True)
    assert "expired" in text and "Maya" not in text and "Grade 3" not in text


def test_a_deleted_walkthrough_link_is_a_410(client, bearer, setting, visit, mailbox):
    headers = bearer(setting.observer)
    send(client, headers, visit, expect=201)
    path = link_path(mailbox.links()[0])
    assert client.delete(f"/api/v1/observations/{visit}", headers=headers).status_code == 200
    response = client.get(path)
    assert response.status_code == 410
    assert "no longer available" in response.get_data(as_text=True)
    assert "Grade 3" not in response.get_data(as_text=True)
    send(client, headers, visit, expect=404)


def test_the_feedback_loop_in_the_list(
    client, bearer, setting, visit, push, make_version, mailbox, sign_in
):
    headers = bearer(setting.observer)
    now = datetime.now().astimezone()

    def visited(days_ago: float, **fields) -> None:
        push(make_version(observed_at=(now - timedelta(days=days_ago)).isoformat(), **fields))

    visited(20)  # never sent, and its two school days are long past: late
    visited(0.01)  # not sent yet, but today: still has time
    visited(1, classroom_id=None)  # a whole-school visit: no teacher, not counted
    visited(40)  # before the last 30 days: outside the default period
    send(client, headers, visit, expect=201)
    answer = client.get("/api/v1/observations", headers=headers).get_json()
    loop = answer["feedback_loop"]
    today = date.today()
    assert loop == {
        "walkthroughs": 3,
        "on_time": 1,
        "waiting": 1,
        "share": 0.5,
        "school_days": 2,
        "from": (today - timedelta(days=29)).isoformat(),
        "to": today.isoformat(),
    }
    # Chosen dates replace the default period: the 40-day-old visit counts, and is late.
    since = (today - timedelta(days=60)).isoformat()
    loop = client.get(f"/api/v1/observations?from={since}", headers=headers).get_json()
    assert loop["feedback_loop"]["walkthroughs"] == 4
    assert loop["feedback_loop"]["share"] == round(1 / 3, 4)
    # Counted once, on the first page; later pages carry null.
    first = client.get("/api/v1/observations?limit=1", headers=headers).get_json()
    assert first["feedback_loop"]["walkthroughs"] == 3
    following = client.get(
        f"/api/v1/observations?limit=1&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    assert following["feedback_loop"] is None
    sign_in(setting.observer)
    page = client.get("/walkthroughs/").get_data(as_text=True)
    assert "50% of walkthroughs (1 of 2)" in page and "1 more still have time" in page
    assert "the last 30 days" in page and "holidays are not known" in page


# ---- school days, pure -------------------------------------------------------------------------

FRI, SAT, MON, TUE, WED = (date(2026, 12, d) for d in (4, 5, 7, 8, 9))


def test_school_days_count_monday_to_friday():
    assert school_days_after(FRI, FRI) == 0
    assert school_days_after(FRI, SAT) == 0
    assert school_days_after(FRI, MON) == 1
    assert school_days_after(FRI, TUE) == 2
    assert school_days_after(FRI, WED) == 3
    assert school_days_after(FRI, FRI + timedelta(days=14)) == 10
    assert on_time(FRI, TUE) and not on_time(FRI, WED)
    assert on_time(SAT, TUE) and not on_time(MON, date(2026, 12, 10))


def test_still_open_since():
    assert still_open_since(TUE) == date(2026, 12, 4)  # Friday's visit can still be on time
    assert still_open_since(WED) == MON  # Saturday and Sunday: Wednesday is their 3rd
    assert still_open_since(MON) == date(2026, 12, 3)  # Thursday: Fri, Mon


def test_a_link_stops_when_the_walkthrough_moves_to_another_teachers_class(
    client, bearer, setting, push, make_version, taught, create_classroom, mailbox
):
    """An amendment may change the classroom: the first teacher's link must not then show
    (or let them acknowledge) the feedback of another teacher's lesson."""
    other_teacher = Teacher(external_id="T-2", name="Omar Reyes", email="omar@district.test")
    db.session.add(other_teacher)
    room = create_classroom("RVE-04", school=setting.school, name="Grade 4")
    room.teacher = other_teacher
    db.session.commit()
    version = make_version()
    push(version)
    send(client, bearer(setting.observer), version["observation_id"], expect=201)
    path = link_path(mailbox.links()[0])
    token = client.csrf_token(path)
    push(edit_of(version, classroom_id=room.id, notes="Omar's lesson."))
    response = client.get(path)
    assert response.status_code == 410
    text = response.get_data(as_text=True)
    assert "no longer available" in text
    assert "Omar" not in text and "Grade 4" not in text and "Pairs argued." not in text
    answer = client.post(path, data={"csrf_token": token, "reflection": "mine"})
    assert answer.status_code == 410
    db.session.rollback()
    assert db.session.scalars(select(FeedbackSend)).one().acknowledged_at is None


def test_a_link_waits_while_the_walkthrough_is_a_draft_again(
    client, bearer, setting, push, make_version, taught, mailbox
):
    """A draft pushed on top of the submitted version (an amendment in progress, imported
    from "Export unsynced data") is not shown to the teacher until it is submitted again."""
    version = make_version()
    push(version)
    send(client, bearer(setting.observer), version["observation_id"], expect=201)
    path = link_path(mailbox.links()[0])
    draft = edit_of(version, state="draft", notes="Half-written second thoughts.")
    push(draft)
    response = client.get(path)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Half-written" not in text and "Pairs argued." not in text
    push(edit_of(draft, state="submitted", notes="Settled."))
    assert client.get(path).status_code == 200


def test_the_email_is_in_the_senders_language(client, bearer, setting, visit, mailbox):
    """The teacher has no language setting; the e-mail goes as the observer reads observe."""
    setting.observer.language = "es"
    db.session.commit()
    send(client, bearer(setting.observer), visit, expect=201)
    message = mailbox.messages[0]
    assert message["Subject"].startswith("Retroalimentación de la visita al aula: Grade 3, ")
    body = mailbox.body()
    assert body.startswith("Hola, Maya Lopez:")
    assert "Esto es lo que observó:" in body and "Riverside Elementary" in body
    assert " de 20" in body  # the date with the month named in Spanish ("3 de diciembre de 2026")
    # The teacher's page follows the teacher's browser.
    [link] = mailbox.links()
    page = client.get(link_path(link)).get_data(as_text=True)
    assert "I have read this" in page
    page = client.get(link_path(link), headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Ya lo leí" in page and '<html lang="es">' in page
