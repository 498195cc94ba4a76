"""Sessions the server can end: sign-out, a new password, deactivation and "sign out
everywhere" end every session of the user at once, on every device (docs/security.md)."""

from __future__ import annotations

import pytest
from flask import Flask

from observe.accounts.models import ApiToken, User
from observe.extensions import db
from tests.conftest import PASSWORD, Client

NEW_PASSWORD = "seven purple lanterns"


@pytest.fixture
def device(app: Flask, create_user):
    """A second browser or tablet: its own client, signed in through the real form."""

    def sign_in_on_a_device(user: User, password: str = PASSWORD) -> Client:
        other: Client = app.test_client()  # type: ignore[assignment]
        response = other.post_form("/sign-in", {"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return other

    return sign_in_on_a_device


def copy_of_cookie(app: Flask, client: Client) -> Client:
    """Another client holding a copy of ``client``'s session cookie (a stolen cookie)."""
    cookie = client.get_cookie("observe_session")
    assert cookie is not None
    thief: Client = app.test_client()  # type: ignore[assignment]
    thief.set_cookie("observe_session", cookie.value)
    return thief


def signed_in(client: Client) -> bool:
    """Whether ``client`` is signed in, asked of the API and of a page."""
    api = client.get("/api/v1/me").status_code
    page = client.get("/settings").status_code
    assert (api, page) in {(200, 200), (401, 302)}, (api, page)
    return api == 200


def test_a_copied_cookie_is_worthless_after_sign_out(app, client, create_user, sign_in):
    user = create_user()
    sign_in(user)
    thief = copy_of_cookie(app, client)
    assert signed_in(thief)

    response = client.post_form("/sign-out", {}, token_from="/settings")
    assert response.status_code == 302
    assert not signed_in(client)
    assert not signed_in(thief)
    assert thief.get("/api/v1/me").get_json()["error"]["code"] == "unauthorized"
    assert thief.get("/settings").headers["Location"] == "/sign-in?next=/settings"


def test_signing_out_on_one_device_ends_the_sessions_on_every_other(
    client, create_user, sign_in, device
):
    user = create_user()
    colleague = create_user()
    tablet = device(user)
    their_tablet = device(colleague)
    sign_in(user)
    client.post_form("/sign-out", {}, token_from="/settings")
    assert not signed_in(tablet)
    assert signed_in(their_tablet)  # another person's sessions are theirs
    # Signing in again opens a new session that works, and is ended by the next sign-out.
    again = device(user)
    assert signed_in(again)


def test_sign_out_everywhere_from_the_settings_page(client, create_user, sign_in, device):
    user = create_user()
    tablet = device(user)
    sign_in(user)
    page = client.get("/settings").get_data(as_text=True)
    assert "Sign out everywhere" in page
    response = client.post_form(
        "/settings/sign-out-everywhere", {"confirmed": "yes"}, token_from="/settings"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert "You are signed out on every device." in client.get("/sign-in").get_data(as_text=True)
    assert not signed_in(client)
    assert not signed_in(tablet)


def test_an_admin_signs_a_user_out_everywhere_from_the_command_line(app, create_user, device):
    user = create_user(email="lost.tablet@example.org")
    tablet, laptop = device(user), device(user)
    _, token_secret = _token(user)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["users", "sign-out-everywhere", "Lost.Tablet@example.org"])
    assert result.exit_code == 0, result.output
    assert "Every session of lost.tablet@example.org has ended" in result.output
    assert not signed_in(tablet) and not signed_in(laptop)
    bearer = {"Authorization": f"Bearer {token_secret}"}
    assert tablet.get("/api/v1/me", headers=bearer).status_code == 200  # tokens are not sessions

    again = device(user)
    result = runner.invoke(
        args=["users", "sign-out-everywhere", "lost.tablet@example.org", "--revoke-tokens"]
    )
    assert result.exit_code == 0 and "1 API token revoked." in result.output
    assert not signed_in(again)
    assert tablet.get("/api/v1/me", headers=bearer).status_code == 401

    unknown = runner.invoke(args=["users", "sign-out-everywhere", "nobody@example.org"])
    assert unknown.exit_code == 1 and "no user with email nobody@example.org" in unknown.output


def test_set_password_on_the_command_line_ends_every_session(app, client, create_user, device):
    user = create_user(email="maya@example.org")
    tablet = device(user)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "maya@example.org"], env={"OBSERVE_PASSWORD": NEW_PASSWORD}
    )
    assert result.exit_code == 0, result.output
    assert "every session of theirs has ended" in result.output
    assert not signed_in(tablet)
    assert device(user, NEW_PASSWORD)  # the new password opens a session


