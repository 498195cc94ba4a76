"""Strengths and one next step on the tablet's review screen: typed offline, kept through a
reload, synced, amended, and on the teacher's one-page feedback."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe import paths
from observe.extensions import db
from observe.observations.models import Observation
from observe.rubrics.operations import load_rubric_file
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_tablet import open_app, record_walkthrough, stored_observations

STRENGTHS = "Every pair explained its estimate to the other, using the frames on the board."
NEXT_STEP = "Before the whole-class share, a turn-and-talk so the back table rehearses first."


@pytest.fixture
def district(riverbend):
    riverbend()


def until(done, timeout: float = 10) -> Observation:
    """The one walkthrough on the server, once ``done(it)`` (the sync indicator may still say
    "All saved" from before a push it has not started)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()  # a fresh snapshot
        observation = db.session.scalars(select(Observation)).one()
        if done(observation) or time.monotonic() > deadline:
            return observation
        time.sleep(0.1)


def synced(page: Page) -> None:
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")


def test_feedback_typed_offline_survives_a_reload_syncs_and_reaches_the_feedback_page(
    context: BrowserContext, page: Page, live_server, district, screenshot_dir
):
    open_app(page, live_server)
    context.set_offline(True)
    record_walkthrough(page, submit=False)
    page.get_by_role("link", name="Review and submit").click()
    review = page.get_by_role("region", name="Feedback for the teacher")
    expect(review).to_be_visible()
    page.get_by_label("Strengths").fill(STRENGTHS)
    page.get_by_label("One next step").fill(NEXT_STEP)
    expect(page.locator("#strengths-count")).to_have_text(f"{len(STRENGTHS)} of 500 characters")
    page.wait_for_timeout(400)  # past the autosave debounce: on disk, not in this tab

    page.reload()  # offline: the service worker serves the app, IndexedDB the draft
    expect(page.get_by_label("Strengths")).to_have_value(STRENGTHS)
    expect(page.get_by_label("One next step")).to_have_value(NEXT_STEP)
    expect(page.get_by_label("Strengths")).to_have_attribute("maxlength", "500")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")
    assert stored_observations() == 0

    # Read back on the submitted walkthrough, still offline.
    page.get_by_role("region", name="Waiting to sync").get_by_role("link").first.click()
    shown = page.get_by_role("region", name="Strengths and next step")
    expect(shown).to_contain_text(STRENGTHS)
    expect(shown).to_contain_text(NEXT_STEP)
    page.screenshot(path=screenshot_dir / "app-view-feedback-landscape.png", full_page=True)

    context.set_offline(False)
    synced(page)
    assert stored_observations() == 1
    observation = db.session.scalars(select(Observation)).one()
    assert (observation.strengths, observation.next_step) == (STRENGTHS, NEXT_STEP)

    # Amended: reopened, the fields hold what was sent; a changed next step replaces it.
    page.goto(f"{live_server}/app/#/view/{observation.id}")
    page.get_by_role("button", name="Reopen to amend").click()
    page.get_by_role("link", name="Review and submit").click()
    expect(page.get_by_label("Strengths")).to_have_value(STRENGTHS)
    page.get_by_label("One next step").fill("Post the sentence frames where every table sees them.")
    page.get_by_role("button", name="Submit").click()
    synced(page)
    observation = until(lambda o: o.next_step != NEXT_STEP)
    assert observation.strengths == STRENGTHS
    assert observation.next_step == "Post the sentence frames where every table sees them."

    # The teacher's feedback page: strengths and the next step first.
    page.goto(f"{live_server}/walkthroughs/{observation.id}/feedback")
    expect(page.get_by_role("heading", name="Strengths")).to_be_visible()
    expect(page.locator(".feedback-next-step")).to_contain_text("Post the sentence frames")
    expect(page.locator(".feedback-strengths")).to_contain_text(STRENGTHS)


