"""Personal API tokens: created on the settings page or the CLI, hashed at rest, revocable."""

import hashlib
import re

from sqlalchemy import select

from observe.accounts.models import ApiToken, Role
from observe.extensions import db


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

    page = client.post_form("/settings/tokens", {"name": "Data team"}, token_from="/settings")
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
    response = client.post_form(f"/settings/tokens/{token_id}/revoke", {}, token_from="/settings")
    assert response.status_code == 302
    assert "is revoked" in client.get("/settings").get_data(as_text=True)
    revoked = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401


def test_a_token_without_a_name_is_refused_and_nothing_is_created(client, create_user, sign_in):
    sign_in(create_user())
    response = client.post_form("/settings/tokens", {"name": "  "}, token_from="/settings")
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
