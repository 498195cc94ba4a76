"""Observer-adjusted comparisons in a real browser: the summary's adjusted table and the
calibration trends page's observer leans, on a district with planted leans; axe, looked at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD
from tests.reports import raters_district


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_an_admin_reads_adjusted_figures_and_observer_leans(
    page: Page, live_server, create_user, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    raters_district.build(create_user, walkthroughs_per_school=120)

    page.goto(live_server + "/sign-in?next=/reports/summary")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Split by").select_option("school")
    page.get_by_role("button", name="Show").click()
    heading = page.get_by_role("heading", name="Adjusted for who observed")
    expect(heading).to_be_visible()
    table = page.locator("table", has_text="Observer lean")
    expect(table.get_by_role("row", name="ALD")).to_contain_text("pts")
    # The scope adjusted the same way, which the headline compares adjusted groups with.
    expect(table.get_by_role("row", name="Across the scope")).to_contain_text("pts")
    assert serious_violations(page) == [], "summary, adjusted"
    page.screenshot(path=screenshot_dir / f"raters-summary-{orientation}.png", full_page=True)
    heading.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / f"raters-summary-adjusted-{orientation}.png")

    page.goto(live_server + "/calibration/trends")
    leans = page.get_by_role("heading", name="Each observer's lean in everyday walkthroughs")
    expect(leans).to_be_visible()
    expect(page.get_by_role("row", name="Principal ALD")).to_contain_text("severe")
    assert serious_violations(page) == [], "calibration trends, leans"
    leans.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / f"raters-trends-{orientation}.png")
