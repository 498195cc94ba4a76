"""GET /api/v1/bootstrap and /api/v1/sync/pull, and deletion reaching devices."""

from __future__ import annotations

from observe import paths
from observe.accounts import operations as account_ops
from observe.core.permissions import Role
from observe.extensions import db
from observe.roster.operations import import_roster
from observe.rubrics.operations import load_rubric_file
from tests.conftest import edit_of


def pull(client, headers, cursor="0", limit=200):
    response = client.get(f"/api/v1/sync/pull?cursor={cursor}&limit={limit}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_bootstrap_has_what_a_tablet_needs_offline(client, bearer, setting):
    data = client.get("/api/v1/bootstrap", headers=bearer(setting.observer)).get_json()
    assert data["user"]["email"] == "coach@example.org"
    assert [s["code"] for s in data["schools"]] == ["RVE"]  # only the observer's school
    assert [c["id"] for c in data["schools"][0]["classrooms"]] == [setting.classroom.id]
    [version] = data["rubric_versions"]
    assert version["id"] == setting.version.id
    assert len(version["criteria"]) == 27
    assert data["cursor"].isdigit()


def test_pull_brings_a_users_observations_from_other_devices(
    client, bearer, push, make_version, setting
):
    headers = bearer(setting.observer)
    start = client.get("/api/v1/bootstrap", headers=headers).get_json()["cursor"]
    version = make_version()
    push(version, device_id="tablet-a")
    page = pull(client, headers, start)
    assert page["has_more"] is False
    [change] = page["changes"]
    assert change["kind"] == "observation"
    observation = change["observation"]
    assert observation["id"] == version["observation_id"]
    assert observation["head_version_id"] == version["version_id"]
    assert observation["version"]["notes"] == "Strong opening."
    # Nothing new: the same cursor comes back and nothing is repeated.
    again = pull(client, headers, page["cursor"])
    assert again == {"changes": [], "cursor": page["cursor"], "has_more": False}


def test_pull_pages_in_order_without_gaps(client, bearer, push, make_version, setting):
    headers = bearer(setting.observer)
    versions = [make_version() for _ in range(7)]
    push(*versions)
    seen, cursor = [], "0"
    while True:
        page = pull(client, headers, cursor, limit=3)
        seen += [c["observation"]["id"] for c in page["changes"] if c["kind"] == "observation"]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert seen == [v["observation_id"] for v in versions]


def test_an_observation_edited_twice_is_sent_once_per_page(
    client, bearer, push, make_version, setting
):
    headers = bearer(setting.observer)
    first = make_version()
    second = edit_of(first, notes="second")
    push(first)
    push(second)
    changes = [c for c in pull(client, headers)["changes"] if c["kind"] == "observation"]
    assert len(changes) == 1
    assert changes[0]["observation"]["version"]["notes"] == "second"


def test_other_peoples_observations_are_not_pulled(
    client, bearer, push, make_version, setting, create_user
):
    push(make_version())
    colleague = create_user(Role.OBSERVER, email="colleague@example.org", schools=[setting.school])
    changes = pull(client, bearer(colleague))["changes"]
    assert [c["kind"] for c in changes] == ["rubric_version"]


def test_new_rubric_versions_and_roster_changes_are_pulled(client, bearer, setting, tmp_path):
    headers = bearer(setting.observer)
    cursor = client.get("/api/v1/bootstrap", headers=headers).get_json()["cursor"]
    load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml")
    schools = tmp_path / "schools.csv"
    schools.write_text("school_code,name\nRVE,Riverside Elementary School\nSHS,Southfield High\n")
    import_roster([schools])
    db.session.commit()
    changes = pull(client, headers, cursor)["changes"]
    assert [(c["kind"], c.get("school", {}).get("code")) for c in changes] == [
        ("rubric_version", None),
        ("school", "RVE"),  # the renamed school; SHS is not the observer's
    ]
    assert changes[1]["school"]["name"] == "Riverside Elementary School"


def test_a_deleted_observation_reaches_devices_and_never_comes_back(
    client, bearer, push, make_version, setting
):
    headers = bearer(setting.observer)
    version = make_version()
    push(version)
    cursor = pull(client, headers)["cursor"]

    response = client.delete(f"/api/v1/observations/{version['observation_id']}", headers=headers)
    assert response.get_json() == {"id": version["observation_id"], "deleted": True}
    [change] = pull(client, headers, cursor)["changes"]
    assert change["observation"] == {"id": version["observation_id"], "deleted": True}

    # A tablet that was offline pushes an edit made before it heard of the deletion.
    result = push(edit_of(version, notes="late edit"))["results"][0]
    assert result["status"] == "rejected"
    assert result["code"] == "observation_deleted"
    # Its retry of the original version is still just a duplicate: harmless.
    assert push(version)["results"][0]["status"] == "duplicate"


def test_bad_cursor_and_limit_are_named(client, bearer, setting):
    headers = bearer(setting.observer)
    response = client.get("/api/v1/sync/pull?cursor=abc&limit=5000", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {
        "cursor": "must be a cursor returned by bootstrap or an earlier pull",
        "limit": "must be a whole number from 1 to 1000",
    }


def test_a_person_given_other_schools_gets_their_new_rosters_at_the_next_pull(
    client, bearer, setting, create_user
):
    """Issue 13: an observer reassigned from one school to another kept being offered the old
    school's classes. Their devices now receive every school they may record in, to replace
    what they hold; nobody else's devices hear of it."""
    headers = bearer(setting.observer)
    colleague = create_user(email="other@example.org", schools=[setting.school])
    colleague_headers = bearer(colleague)
    cursor = client.get("/api/v1/bootstrap", headers=headers).get_json()["cursor"]
    account_ops.update_user(
        setting.observer, account_ops.UserChanges(school_codes=[setting.other_school.code])
    )
    db.session.commit()
    [change] = pull(client, headers, cursor)["changes"]
    assert change["kind"] == "access"
    assert [(s["code"], [c["name"] for c in s["classrooms"]]) for s in change["schools"]] == [
        ("SHS", ["AP US History"])
    ]
    assert pull(client, colleague_headers, cursor)["changes"] == []
    bootstrap = client.get("/api/v1/bootstrap", headers=headers).get_json()
    assert [s["code"] for s in bootstrap["schools"]] == ["SHS"]
