"""Signing in and out through the pages a person uses on a tablet."""

from observe.core.permissions import Role
from tests.conftest import PASSWORD


def test_pages_need_sign_in(client):
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/settings"


def test_api_needs_sign_in_and_says_so_in_json(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json() == {
        "error": {"code": "unauthorized", "message": "Sign in or send an API token."}
    }


def test_sign_in_then_out(client, create_user):
    user = create_user(Role.OBSERVER, email="maya@example.org", name="Maya Lopez")
    response = client.post_form("/sign-in", {"email": " MAYA@example.org ", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Welcome, Maya" in home

    assert client.get("/api/v1/me").get_json()["email"] == user.email

    response = client.post_form("/sign-out", {}, token_from="/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_clear_message(client, create_user):
    create_user(email="maya@example.org")
    response = client.post_form("/sign-in", {"email": "maya@example.org", "password": "nope"})
    assert response.status_code == 401
    assert "That email and password do not match an active account." in response.get_data(
        as_text=True
    )
    assert client.get("/").status_code == 302


def test_unknown_email_gets_the_same_message(client):
    response = client.post_form("/sign-in", {"email": "who@example.org", "password": PASSWORD})
    assert response.status_code == 401
    assert "That email and password do not match an active account." in response.get_data(
        as_text=True
    )


def test_empty_form_asks_for_both_fields(client):
    response = client.post_form("/sign-in", {"email": "", "password": ""})
    assert "Enter your email and your password." in response.get_data(as_text=True)


def test_inactive_user_cannot_sign_in(client, create_user, app):
    from observe.extensions import db

    user = create_user(email="gone@example.org")
    user.active = False
    db.session.commit()
    response = client.post_form("/sign-in", {"email": "gone@example.org", "password": PASSWORD})
    assert response.status_code == 401


def test_next_goes_back_to_the_page_asked_for(client, create_user):
    user = create_user()
    response = client.post_form(
        "/sign-in?next=/settings",
        {"email": user.email, "password": PASSWORD},
        token_from="/sign-in",
    )
    assert response.headers["Location"] == "/settings"


def test_next_never_leaves_the_site(client, create_user):
    user = create_user()
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post_form(
            f"/sign-in?next={target}", {"email": user.email, "password": PASSWORD}
        )
        assert response.headers["Location"] == "/", target
        client.post_form("/sign-out", {}, token_from="/")


def test_sign_in_without_csrf_token_is_refused(client, create_user):
    user = create_user()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired or did not come from this site." in response.get_data(
        as_text=True
    )
    assert client.get("/").status_code == 302


def test_every_state_changing_page_checks_csrf(client, create_user, sign_in):
    sign_in(create_user())
    for path in ("/sign-out", "/settings/tokens", "/settings/tokens/1/revoke"):
        response = client.post(path, data={"name": "x"})
        assert response.status_code == 400, path
    assert client.get("/").status_code == 200  # still signed in: sign-out was refused


def test_session_cookie_is_secure_http_only_and_lax_by_default(make_app, create_user):
    production = make_app()
    user = create_user()
    client = production.test_client()
    https = "https://observe.example.org"
    page = client.get("/sign-in", base_url=https).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/sign-in",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        headers={"Referer": "https://observe.example.org/sign-in"},
        base_url=https,
    )
    assert response.status_code == 302
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    cookie = cookies["observe_session"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # The device cookie (docs/security.md) goes only to the sign-in page, never cross-site.
    device = cookies["observe_device"]
    assert "Secure" in device and "HttpOnly" in device
    assert "SameSite=Strict" in device and "Path=/sign-in" in device
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_pages_forbid_loading_anything_from_elsewhere(client):
    response = client.get("/sign-in")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
