"""Nothing the observer cannot fix (issue 10, scenario 3): the visit time, its length and the
classroom can be put right on the tablet, and the app checks them before anything is queued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from observe.extensions import db
from observe.observations.models import Observation
from observe.roster.models import Classroom, School
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_tablet_whole import begin, open_app, submit, sync_now


@pytest.fixture
def district(riverbend):
    riverbend(northside=True)


def stored() -> list[Observation]:
    db.session.rollback()
    return list(db.session.scalars(select(Observation)))


def test_a_timer_left_running_all_day_is_fixed_before_it_is_sent(page: Page, live_server, district):
    open_app(page, live_server)
    begin(page)
    page.locator("#visit summary").click()
    page.get_by_label("Visit length, minutes").fill("540")  # the timer ran for nine hours
    page.get_by_role("link", name="Review and submit").click()
    expect(page.get_by_role("alert")).to_contain_text("the visit length is over 8 hours")
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()

    page.get_by_role("link", name="Fix it on the form").click()
    expect(page.locator("#visit")).to_have_attribute("open", "")  # opened where the fix is
    page.get_by_role("button", name="Reset the timer").click()
    expect(page.locator("#timer")).to_have_text("Resume timer · 0:00")
    page.get_by_label("Visit length, minutes").fill("45")
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    [walkthrough] = stored()
    assert walkthrough.duration_seconds == 45 * 60


def test_a_tablet_clock_days_ahead_is_fixed_on_the_tablet(page: Page, live_server, district):
    """The server refuses a time more than ten minutes ahead of its clock: the app learns the
    server's clock, asks for the visit time and stamps its saves on the server's clock."""
    real = datetime.now(UTC)
    page.clock.set_system_time(real + timedelta(days=3))
    open_app(page, live_server)
    begin(page)
    page.get_by_role("link", name="Review and submit").click()
    expect(page.get_by_role("alert")).to_contain_text("the visit time is in the future")
    page.get_by_role("link", name="Fix it on the form").click()
    expect(page.locator("#visit")).to_have_attribute("open", "")  # opened where the fix is
    began = real.astimezone() - timedelta(minutes=20)
    page.get_by_label("Visit began").fill(began.strftime("%Y-%m-%dT%H:%M"))
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    [walkthrough] = stored()
    assert abs(walkthrough.observed_at - began.replace(second=0, microsecond=0)) < timedelta(
        minutes=1
    )


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_a_classroom_the_server_refuses_is_picked_again(
    page: Page, live_server, district, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, live_server)
    page.context.set_offline(True)
    begin(page)
    page.get_by_label("Overall notes").fill("Seen in room 12.")
    submit(page)
    # Meanwhile a roster import moved that classroom to another school.
    db.session.rollback()
    moved = db.session.scalars(select(Classroom).where(Classroom.name == "AP Calculus")).one()
    moved.school_id = db.session.scalars(select(School.id).where(School.code == "NHS")).one()
    db.session.commit()
    page.context.set_offline(False)
    sync_now(page)
    attention = page.get_by_role("region", name="Needs attention")
    # By id only: the school it moved to is not this observer's to learn.
    expect(attention).to_contain_text("is not one of your schools' classrooms")
    assert stored() == []

    attention.get_by_role("link").click()
    page.get_by_role("button", name="Edit and send again").click()
    visit = page.locator("#visit")
    expect(visit.get_by_role("alert")).to_contain_text("pick the classroom again")
    page.get_by_label("Classroom").select_option(label="English 9")
    expect(page.locator("#form-place")).to_have_text("English 9 · Riverbend High")
    page.screenshot(path=screenshot_dir / f"app-attention-fix-{orientation}.png")
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    [walkthrough] = stored()
    assert walkthrough.classroom.name == "English 9"
    assert walkthrough.notes == "Seen in room 12."
