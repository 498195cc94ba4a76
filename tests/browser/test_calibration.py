"""Calibration in a real browser: scoring a session offline on the tablet, and the
facilitator's page — blind progress, the reveal, the report and the consensus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe import paths
from observe.calibration import sessions
from observe.calibration.models import CalibrationSession, ConsensusScore
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation
from observe.rubrics.models import Criterion
from observe.rubrics.operations import load_rubric_file
from observe.sync import push as sync
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_tablet import open_app
from tests.conftest import PASSWORD

EMAIL = "coach@example.org"  # the observer open_app signs in as
FACILITATOR = "lucia@example.org"


@pytest.fixture
def team(create_school, create_classroom, create_user):
    school = create_school("RHS", "Riverbend High")
    other = create_school("SHS", "Southfield High")
    classroom = create_classroom("RHS-01", school=school, name="AP Calculus", course_level="AP")
    facilitator = create_user(
        Role.SCHOOL_LEADER, email=FACILITATOR, name="Lucia Moreno", schools=[school]
    )
    # The observer works in another school than the lesson's: taking part is what counts.
    observer = create_user(Role.OBSERVER, email=EMAIL, name="Aisha Grant", schools=[other])
    others = [
        create_user(Role.OBSERVER, name=name, schools=[school])
        for name in ("Marcus Bell", "Nina Petrov", "Tom Becker")
    ]
    return school, classroom, facilitator, observer, others


def _session(team, rubric_file: str, anchor=None) -> CalibrationSession:
    school, classroom, facilitator, observer, others = team
    version = load_rubric_file(paths.SAMPLE_RUBRICS / rubric_file).version
    session = sessions.create_session(
        facilitator,
        {
            "title": "AP Calculus: related rates",
            "team": "Riverbend instructional team",
            "rubric_version_id": version.id,
            "school_id": school.id,
            "classroom_id": classroom.id,
            "held_on": datetime.now(UTC).date().isoformat(),
            "participant_ids": [observer.id] + [o.id for o in others],
            "anchor_id": None,
        },
    )
    db.session.commit()
    return session


def test_a_participant_scores_a_session_offline_on_the_tablet(
    context: BrowserContext, page: Page, live_server, team, screenshot_dir
):
    session = _session(team, "quick-look-fors.yaml")
    open_app(page, live_server)
    panel = page.get_by_role("region", name="Calibration sessions")
    expect(panel).to_contain_text("AP Calculus: related rates")
    expect(panel).to_contain_text("AP Calculus · Riverbend High")
    assert serious_violations(page) == [], "home with a session"
    page.screenshot(path=screenshot_dir / "app-calibration-home-landscape.png", full_page=True)

    context.set_offline(True)
    panel.get_by_role("button", name="Score this lesson").click()
    expect(page.get_by_role("note")).to_contain_text("Nobody sees your scores")
    criteria = page.locator(".criterion")
    criteria.nth(0).get_by_role("button", name="Yes").click()
    criteria.nth(1).get_by_role("button", name="No").click()
    assert serious_violations(page) == [], "calibration form"
    page.screenshot(path=screenshot_dir / "app-calibration-form-landscape.png")
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    expect(panel).to_contain_text("Submitted · hidden from others until the reveal")
    db.session.rollback()
    observation = db.session.scalars(select(Observation)).one()
    assert observation.calibration_session_id == session.id
    assert sorted(r.level for r in observation.ratings) == [0, 1]


def _score_for(team, session: CalibrationSession) -> None:
    """Every participant submits, with a lenient Tom and a look-for nobody agrees on."""
    _, classroom, _, observer, others = team
    contested = {"Aisha Grant": 1, "Marcus Bell": 4, "Nina Petrov": 2, "Tom Becker": 3}
    criteria = db.session.scalars(
        select(Criterion)
        .where(Criterion.rubric_version_id == session.rubric_version_id)
        .order_by(Criterion.position)
    ).all()
    now = datetime.now(UTC)
    for person in [observer, *others]:
        ratings = []
        for c in criteria:
            level = contested[person.name] if c.key == "cp-productive-struggle" else 3
            if person.name == "Tom Becker":
                level = min(level + 1, 4)
            ratings.append({"criterion": c.key, "level": level, "evidence": f"{person.name} saw"})
        result = sync.push_one(
            sync.Device(person, "tablet", "test"),
            {
                "observation_id": str(uuid.uuid4()),
                "version_id": str(uuid.uuid4()),
                "rubric_version_id": session.rubric_version_id,
                "school_id": session.school_id,
                "classroom_id": classroom.id,
                "observed_at": (now - timedelta(hours=1)).isoformat(),
                "saved_at": (now - timedelta(minutes=30)).isoformat(),
                "ratings": ratings,
                "calibration_session_id": session.id,
            },
        )
        assert result["status"] == "applied", result
    db.session.commit()


def _sign_in(page: Page, base: str, next_path: str) -> None:
    page.goto(base + "/sign-in?next=" + next_path)
    page.get_by_label("Email").fill(FACILITATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_the_facilitator_reveals_reads_the_report_and_records_consensus(
    page: Page, live_server, team, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    session = _session(team, "portrait-of-a-graduate.yaml")
    _score_for(team, session)
    _sign_in(page, live_server, f"/calibration/{session.id}")

    expect(page.get_by_role("heading", name="Who has submitted")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Tom Becker saw")  # blind
    assert serious_violations(page) == [], "before the reveal"
    page.screenshot(path=screenshot_dir / f"calibration-before-reveal-{orientation}.png")

    page.get_by_role("button", name="Reveal the scores").click()
    # Asked first, with who has not submitted by name (core/confirm.py).
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reveal the scores of")
    assert serious_violations(page) == [], "the reveal's confirmation"
    page.screenshot(path=screenshot_dir / f"calibration-confirm-reveal-{orientation}.png")
    page.get_by_role("button", name="Reveal the scores").click()
    expect(page.get_by_role("status")).to_contain_text("The scores are revealed")
    agenda = page.get_by_role("region", name="Discussion agenda")
    expect(agenda.get_by_role("heading").nth(1)).to_contain_text(
        "Students persist with a challenging problem"
    )
    expect(agenda).to_contain_text("Tom Becker saw")
    expect(page.get_by_role("img", name="Agreement per look-for")).to_be_visible()
    observers = page.get_by_role("region", name="Each observer")
    expect(observers.get_by_role("row", name="Tom Becker")).to_contain_text("Lenient")
    assert serious_violations(page) == [], "the report"
    page.screenshot(path=screenshot_dir / f"calibration-report-{orientation}.png", full_page=True)
    # The consensus sits next to the look-for: in portrait too, no scrolling sideways to it.
    grid = page.get_by_role("region", name="Table of every score; scrolls sideways")
    header = grid.get_by_role("columnheader", name="Consensus")
    header.scroll_into_view_if_needed()
    box = header.bounding_box()
    assert box and box["x"] + box["width"] <= width, box
    grid.screenshot(path=screenshot_dir / f"calibration-grid-{orientation}.png")

    consensus = page.get_by_role("region", name="Record the consensus")
    consensus.get_by_label("Agreed level").first.select_option("2")
    consensus.get_by_label("Rationale").first.fill("Students were given the method at once.")
    consensus.get_by_role("button", name="Save the consensus").click()
    expect(page.get_by_role("status")).to_contain_text("Saved the consensus for 1 look-for")
    db.session.rollback()
    saved = db.session.scalars(select(ConsensusScore)).one()
    assert (saved.criterion.key, saved.level) == ("cp-productive-struggle", 2)
    expect(agenda).to_contain_text("Consensus: 2 · Developing.")
