"""The walkthrough lifecycle (observe/observations/operations.py, through its JSON routes and
pages): deleting, and reconciling a walkthrough edited on two devices — a person chooses,
nothing is lost."""

from __future__ import annotations

from sqlalchemy import func, select

from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion
from tests.conftest import edit_of


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def conflicted(push, make_version):
    """A walkthrough, and two edits of it made without seeing each other."""
    first = make_version(notes="First.")
    mine = edit_of(first, notes="Edited on the tablet.")
    theirs = edit_of(first, notes="Edited on the laptop.")
    results = push(first, mine, theirs)["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "conflict"]
    return first, mine, theirs


def test_a_person_chooses_the_version_that_counts(client, bearer, push, make_version, setting):
    first, mine, theirs = conflicted(push, make_version)
    headers = bearer(setting.observer)
    url = f"/api/v1/observations/{first['observation_id']}"
    history = client.get(url, headers=headers).get_json()
    assert history["has_conflict"] is True
    leaves = [v for v in history["versions"] if v["leaf"]]
    assert {v["id"] for v in leaves} == {mine["version_id"], theirs["version_id"]}
    head = next(v for v in leaves if v["head"])
    other = next(v for v in leaves if not v["head"])

    response = client.post(f"{url}/reconcile", json={"version_id": other["id"]}, headers=headers)
    assert response.status_code == 200, response.get_json()
    after = response.get_json()
    assert after["has_conflict"] is False
    assert after["version"]["notes"] == other["payload"]["notes"]
    assert after["version"]["base_version_id"] == head["id"]
    assert count(ObservationVersion) == 4  # every version kept, the reconciliation added
    observation = db.session.get(Observation, first["observation_id"])
    assert observation.notes == other["payload"]["notes"] and not observation.has_conflict

    # The observer's other device learns of it by pull.
    pulled = client.get("/api/v1/sync/pull?cursor=0", headers=headers).get_json()
    [change] = [c for c in pulled["changes"] if c["kind"] == "observation"]
    assert change["observation"]["head_version_id"] == after["head_version_id"]


def test_a_late_edit_of_a_losing_branch_is_a_new_conflict(
    client, bearer, push, make_version, setting
):
    first, mine, theirs = conflicted(push, make_version)
    headers = bearer(setting.observer)
    url = f"/api/v1/observations/{first['observation_id']}/reconcile"
    client.post(url, json={"version_id": mine["version_id"]}, headers=headers)
    # A tablet that was offline goes on editing "theirs", saved even later than the decision.
    late = edit_of(theirs, notes="Still editing offline.")
    result = push(late)["results"][0]
    assert result["status"] == "conflict" and result["has_conflict"] is True


def test_bad_choices_change_nothing(client, bearer, push, make_version, setting):
    first, mine, _ = conflicted(push, make_version)
    headers = bearer(setting.observer)
    url = f"/api/v1/observations/{first['observation_id']}/reconcile"
    response = client.post(url, json={"version_id": "not-a-version"}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {
        "version_id": "not a version of this walkthrough"
    }
    assert count(ObservationVersion) == 3
    assert (
        client.post(url, json={"version_id": mine["version_id"]}, headers=headers).status_code
        == 200
    )
    again = client.post(url, json={"version_id": mine["version_id"]}, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == "this walkthrough has no conflict to reconcile"


def test_who_may_reconcile(client, bearer, push, make_version, setting, create_user, admin):
    first, mine, _ = conflicted(push, make_version)
    url = f"/api/v1/observations/{first['observation_id']}"
    colleague = create_user(Role.OBSERVER, schools=[setting.school])
    elsewhere = create_user(Role.SCHOOL_LEADER, schools=[setting.other_school])
    principal = create_user(Role.SCHOOL_LEADER, schools=[setting.school])
    for outsider in (colleague, elsewhere):
        assert client.get(url, headers=bearer(outsider)).status_code == 404
    assert client.get(url, headers=bearer(admin)).status_code == 200
    response = client.post(
        f"{url}/reconcile", json={"version_id": mine["version_id"]}, headers=bearer(principal)
    )
    assert response.status_code == 200


def test_the_leaders_pages(client, sign_in, push, make_version, setting, create_user):
    first, _, theirs = conflicted(push, make_version)
    principal = create_user(Role.SCHOOL_LEADER, schools=[setting.school])
    sign_in(principal)
    assert "1 walkthrough was edited on two devices." in client.get("/").get_data(as_text=True)
    listing = client.get("/walkthroughs/conflicts").get_data(as_text=True)
    assert "Grade 3" in listing and "Compare and choose" in listing
    path = f"/walkthroughs/{first['observation_id']}/reconcile"
    page = client.get(path).get_data(as_text=True)
    assert "Edited on the tablet." in page and "Edited on the laptop." in page
    assert page.count("Keep version") == 2
    response = client.post_form(path, {"version_id": theirs["version_id"]})
    assert response.status_code == 302
    assert "Nothing to reconcile." in client.get("/walkthroughs/conflicts").get_data(as_text=True)
    assert db.session.get(Observation, first["observation_id"]).notes == "Edited on the laptop."


def test_reconciling_chooses_the_feedback_too(client, sign_in, push, make_version, setting):
    """Strengths and the next step are compared side by side and kept with the chosen version."""
    first = make_version(strengths="Pairs explained.")
    mine = edit_of(first, next_step="Try a turn-and-talk.")
    theirs = edit_of(first, next_step="Post the sentence frames.")
    push(first, mine, theirs)
    sign_in(setting.observer)
    path = f"/walkthroughs/{first['observation_id']}/reconcile"
    page = client.get(path).get_data(as_text=True)
    assert "Try a turn-and-talk." in page and "Post the sentence frames." in page
    row = page[page.index("One next step") - 200 : page.index("One next step")]
    assert "row-divergent" in row
    client.post_form(path, {"version_id": theirs["version_id"]})
    observation = db.session.get(Observation, first["observation_id"])
    assert (observation.strengths, observation.next_step) == (
        "Pairs explained.",
        "Post the sentence frames.",
    )


def test_deletion_rules(client, bearer, push, make_version, setting, create_user, admin):
    version = make_version()
    push(version)
    other = create_user(email="other@example.org", schools=[setting.school])
    url = f"/api/v1/observations/{version['observation_id']}"
    # Another observer may not read it, so is told nothing of it.
    response = client.delete(url, headers=bearer(other))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    # The school's leader may read it, but deleting is its author's or an admin's.
    leader = create_user(Role.SCHOOL_LEADER, email="lead@example.org", schools=[setting.school])
    response = client.delete(url, headers=bearer(leader))
    assert response.status_code == 403
    assert response.get_json()["error"] == {
        "code": "forbidden",
        "message": "only its author or a district admin can delete an observation",
    }
    assert client.delete(url, headers=bearer(admin)).status_code == 200
    missing = client.delete("/api/v1/observations/not-a-uuid", headers=bearer(admin))
    assert missing.status_code == 404
    assert missing.get_json()["error"]["message"] == "no observation not-a-uuid"
