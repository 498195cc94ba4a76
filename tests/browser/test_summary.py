"""The summary report in a real browser: charts drawn, nothing inaccessible, looked at."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from observe import paths
from observe.core.permissions import Role
from observe.extensions import db
from observe.rubrics.operations import load_rubric_file
from observe.sync import push as sync
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_a_leader_reads_the_summary(
    page: Page, live_server, create_school, create_classroom, create_user, screenshot_dir,
    orientation,
):  # fmt: skip
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    biology_by_level(create_school, create_classroom, create_user)

    page.goto(live_server + "/sign-in?next=/reports/summary")
    page.get_by_label("Email").fill("lead@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Split by").select_option("course_level")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="By Course level")).to_be_visible()
    expect(page.get_by_role("img", name="Levels seen by equity dimension")).to_be_visible()
    expect(page.get_by_role("img", name="Look-fors by Course level")).to_be_visible()
    # The headline opens the report, each finding linking to its figure.
    headline = page.get_by_role("region", name="What stands out")
    expect(headline).to_be_visible()
    for link in headline.get_by_role("link").all():
        target = link.get_attribute("href")
        assert target and page.locator(target).count() == 1
    assert serious_violations(page) == [], "summary"
    page.screenshot(path=screenshot_dir / f"summary-{orientation}.png", full_page=True)
    headline.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / f"summary-headline-{orientation}.png")


def biology_by_level(create_school, create_classroom, create_user) -> None:
    """Riverbend High: three general and three AP Biology classrooms, 40 walkthroughs over
    60 days with AP rated higher, and the leader lead@example.org who reads them."""
    school = create_school("RHS", "Riverbend High")
    # Three classrooms a level: a group in fewer is not shown (OBSERVE_MIN_CLASSROOMS).
    rooms = [
        create_classroom(f"RHS-{level}-{n}", school=school, name=f"Biology {level} {n}",
                         course_level=level)
        for n in range(3)
        for level in ("general", "AP")
    ]  # fmt: skip
    observer = create_user(Role.OBSERVER, name="Aisha Grant", schools=[school])
    create_user(Role.SCHOOL_LEADER, email="lead@example.org", schools=[school])
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    keys = [c.key for c in version.criteria]
    start = datetime.now(UTC) - timedelta(days=60)
    for i in range(40):
        room = rooms[i % 6]
        lift = 2 if room.course_level == "AP" else 0
        when = start + timedelta(days=i)
        sync.push_one(sync.Device(observer, "tablet"), {
            "observation_id": str(uuid.uuid4()), "version_id": str(uuid.uuid4()),
            "rubric_version_id": version.id, "school_id": school.id, "classroom_id": room.id,
            "observed_at": when.isoformat(), "saved_at": when.isoformat(),
            "ratings": [{"criterion": k, "level": 1 + (i + j + lift) % 4}
                        for j, k in enumerate(keys)],
        })  # fmt: skip
    db.session.commit()
