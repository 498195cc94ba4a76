"""Undo and confirm on the tablet: discarding a draft and restoring it (offline, across a reload),
the purge after 30 days, moving a draft and an amendment to another classroom or school, the
confirmation after Submit, and one count of what is only on this tablet."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation
from observe.roster.models import Classroom, School
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_tablet import open_app, record_walkthrough, stored_observations


@pytest.fixture
def district(riverbend):
    riverbend()


def walkthroughs() -> list[Observation]:
    db.session.rollback()
    return list(db.session.scalars(select(Observation)))


def discard_the_open_draft(page: Page) -> None:
    page.get_by_role("button", name="Discard draft").click()
    page.get_by_role("dialog").get_by_role("button", name="Discard the draft").click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()


def sync_now(page: Page) -> None:
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")


def test_a_discarded_draft_is_restored_after_a_reload_offline_and_never_sent_meanwhile(
    context: BrowserContext, page: Page, live_server, district
):
    open_app(page, live_server)
    context.set_offline(True)
    record_walkthrough(page, submit=False)
    page.get_by_role("button", name="Discard draft").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("AP Calculus · Riverbend High · 3 of 7 rated")
    expect(dialog).to_contain_text("restore it for 30 days")
    dialog.get_by_role("button", name="Keep the draft").click()
    expect(page.locator("#progress")).to_have_text("3 of 7 rated")  # nothing happened

    discard_the_open_draft(page)
    drafts = page.get_by_role("region", name="Drafts")
    discarded = page.get_by_role("region", name="Discarded")
    expect(drafts).to_contain_text("No drafts on this tablet.")
    expect(discarded).to_contain_text("AP Calculus")
    expect(discarded).to_contain_text("deleted in 30 days")
    indicator = page.locator("#sync-indicator")
    expect(indicator).to_have_text("Offline — saved on this tablet")  # not waiting: discarded

    # Online while discarded: nothing of it reaches the server.
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(indicator).to_contain_text("All saved to the server")
    assert stored_observations() == 0

    context.set_offline(True)
    page.reload()
    discarded = page.get_by_role("region", name="Discarded")
    discarded.get_by_role("button", name="Restore AP Calculus · Riverbend High").click()
    expect(page.get_by_role("region", name="Discarded")).to_have_count(0)
    drafts = page.get_by_role("region", name="Drafts")
    expect(drafts).to_contain_text("3 of 7 rated")
    expect(indicator).to_contain_text("1 waiting")
    drafts.get_by_role("link").first.click()
    expect(page.get_by_label("Overall notes")).to_have_value("Lively start.")

    context.set_offline(False)
    page.get_by_role("link", name="Save and go home").click()
    sync_now(page)
    [observation] = walkthroughs()
    assert observation.notes == "Lively start."
    assert observation.state.value == "draft"


def test_a_discarded_draft_goes_after_30_days_with_its_backup_on_the_server(
    page: Page, live_server, district
):
    open_app(page, live_server)
    record_walkthrough(page, submit=False)
    page.get_by_role("link", name="Save and go home").click()
    sync_now(page)  # the draft's backup is on the server now
    [backup] = walkthroughs()
    page.get_by_role("region", name="Drafts").get_by_role("link").first.click()
    discard_the_open_draft(page)
    expect(page.get_by_role("region", name="Discarded")).to_contain_text("AP Calculus")

    now = datetime.now()
    page.clock.set_fixed_time(now + timedelta(days=29, hours=12))
    page.reload()
    expect(page.get_by_role("region", name="Discarded")).to_contain_text("deleted within a day")
    assert walkthroughs()[0].deleted_at is None

    page.clock.set_fixed_time(now + timedelta(days=30, hours=1))
    page.reload()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    expect(page.get_by_role("region", name="Discarded")).to_have_count(0)
    expect(page.get_by_role("region", name="Drafts")).to_contain_text("No drafts on this tablet.")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    [gone] = walkthroughs()
    assert gone.id == backup.id and gone.deleted_at is not None
    assert (
        page.evaluate(
            """async () => {
          const user = JSON.parse(localStorage.getItem("observe.user")).id;
          const db = await new Promise((ok) => {
            const r = indexedDB.open(`observe-user-${user}`);
            r.onsuccess = () => ok(r.result);
          });
          return new Promise((ok) => {
            const r = db.transaction("observations").objectStore("observations").count();
            r.onsuccess = () => ok(r.result);
          });
        }"""
        )
        == 0
    )


def test_a_draft_and_an_amendment_move_to_another_classroom_and_school(
    page: Page, live_server, riverbend, create_classroom, screenshot_dir
):
    riverbend(northside=True)
    northside = db.session.scalars(select(School).where(School.code == "NHS")).one()
    create_classroom("NHS-07", school=northside, name="Chemistry", course_level="honors")
    from observe.accounts.models import User

    coach = db.session.scalars(select(User).where(User.role == Role.OBSERVER)).one()
    coach.schools.append(northside)
    db.session.commit()

    open_app(page, live_server)
    page.get_by_role("link", name="Start a walkthrough").click()
    page.get_by_role("button", name="Riverbend High").click()
    page.get_by_role("button", name="AP Calculus").click()
    page.get_by_role("button", name="Begin").click()
    page.locator(".criterion").nth(0).get_by_role("button", name="Yes").click()
    page.locator("#visit summary").click()
    page.locator("#visit-classroom").select_option(label="English 9")
    expect(page.locator("#form-place")).to_have_text("English 9 · Riverbend High")
    page.screenshot(path=screenshot_dir / "app-visit-move-landscape.png")
    page.get_by_role("link", name="Save and go home").click()
    sync_now(page)
    [draft] = walkthroughs()
    english = db.session.scalars(select(Classroom).where(Classroom.name == "English 9")).one()
    assert (draft.classroom_id, draft.state.value) == (english.id, "draft")

    page.get_by_role("region", name="Drafts").get_by_role("link").first.click()
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    page.get_by_role("region", name="Recently synced").get_by_role("link").first.click()
    page.get_by_role("button", name="Reopen to amend").click()
    page.locator("#visit summary").click()
    page.locator("#visit-school").select_option(label="Northside High")
    expect(page.locator("#form-place")).to_have_text("Whole school · Northside High")
    page.locator("#visit-classroom").select_option(label="Chemistry")
    expect(page.locator("#form-place")).to_have_text("Chemistry · Northside High")
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    [moved] = walkthroughs()
    chemistry = db.session.scalars(select(Classroom).where(Classroom.name == "Chemistry")).one()
    assert (moved.school_id, moved.classroom_id) == (northside.id, chemistry.id)
    assert moved.state.value == "submitted"
    assert len(moved.ratings) == 1


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_submit_is_confirmed_until_dismissed_and_links_to_the_feedback(
    context: BrowserContext, page: Page, live_server, district, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, live_server)
    for _ in range(3):  # drafts above the list of what waits: the confirmation is still in view
        record_walkthrough(page, "English 9", submit=False)
        page.get_by_role("link", name="Save and go home").click()
    context.set_offline(True)
    record_walkthrough(page)
    notice = page.get_by_role("status", name="Submitted", exact=True)
    expect(notice).to_contain_text("Submitted: AP Calculus · Riverbend High")
    expect(notice).to_contain_text("waits to sync")
    expect(notice).to_be_in_viewport()
    expect(notice.get_by_role("link", name="Feedback for the teacher")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("status", name="Submitted", exact=True)).to_contain_text(
        "waits to sync"
    )

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    notice = page.get_by_role("status", name="Synced", exact=True)
    expect(notice).to_contain_text("Submitted and on the server: AP Calculus · Riverbend High")
    expect(notice).to_be_in_viewport()
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / f"app-submitted-{orientation}.png")
    notice.get_by_role("link", name="Feedback for the teacher").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Walkthrough feedback")
    expect(page.locator("main")).to_contain_text("AP Calculus")
    page.go_back()
    page.get_by_role("status", name="Synced", exact=True).get_by_role(
        "button", name="Dismiss"
    ).click()
    expect(page.get_by_role("status", name="Synced", exact=True)).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    expect(page.get_by_role("status", name="Synced", exact=True)).to_have_count(0)


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_the_discard_screens_are_accessible_and_looked_at(
    context: BrowserContext, page: Page, live_server, district, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, live_server)
    context.set_offline(True)
    record_walkthrough(page, submit=False)
    page.get_by_role("button", name="Discard draft").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / f"app-form-discard-{orientation}.png")
    page.get_by_role("button", name="Discard draft").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert serious_violations(page) == [], "dialog"
    page.screenshot(path=screenshot_dir / f"app-discard-dialog-{orientation}.png")
    page.get_by_role("dialog").get_by_role("button", name="Discard the draft").click()
    expect(page.get_by_role("region", name="Discarded")).to_be_visible()
    assert serious_violations(page) == [], "home"
    page.screenshot(path=screenshot_dir / f"app-discarded-{orientation}.png", full_page=True)


def test_the_header_counts_what_sign_out_counts(
    context: BrowserContext, page: Page, live_server, district
):
    open_app(page, live_server)
    record_walkthrough(page)  # on the server
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    context.set_offline(True)
    page.get_by_role("region", name="Recently synced").get_by_role("link").first.click()
    page.get_by_role("button", name="Reopen to amend").click()
    page.get_by_label("Overall notes").fill("Lively start; pairs explained their steps.")
    indicator = page.locator("#sync-indicator")
    expect(indicator).to_have_text("Offline — saved on this tablet · 1 waiting")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("dialog")).to_contain_text(
        "1 walkthrough version is only on this tablet"
    )
    page.get_by_role("dialog").get_by_role("button", name="Stay signed in").click()

    # A new draft as well: two, in both places.
    page.get_by_role("link", name="Save and go home").click()
    record_walkthrough(page, "English 9", submit=False)
    expect(indicator).to_have_text("Offline — saved on this tablet · 2 waiting")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("dialog")).to_contain_text(
        "2 walkthrough versions are only on this tablet"
    )
    page.get_by_role("dialog").get_by_role("button", name="Stay signed in").click()
    discard_the_open_draft(page)
    expect(indicator).to_have_text("Offline — saved on this tablet · 1 waiting")


def test_a_discarded_draft_submitted_on_another_device_is_never_purged_from_the_server(
    page: Page, live_server, district, client, bearer
):
    """Discarded here, finished and submitted on another device: the pull makes it a submitted
    walkthrough on this tablet too, and 30 days later the purge must not delete it — from the
    tablet or, worse, from the server, where it counts in the reports."""
    from observe.accounts.models import User
    from tests.browser.test_tablet import EMAIL

    open_app(page, live_server)
    record_walkthrough(page, submit=False)
    page.get_by_role("link", name="Save and go home").click()
    sync_now(page)  # the draft's backup is on the server
    page.get_by_role("region", name="Drafts").get_by_role("link").first.click()
    discard_the_open_draft(page)
    expect(page.get_by_role("region", name="Discarded")).to_contain_text("AP Calculus")

    # The other device: the same observer submits the draft, made from its backup.
    [backup] = walkthroughs()
    user = db.session.scalars(select(User).where(User.email == EMAIL)).one()
    headers = bearer(user)
    history = client.get(f"/api/v1/observations/{backup.id}", headers=headers).get_json()
    [head] = [v for v in history["versions"] if v["id"] == history["head_version_id"]]
    payload = dict(head["payload"])
    saved = datetime.fromisoformat(payload["saved_at"]) + timedelta(minutes=5)
    payload.update(
        version_id=str(uuid.uuid4()),
        base_version_id=head["id"],
        saved_at=saved.isoformat(),
        state="submitted",
    )
    pushed = client.post(
        "/api/v1/sync/push",
        json={"device_id": "laptop-1", "app_version": "1.0.0", "versions": [payload]},
        headers=headers,
    )
    assert pushed.status_code == 200, pushed.get_json()
    assert walkthroughs()[0].state.value == "submitted"
    sync_now(page)  # this tablet pulls the submitted walkthrough
    expect(page.get_by_role("region", name="Discarded")).to_have_count(0)

    page.clock.set_fixed_time(datetime.now() + timedelta(days=30, hours=1))
    page.reload()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    [kept] = walkthroughs()
    assert kept.deleted_at is None
    expect(page.get_by_role("region", name="Recently synced")).to_contain_text("AP Calculus")
