"""Eviction is noticed (issue 10, item 8): the browser deletes the tablet's database (Safari's
seven-day rule deletes IndexedDB, localStorage, caches and service workers, not a cookie the
server set); at the next start the app is told what was safe on the server, once. A sign-out
that clears the database on purpose, and a brand-new tablet, are told nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe.extensions import db
from observe.sync.devices import COOKIE_NAME
from observe.sync.models import TabletDevice
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_tablet_accounts import IPAD
from tests.browser.test_tablet_whole import begin, open_app, sign_in, submit

AISHA = "coach@example.org"

# What Safari's seven-day rule deletes: every kind of script-writable storage of the site.
EVICT = """async () => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  await Promise.all(names.map((name) => new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = resolve; request.onerror = reject; request.onblocked = resolve;
  })));
  localStorage.clear();
  for (const key of await caches.keys()) await caches.delete(key);
  for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
  return names;
}"""


@pytest.fixture
def district(riverbend):
    riverbend({AISHA: "Aisha Grant"}, english=False)


def record_walkthroughs(page: Page, *notes: str) -> None:
    for text in notes:
        begin(page)
        page.get_by_label("Overall notes").fill(text)
        submit(page)
        expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")


def device_rows() -> list[TabletDevice]:
    db.session.rollback()
    return list(db.session.scalars(select(TabletDevice)))


def evict(page: Page, base: str) -> None:
    page.goto(base + "/settings")  # a page of the server, not the app: nothing holds the database
    assert any(name.startswith("observe-user-") for name in page.evaluate(EVICT))


def shown_when(page: Page, iso: str) -> str:
    return page.evaluate(
        """(iso) => new Date(iso).toLocaleString([], {dateStyle: "medium", timeStyle: "short",
             timeZone: document.querySelector('meta[name="observe-timezone"]').content})""",
        iso,
    )


def test_a_tablet_that_lost_its_database_is_told_so_once_and_how_to_keep_it(
    browser, browser_context_args, live_server, district, screenshot_dir
):
    ipad = browser.new_context(**browser_context_args, user_agent=IPAD, has_touch=True)
    page = ipad.new_page()
    open_app(page, live_server, AISHA)
    record_walkthroughs(page, "First visit.", "Second visit.")
    [row] = device_rows()
    assert row.acknowledged_count == 2
    acknowledged_at = row.last_acknowledged_at.isoformat()

    evict(page, live_server)
    page.goto(live_server + "/app/")  # the session cookie, like the device cookie, survived
    notice = page.get_by_role("status").filter(has_text="This tablet's storage was cleared")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("2 walkthrough versions")
    expect(notice).to_contain_text(f"the last on {shown_when(page, acknowledged_at)}")
    expect(notice).to_contain_text("Anything recorded after that and never sent is gone")
    expect(notice).to_contain_text("tap Share, then Add to Home Screen")
    # What was acknowledged came back from the server.
    expect(page.get_by_role("region", name="Recently synced")).to_contain_text("2")
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshot_dir / f"app-eviction-ipad-{orientation}.png")

    notice.get_by_role("button", name="Got it").click()
    expect(page.locator("#eviction")).to_have_count(0)
    page.reload()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    expect(page.locator("#eviction")).to_have_count(0)  # told once
    ipad.close()


def test_elsewhere_the_notice_says_what_the_browser_answered_about_keeping_data(
    context: BrowserContext, page: Page, live_server, district, screenshot_dir
):
    open_app(page, live_server, AISHA)
    record_walkthroughs(page, "Only visit.")
    evict(page, live_server)
    page.goto(live_server + "/app/")
    notice = page.locator("#eviction")
    expect(notice).to_contain_text("1 walkthrough version,")
    answer = "yes" if page.evaluate("navigator.storage.persisted()") else "no"
    expect(notice).to_contain_text(f"This browser answered {answer}")
    expect(notice).not_to_contain_text("Add to Home Screen")
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshot_dir / f"app-eviction-{orientation}.png")


def test_clearing_on_purpose_at_sign_out_is_not_reported(
    context: BrowserContext, page: Page, live_server, district
):
    open_app(page, live_server, AISHA)
    record_walkthroughs(page, "Before signing out in the app.")
    page.get_by_role("button", name="Sign out").click()  # nothing unsynced: the copy is deleted
    expect(page.get_by_label("Email")).to_be_visible()
    sign_in(page, live_server, AISHA)
    page.goto(live_server + "/app/")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    expect(page.locator("#eviction")).to_have_count(0)

    # The same from the server's pages (sign-out-guard.js).
    page.goto(live_server + "/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email")).to_be_visible()
    names = page.evaluate("indexedDB.databases().then((all) => all.map((d) => d.name))")
    assert not [name for name in names if name.startswith("observe-user-")]
    open_app(page, live_server, AISHA)
    expect(page.locator("#eviction")).to_have_count(0)
    # Each sign-out told the server, and the database of this start is the one it knows.
    [row] = device_rows()
    # (The app's own module: the same instance, with this user's database chosen.)
    here = page.evaluate("import('/static/js/sync.js').then((m) => m.deviceId())")
    assert row.database_id == here


def test_a_brand_new_tablet_is_told_nothing(
    context: BrowserContext, page: Page, live_server, district
):
    open_app(page, live_server, AISHA)
    expect(page.locator("#eviction")).to_have_count(0)
    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie["value"])
    assert page.evaluate("document.cookie").find(COOKIE_NAME) == -1  # no script can touch it
