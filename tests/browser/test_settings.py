"""The settings page on a tablet: create a token, see it once, revoke it."""

from playwright.sync_api import Page, expect

from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD


def test_create_and_revoke_a_token(page: Page, live_server, create_user, screenshot_dir):
    create_user(email="data@example.org", name="Dara Data")
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("data@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Settings").click()
    page.get_by_label("New token's name").fill("Warehouse nightly load")
    page.get_by_label("Your password (a token outlives signing out)").fill(PASSWORD)
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("obs_")
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / "settings-new-token-landscape.png", full_page=True)

    api = page.request.get(live_server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.json()["email"] == "data@example.org"

    page.get_by_role("button", name="Revoke token Warehouse nightly load").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Revoke the token “Warehouse nightly load”?"
    )
    page.screenshot(path=screenshot_dir / "settings-confirm-revoke-landscape.png")
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    page.set_viewport_size({"width": 768, "height": 1024})
    page.screenshot(path=screenshot_dir / "settings-revoked-portrait.png", full_page=True)
    api = page.request.get(live_server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 401
