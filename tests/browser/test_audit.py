"""The audit log on a tablet, both ways round: filters usable, the table readable."""

from playwright.sync_api import Page, expect

from observe.audit import operations
from observe.core.permissions import Role
from observe.extensions import db
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD


def test_an_admin_searches_the_log(page: Page, live_server, create_user, screenshot_dir):
    create_user(Role.DISTRICT_ADMIN, email="admin@example.org", name="Ada Admin")
    for n in range(8):
        operations.record(
            "walkthrough.feedback_viewed",
            actor_email=f"leader{n}@riverbend-unified.example.org",
            object_type="observation",
            object_id=f"7f1c2d4e-0b1a-4c5d-9e8f-00000000000{n}",
            address=f"2001:db8:1234:5678::{n}",
        )
    operations.record(
        "roster.imported",
        detail={"schools_created": 12, "classrooms_created": 340, "teachers_created": 210},
    )
    db.session.commit()
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(11)  # with the admin's creation and sign-in
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / "audit-log-landscape.png", full_page=True)

    page.set_viewport_size({"width": 768, "height": 1024})
    page.get_by_label("Who").fill("leader3")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("leader3@riverbend-unified.example.org")
    page.screenshot(path=screenshot_dir / "audit-log-portrait.png", full_page=True)