def test_the_fields_are_written_in_one_tab_at_a_time(
    context: BrowserContext, page: Page, live_server, district
):
    """A review screen writes the whole draft's content, as the form does: while the form is
    open in another tab, it only reads, so neither tab puts back the other's older copy."""
    open_app(page, live_server)
    record_walkthrough(page, submit=False)
    review = page.url.replace("#/observe/", "#/review/")
    second = context.new_page()
    second.goto(review)
    expect(second.get_by_role("alert")).to_contain_text("open in another tab")
    expect(second.get_by_label("Strengths")).to_be_disabled()
    page.get_by_role("link", name="Save and go home").click()  # the form lets the draft go
    second.reload()
    expect(second.get_by_label("Strengths")).to_be_enabled()
    second.get_by_label("Strengths").fill(STRENGTHS)
    second.evaluate("location.hash = '#/'")  # leaving saves, and lets the draft go
    expect(second.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    page.goto(review)
    expect(page.get_by_label("Strengths")).to_have_value(STRENGTHS)
    expect(page.get_by_label("Strengths")).to_be_enabled()


def push_full_walkthrough(client, bearer, observer, school, classroom) -> str:
    """A walkthrough of the full sample rubric (27 look-fors), pushed as a tablet would."""
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    db.session.commit()
    ratings = []
    for i, criterion in enumerate(version.criteria):
        if i in (2, 11, 12, 24):
            ratings.append({"criterion": criterion.key, "level": None, "not_observed": True})
            continue
        rating = {"criterion": criterion.key, "level": 1 + i % 4}
        if i % 3 == 0:
            rating["evidence"] = "A pair at the window table said why their estimate was too high."
        ratings.append(rating)
    now = datetime.now(UTC)
    observation_id = str(uuid.uuid4())
    payload = {
        "observation_id": observation_id,
        "version_id": str(uuid.uuid4()),
        "rubric_version_id": version.id,
        "school_id": school.id,
        "classroom_id": classroom.id,
        "observed_at": (now - timedelta(hours=1)).isoformat(),
        "saved_at": now.isoformat(),
        "duration_seconds": 840,
        "context": {"grouping": ["Pairs"], "visit-part": "Middle"},
        "ratings": ratings,
        "strengths": STRENGTHS,
        "next_step": NEXT_STEP,
    }
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": "t", "versions": [payload]},
        headers=bearer(observer),
    )
    assert response.get_json()["results"][0]["status"] == "applied"
    return observation_id


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_the_review_fields_and_the_feedback_page_at_tablet_sizes(
    page: Page, live_server, district, client, bearer, screenshot_dir, orientation
):
    from observe.accounts.models import User
    from observe.roster.models import Classroom

    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, live_server)
    record_walkthrough(page, submit=False)
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_label("Strengths").fill(STRENGTHS)
    page.get_by_label("One next step").fill(NEXT_STEP)
    assert serious_violations(page) == [], "review"
    page.get_by_role("region", name="Feedback for the teacher").screenshot(
        path=screenshot_dir / f"app-review-feedback-{orientation}.png"
    )

    observer = db.session.scalars(select(User).where(User.email == "coach@example.org")).one()
    classroom = db.session.scalars(select(Classroom).where(Classroom.name == "AP Calculus")).one()
    full = push_full_walkthrough(client, bearer, observer, classroom.school, classroom)
    page.goto(f"{live_server}/walkthroughs/{full}/feedback")
    expect(page.get_by_role("heading", name="One next step")).to_be_visible()
    expect(page.get_by_role("heading", name="Levels seen")).to_be_visible()
    assert serious_violations(page) == [], "feedback page"
    page.screenshot(path=screenshot_dir / f"feedback-{orientation}.png", full_page=True)
    # Nothing wider than the screen (the levels' columns fold on a portrait tablet).
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(f"{live_server}/walkthroughs/{full}")
    expect(page.get_by_role("heading", name="Strengths and next step")).to_be_visible()
    assert serious_violations(page) == [], "walkthrough page"
    page.screenshot(path=screenshot_dir / f"walkthrough-feedback-{orientation}.png")
