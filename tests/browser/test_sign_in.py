"""A person signs in on a tablet, in a real browser."""

import pytest
from playwright.sync_api import Page, expect

from observe.core.permissions import Role
from tests.browser import axe
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.conftest import PASSWORD


def serious_violations(page: Page) -> list[str]:
    """The serious and critical axe violations on the page (tests/browser/axe.py)."""
    return axe.violations(page)


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_sign_in_on_a_tablet(
    page: Page, live_server, create_user, create_school, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    school = create_school("RVE", "Riverside Elementary")
    create_user(
        Role.SCHOOL_LEADER, email="lucia@example.org", name="Lucia Moreno", schools=[school]
    )

    page.goto(live_server + "/")
    expect(page).to_have_url(live_server + "/sign-in?next=/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / f"sign-in-{orientation}.png", full_page=True)

    page.get_by_label("Email").fill("lucia@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an active account."
    )

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Lucia")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / f"home-{orientation}.png", full_page=True)

    # The sign-in button is a comfortable touch target.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.wait_for_load_state("load")  # measured once its stylesheet applies, not before
    box = page.get_by_role("button", name="Sign in").bounding_box()
    assert box["height"] >= 44