def test_a_refused_password_ends_no_session(app, create_user, device):
    user = create_user(email="maya@example.org")
    tablet = device(user)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "maya@example.org"], env={"OBSERVE_PASSWORD": "password123"}
    )
    assert result.exit_code == 1
    assert "is one of the most common passwords" in result.output
    assert signed_in(tablet)


def test_changing_ones_password_keeps_this_session_and_ends_the_others(
    client, create_user, sign_in, device
):
    user = create_user(email="maya@example.org")
    tablet = device(user)
    sign_in(user)
    response = client.post_form(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
         "confirm_password": NEW_PASSWORD},
        token_from="/settings",
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get("/settings").get_data(as_text=True)
    assert "Your password is changed; you are signed out on every other device." in page
    assert signed_in(client)
    assert not signed_in(tablet)
    assert device(user, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password", NEW_PASSWORD, NEW_PASSWORD, "your current password is not right"),
        (PASSWORD, NEW_PASSWORD, "seven purple lantern", "the two new passwords differ"),
        (PASSWORD, "Sunshine2026!", "Sunshine2026!", "is one of the most common passwords"),
        (PASSWORD, "short", "short", "must be at least 10 characters long"),
    ],
)
def test_a_refused_password_change_changes_nothing(
    client, create_user, sign_in, device, current, new, confirm, message
):
    user = create_user(email="maya@example.org")
    tablet = device(user)
    sign_in(user)
    response = client.post_form(
        "/settings/password",
        {"current_password": current, "new_password": new, "confirm_password": confirm},
        token_from="/settings",
    )
    assert response.status_code == 302
    page = client.get("/settings").get_data(as_text=True)
    assert "The password was not changed" in page and message in page
    assert signed_in(tablet)
    assert device(user, PASSWORD)  # the old password still works


