"""The coverage report in a real browser: a school leader reads this month's coverage, the
classrooms nobody visited, picks another period; nothing inaccessible; looked at."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from observe import paths
from observe.core import clock
from observe.core.permissions import Role
from observe.extensions import db
from observe.roster.models import ClassroomAttribute, ClassroomProgram, Teacher
from observe.rubrics.operations import load_rubric_file
from observe.sync import push as sync
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD

# (name, course level, programs, grade, visits this month)
ROOMS = [
    ("AP Biology", "AP", (), "11", 4),
    ("AP Calculus", "AP", (), "12", 3),
    ("AP US History", "AP", (), "11", 3),
    ("AP Literature", "AP", (), "12", 2),
    ("English 9", "general", ("English learners",), "9", 1),
    ("English 10", "general", ("English learners",), "10", 0),
    ("Algebra 1", "general", ("English learners",), "9", 1),
    ("Biology", "general", (), "10", 0),
    ("World History", "general", (), "10", 1),
    ("Chemistry Honors", "honors", (), "11", 2),
    ("Geometry Honors", "honors", (), "10", 0),
    ("Physics Honors", "honors", (), "12", 1),
]


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_a_leader_reads_coverage(
    page: Page, app, monkeypatch, live_server, create_school, create_classroom, create_user,
    screenshot_dir, orientation,
):  # fmt: skip
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 3)
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    school = create_school("RHS", "Riverbend High")
    observer = create_user(Role.OBSERVER, name="Aisha Grant", schools=[school])
    create_user(Role.SCHOOL_LEADER, email="lead@example.org", schools=[school])
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").version
    key = version.criteria[0].key
    first_minute = clock.day_start(clock.today())
    for number, (name, level, programs, grade, visits) in enumerate(ROOMS, 1):
        room = create_classroom(
            f"RHS-{number:02d}", school=school, name=name, course_level=level, grade=grade,
            teacher=Teacher(external_id=f"T-{number}", name=f"Teacher {number:02d}"),
            programs=[ClassroomProgram(program=p) for p in programs],
            attributes=[ClassroomAttribute(name="room", value=f"B-{200 + number}")],
        )  # fmt: skip
        for i in range(visits):
            when = (first_minute + timedelta(minutes=number * 10 + i)).isoformat()
            result = sync.push_one(sync.Device(observer, "tablet"), {
                "observation_id": str(uuid.uuid4()), "version_id": str(uuid.uuid4()),
                "rubric_version_id": version.id, "school_id": school.id, "classroom_id": room.id,
                "observed_at": when, "saved_at": when, "state": "submitted",
                "ratings": [{"criterion": key, "level": 1}],
            })  # fmt: skip
            assert result["status"] == "applied", result
    db.session.commit()

    page.goto(live_server + "/sign-in?next=/reports/coverage")
    page.get_by_label("Email").fill("lead@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_role("heading", name="Coverage: which classrooms were visited")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Coverage")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("(this month so far)")).to_be_visible()
    expect(page.get_by_role("heading", name="Equity of attention")).to_be_visible()
    equity = page.get_by_role("table", name="Visits per classroom compared with AP classrooms")
    # 3 visits over 5 general classrooms, AP's 12 over 4: 0.60 against 3.00, a fifth as often.
    expect(equity.get_by_role("row", name="general")).to_contain_text("0.20\u00d7 as often")
    # Against the school's 1.50 visits per classroom: 0.40 times, and beyond chance.
    by_level = page.get_by_role("table", name="Visits per classroom by course level")
    expect(by_level.get_by_role("row", name="general")).to_contain_text("visited less often")
    # The school's list is open: the three classrooms nobody visited, with teacher and room.
    expect(page.get_by_role("heading", name="Not visited this month")).to_be_visible()
    unvisited = page.get_by_role("table", name="Classrooms of Riverbend High not visited")
    expect(unvisited.get_by_role("row")).to_have_count(4)  # the header and 3 classrooms
    expect(unvisited).to_contain_text("Geometry Honors")
    expect(unvisited).to_contain_text("B-211")
    assert serious_violations(page) == [], "coverage"
    page.screenshot(path=screenshot_dir / f"coverage-{orientation}.png", full_page=True)

    # Another period, chosen with the date fields: last year holds no visit at all.
    year_ago = clock.today() - timedelta(days=400)
    page.get_by_label("From", exact=True).fill(year_ago.isoformat())
    page.get_by_label("To", exact=True).fill((year_ago + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text(f"Not visited from {year_ago.isoformat()}")).to_be_visible()
    expect(page.get_by_text("visited at least once (0)")).to_be_visible()
    expect(unvisited.get_by_role("row")).to_have_count(13)
    # A bad period is named, and the page says what is wrong.
    page.get_by_label("To", exact=True).fill((year_ago - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("the end date is before the start date")
    assert serious_violations(page) == [], "coverage, refused"
