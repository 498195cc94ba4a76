"""Single sign-on in a real browser, against a real OpenID Connect provider on 127.0.0.1: the
sign-in page, and a tablet whose session ended signing in again through the provider with its
outbox intact."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from observe.accounts import operations
from observe.accounts.models import User
from observe.audit.models import AuditEvent
from observe.extensions import db
from tests.browser.conftest import TABLET_VIEWPORTS, CountingRequests
from tests.browser.test_session_end import waiting_in_outbox
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_tablet import (
    EMAIL,
    district,  # noqa: F401 (a fixture)
    record_walkthrough,
    stored_observations,
    stored_versions,
)
from tests.oidc_provider import Provider, running_provider


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def sso_server(make_app, provider: Provider) -> Iterator[str]:
    """observe with single sign-on through ``provider``; passwords for district admins only."""
    app = make_app(
        SESSION_COOKIE_SECURE=False,
        OBSERVE_DISTRICT_NAME="Test District",
        OBSERVE_OIDC_ISSUER=provider.url,
        OBSERVE_OIDC_CLIENT_ID="observe-browser-tests",
        OBSERVE_OIDC_CLIENT_SECRET="observe-browser-tests-secret",
        OBSERVE_OIDC_NAME="District ID",
        OBSERVE_PASSWORD_SIGN_IN="admins",
    )
    counter = CountingRequests(app)
    server = make_server("127.0.0.1", 0, counter, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    counter.wait_until_idle()
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def local_only(context: BrowserContext) -> None:
    # The provider's page asks for a stylesheet from a CDN: nothing leaves this machine.
    context.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda route: route.abort())


def sign_in_at_provider(page: Page, email: str) -> None:
    """On observe's sign-in page: off to the provider, sign in there as ``email``."""
    page.get_by_role("link", name="Sign in with District ID").click()
    page.get_by_placeholder("sub").fill(email)
    page.get_by_role("button", name="Authorize").click()


def test_a_tablet_signs_in_again_through_the_provider_and_loses_nothing(
    context: BrowserContext,
    page: Page,
    sso_server: str,
    provider: Provider,
    local_only,
    district,  # noqa: F811 (the fixture imported above)
):
    provider.add_user(EMAIL, name="Aisha Grant")
    page.goto(sso_server + "/app/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Password")).not_to_be_visible()  # admins only, folded away
    sign_in_at_provider(page, EMAIL)
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")

    context.set_offline(True)
    record_walkthrough(page)
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")
    assert waiting_in_outbox(page) == 1

    # The session ends on the server meanwhile (an admin's sign-out-everywhere, a lost tablet).
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    operations.sign_out_everywhere(user)
    db.session.commit()

    context.set_offline(False)
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).to_contain_text("Signed out")
    expect(page.get_by_role("alert")).to_contain_text("Everything you recorded is safe")
    assert waiting_in_outbox(page) == 1 and stored_observations() == 0

    page.get_by_role("link", name="Sign in again").click()
    sign_in_at_provider(page, EMAIL)
    expect(page).to_have_url(sso_server + "/app/")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert waiting_in_outbox(page) == 0
    assert stored_observations() == 1
    assert stored_versions() == 1  # sent once
    db.session.rollback()
    signed_in = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in")).all()
    assert [(e.actor_email, e.detail) for e in signed_in] == [(EMAIL, {"via": "oidc"})] * 2


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_the_sign_in_page_is_accessible_and_looked_at(
    page: Page, sso_server: str, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(sso_server + "/sign-in?next=/app/")
    expect(page.get_by_role("link", name="Sign in with District ID")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / f"sign-in-sso-{orientation}.png", full_page=True)
    page.get_by_text("District admins: sign in with a password").click()
    expect(page.get_by_label("Password")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / f"sign-in-sso-admins-{orientation}.png", full_page=True)
