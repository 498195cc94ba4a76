"""Personal API tokens: created on the settings page or the CLI, hashed at rest, revocable."""

import hashlib
import re

import pytest
from sqlalchemy import select

from observe.accounts.models import ApiToken
from observe.core.permissions import Role
from observe.extensions import db
from tests.conftest import PASSWORD


def test_bearer_token_authenticates_api_requests(client, create_user, bearer):
    user = create_user(Role.OBSERVER, email="ravi@example.org")
    response = client.get("/api/v1/me", headers=bearer(user))
    assert response.status_code == 200
    assert response.get_json()["email"] == "ravi@example.org"
    assert "Set-Cookie" not in response.headers  # a token never opens a browser session


def test_only_the_hash_is_stored(create_user):
    from observe.accounts import operations

    user = create_user()
    token, secret = operations.create_token(user, "warehouse")
    db.session.commit()
    assert secret.startswith("obs_")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = db.session.execute(select(ApiToken.__table__)).mappings().one()
    assert secret not in {str(value) for value in stored.values()}


def test_bad_authorization_headers_get_clear_401s(client):
    for header, message in [
        ("Basic dXNlcjpwYXNz", "The Authorization header must be 'Bearer <token>'."),
        ("Bearer ", "The Authorization header must be 'Bearer <token>'."),
        ("Bearer obs_not-a-real-token", "This API token is unknown or has been revoked."),
    ]:
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.get_json() == {"error": {"code": "unauthorized", "message": message}}


def test_settings_page_creates_lists_and_revokes_tokens(client, create_user, sign_in):
    user = create_user(email="lee@example.org")
    sign_in(user)

    page = client.post_form(
        "/settings/tokens", {"name": "Data team", "password": PASSWORD}, token_from="/settings"
    )
    html = page.get_data(as_text=True)
    secret = re.search(r'<code class="token" id="new-token">([^<]+)</code>', html).group(1)
    assert "it is shown only once" in html
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )

    listing = client.get("/settings").get_data(as_text=True)
    assert "Data team" in listing
    assert secret not in listing  # shown once, then only its first characters
    assert secret[:10] in listing

    token_id = db.session.scalar(select(ApiToken.id))
    response = client.post_form(
        f"/settings/tokens/{token_id}/revoke", {"confirmed": "yes"}, token_from="/settings"
    )
    assert response.status_code == 302
    assert "is revoked" in client.get("/settings").get_data(as_text=True)
    revoked = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401


def test_a_token_without_a_name_is_refused_and_nothing_is_created(client, create_user, sign_in):
    sign_in(create_user())
    response = client.post_form(
        "/settings/tokens", {"name": "  ", "password": PASSWORD}, token_from="/settings"
    )
    assert response.status_code == 302
    page = client.get("/settings").get_data(as_text=True)
    assert "The token was not created. name: must not be empty" in page
    assert db.session.scalar(select(ApiToken.id)) is None


def test_nobody_can_revoke_someone_elses_token(client, create_user, sign_in):
    from observe.accounts import operations

    owner = create_user(email="owner@example.org")
    token, secret = operations.create_token(owner, "mine")
    db.session.commit()
    sign_in(create_user(email="other@example.org"))
    response = client.post_form(f"/settings/tokens/{token.id}/revoke", {}, token_from="/settings")
    assert response.status_code == 404
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )


def test_token_use_is_recorded(client, create_user, bearer):
    user = create_user()
    client.get("/api/v1/me", headers=bearer(user))
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_a_deactivated_users_token_stops_working(client, create_user, bearer):
    user = create_user()
    headers = bearer(user)
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_api_post_with_a_token_needs_no_csrf_but_a_browser_post_does(
    client, create_user, bearer, sign_in
):
    user = create_user()
    # An unknown API route: with a token the request gets past CSRF to routing (404) ...
    assert client.post("/api/v1/nowhere", headers=bearer(user)).status_code == 404
    # ... with no credentials at all it is a 401, not a CSRF failure (credentials come first) ...
    anonymous = client.post("/api/v1/nowhere")
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"]["code"] == "unauthorized"
    # ... while a signed-in browser's post without the CSRF token is stopped by that check.
    sign_in(user)
    forged = client.post("/api/v1/nowhere")
    assert forged.status_code == 400
    assert forged.get_json()["error"]["code"] == "csrf_failed"


# --- What a token may do: the API only, never pages; never mint or revoke tokens. ---


