"""A leader reconciles a walkthrough edited on two devices, in a real browser."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from observe import paths
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation
from observe.rubrics.operations import load_rubric_file
from observe.sync import push as sync
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD, edit_of


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_a_leader_compares_and_keeps_a_version(
    page: Page, live_server, create_school, create_classroom, create_user, screenshot_dir,
    orientation,
):  # fmt: skip
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    school = create_school("RVE", "Riverside Elementary")
    classroom = create_classroom("RVE-03", school=school, name="Grade 3")
    observer = create_user(Role.OBSERVER, name="Aisha Grant", schools=[school])
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").version
    now = datetime.now(UTC)
    first = {
        "observation_id": str(uuid.uuid4()),
        "version_id": str(uuid.uuid4()),
        "rubric_version_id": version.id,
        "school_id": school.id,
        "classroom_id": classroom.id,
        "observed_at": (now - timedelta(hours=1)).isoformat(),
        "saved_at": (now - timedelta(minutes=30)).isoformat(),
        "ratings": [{"criterion": "ql-names", "level": 1}],
        "notes": "First.",
    }
    device = sync.Device(observer, "tablet")
    results = sync.push(
        device,
        [first, edit_of(first, notes="On the tablet."), edit_of(first, notes="On the laptop.")],
    )
    assert results[2]["status"] == "conflict"
    create_user(Role.SCHOOL_LEADER, email="lead@example.org", schools=[school])
    db.session.commit()

    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("lead@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Choose which one counts").click()
    page.get_by_role("link", name="Compare and choose").click()
    expect(page.get_by_role("row", name="Differs: Overall notes")).to_be_visible()
    assert serious_violations(page) == [], "reconcile"
    page.screenshot(path=screenshot_dir / f"reconcile-{orientation}.png", full_page=True)

    page.get_by_role("button", name="Keep version 1").click()
    expect(page.get_by_role("status")).to_contain_text("Reconciled")
    db.session.rollback()
    observation = db.session.get(Observation, first["observation_id"])
    assert not observation.has_conflict
    assert observation.notes in ("On the tablet.", "On the laptop.")
