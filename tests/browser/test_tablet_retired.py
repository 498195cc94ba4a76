"""A retired rubric version on the tablet (issue 13): after the district loads version 2 and
retires version 1, the start screen offers only version 2, while a draft begun on version 1
is finished offline and submitted when the tablet is back online."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from observe import paths
from observe.core.permissions import SYSTEM
from observe.extensions import db
from observe.observations.models import ObservationState
from observe.rubrics.models import RubricVersion
from observe.rubrics.operations import load_rubric_text, retire
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_tablet_whole import (
    begin,
    local_walkthroughs,
    open_app,
    server_walkthroughs,
    sync_now,
    wait_for_tablet,
)

REVISED = "Quick Look-Fors, revised"


@pytest.fixture
def district(riverbend):
    riverbend(english=False)


def load_version_2_and_retire_version_1() -> tuple[RubricVersion, RubricVersion]:
    db.session.rollback()
    v1 = db.session.scalars(select(RubricVersion)).one()
    text = (paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").read_text(encoding="utf-8")
    v2 = load_rubric_text(text.replace("en: Quick Look-Fors", f"en: {REVISED}"), "v2.yaml")
    retire(v1, SYSTEM)
    db.session.commit()
    return v1, v2.version


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_a_retired_version_is_not_offered_but_its_draft_still_submits_offline(
    page: Page, live_server, district, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, live_server)
    begin(page)  # a draft on version 1, the only version yet
    page.locator(".criterion").first.get_by_role("button", name="Yes").click()
    page.get_by_label("Overall notes").fill("Begun before the revision.")
    page.goto(f"{live_server}/app/#/")
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    [draft] = local_walkthroughs(page)

    v1, v2 = load_version_2_and_retire_version_1()
    assert draft["rubric_version_id"] == v1.id
    sync_now(page)
    holds_retired = """async () => {
      const store = await import("/static/js/store.js");
      const versions = await store.all("rubrics");
      return versions.some((v) => v.retired) && versions.length === 2;
    }"""
    wait_for_tablet(page, holds_retired, "the tablet never learned of the retirement")

    # A new walkthrough: only version 2 is offered.
    page.get_by_role("link", name="Start a walkthrough").click()
    chips = page.get_by_role("group", name="Rubric").get_by_role("button")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text(REVISED)
    expect(chips.first).to_have_attribute("aria-pressed", "true")
    assert serious_violations(page) == [], "start"
    page.screenshot(path=screenshot_dir / f"app-start-retired-{orientation}.png", full_page=True)

    # Offline, the version 1 draft is finished and submitted; it goes when the tablet is back.
    page.context.set_offline(True)
    page.evaluate(f"location.hash = '#/observe/{draft['id']}'")
    expect(page.locator(".criterion").first).to_be_visible()
    expect(page.get_by_label("Overall notes")).to_have_value("Begun before the revision.")
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    page.screenshot(path=screenshot_dir / f"app-retired-draft-waiting-{orientation}.png")
    db.session.rollback()
    # The server holds the draft as it was last synced, not yet submitted.
    assert [w.state for w in server_walkthroughs()] == [ObservationState.DRAFT]
    page.context.set_offline(False)
    sync_now(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    db.session.rollback()
    [sent] = server_walkthroughs()
    assert (sent.rubric_version_id, sent.state) == (v1.id, ObservationState.SUBMITTED)
    assert sent.notes == "Begun before the revision."
    assert v2.id != v1.id
