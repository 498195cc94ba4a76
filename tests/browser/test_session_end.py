"""A session ended on the server while a walkthrough waits in the tablet's outbox: the app
pauses as signed out, deletes nothing, and sends the walkthrough once after signing in again."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page, expect

from observe.accounts.models import User
from observe.extensions import db
from tests.browser.test_tablet import (
    EMAIL,
    district,  # noqa: F401 (a fixture)
    open_app,
    record_walkthrough,
    stored_observations,
    stored_versions,
)
from tests.conftest import PASSWORD


def waiting_in_outbox(page: Page) -> int:
    """How many versions the tablet holds for the server, read from its own database."""
    return page.evaluate(
        """async () => {
          const store = await import("/static/js/store.js");
          return store.count("outbox");
        }"""
    )


def test_sign_out_everywhere_pauses_the_tablet_and_loses_nothing(
    browser: Browser,
    browser_context_args,
    context: BrowserContext,
    page: Page,
    live_server,
    district,  # noqa: F811 (the fixture imported above)
):
    open_app(page, live_server)
    context.set_offline(True)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")
    assert waiting_in_outbox(page) == 1
    assert stored_observations() == 0

    # On a laptop, the same person signs out everywhere (a lost tablet, a shared computer).
    laptop = browser.new_context(**browser_context_args)
    desk = laptop.new_page()
    desk.goto(live_server + "/settings")
    desk.get_by_label("Email").fill(EMAIL)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.get_by_role("button", name="Sign out everywhere").click()
    desk.get_by_role("button", name="Sign out everywhere").click()  # the confirmation's
    expect(desk.get_by_role("status")).to_contain_text("You are signed out on every device.")
    laptop.close()
    db.session.rollback()
    assert db.session.query(User).filter_by(email=EMAIL).one().session_generation >= 1

    # The tablet comes back online with its old cookie: the server no longer knows it.
    context.set_offline(False)
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).to_contain_text("Signed out")
    expect(page.get_by_role("alert")).to_contain_text("Everything you recorded is safe")
    assert waiting_in_outbox(page) == 1  # nothing deleted
    assert stored_observations() == 0

    page.get_by_role("link", name="Sign in again").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert waiting_in_outbox(page) == 0
    assert stored_observations() == 1
    assert stored_versions() == 1  # sent once
