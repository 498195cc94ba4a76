"""Feedback that reaches the teacher, in a real browser with a real SMTP server: the observer
sends it from the tablet (offline first), the e-mail arrives, the teacher opens the link with
no account, acknowledges and reflects, and the observer sees the reply."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from observe.extensions import db
from observe.observations.models import FeedbackSend, Observation
from observe.roster.models import Classroom, Teacher
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_tablet import open_app, record_walkthrough
from tests.mailbox import free_port


@pytest.fixture
def district(riverbend, app, live_server, mailbox):
    riverbend()
    teacher = Teacher(external_id="T-9", name="Maya Lopez", email="maya.lopez@district.test")
    room = db.session.scalars(select(Classroom).where(Classroom.name == "AP Calculus")).one()
    room.teacher = teacher
    db.session.commit()
    app.config["OBSERVE_BASE_URL"] = live_server  # the link in the e-mail opens this server
    return mailbox


def sends() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(FeedbackSend))


def arrived(page: Page, mailbox, count: int, seconds: float = 15) -> None:
    """Wait for ``count`` e-mails, letting the browser (and its routes) run meanwhile."""
    for _ in range(int(seconds * 10)):
        if len(mailbox.messages) >= count:
            break
        page.wait_for_timeout(100)
    assert len(mailbox.messages) == count


def open_walkthrough(page: Page, region: str) -> None:
    page.get_by_role("region", name=region).get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Feedback for the teacher")).to_be_visible()


def test_feedback_sent_offline_reaches_the_teacher_who_replies(
    browser: Browser, page: Page, context, live_server, district, screenshot_dir
):
    mailbox = district
    open_app(page, live_server)
    context.set_offline(True)
    record_walkthrough(page)
    open_walkthrough(page, "Waiting to sync")
    page.get_by_role("button", name="Send feedback to the teacher").click()
    expect(page.locator(".feedback-state")).to_contain_text("once this walkthrough has synced")
    page.reload()  # the queued send survives a reload
    expect(page.locator(".feedback-state")).to_contain_text("Queued")
    assert mailbox.messages == []

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator(".feedback-state")).to_contain_text("Sent", timeout=15_000)
    expect(page.locator(".feedback-state")).to_contain_text("Maya Lopez")
    arrived(page, mailbox, 1)
    assert sends() == 1
    message = mailbox.messages[0]
    assert message["To"] == "maya.lopez@district.test"
    assert message["Subject"].startswith("Walkthrough feedback: AP Calculus, ")
    [link] = mailbox.links()
    assert link.startswith(live_server + "/feedback/t/")
    page.get_by_role("button", name="Sync now").click()  # another sync sends nothing again
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    page.wait_for_timeout(500)
    assert len(mailbox.messages) == 1

    # The teacher: another browser, no account, no cookies.
    teacher = browser.new_context(locale="en-US")
    try:
        tab = teacher.new_page()
        for orientation, (width, height) in TABLET_VIEWPORTS.items():
            tab.set_viewport_size({"width": width, "height": height})
            tab.goto(link)
            expect(tab.get_by_role("heading", name="Walkthrough feedback")).to_be_visible()
            expect(tab.get_by_text("For Maya Lopez")).to_be_visible()
            assert serious_violations(tab) == []
            tab.screenshot(
                path=screenshot_dir / f"teacher-feedback-{orientation}.png", full_page=True
            )
        tab.get_by_label("Your reflection").fill("I will give more wait time after questions.")
        tab.get_by_role("button", name="I have read this").click()
        expect(tab.get_by_role("status").filter(has_text="Thank you")).to_be_visible()
        expect(tab.get_by_role("heading", name="You have read it")).to_be_visible()
        assert serious_violations(tab) == []
        tab.screenshot(path=screenshot_dir / "teacher-feedback-read-portrait.png", full_page=True)
        # The link stays a link for the teacher only: no page of the app opens with it.
        tab.goto(live_server + "/walkthroughs/")
        expect(tab.get_by_label("Email")).to_be_visible()
    finally:
        teacher.close()

    # The observer sees it on the tablet (online) and on the walkthrough's page.
    page.set_viewport_size({"width": 768, "height": 1024})
    page.reload()
    expect(page.get_by_text("Read by Maya Lopez")).to_be_visible()
    expect(page.locator(".reflection")).to_contain_text("more wait time")
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / "app-feedback-read-portrait.png", full_page=True)
    observation = db.session.scalars(select(Observation)).one()
    page.goto(f"{live_server}/walkthroughs/{observation.id}")
    sent = page.get_by_role("region", name="Feedback sent to the teacher")
    expect(sent).to_contain_text("E-mailed to Maya Lopez by Aisha Grant")
    expect(sent).to_contain_text("more wait time")
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / "walkthrough-feedback-sent-portrait.png", full_page=True)
    # The leaders' figure: this one visit had its feedback e-mailed in time.
    page.goto(f"{live_server}/walkthroughs/")
    expect(page.locator("#feedback-loop")).to_contain_text("100% of walkthroughs (1 of 1)")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=screenshot_dir / "walkthroughs-feedback-loop-landscape.png")


def test_mail_server_down_then_back_sends_one_email(
    app, page: Page, live_server, district, screenshot_dir
):
    mailbox = district
    working = app.config["OBSERVE_SMTP_URL"]
    app.config["OBSERVE_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens
    open_app(page, live_server)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    open_walkthrough(page, "Recently synced")
    page.get_by_role("button", name="Send feedback to the teacher").click()
    expect(page.locator(".feedback-state")).to_contain_text("could not be reached")
    expect(page.locator(".feedback-state")).to_contain_text("Queued")
    page.set_viewport_size({"width": 768, "height": 1024})
    page.screenshot(path=screenshot_dir / "app-feedback-queued-portrait.png", full_page=True)
    assert sends() == 0 and mailbox.messages == []

    # A lost answer after the server sent it: the tablet's retry carries the same send id.
    app.config["OBSERVE_SMTP_URL"] = working
    lost = {"left": 1}

    def drop_response(route):
        if lost["left"]:
            lost["left"] -= 1
            route.fetch()  # the server sends the e-mail and commits ...
            route.abort("connectionreset")  # ... and the tablet never hears back
        else:
            route.continue_()

    page.route("**/send-feedback", drop_response)
    page.get_by_role("button", name="Sync now").click()
    arrived(page, mailbox, 1)
    expect(page.locator(".feedback-state")).to_contain_text("Queued")  # it never heard back
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator(".feedback-state")).to_contain_text("Sent", timeout=15_000)
    assert len(mailbox.messages) == 1 and sends() == 1
    page.unroute_all(behavior="ignoreErrors")


def test_no_teacher_email_is_shown_with_the_reason(page: Page, live_server, district):
    db.session.rollback()
    db.session.scalars(select(Teacher)).one().email = None
    db.session.commit()
    open_app(page, live_server)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    open_walkthrough(page, "Recently synced")
    page.get_by_role("button", name="Send feedback to the teacher").click()
    expect(page.locator(".feedback-state")).to_contain_text(
        "Maya Lopez, the teacher of AP Calculus, has no e-mail address"
    )
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    assert district.messages == []


def test_a_queued_send_counts_as_unsynced_so_sign_out_keeps_it(
    page: Page, context, live_server, district
):
    """A send queued offline for a walkthrough already on the server is the only thing on
    this tablet: the header counts it, and signing out asks first instead of forgetting it."""
    mailbox = district
    open_app(page, live_server)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    open_walkthrough(page, "Recently synced")
    page.get_by_role("button", name="Send feedback to the teacher").click()
    expect(page.locator(".feedback-state")).to_contain_text("at the next sync")
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")
    page.get_by_role("button", name="Sign out").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Not everything is on the server yet")
    dialog.get_by_role("button", name="Stay signed in").click()

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator(".feedback-state")).to_contain_text("Sent", timeout=15_000)
    arrived(page, mailbox, 1)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
