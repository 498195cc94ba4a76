"""``observe users …`` and ``observe tokens …``."""

import pytest
from sqlalchemy import func, select

from observe.accounts.models import User
from observe.core.permissions import Role
from observe.extensions import db


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None):
        return runner.invoke(args=list(args), env=env, input=input)

    return invoke


def test_create_users_of_each_role(run, create_school):
    create_school("LIN-HS", "Lincoln High")
    create_school("OAK-ES", "Oak Elementary")
    env = {"OBSERVE_PASSWORD": "a long enough password"}
    result = run(
        "users", "create", "Pat@Example.org", "--name", "Pat Kim", "--role", "school-leader",
        "--school", "LIN-HS", "--school", "OAK-ES", env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Created school leader pat@example.org (Pat Kim); schools: LIN-HS, OAK-ES.\n"
    )
    admin = run("users", "create", "a@example.org", "--name", "A", "--role", "district-admin",
                env=env)  # fmt: skip
    assert admin.output == "Created district admin a@example.org (A); schools: every school.\n"
    # An observer given no school sees none: the message must not say "every school".
    observer = run("users", "create", "o@example.org", "--name", "O", "--role", "observer",
                   env=env)  # fmt: skip
    assert observer.output == (
        "Created observer o@example.org (O); schools: none yet (they see no school's data).\n"
    )
    roles = dict(db.session.execute(select(User.email, User.role)).all())
    assert roles == {
        "pat@example.org": Role.SCHOOL_LEADER,
        "a@example.org": Role.DISTRICT_ADMIN,
        "o@example.org": Role.OBSERVER,
    }


def test_password_is_prompted_when_not_in_the_environment(run):
    result = run(
        "users", "create", "p@example.org", "--name", "P", "--role", "observer",
        input="a long enough password\na long enough password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    from observe.accounts.operations import authenticate

    assert authenticate("p@example.org", "a long enough password") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad-email", "--name", "X", "--role", "observer"],
         "email: 'bad-email' is not an email address"),
        (["x@example.org", "--name", "X", "--role", "school-leader"],
         "school: a school leader needs at least one school"),
        (["x@example.org", "--name", "X", "--role", "observer", "--school", "NOPE",
          "--school", "ALSO"], "school: unknown school codes NOPE, ALSO"),
        (["x@example.org", "--name", "X", "--role", "district-admin", "--school", "LIN-HS"],
         "school: a district admin sees every school; give no schools"),
        (["x@example.org", "--name", " ", "--role", "observer"], "name: must not be empty"),
    ],
)  # fmt: skip
def test_bad_input_names_the_problem_and_creates_nothing(run, create_school, args, message):
    create_school("LIN-HS")
    result = run("users", "create", *args, env={"OBSERVE_PASSWORD": "a long enough password"})
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_short_password_and_duplicate_email_are_refused(run):
    env = {"OBSERVE_PASSWORD": "short"}
    result = run("users", "create", "x@example.org", "--name", "X", "--role", "observer", env=env)
    assert result.output == "Error: password: must be at least 10 characters long\n"
    env = {"OBSERVE_PASSWORD": "a long enough password"}
    assert run("users", "create", "x@example.org", "--name", "X", "--role", "observer",
               env=env).exit_code == 0  # fmt: skip
    result = run("users", "create", "X@example.org", "--name", "Y", "--role", "observer", env=env)
    assert result.output == "Error: email: a user with email x@example.org already exists\n"
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_unknown_role_is_refused_by_the_command_line(run):
    result = run("users", "create", "x@example.org", "--name", "X", "--role", "principal")
    assert result.exit_code == 2
    assert "'principal' is not one of 'observer', 'school-leader', 'district-admin'" in (
        result.output
    )


def test_tokens_create_prints_the_token_alone_on_the_last_line(run, client, create_user):
    create_user(email="data@example.org")
    result = run("tokens", "create", "data@example.org", "--name", "warehouse")
    assert result.exit_code == 0
    token = result.output.splitlines()[-1]
    assert token.startswith("obs_") and " " not in token
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["email"] == "data@example.org"


def test_tokens_create_for_an_unknown_user(run):
    result = run("tokens", "create", "ghost@example.org")
    assert result.exit_code == 1
    assert result.output == "Error: no user with email ghost@example.org\n"


def test_set_password(run, create_user):
    from observe.accounts.operations import authenticate

    create_user(email="x@example.org")
    result = run("users", "set-password", "x@example.org",
                 env={"OBSERVE_PASSWORD": "a brand new password"})  # fmt: skip
    assert result.exit_code == 0
    assert authenticate("x@example.org", "a brand new password") is not None


def test_tokens_create_with_an_expiry_and_read_only(run, client, create_user):
    from observe.accounts.models import ApiToken

    create_user(email="data@example.org")
    result = run(
        "tokens", "create", "data@example.org", "--name", "dashboard", "--read-only",
        "--expires-in-days", "30",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = db.session.scalar(select(ApiToken))
    assert token.read_only
    assert f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" in result.output
    assert "Created read-only token “dashboard”" in result.output
    headers = {"Authorization": f"Bearer {result.output.splitlines()[-1]}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/sync/push", headers=headers, json={}).status_code == 403


@pytest.mark.parametrize("days", ["0", "3651", "soon"])
def test_tokens_create_refuses_a_bad_expiry(run, create_user, days):
    from observe.accounts.models import ApiToken

    create_user(email="data@example.org")
    result = run("tokens", "create", "data@example.org", "--expires-in-days", days)
    assert result.exit_code == 2
    assert "Invalid value for '--expires-in-days'" in result.output
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_set_role_gives_an_account_a_role_and_schools(run, create_user, create_school):
    """What an admin does after someone's first single sign-on made them an observer with no
    schools; the rules of `users create` hold, and a refusal changes nothing."""
    create_school("LIN-HS", "Lincoln High")
    create_school("OAK-ES", "Oak Elementary")
    user = create_user(email="new.coach@example.org")
    result = run("users", "set-role", "New.Coach@example.org", "--role", "school-leader",
                 "--school", "LIN-HS", "--school", "OAK-ES")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == (
        "new.coach@example.org is now school leader; schools: LIN-HS, OAK-ES.\n"
    )
    db.session.refresh(user)
    assert (user.role, [s.code for s in user.schools]) == (Role.SCHOOL_LEADER, ["LIN-HS", "OAK-ES"])

    for args, message in [
        (["--role", "school-leader"], "a school leader needs at least one school"),
        (["--role", "district-admin", "--school", "LIN-HS"], "give no schools"),
        (["--role", "observer", "--school", "NOPE"], "unknown school code NOPE"),
    ]:
        result = run("users", "set-role", user.email, *args)
        assert result.exit_code == 1 and message in result.output, result.output
        db.session.refresh(user)
        assert (user.role, len(user.schools)) == (Role.SCHOOL_LEADER, 2)
    assert run("users", "set-role", "nobody@example.org", "--role", "observer").exit_code == 1
