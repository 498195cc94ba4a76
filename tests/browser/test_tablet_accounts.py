"""A shared tablet (issue 10, scenarios 4 and 9): each walkthrough goes to the server under
its own observer, and nobody sees another observer's walkthroughs."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe.extensions import db
from observe.observations.models import Observation
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_tablet_whole import begin, open_app, sign_in, submit

AISHA = "coach@example.org"
BEN = "ben@example.org"


@pytest.fixture
def district(riverbend):
    riverbend({AISHA: "Aisha Grant", BEN: "Ben Ortiz"}, english=False)


def authors() -> list[tuple[str, str]]:
    db.session.rollback()
    return [(o.notes, o.author.email) for o in db.session.scalars(select(Observation))]


def test_another_observers_session_never_carries_a_walkthrough(
    context: BrowserContext, page: Page, live_server, district, screenshot_dir
):
    """Scenario 4: A's session ends with A's walkthrough waiting; B signs in in another tab;
    A's tab synced it under B and pulled B's walkthroughs into A's database."""
    open_app(page, live_server, AISHA)
    page.route("**/api/v1/sync/push", lambda route: route.abort("connectionrefused"))
    begin(page)
    page.get_by_label("Overall notes").fill("Aisha's visit.")
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")
    context.clear_cookies()  # Aisha's session ends

    ben = context.new_page()
    open_app(ben, live_server, BEN)
    page.unroute("**/api/v1/sync/push")
    page.get_by_role("button", name="Sync now").click()
    expect(
        page.get_by_role("heading", name="Ben Ortiz is signed in on this tablet now")
    ).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("AP Calculus")  # nothing of Aisha's shows
    page.evaluate("location.hash = '#/'")  # nor on any screen of the app
    expect(page.locator("main h1")).to_contain_text("Ben Ortiz is signed in on this tablet now")
    expect(page.locator("body")).not_to_contain_text("AP Calculus")
    assert authors() == []

    # Ben's app names whose work waits (names only) and lets Aisha sign in to send it.
    ben.reload()
    others = ben.get_by_role("region", name="Also waiting on this tablet")
    expect(others).to_contain_text("Aisha Grant")
    expect(ben.get_by_role("region", name="Drafts")).to_contain_text("No drafts")
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        ben.set_viewport_size({"width": width, "height": height})
        ben.screenshot(path=screenshot_dir / f"app-shared-tablet-{orientation}.png", full_page=True)
    others.get_by_role("button", name="Sign out so Aisha Grant can sign in").click()
    sign_in(ben, live_server, AISHA)
    ben.goto(live_server + "/app/")
    expect(ben.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert authors() == [("Aisha's visit.", AISHA)]


def test_signing_out_on_the_server_pages_forgets_the_tablets_copy(
    page: Page, live_server, district
):
    """Scenario 9: the next person to open the app saw the last one's walkthroughs."""
    open_app(page, live_server, AISHA)
    begin(page)
    page.get_by_label("Overall notes").fill("Aisha's visit.")
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")

    page.goto(live_server + "/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email")).to_be_visible()
    names = page.evaluate("indexedDB.databases().then((all) => all.map((d) => d.name))")
    assert not [name for name in names if name.startswith("observe-user-")]
    assert page.evaluate("localStorage.getItem('observe.user')") is None

    page.goto(live_server + "/app/")
    expect(page.get_by_label("Email")).to_be_visible()  # sent to sign in, not shown Aisha's work
    expect(page.locator("body")).not_to_contain_text("AP Calculus")


IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_safari_on_ipad_is_told_to_add_the_app_to_the_home_screen(
    browser, browser_context_args, live_server, district
):
    """Safari's seven-day rule evicts a website's storage, not a Home Screen app's."""
    ipad = browser.new_context(**browser_context_args, user_agent=IPAD, has_touch=True)
    page = ipad.new_page()
    open_app(page, live_server, AISHA)
    expect(page.locator("#add-to-home")).to_contain_text("Add to Home Screen")
    ipad.close()

    desktop = browser.new_context(**browser_context_args).new_page()
    open_app(desktop, live_server, AISHA)
    expect(desktop.locator(".tablet-facts")).not_to_contain_text("Add to Home Screen")
    desktop.context.close()
