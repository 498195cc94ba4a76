"""The server pages ask before what cannot be undone: the reveal (naming who has not submitted),
removing a goal, deleting a walkthrough. The confirmation pages are plain forms with no script;
the test client drives the same steps with no browser at all (tests/calibration/test_views.py,
tests/observations/test_views.py, tests/authz/table.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from observe.calibration.models import CalibrationSession
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation
from observe.reports import goals
from observe.sync import push as sync
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_calibration import FACILITATOR, _session
from tests.browser.test_calibration import team as team  # the fixture, here too
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD


def sign_in(page: Page, base: str, email: str, next_path: str) -> None:
    page.goto(base + "/sign-in?next=" + next_path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def submit_score(person, session: CalibrationSession, classroom_id: int) -> None:
    now = datetime.now(UTC)
    result = sync.push_one(
        sync.Device(person, "tablet", "test"),
        {
            "observation_id": str(uuid.uuid4()),
            "version_id": str(uuid.uuid4()),
            "rubric_version_id": session.rubric_version_id,
            "school_id": session.school_id,
            "classroom_id": classroom_id,
            "observed_at": (now - timedelta(hours=1)).isoformat(),
            "saved_at": (now - timedelta(minutes=30)).isoformat(),
            "ratings": [{"criterion": "ql-target-visible", "level": 1}],
            "calibration_session_id": session.id,
        },
    )
    assert result["status"] == "applied", result
    db.session.commit()


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_the_reveal_names_who_has_not_submitted_and_waits_for_a_yes(
    page: Page,
    live_server,
    team,
    screenshot_dir,
    orientation,
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    _, classroom, _, observer, others = team
    session = _session(team, "quick-look-fors.yaml")
    submit_score(observer, session, classroom.id)
    submit_score(others[0], session, classroom.id)
    sign_in(page, live_server, FACILITATOR, f"/calibration/{session.id}")

    page.get_by_role("button", name="Reveal the scores").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Reveal the scores of AP Calculus: related rates?"
    )
    expect(page.locator("main")).to_contain_text("2 of 4 participants have submitted")
    names = page.locator(".confirm-names li")
    expect(names).to_have_text(["Nina Petrov", "Tom Becker"])
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / f"confirm-reveal-{orientation}.png", full_page=True)

    page.get_by_role("link", name="Not yet: back to the session").click()
    expect(page.get_by_role("heading", name="Who has submitted")).to_be_visible()
    db.session.rollback()
    assert db.session.get(CalibrationSession, session.id).is_revealed is False

    page.get_by_role("button", name="Reveal the scores").click()
    page.get_by_role("button", name="Reveal the scores").click()
    expect(page.get_by_role("status")).to_contain_text("The scores are revealed")
    db.session.rollback()
    assert db.session.get(CalibrationSession, session.id).is_revealed is True


def test_removing_a_goal_and_deleting_a_walkthrough_are_asked_first(
    page: Page, live_server, create_school, create_classroom, create_user, screenshot_dir
):
    from observe import paths
    from observe.rubrics.operations import load_rubric_file

    school = create_school("RHS", "Riverbend High")
    classroom = create_classroom("RHS-01", school=school, name="AP Calculus")
    admin = create_user(Role.DISTRICT_ADMIN, email="ada@example.org", name="Ada Admin")
    coach = create_user(
        Role.OBSERVER, email="coach@example.org", name="Aisha Grant", schools=[school]
    )
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").version
    goal = goals.create_goal(
        admin,
        {
            "title": "Targets in every room",
            "rubric_version_id": version.id,
            "target_kind": "criterion",
            "target_key": "ql-target-visible",
            "at_least": 1,
            "target_share": 0.8,
            "school_code": "RHS",
            "deadline": "2030-06-01",
        },
    )
    now = datetime.now(UTC)
    walkthrough = str(uuid.uuid4())
    pushed = sync.push_one(
        sync.Device(coach, "tablet", "test"),
        {
            "observation_id": walkthrough,
            "version_id": str(uuid.uuid4()),
            "rubric_version_id": version.id,
            "school_id": school.id,
            "classroom_id": classroom.id,
            "observed_at": (now - timedelta(hours=1)).isoformat(),
            "saved_at": (now - timedelta(minutes=30)).isoformat(),
            "ratings": [{"criterion": "ql-target-visible", "level": 1}],
        },
    )
    assert pushed["status"] == "applied"
    db.session.commit()
    goal_id = goal.id

    sign_in(page, live_server, "ada@example.org", "/reports/goals")
    page.get_by_role("button", name="Remove this goal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Remove the goal “Targets in every room”?"
    )
    expect(page.locator("main")).to_contain_text("Riverbend High's goal")
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / "confirm-goal-landscape.png")
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_role("heading", name="Targets in every room")).to_be_visible()
    page.get_by_role("button", name="Remove this goal").click()
    page.get_by_role("button", name="Remove this goal").click()
    expect(page.get_by_role("status")).to_contain_text("The goal is removed.")
    db.session.rollback()
    assert db.session.get(goals.Goal, goal_id) is None

    page.goto(f"{live_server}/walkthroughs/{walkthrough}")
    page.get_by_role("link", name="Delete this walkthrough").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Delete the walkthrough of AP Calculus"
    )
    expect(page.locator("main")).to_contain_text("Aisha Grant's walkthrough at Riverbend High")
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 768, "height": 1024})
    page.screenshot(path=screenshot_dir / "confirm-delete-walkthrough-portrait.png")
    page.get_by_role("button", name="Delete this walkthrough").click()
    expect(page.get_by_role("status")).to_contain_text("The walkthrough is deleted.")
    db.session.rollback()
    deleted = db.session.scalars(select(Observation).where(Observation.id == walkthrough)).one()
    assert deleted.deleted_at is not None
