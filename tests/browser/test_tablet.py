"""The tablet app in a real browser: offline, reloads, failures, expiry, conflicts, updates."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD

EMAIL = "coach@example.org"


@pytest.fixture
def district(riverbend):
    riverbend()


def open_app(page: Page, base: str) -> None:
    """Sign in through the form, land in the app, and wait until it works offline."""
    page.goto(base + "/app/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")


def record_walkthrough(page: Page, classroom: str = "AP Calculus", *, submit: bool = True) -> None:
    page.get_by_role("link", name="Start a walkthrough").click()
    page.get_by_role("button", name=classroom).click()
    page.get_by_role("button", name="Small groups").click()
    page.get_by_role("button", name="Begin").click()
    criteria = page.locator(".criterion")
    expect(criteria.first).to_be_visible()
    criteria.nth(0).get_by_role("button", name="Yes").click()
    criteria.nth(1).get_by_role("button", name="No").click()
    criteria.nth(2).get_by_role("button", name="Yes").click()
    page.get_by_label("Evidence").first.fill("Target on the board and restated by students.")
    page.get_by_label("Overall notes").fill("Lively start.")
    expect(page.locator("#progress")).to_have_text("3 of 7 rated")
    if submit:
        page.get_by_role("link", name="Review and submit").click()
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()


def stored_observations() -> int:
    db.session.rollback()  # a fresh snapshot: what the server has committed by now
    return db.session.scalar(select(func.count()).select_from(Observation))


def stored_versions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ObservationVersion))


def test_a_whole_walkthrough_offline_from_a_cold_start(
    context: BrowserContext, page: Page, live_server, district, screenshot_dir
):
    open_app(page, live_server)
    page.close()

    context.set_offline(True)
    cold = context.new_page()
    cold.goto(live_server + "/app/")  # served by the service worker: no network at all
    expect(cold.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    expect(cold.locator("#sync-indicator")).to_contain_text("Offline")
    record_walkthrough(cold)
    expect(cold.locator("#sync-indicator")).to_contain_text("1 waiting")
    expect(cold.get_by_role("region", name="Waiting to sync")).to_contain_text("AP Calculus")
    cold.screenshot(path=screenshot_dir / "app-offline-waiting-landscape.png", full_page=True)
    assert stored_observations() == 0

    context.set_offline(False)
    cold.evaluate("window.dispatchEvent(new Event('online'))")
    expect(cold.locator("#sync-indicator")).to_contain_text("All saved to the server")
    expect(cold.get_by_role("region", name="Recently synced")).to_contain_text("AP Calculus")
    assert stored_observations() == 1
    observation = db.session.scalars(select(Observation)).one()
    assert observation.notes == "Lively start."
    assert observation.context == {"grouping": ["Small groups"]}
    assert sorted((r.criterion.key, r.level) for r in observation.ratings) == [
        ("ql-materials-for-all", 1),
        ("ql-names", 0),
        ("ql-target-visible", 1),
    ]
    assert observation.duration_seconds is not None


def test_reload_in_the_middle_of_a_form_finds_every_answer(page: Page, live_server, district):
    open_app(page, live_server)
    record_walkthrough(page, submit=False)
    page.wait_for_timeout(400)  # past the autosave debounce
    page.reload()
    expect(page.locator("#progress")).to_have_text("3 of 7 rated")
    assert page.locator('.level[aria-pressed="true"]').count() == 3
    expect(page.get_by_label("Evidence").first).to_have_value(
        "Target on the board and restated by students."
    )
    expect(page.get_by_label("Overall notes")).to_have_value("Lively start.")


def test_a_500_on_the_first_push_then_recovery(page: Page, live_server, district):
    open_app(page, live_server)
    failures = {"left": 1}

    def flaky(route):
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=500, body="{}", content_type="application/json")
        else:
            route.continue_()

    page.route("**/api/v1/sync/push", flaky)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("Sync failed")
    assert stored_observations() == 0
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert stored_observations() == 1


def test_a_response_lost_after_the_server_committed(page: Page, live_server, district):
    open_app(page, live_server)
    lost = {"left": 1}

    def drop_response(route):
        if lost["left"]:
            lost["left"] -= 1
            route.fetch()  # the server stores the version ...
            route.abort("connectionreset")  # ... and the tablet never hears back
        else:
            route.continue_()

    page.route("**/api/v1/sync/push", drop_response)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).not_to_contain_text("Syncing")
    assert stored_versions() == 1
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert stored_versions() == 1  # the retry was recognised as a duplicate
    assert stored_observations() == 1


def test_the_session_expiring_while_items_wait(
    context: BrowserContext, page: Page, live_server, district
):
    open_app(page, live_server)
    context.clear_cookies()
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("Signed out")
    expect(page.get_by_role("alert")).to_contain_text("Everything you recorded is safe")
    assert stored_observations() == 0

    page.get_by_role("link", name="Sign in again").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert stored_observations() == 1


def test_signing_out_with_unsynced_work_refuses_until_exported(
    context: BrowserContext, page: Page, live_server, district
):
    open_app(page, live_server)
    context.set_offline(True)
    record_walkthrough(page)
    page.get_by_role("button", name="Sign out").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Not everything is on the server yet")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export unsynced data").click()
    exported = download.value.path().read_text()
    assert '"format": "observe-unsynced/1"' in exported
    assert "Lively start." in exported


def test_two_devices_editing_one_walkthrough_keep_both_versions(
    browser: Browser, browser_context_args, page: Page, live_server, district
):
    open_app(page, live_server)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")

    other = browser.new_context(**browser_context_args).new_page()
    open_app(other, live_server)  # the second device receives the walkthrough
    # Both amend it while neither can reach the server, so neither sees the other's edit.
    for device, note in ((page, "Amended on the tablet."), (other, "Amended on the laptop.")):
        device.context.set_offline(True)
        device.get_by_role("link", name="AP Calculus").click()
        device.get_by_role("button", name="Reopen to amend").click()
        device.get_by_label("Overall notes").fill(note)
        device.get_by_role("link", name="Review and submit").click()
        device.get_by_role("button", name="Submit").click()
        expect(device.locator("#sync-indicator")).to_contain_text("1 waiting")
    for device in (page, other):
        device.context.set_offline(False)
        device.get_by_role("button", name="Sync now").click()
        expect(device.locator("#sync-indicator")).to_contain_text("All saved to the server")
    expect(other.get_by_role("region", name="Recently synced")).to_contain_text(
        "edited on two devices"
    )
    other.context.close()

    observation = db.session.scalars(select(Observation)).one()
    assert observation.has_conflict
    assert stored_versions() == 3
    assert observation.notes == "Amended on the laptop."  # the later save is the head


def test_a_draft_open_in_two_tabs_is_edited_in_one(
    context: BrowserContext, page: Page, live_server, district
):
    open_app(page, live_server)
    record_walkthrough(page, submit=False)
    second = context.new_page()
    second.goto(page.url)
    expect(second.get_by_role("alert")).to_contain_text("open in another tab")
    expect(second.locator(".level").first).to_be_disabled()
    expect(page.locator(".level").first).to_be_enabled()


def test_an_update_never_reloads_over_a_draft(page: Page, live_server, district, monkeypatch):
    from observe.tablet import views

    open_app(page, live_server)
    record_walkthrough(page, submit=False)
    monkeypatch.setattr(views, "app_version", lambda: "next-release")
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    banner = page.locator("#update")
    expect(banner).to_contain_text("An update of observe is ready")
    expect(page.locator("#progress")).to_have_text("3 of 7 rated")  # nothing reloaded by itself
    banner.get_by_role("button", name="Update now").click()
    expect(page.locator('meta[name="observe-version"]')).to_have_attribute(
        "content", "next-release"
    )
    expect(page.locator("#progress")).to_have_text("3 of 7 rated")
    expect(page.get_by_label("Overall notes")).to_have_value("Lively start.")


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_every_screen_is_accessible_and_looked_at(
    page: Page, live_server, district, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, live_server)
    shots = []
    page.get_by_role("link", name="Start a walkthrough").click()
    page.get_by_role("button", name="AP Calculus").click()
    shots.append("start")
    assert serious_violations(page) == [], "start"
    page.screenshot(path=screenshot_dir / f"app-start-{orientation}.png", full_page=True)
    page.get_by_role("button", name="Begin").click()
    page.locator(".criterion").nth(0).get_by_role("button", name="Yes").click()
    assert serious_violations(page) == [], "form"
    page.screenshot(path=screenshot_dir / f"app-form-{orientation}.png")
    page.get_by_role("link", name="Review and submit").click()
    assert serious_violations(page) == [], "review"
    page.screenshot(path=screenshot_dir / f"app-review-{orientation}.png")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert serious_violations(page) == [], "home"
    page.screenshot(path=screenshot_dir / f"app-home-{orientation}.png", full_page=True)


def test_the_server_pages_do_not_sign_out_over_unsynced_work(page: Page, live_server, district):
    open_app(page, live_server)
    page.route("**/api/v1/sync/push", lambda route: route.abort("connectionrefused"))
    record_walkthrough(page)
    page.goto(live_server + "/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_contain_text("not on the server yet")
    page.get_by_role("link", name="Open the walkthrough app").first.click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()  # still signed in


def test_times_are_on_the_districts_clock_whatever_the_tablets(
    app, browser: Browser, live_server, district, monkeypatch
):
    """A tablet left on another zone (here Tokyo) shows a visit at the time and on the day the
    server's pages and PDFs give it: the district's."""
    monkeypatch.setitem(app.config, "OBSERVE_TIMEZONE", "America/Chicago")
    tokyo = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US",
                                timezone_id="Asia/Tokyo")  # fmt: skip
    page = tokyo.new_page()
    open_app(page, live_server)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    db.session.rollback()
    observed = db.session.scalars(select(Observation)).one().observed_at
    chicago = observed.astimezone(ZoneInfo("America/Chicago"))
    shown = f"{chicago:%b} {chicago.day}, {chicago.year}, {chicago:%-I:%M %p}"
    expect(page.get_by_role("region", name="Recently synced")).to_contain_text(shown)
    tokyo.close()


def test_a_classroom_is_found_by_its_code_and_whole_school_steps_aside(
    page: Page, live_server, district
):
    """Issue 15: "NGM-05" and "05" found nothing, and "Whole school" stayed first while a search
    filtered the rooms, easy to tap by mistake."""
    open_app(page, live_server)
    page.get_by_role("link", name="Start a walkthrough").click()
    search = page.get_by_label("Search by room, teacher, course or code")
    whole = page.get_by_role("button", name="Whole school")
    calculus = page.get_by_role("button", name="AP Calculus")
    english = page.get_by_role("button", name="English 9")
    expect(whole).to_be_visible()
    for typed in ("RHS-02", "02", "rhs 02", "general"):
        search.fill(typed)
        expect(english).to_be_visible()
        expect(calculus).to_be_hidden()
        expect(whole).to_be_hidden()
    search.fill("calc ap")
    expect(calculus).to_be_visible()
    expect(english).to_be_hidden()
    search.fill("")
    expect(whole).to_be_visible()
    expect(calculus).to_be_visible()
    expect(english).to_be_visible()


def test_the_reports_are_a_tap_away_in_portrait_too(page: Page, live_server, district):
    """Issue 15: below 768 px wide the app had no way to the reports."""
    open_app(page, live_server)
    page.set_viewport_size({"width": 1024, "height": 768})
    expect(page.get_by_role("link", name="Reports & settings")).to_be_visible()
    page.set_viewport_size({"width": 768, "height": 1024})
    link = page.get_by_role("link", name="Reports", exact=True)
    expect(link).to_be_visible()
    header = page.locator(".site-header").bounding_box()
    page.screenshot(path="screenshots/app-header-portrait.png")
    assert header is not None and header["height"] < 200  # still a header, not half the screen
    link.click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