def test_a_token_opens_no_page_and_can_neither_create_nor_revoke_tokens(
    client, create_user, bearer
):
    from observe.accounts import operations

    user = create_user()
    other, _ = operations.create_token(user, "the data team's")
    db.session.commit()
    headers = bearer(user)
    message = "API tokens work only for the API (/api/…); sign in to use pages."
    for method, path in [
        ("GET", "/"),
        ("GET", "/settings"),
        ("GET", "/reports/summary"),
        ("POST", "/settings/tokens"),
        ("POST", f"/settings/tokens/{other.id}/revoke"),
        ("POST", "/settings/sign-out-everywhere"),
        ("POST", "/settings/password"),
        ("POST", "/sign-out"),
    ]:
        response = client.open(path, method=method, headers=headers, data={"name": "minted"})
        assert response.status_code == 403, (method, path)
        assert message in response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers
    db.session.rollback()
    names = db.session.scalars(select(ApiToken.name).order_by(ApiToken.id)).all()
    assert names == ["the data team's", "tests"]  # nothing minted
    assert db.session.get(ApiToken, other.id).revoked_at is None  # nothing revoked


def test_a_read_only_token_reads_and_is_refused_every_change(client, create_user):
    from observe.accounts import operations

    user = create_user()
    _, secret = operations.create_token(user, "dashboard", read_only=True)
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/bootstrap", headers=headers).status_code == 200
    for method, path in [
        ("POST", "/api/v1/sync/push"),
        ("POST", "/api/v1/goals"),
        ("DELETE", "/api/v1/goals/1"),
        ("PUT", "/api/v1/calibration/sessions/1/consensus"),
    ]:
        response = client.open(path, method=method, headers=headers, json={})
        assert response.status_code == 403, (method, path)
        assert response.get_json()["error"] == {
            "code": "forbidden",
            "message": f"This API token is read-only: it may read but not {method}. "
            "Use a token with full access to change data.",
        }


def test_an_expired_token_is_refused_saying_so(client, create_user):
    from datetime import timedelta

    from observe.accounts import operations
    from observe.core.models import utcnow

    user = create_user()
    token, secret = operations.create_token(user, "quarterly", expires_in_days=30)
    db.session.commit()
    assert token.expires_at - utcnow() > timedelta(days=29, hours=23)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == (
        "This API token has expired; create a new one on your settings page."
    )


def test_the_settings_page_creates_a_read_only_token_that_expires(client, create_user, sign_in):
    sign_in(create_user())
    page = client.post_form(
        "/settings/tokens",
        {"name": "Dashboard", "scope": "read-only", "expires_in_days": "90", "password": PASSWORD},
        token_from="/settings",
    ).get_data(as_text=True)
    secret = re.search(r'<code class="token" id="new-token">([^<]+)</code>', page).group(1)
    token = db.session.scalar(select(ApiToken))
    assert token.read_only and token.expires_at is not None
    assert "Read only" in page and token.expires_at.strftime("%Y-%m-%d") in page
    posted = client.post("/api/v1/sync/push", headers={"Authorization": f"Bearer {secret}"})
    assert posted.status_code == 403

    # The defaults a form without the new fields sends: full access, no expiry.
    client.post_form(
        "/settings/tokens", {"name": "Warehouse", "password": PASSWORD}, token_from="/settings"
    )
    db.session.rollback()
    warehouse = db.session.scalar(select(ApiToken).where(ApiToken.name == "Warehouse"))
    assert not warehouse.read_only and warehouse.expires_at is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"expires_in_days": "0"}, "expires_in_days: must be a whole number of days from 1 to"),
        ({"expires_in_days": "99999999999"}, "expires_in_days: must be a whole number of days"),
        ({"expires_in_days": "²"}, "expires_in_days: must be a whole number of days"),
        ({"expires_in_days": "-5"}, "expires_in_days: must be a whole number of days"),
        ({"scope": "admin"}, "scope: must be full or read-only"),
    ],
)
def test_a_bad_expiry_or_scope_is_refused_and_nothing_is_created(
    client, create_user, sign_in, fields, message
):
    sign_in(create_user())
    response = client.post_form(
        "/settings/tokens",
        {"name": "Dashboard", "password": PASSWORD, **fields},
        token_from="/settings",
    )
    assert response.status_code == 302
    page = client.get("/settings").get_data(as_text=True)
    assert "The token was not created." in page and message in page
    assert db.session.scalar(select(ApiToken.id)) is None