def test_deactivation_ends_sessions_and_tokens_and_reactivation_needs_a_new_sign_in(
    app, create_user, device
):
    user = create_user(email="leaver@example.org")
    tablet = device(user)
    _, secret = _token(user)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "deactivate", "leaver@example.org"])
    assert result.exit_code == 0 and "is deactivated" in result.output
    assert not signed_in(tablet)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert tablet.get("/api/v1/me", headers=bearer).status_code == 401
    refused = tablet.post_form("/sign-in", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 401

    assert runner.invoke(args=["users", "activate", "leaver@example.org"]).exit_code == 0
    assert not signed_in(tablet)  # the old session stays ended
    assert signed_in(device(user))
    # Revoked, not only refused while inactive: a token copied before stays dead.
    assert tablet.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_stolen_cookie_cannot_mint_a_token_that_outlives_the_session(
    app, client, create_user, sign_in
):
    """Creating a token asks for the password again: a copied cookie alone cannot make one
    that would survive the owner's sign-out everywhere or new password."""
    user = create_user(email="victim@example.org")
    sign_in(user)
    thief = copy_of_cookie(app, client)
    refused = thief.post_form(
        "/settings/tokens", {"name": "mine now", "password": "a guess"}, token_from="/settings"
    )
    assert refused.status_code == 302
    page = thief.get("/settings").get_data(as_text=True)
    assert "The token was not created: your current password is not right." in page
    assert db.session.query(ApiToken).count() == 0
    missing = thief.post_form("/settings/tokens", {"name": "mine now"}, token_from="/settings")
    assert missing.status_code == 302 and db.session.query(ApiToken).count() == 0
    # The owner, who knows the password, still can.
    made = client.post_form(
        "/settings/tokens", {"name": "R", "password": PASSWORD}, token_from="/settings"
    )
    assert made.status_code == 200 and db.session.query(ApiToken).count() == 1


def test_guesses_at_the_sign_in_page_never_stop_the_real_user_in_their_settings(
    app, client, create_user, sign_in
):
    """Failures typed at /sign-in by anyone count against the email for unknown browsers; the
    settings page's password check counts this session's own failures only, so an attacker
    cannot keep the real user from changing their password or making a token."""
    user = create_user(email="target@example.org")
    sign_in(user)
    attacker: Client = app.test_client()  # type: ignore[assignment]
    for _ in range(8):
        attacker.post_form("/sign-in", {"email": user.email, "password": "wrong guess"})
    held = attacker.post_form("/sign-in", {"email": user.email, "password": "wrong guess"})
    assert held.status_code == 429
    made = client.post_form(
        "/settings/tokens", {"name": "R", "password": PASSWORD}, token_from="/settings"
    )
    assert made.status_code == 200
    changed = client.post_form(
        "/settings/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
        token_from="/settings",
    )
    assert changed.status_code == 302
    assert "Your password is changed" in client.get("/settings").get_data(as_text=True)


def test_a_cookie_from_before_session_generations_is_not_accepted(app, create_user):
    user = create_user()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    old = serializer.dumps({"_user_id": str(user.id), "_fresh": True})
    client: Client = app.test_client()  # type: ignore[assignment]
    client.set_cookie("observe_session", old)
    assert not signed_in(client)
    # A forged generation is refused alike: the cookie's signature covers it, and a wrong one
    # names a session that is not the user's current one.
    forged = serializer.dumps({"_user_id": f"{user.id}:7", "_fresh": True})
    client.set_cookie("observe_session", forged)
    assert not signed_in(client)


def _token(user: User) -> tuple[ApiToken, str]:
    from observe.accounts import operations

    token, secret = operations.create_token(user, "scripts")
    db.session.commit()
    return token, secret


def test_an_account_without_a_password_makes_tokens_only_just_after_signing_in(
    client, create_user, sign_in
):
    """Single sign-on accounts have no password to ask for: a sign-in within the last 10
    minutes stands in for it, so an old copied cookie cannot mint a token either."""
    import time

    user = create_user(email="sso@example.org")
    sign_in(user)
    user.password_hash = None
    db.session.commit()
    with client.session_transaction() as cookie:
        cookie["signed_in_at"] = time.time() - 11 * 60
    client.post_form("/settings/tokens", {"name": "late"}, token_from="/settings")
    page = client.get("/settings").get_data(as_text=True)
    assert "sign out and sign in again, then make the token within 10 minutes" in page
    assert "has no password here" in page
    assert db.session.query(ApiToken).count() == 0
    with client.session_transaction() as cookie:
        cookie["signed_in_at"] = time.time() - 60
    made = client.post_form("/settings/tokens", {"name": "fresh"}, token_from="/settings")
    assert made.status_code == 200 and db.session.query(ApiToken).count() == 1


def test_first_single_sign_ons_at_the_same_moment_make_one_account(app):
    """The provisioning of a new single sign-on account runs one transaction at a time per
    email, so sign-ins arriving together all land in the one account."""
    import threading

    from sqlalchemy import select

    from observe.accounts import operations
    from observe.core.database import begin_write

    ids: list[int] = []
    errors: list[BaseException] = []

    def first_sign_in() -> None:
        with app.app_context():
            try:
                begin_write()
                user = operations.account_for_single_sign_on(
                    "New.Person@district.example", "New Person", {"district.example"}
                )
                db.session.commit()
                ids.append(user.id)
            except BaseException as error:
                errors.append(error)
                db.session.rollback()

    threads = [threading.Thread(target=first_sign_in) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(ids) == 6 and len(set(ids)) == 1
    assert db.session.scalars(select(User.email)).all() == ["new.person@district.example"]
