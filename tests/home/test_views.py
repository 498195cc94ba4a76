"""The home page, the favicon and the health check (observe/home/views.py)."""

from __future__ import annotations

import re

from observe.core.permissions import Role
from tests.conftest import PASSWORD, edit_of


def test_health_answers_without_sign_in(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_favicon_is_served_without_sign_in(client):
    with client.get("/favicon.ico", follow_redirects=True) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"


def home_of(app, user) -> str:
    """The home page as ``user`` sees it, in a browser of their own."""
    browser = app.test_client()
    response = browser.post_form("/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return browser.get("/").get_data(as_text=True)


def _cards(html: str) -> dict[str, int]:
    found = re.findall(r'<span class="stat">(\d+)</span><br>([a-z ]+)<', html)
    return {label: int(number) for number, label in found}


def test_the_counts_are_of_the_readers_schools_and_of_real_visits(
    app, client, bearer, push, make_version, setting, create_user, admin
):
    push(make_version(), make_version(state="draft"))
    deleted = make_version()
    push(deleted)
    path = f"/api/v1/observations/{deleted['observation_id']}"
    assert client.delete(path, headers=bearer(setting.observer)).status_code == 200
    leader = create_user(Role.SCHOOL_LEADER, email="lead@example.org", schools=[setting.school])
    other = create_user(Role.SCHOOL_LEADER, email="far@example.org", schools=[setting.other_school])

    assert _cards(home_of(app, leader)) == {
        "schools": 1,
        "classrooms": 1,
        "walkthroughs recorded": 2,  # a submitted one and a draft; the deleted one is gone
    }
    assert _cards(home_of(app, other)) == {
        "schools": 1,
        "classrooms": 1,
        "walkthroughs recorded": 0,
    }
    assert _cards(home_of(app, admin))["schools"] == 2


def test_a_conflict_is_pointed_out_to_whoever_may_reconcile_it(
    app, push, make_version, setting, create_user
):
    first = make_version()
    push(first)
    push(edit_of(first, notes="On the first tablet."), edit_of(first, notes="On the second."))
    leader = create_user(Role.SCHOOL_LEADER, email="lead@example.org", schools=[setting.school])
    far = create_user(Role.SCHOOL_LEADER, email="far@example.org", schools=[setting.other_school])

    page = home_of(app, leader)
    assert "1 walkthrough was edited on two devices." in page
    assert 'href="/walkthroughs/conflicts"' in page
    assert "edited on two devices" not in home_of(app, far)
