"""Changing people: `observe users update` and the admin's People pages (issue 13: "people
cannot change")."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from observe.accounts import operations
from observe.accounts.models import User
from observe.audit.models import AuditEvent
from observe.core.permissions import Role
from observe.errors import ValidationFailed
from observe.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def schools(create_school):
    return create_school("LIN-HS", "Lincoln High"), create_school("OAK-ES", "Oak Elementary")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _state(user: User) -> tuple:
    db.session.expire_all()
    user = db.session.get(User, user.id)
    return (user.name, user.email, user.role, sorted(s.code for s in user.schools), user.active)


def test_update_changes_every_field_at_once_and_records_each_kind(create_user, schools, admin):
    lincoln, _ = schools
    user = create_user(email="coach@example.org", name="Coach", schools=[lincoln])
    changed = operations.update_user(
        user,
        operations.UserChanges(
            name="  Coach   Rivera ",
            email="Rivera@Example.org",
            role=Role.SCHOOL_LEADER,
            school_codes=["OAK-ES", "LIN-HS"],
            active=False,
        ),
    )
    db.session.commit()
    assert changed == {
        "name": ("Coach", "Coach Rivera"),
        "email": ("coach@example.org", "rivera@example.org"),
        "role": ("observer", "school-leader"),
        "schools": (["LIN-HS"], ["LIN-HS", "OAK-ES"]),
        "tokens": (None, 0),
        "active": (True, False),
    }
    assert _state(user) == (
        "Coach Rivera",
        "rivera@example.org",
        Role.SCHOOL_LEADER,
        ["LIN-HS", "OAK-ES"],
        False,
    )
    (updated,) = _events("user.updated")
    assert updated.detail["email"] == "coach@example.org"
    assert updated.detail["changes"]["email"] == ["coach@example.org", "rivera@example.org"]
    assert _events("user.role_set")[-1].detail["schools"] == ["OAK-ES", "LIN-HS"]
    assert _events("user.deactivated")[-1].object_id == str(user.id)


def test_every_problem_is_named_and_nothing_changes(create_user, schools):
    lincoln, _ = schools
    create_user(email="taken@example.org")
    user = create_user(email="coach@example.org", name="Coach", schools=[lincoln])
    before = _state(user)
    with pytest.raises(ValidationFailed) as refused:
        operations.update_user(
            user,
            operations.UserChanges(
                name="   ",
                email="TAKEN@example.org",
                role=Role.SCHOOL_LEADER,
                school_codes=["NOPE"],
                active=False,
            ),
        )
    db.session.rollback()
    problems = refused.value.details
    assert problems["name"] == ["must not be empty"]
    assert problems["email"] == ["a user with email taken@example.org already exists"]
    assert problems["school"] == ["unknown school code NOPE"]
    assert _state(user) == before
    assert not _events("user.updated") and not _events("user.deactivated")


def test_a_bad_email_is_refused(create_user):
    user = create_user(email="coach@example.org")
    with pytest.raises(ValidationFailed, match="'not-an-address' is not an email address"):
        operations.update_user(user, operations.UserChanges(email="not-an-address"))


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(create_user, admin):
    for change in (
        operations.UserChanges(active=False),
        operations.UserChanges(role=Role.OBSERVER),
    ):
        with pytest.raises(ValidationFailed, match="last active district admin"):
            operations.update_user(admin, change)
        db.session.rollback()
    assert _state(admin)[2:] == (Role.DISTRICT_ADMIN, [], True)
    # Every way of demoting or deactivating keeps the rule, the older commands included.
    with pytest.raises(ValidationFailed, match="last active district admin"):
        operations.set_role(admin, Role.OBSERVER)
    db.session.rollback()
    with pytest.raises(ValidationFailed, match="last active district admin"):
        operations.set_active(admin, False)
    db.session.rollback()
    other = create_user(Role.DISTRICT_ADMIN, email="second@example.org")
    operations.update_user(admin, operations.UserChanges(role=Role.OBSERVER))  # now allowed
    db.session.commit()
    # Back to two admins; the other leaves: an inactive admin cannot give the role back either.
    operations.update_user(admin, operations.UserChanges(role=Role.DISTRICT_ADMIN))
    operations.update_user(other, operations.UserChanges(active=False))
    db.session.commit()
    with pytest.raises(ValidationFailed, match="last active district admin"):
        operations.update_user(admin, operations.UserChanges(active=False))
    db.session.rollback()


def test_making_someone_an_admin_drops_their_schools_and_nothing_is_nothing(create_user, schools):
    user = create_user(Role.SCHOOL_LEADER, email="lead@example.org", schools=[schools[0]])
    changed = operations.update_user(user, operations.UserChanges(role=Role.DISTRICT_ADMIN))
    db.session.commit()
    assert changed == {
        "role": ("school-leader", "district-admin"),
        "schools": (["LIN-HS"], []),
    }
    assert operations.update_user(user, operations.UserChanges(name=user.name)) == {}
    assert not _events("user.updated")


def test_the_command_changes_what_it_is_told_and_says_so(cli, create_user, schools, admin):
    create_user(email="coach@example.org", name="Coach", schools=[schools[0]])
    result = cli(
        "users",
        "update",
        "coach@example.org",
        "--role",
        "school-leader",
        "--school",
        "OAK-ES",
        "--email",
        "rivera@example.org",
        "--deactivate",
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Updated rivera@example.org:",
        "  email: coach@example.org → rivera@example.org",
        "  their sessions ended (a new email signs in afresh)",
        "  role: observer → school-leader",
        "  schools: LIN-HS → OAK-ES",
        "  deactivated: their sessions ended and their API tokens are revoked",
    ]
    user = db.session.scalar(select(User).where(User.email == "rivera@example.org"))
    assert _state(user)[2:] == (Role.SCHOOL_LEADER, ["OAK-ES"], False)
    assert cli("users", "update", "rivera@example.org", "--activate").output == (
        "Updated rivera@example.org:\n  activated: they can sign in again\n"
    )
    same = cli("users", "update", "rivera@example.org", "--activate")
    assert same.exit_code == 0
    assert same.output == "Nothing changed: rivera@example.org already had those values.\n"


def test_the_older_commands_keep_the_last_admin_too(cli, admin):
    refused = cli("users", "deactivate", admin.email)
    assert refused.exit_code == 1 and "last active district admin" in refused.output
    demoted = cli("users", "set-role", admin.email, "--role", "observer")
    assert demoted.exit_code == 1 and "last active district admin" in demoted.output
    assert _state(admin)[2:] == (Role.DISTRICT_ADMIN, [], True)


def test_a_new_email_ends_the_old_sign_ins(app, create_user, bearer):
    user = create_user(email="wrong@example.org")
    tablet = app.test_client()
    tablet.post_form("/sign-in", {"email": user.email, "password": PASSWORD})
    token = bearer(user)
    changed = operations.update_user(user, operations.UserChanges(email="right@example.org"))
    db.session.commit()
    assert changed["tokens"] == (None, 1)
    assert operations.describe_changes(changed) == [
        "email: wrong@example.org → right@example.org",
        "their sessions ended (a new email signs in afresh); 1 API token revoked",
    ]
    assert tablet.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 401


def test_the_command_refuses_bad_input_and_changes_nothing(cli, create_user, schools):
    user = create_user(email="coach@example.org", schools=[schools[0]])
    before = _state(user)
    nothing = cli("users", "update", "coach@example.org")
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
    both = cli("users", "update", "coach@example.org", "--school", "LIN-HS", "--no-schools")
    assert both.exit_code == 2 and "--school or --no-schools, not both" in both.output
    unknown = cli("users", "update", "nobody@example.org", "--name", "X")
    assert unknown.exit_code == 1 and "no user with email nobody@example.org" in unknown.output
    bad = cli("users", "update", "coach@example.org", "--name", "New", "--school", "NOPE")
    assert bad.exit_code == 1 and "unknown school code NOPE" in bad.output
    assert _state(user) == before


def test_the_people_page_lists_and_finds(client, sign_in, admin, create_user, schools):
    create_user(email="coach@example.org", name="Coach Rivera", schools=[schools[0]])
    create_user(Role.SCHOOL_LEADER, email="p@example.org", name="Pat Principal", schools=schools)
    sign_in(admin)
    page = client.get("/admin/people").get_data(as_text=True)
    assert "Coach Rivera" in page and "Pat Principal" in page and "LIN-HS, OAK-ES" in page
    found = client.get("/admin/people?q=rive").get_data(as_text=True)
    assert "Coach Rivera" in found and "Pat Principal" not in found
    assert 'href="/admin/people"' in client.get("/").get_data(as_text=True)


def test_an_admin_changes_a_person_from_the_page(app, client, sign_in, admin, create_user, schools):
    user = create_user(email="coach@example.org", name="Coach", schools=[schools[0]])
    tablet = app.test_client()
    tablet.post_form("/sign-in", {"email": user.email, "password": PASSWORD})
    assert tablet.get("/api/v1/me").status_code == 200
    sign_in(admin)
    form = client.get(f"/admin/people/{user.id}").get_data(as_text=True)
    assert 'value="coach@example.org"' in form and "checked" in form
    response = client.post_form(
        f"/admin/people/{user.id}",
        {
            "name": "Coach",
            "email": "coach@example.org",
            "role": "observer",
            "school": ["LIN-HS", "OAK-ES"],
            "schools_shown": "1",
            "active": "no",
        },
    )
    assert response.status_code == 302
    listed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved coach@example.org: schools: LIN-HS → LIN-HS, OAK-ES; deactivated" in listed
    assert _state(user)[3:] == (["LIN-HS", "OAK-ES"], False)
    assert tablet.get("/api/v1/me").status_code == 401  # their sessions ended


def test_a_refused_change_shows_what_is_wrong_and_keeps_what_was_typed(
    client, sign_in, admin, create_user, schools
):
    user = create_user(email="coach@example.org", name="Coach", schools=[schools[0]])
    before = _state(user)
    sign_in(admin)
    response = client.post_form(
        f"/admin/people/{user.id}",
        {
            "name": "New Name",
            "email": "coach@example.org",
            "role": "school-leader",
            "schools_shown": "1",
            "active": "yes",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was changed." in page and "a school leader needs at least one school" in page
    assert 'value="New Name"' in page
    assert _state(user) == before
    wrong_role = client.post_form(
        f"/admin/people/{user.id}", {"name": "Coach", "email": user.email, "role": "king"}
    )
    assert wrong_role.status_code == 422 and "&#39;king&#39; is not a role" in wrong_role.get_data(
        as_text=True
    )
    assert client.get("/admin/people/999999").status_code == 404


def test_a_form_missing_fields_changes_nothing_it_did_not_show(
    client, sign_in, admin, create_user, schools
):
    user = create_user(email="coach@example.org", name="Coach", schools=[schools[0]])
    sign_in(admin)
    no_active = client.post_form(
        f"/admin/people/{user.id}", {"name": "Coach", "email": user.email, "role": "observer"}
    )
    assert no_active.status_code == 422
    assert "choose whether they may sign in" in no_active.get_data(as_text=True)
    without_boxes = client.post_form(
        f"/admin/people/{user.id}",
        {"name": "Coach R", "email": user.email, "role": "observer", "active": "yes"},
    )
    assert without_boxes.status_code == 302
    assert _state(user) == ("Coach R", "coach@example.org", Role.OBSERVER, ["LIN-HS"], True)


def test_promoting_to_admin_on_the_page_drops_the_ticked_schools(
    client, sign_in, admin, create_user, schools
):
    user = create_user(Role.SCHOOL_LEADER, email="p@example.org", name="Pat", schools=schools)
    sign_in(admin)
    response = client.post_form(
        f"/admin/people/{user.id}",
        {
            "name": "Pat",
            "email": user.email,
            "role": "district-admin",
            "school": ["LIN-HS", "OAK-ES"],
            "schools_shown": "1",
            "active": "yes",
        },
    )
    assert response.status_code == 302
    assert _state(user)[2:] == (Role.DISTRICT_ADMIN, [], True)


def test_the_search_takes_wildcards_literally(client, sign_in, admin, create_user):
    create_user(email="coach@example.org", name="Coach Rivera")
    sign_in(admin)
    assert "Coach Rivera" not in client.get("/admin/people?q=%25").get_data(as_text=True)
    assert "Coach Rivera" not in client.get("/admin/people?q=_oach").get_data(as_text=True)


def test_an_admin_cannot_lock_everyone_out_from_the_page(client, sign_in, admin):
    sign_in(admin)
    response = client.post_form(
        f"/admin/people/{admin.id}",
        {"name": admin.name, "email": admin.email, "role": "observer", "active": "yes"},
    )
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="problem-role"' in response.get_data(as_text=True)
    assert "the last active district admin" in response.get_data(as_text=True)
    assert _state(admin)[2] is Role.DISTRICT_ADMIN
