"""School years in a real browser: a district admin reads last year's goals (met and not met,
with the figure that decided each), the summary's year and term picker and the comparison with
last year; nothing inaccessible; looked at at both tablet sizes."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from observe import paths
from observe.core.permissions import Role
from observe.extensions import db
from observe.reports.models import Goal
from observe.roster.years import add_session
from observe.rubrics.operations import load_rubric_file
from observe.sync import push as sync
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD

# (day, level, walkthroughs)
VISITS = [
    ("2025-09-10", 3, 2), ("2025-09-11", 1, 4), ("2026-05-12", 4, 8), ("2026-05-13", 1, 2),
    ("2026-09-08", 4, 5), ("2026-09-09", 2, 1), ("2026-10-06", 3, 4),
]  # fmt: skip


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_an_admin_reads_goals_and_the_summary_by_year(
    page: Page, app, monkeypatch, live_server, create_school, create_classroom, create_user,
    screenshot_dir, orientation,
):  # fmt: skip
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 3)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CLASSROOMS", 1)  # one classroom, for brevity
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    school = create_school("RHS", "Riverbend High")
    room = create_classroom("RHS-01", school=school, name="English 9")
    observer = create_user(Role.OBSERVER, name="Aisha Grant", schools=[school])
    admin = create_user(Role.DISTRICT_ADMIN, email="admin@example.org")
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    key = "ct-explain-reasoning"
    for day, level, count in VISITS:
        for i in range(count):
            when = f"{day}T15:{i:02d}:00+00:00"
            result = sync.push_one(sync.Device(observer, "tablet"), {
                "observation_id": str(uuid.uuid4()), "version_id": str(uuid.uuid4()),
                "rubric_version_id": version.id, "school_id": school.id, "classroom_id": room.id,
                "observed_at": when, "saved_at": when, "state": "submitted",
                "ratings": [{"criterion": key, "level": level}],
            })  # fmt: skip
            assert result["status"] == "applied", result
    add_session("2025-26", date(2025, 8, 18), date(2026, 6, 15))
    add_session("2026-27", date(2026, 8, 17), date(2027, 6, 11))
    add_session("Fall 2026", date(2026, 8, 17), date(2026, 12, 18), kind="semester", year="2026-27")
    for title, share in (("Students explain their reasoning", 0.6), ("Rigor in every room", 0.9)):
        db.session.add(Goal(
            title=title, rubric_version_id=version.id, target_kind="criterion", target_key=key,
            at_least=3, target_share=share, school_id=None, starts_on=date(2025, 9, 1),
            deadline=date(2026, 6, 15), created_by_id=admin.id,
        ))  # fmt: skip
    db.session.commit()

    page.goto(live_server + "/sign-in?next=/reports/goals?year=all")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Equity goals", exact=True)).to_be_visible()
    met = page.get_by_role("region", name="Students explain their reasoning")
    expect(met).to_contain_text("Met")
    expect(met).to_contain_text("80% of ratings in 2026-05, 10 walkthroughs, against 60%")
    expect(page.get_by_role("region", name="Rigor in every room")).to_contain_text("Not met")
    expect(page.get_by_role("link", name="Close 2025-26")).to_be_visible()
    assert serious_violations(page) == [], "goals"
    page.screenshot(path=screenshot_dir / f"years-goals-{orientation}.png", full_page=True)

    # Closing last year: a confirmation page first, then the goals show as closed.
    page.get_by_role("link", name="Close 2025-26").click()
    expect(page.get_by_role("heading", name="Close the school year 2025-26?")).to_be_visible()
    page.get_by_role("button", name="Close 2025-26").click()
    closed = page.get_by_text("2025-26 is closed; 2 goal(s) keep their final result.")
    expect(closed).to_be_visible()
    expect(page.get_by_text("(year closed)").first).to_be_visible()

    # The summary opens on this year, with last year's same span beside it.
    page.goto(live_server + "/reports/summary")
    expect(page.get_by_label("School year")).to_have_value(str(_year_id("2026-27")))
    compare = page.get_by_role("table", name=re.compile("2026-27 against 2025-26"))
    expect(compare).to_be_visible()
    assert serious_violations(page) == [], "summary"
    page.screenshot(path=screenshot_dir / f"years-summary-{orientation}.png", full_page=True)
    page.get_by_label("Term").select_option(label="Fall 2026 (Aug 17\u2013Dec 18)")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Term")).to_have_value(str(_year_id("Fall 2026")))
    for year in ("2026-27", "2025-26"):  # this year against last; last year's closed goals
        response = page.request.get(f"{live_server}/reports/summary.pdf?year={year}",
                                    timeout=180_000)  # fmt: skip
        assert response.ok and response.body().startswith(b"%PDF")
        (screenshot_dir / f"years-summary-{year}-{orientation}.pdf").write_bytes(response.body())


def _year_id(title: str) -> int:
    from observe.roster.models import AcademicSession

    return db.session.scalar(db.select(AcademicSession.id).where(AcademicSession.title == title))
