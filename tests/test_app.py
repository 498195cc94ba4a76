"""What every response tells browsers and proxies: HSTS over HTTPS, and no stored copies of
anything personal (docs/security.md)."""

from __future__ import annotations

import os
import stat

import pytest

from observe.core.permissions import Role

NO_STORE = "private, no-store"


def test_every_page_and_api_answer_with_personal_data_is_never_stored(
    client, create_user, create_school, sign_in
):
    school = create_school()
    sign_in(create_user(Role.SCHOOL_LEADER, schools=[school]))
    for path in [
        "/",
        "/settings",
        "/schools",
        f"/schools/{school.code}",
        "/reports/summary",
        "/calibration/",
        "/api/v1/bootstrap",
        "/api/v1/me",
        "/api/v1/schools",
        "/api/v1/sync/pull",
        "/api/v1/nowhere",  # an error page too
    ]:
        response = client.get(path)
        assert response.status_code < 500, path
        assert response.headers["Cache-Control"] == NO_STORE, path


def test_the_sign_in_page_and_a_refusal_are_not_stored_either(client):
    assert client.get("/sign-in").headers["Cache-Control"] == NO_STORE
    assert client.get("/api/v1/me").headers["Cache-Control"] == NO_STORE  # the 401


@pytest.mark.parametrize(
    "path",
    ["/static/css/app.css", "/sw.js", "/manifest.webmanifest", "/api/v1/openapi.json", "/app/"],
)
def test_the_app_shell_keeps_its_caching(client, path):
    """Files the same for everyone, which the tablet app caches to start offline."""
    with client.get(path) as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_hsts_whenever_cookies_are_https_only(make_app, client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers  # plain-HTTP tests
    production = make_app()  # SESSION_COOKIE_SECURE is on unless turned off
    response = production.test_client().get("/sign-in", base_url="https://observe.example.org")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_a_new_sqlite_database_is_readable_by_its_owner_only(make_app, tmp_path):
    path = tmp_path / "instance" / "observe.sqlite3"
    old_umask = os.umask(0o022)  # the usual umask, which would make it 0644
    try:
        make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
