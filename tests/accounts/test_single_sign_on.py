"""Single sign-on against a real OpenID Connect provider on 127.0.0.1 (tests/oidc_provider.py).

Each refusal is checked for its reason in the audit log, so a test fails if the token is refused
for another cause than the one it was built to show.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from joserfc.jwk import RSAKey
from sqlalchemy import select

from observe.accounts import oidc, operations
from observe.accounts.models import User
from observe.audit.models import AuditEvent
from observe.core.permissions import Role
from observe.extensions import db
from tests.conftest import PASSWORD, Client
from tests.oidc_provider import Provider, running_provider

CLIENT_ID = "observe-tests"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def sso_app(make_app, provider: Provider) -> Callable[..., Flask]:
    """An app signing in through ``provider``; keyword arguments change its settings."""

    def make(**config: Any) -> Flask:
        settings = {
            "TESTING": True,
            "SESSION_COOKIE_SECURE": False,
            "OBSERVE_OIDC_ISSUER": provider.url,
            "OBSERVE_OIDC_CLIENT_ID": CLIENT_ID,
            "OBSERVE_OIDC_CLIENT_SECRET": "observe-tests-secret",
            "OBSERVE_OIDC_NAME": "District ID",
            **config,
        }
        app = make_app(**settings)
        app.test_client_class = Client
        return app

    return make


@pytest.fixture
def client(sso_app) -> Client:  # the suite's client, for an app with single sign-on
    return sso_app().test_client()


def start(client: Client, next_path: str | None = "/app/") -> str:
    """Press "Sign in with …"; returns the provider's authorization URL."""
    query = {"next": next_path} if next_path else {}
    response = client.get("/sign-in/sso", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def sign_in_via(client: Client, provider: Provider, sub: str, next_path: str | None = "/app/"):
    """The whole flow for ``sub``; returns observe's answer to the callback."""
    back = provider.authorize(start(client, next_path), sub)
    return client.get(urlsplit(back).path + "?" + urlsplit(back).query)


def signed_in_email(client: Client) -> str | None:
    response = client.get("/api/v1/me")
    return response.get_json()["email"] if response.status_code == 200 else None


def events(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def refused_because(response, reason: str, status: int, message: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    assert [e.detail["reason"] for e in events("sign_in.failed")] == [reason]
    assert events("sign_in") == []


# ---- the flow that works -------------------------------------------------------------------


def test_a_known_person_signs_in_like_with_a_password(client, provider, create_user):
    user = create_user(Role.OBSERVER, email="ana.ruiz@example.org", name="Ana Ruiz")
    provider.add_user("Ana.Ruiz@EXAMPLE.org")  # the provider's spelling differs in case

    authorization = start(client, "/app/")
    query = parse_qs(urlsplit(authorization).query)
    assert authorization.startswith(provider.url + "/oauth2/authorize?")
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://localhost/sign-in/sso/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert signed_in_email(client) is None  # starting opens no session

    back = provider.authorize(authorization, "Ana.Ruiz@EXAMPLE.org")
    response = client.get(back.removeprefix("http://localhost"))
    assert response.status_code == 302
    # PKCE: the code was redeemed with the verifier whose SHA-256 the authorization request
    # carried (the mock provider does not check it, so the test does).
    sent = provider.token_requests[-1]
    assert sent["grant_type"] == "authorization_code"
    assert sent["redirect_uri"] == "http://localhost/sign-in/sso/callback"
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"][0]
    assert response.headers["Location"] == "/app/"
    assert signed_in_email(client) == user.email
    cookie = client.get_cookie("observe_session")
    assert cookie is not None and cookie.expires is not None  # session.permanent
    assert client.get_cookie("observe_device", path="/sign-in") is not None
    [event] = events("sign_in")
    assert (event.actor_id, event.detail) == (user.id, {"via": "oidc"})

    # The session is an ordinary one: signing out anywhere ends it.
    db.session.rollback()
    assert db.session.get(User, user.id).session_generation == 0
    client.post_form("/sign-out", {}, token_from="/")
    assert signed_in_email(client) is None


@pytest.mark.parametrize(
    "target", ["https://evil.example/x", "//evil.example", "/\\evil.example", "/\t/evil.example"]
)
def test_next_stays_on_this_site(client, provider, create_user, target):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    response = sign_in_via(client, provider, "ana@example.org", target)
    assert response.headers["Location"] == "/"


def test_the_sign_in_page_offers_the_provider_and_the_password(client):
    page = client.get("/sign-in?next=/app/").get_data(as_text=True)
    assert 'href="/sign-in/sso?next=/app/"' in page
    assert "Sign in with District ID" in page
    assert 'name="password"' in page and "<details" not in page


@pytest.mark.parametrize(
    ("issuer", "name"),
    [
        ("https://accounts.google.com", "Google"),
        ("https://login.microsoftonline.com/0d9c1f4e-2f5b-4ba2-9b4c-6c1f0e8a/v2.0", "Microsoft"),
        ("https://idp.district.example", "idp.district.example"),
    ],
)
def test_presets_name_the_button(issuer, name):
    config = {
        "OBSERVE_OIDC_ISSUER": issuer,
        "OBSERVE_OIDC_CLIENT_ID": "id",
        "OBSERVE_OIDC_CLIENT_SECRET": "secret",
    }
    assert oidc.settings_from(config).name == name
    assert oidc.settings_from({**config, "OBSERVE_OIDC_NAME": "Lincoln USD"}).name == "Lincoln USD"


# ---- the ID token: every check Authlib makes, asked for and seen failing -----------------------


def test_wrong_audience_is_refused(client, provider, create_user):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    # Named as authorized party but issued for another client: Authlib's default would take it.
    with provider.tamper(lambda c: {**c, "aud": "another-app", "azp": CLIENT_ID}):
        response = sign_in_via(client, provider, "ana@example.org")
    refused_because(response, "ID token: wrong or missing audience", 401, "audience is wrong")
    assert signed_in_email(client) is None


def test_a_token_for_us_and_another_app_needs_us_as_authorized_party(client, provider, create_user):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    with provider.tamper(lambda c: {**c, "aud": [CLIENT_ID, "another-app"], "azp": "another-app"}):
        response = sign_in_via(client, provider, "ana@example.org")
    refused_because(response, "ID token: wrong or missing audience", 401, "audience is wrong")


def test_wrong_issuer_is_refused(client, provider, create_user):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    with provider.tamper(lambda c: {**c, "iss": "https://accounts.google.com"}):
        response = sign_in_via(client, provider, "ana@example.org")
    refused_because(response, "ID token: wrong or missing issuer", 401, "issuer is wrong")
    assert signed_in_email(client) is None


def test_an_expired_id_token_is_refused(client, provider, create_user):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    now = int(time.time())
    with provider.tamper(lambda c: {**c, "iat": now - 3900, "exp": now - 300}):
        response = sign_in_via(client, provider, "ana@example.org")
    refused_because(response, "expired ID token", 401, "had expired")
    assert signed_in_email(client) is None


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda c: {k: v for k, v in c.items() if k != "nonce"}, id="missing"),
        pytest.param(lambda c: {**c, "nonce": "a-nonce-from-another-sign-in"}, id="forged"),
    ],
)
def test_a_missing_or_forged_nonce_is_refused(client, provider, create_user, edit):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    with provider.tamper(edit):
        response = sign_in_via(client, provider, "ana@example.org")
    refused_because(response, "ID token: wrong or missing nonce", 401, "nonce is wrong")
    assert signed_in_email(client) is None


def test_a_token_signed_with_another_key_is_refused(client, provider, create_user):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    forger = RSAKey.generate_key(2048)
    with provider.tamper(lambda c: c, sign_with=forger):
        response = sign_in_via(client, provider, "ana@example.org")
    refused_because(response, "ID token: bad signature", 401, "was not signed by District ID")
    assert signed_in_email(client) is None


def test_the_untampered_token_passes_through_the_tamper_hook(client, provider, create_user):
    """The hook itself re-signs faithfully: an unchanged token is accepted (so the refusals
    above come from the changes, not from the re-signing)."""
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    with provider.tamper(lambda c: c):
        response = sign_in_via(client, provider, "ana@example.org")
    assert response.status_code == 302
    assert signed_in_email(client) == "ana@example.org"


# ---- state ---------------------------------------------------------------------------------


def test_a_replayed_callback_opens_no_session(client, sso_app, provider, create_user):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org")
    back = provider.authorize(start(client), "ana@example.org")
    callback = back.removeprefix("http://localhost")
    assert client.get(callback).status_code == 302
    issued = provider.tokens_issued

    # The same answer again, in another browser (a link sent to a victim, a copied URL) …
    other = sso_app().test_client()
    response = other.get(callback)
    assert response.status_code == 400
    assert "already used" in response.get_data(as_text=True)
    assert signed_in_email(other) is None
    # … and in the browser it came from, after it has been used.
    client.post_form("/sign-out", {}, token_from="/")
    assert client.get(callback).status_code == 400
    assert signed_in_email(client) is None
    assert provider.tokens_issued == issued  # refused before the code was ever spent again
    assert [e.detail["reason"] for e in events("sign_in.failed")] == ["state", "state"]


def test_a_callback_without_a_flow_opens_no_session(client):
    for query in ("", "?code=abc&state=made-up", "?state=&code="):
        response = client.get("/sign-in/sso/callback" + query)
        assert response.status_code == 400
        assert signed_in_email(client) is None


def test_pressing_cancel_at_the_provider_signs_nobody_in(client, provider):
    import requests

    authorization = start(client)
    back = requests.post(
        authorization, data={"action": "deny"}, allow_redirects=False, timeout=5
    ).headers["Location"]
    response = client.get(back.removeprefix("http://localhost"))
    assert response.status_code == 401
    assert "did not sign you in (access_denied)" in response.get_data(as_text=True)
    assert signed_in_email(client) is None


# ---- who may come in ---------------------------------------------------------------------


@pytest.mark.parametrize("verified", [False, "true", None])
def test_an_unverified_email_is_refused(client, provider, create_user, verified):
    create_user(email="ana@example.org")
    provider.add_user("ana@example.org", email_verified=verified)  # None: left out
    response = sign_in_via(client, provider, "ana@example.org")
    refused_because(response, "email not verified", 403, "did not confirm an email address")
    assert signed_in_email(client) is None


def test_an_unknown_email_is_refused_without_provisioning(client, provider):
    provider.add_user("stranger@example.org")
    response = sign_in_via(client, provider, "stranger@example.org")
    refused_because(response, "no account for this email", 403, "No observe account uses")
    assert db.session.scalar(select(User).where(User.email == "stranger@example.org")) is None


def test_an_allowed_domain_gets_an_observer_account_on_first_sign_in(sso_app, provider):
    domains = "district.example, @schools.example"  # spaces and a leading @ are forgiven
    client = sso_app(OBSERVE_OIDC_ALLOWED_DOMAINS=domains).test_client()
    provider.add_user("new.coach@Schools.Example", name="Noor  Coach")
    response = sign_in_via(client, provider, "new.coach@Schools.Example")
    assert response.status_code == 302
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == "new.coach@schools.example"))
    assert (user.role, user.schools, user.name, user.password_hash) == (
        Role.OBSERVER,
        [],
        "Noor Coach",
        None,
    )
    assert signed_in_email(client) == user.email
    [provisioned] = events("user.provisioned")
    assert provisioned.object_id == str(user.id)
    assert events("sign_in")[0].detail == {"via": "oidc"}

    # A second sign-in finds the same account.
    client.post_form("/sign-out", {}, token_from="/")
    assert sign_in_via(client, provider, "new.coach@Schools.Example").status_code == 302
    assert len(events("user.provisioned")) == 1


def test_another_domain_gets_no_account(sso_app, provider):
    client = sso_app(OBSERVE_OIDC_ALLOWED_DOMAINS="district.example").test_client()
    # A look-alike: a subdomain of an allowed domain is a different domain.
    provider.add_user("eve@evil.district.example")
    response = sign_in_via(client, provider, "eve@evil.district.example")
    refused_because(response, "no account for this email", 403, "No observe account uses")
    assert db.session.scalar(select(User.id).where(User.email.like("eve@%"))) is None


def test_a_deactivated_person_is_refused_with_a_clear_page(client, provider, create_user):
    user = create_user(email="gone@example.org")
    operations.set_active(user, False)
    db.session.commit()
    provider.add_user("gone@example.org")
    response = sign_in_via(client, provider, "gone@example.org")
    refused_because(response, "account deactivated", 403, "is deactivated")
    assert signed_in_email(client) is None


# ---- password sign-in for break-glass admins only -------------------------------------------


def test_password_sign_in_for_admins_only(sso_app, create_user, admin):
    app = sso_app(OBSERVE_PASSWORD_SIGN_IN="admins")
    observer = create_user(email="ana@example.org")
    client = app.test_client()

    page = client.get("/sign-in").get_data(as_text=True)
    assert "Sign in with District ID" in page
    assert "<details" in page and "District admins: sign in with a password" in page

    right = client.post_form("/sign-in", {"email": observer.email, "password": PASSWORD})
    wrong = client.post_form("/sign-in", {"email": observer.email, "password": "not it at all"})
    for refused in (right, wrong):  # a right password is not told from a wrong one
        assert refused.status_code == 401
        assert "Everyone else signs in with District ID." in refused.get_data(as_text=True)
    assert signed_in_email(client) is None
    assert [e.detail["reason"] for e in events("sign_in.failed")] == [
        "password sign-in is for district admins only",
        "wrong email or password, or account inactive",
    ]

    response = client.post_form("/sign-in", {"email": admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_email(client) == admin.email


def test_password_sign_in_stays_for_everyone_by_default(client, create_user):
    observer = create_user(email="ana@example.org")
    response = client.post_form("/sign-in", {"email": observer.email, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_email(client) == observer.email


# ---- the provider's side going wrong --------------------------------------------------------


def test_an_unreachable_provider_is_said_so(sso_app):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = sso_app(OBSERVE_OIDC_ISSUER=f"http://127.0.0.1:{port}").test_client()
    response = client.get("/sign-in/sso")
    assert response.status_code == 502
    assert "District ID could not be reached, or did not answer properly" in response.get_data(
        as_text=True
    )


def test_discovery_naming_another_issuer_is_refused(sso_app, provider):
    # The provider names itself without the trailing slash: not the configured issuer.
    client = sso_app(OBSERVE_OIDC_ISSUER=provider.url + "/").test_client()
    response = client.get("/sign-in/sso")
    assert response.status_code == 502
    assert "its issuer differs" in response.get_data(as_text=True)


def test_without_single_sign_on_its_routes_do_not_exist(app):
    client = app.test_client()
    assert client.get("/sign-in/sso").status_code == 404
    assert client.get("/sign-in/sso/callback?code=x&state=y").status_code == 404
    assert "Sign in with" not in client.get("/sign-in").get_data(as_text=True)


# ---- settings ------------------------------------------------------------------------------

GOOD = {
    "OBSERVE_OIDC_ISSUER": "https://accounts.google.com",
    "OBSERVE_OIDC_CLIENT_ID": "id",
    "OBSERVE_OIDC_CLIENT_SECRET": "secret",
}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"OBSERVE_OIDC_ISSUER": "https://accounts.google.com"}, "OBSERVE_OIDC_CLIENT_ID and"),
        ({**GOOD, "OBSERVE_OIDC_CLIENT_SECRET": ""}, "OBSERVE_OIDC_CLIENT_SECRET is not"),
        ({"OBSERVE_OIDC_CLIENT_ID": "id"}, "OBSERVE_OIDC_ISSUER is not"),
        ({"OBSERVE_OIDC_ALLOWED_DOMAINS": "district.org"}, "OBSERVE_OIDC_ISSUER is not"),
        ({"OBSERVE_PASSWORD_SIGN_IN": "admins"}, "needs single sign-on"),
        ({**GOOD, "OBSERVE_PASSWORD_SIGN_IN": "off"}, "must be 'on' or 'admins'"),
        ({**GOOD, "OBSERVE_OIDC_ISSUER": "http://idp.district.org"}, "must be an https:// URL"),
        (
            {**GOOD, "OBSERVE_OIDC_ISSUER": "https://login.microsoftonline.com/common/v2.0"},
            "shared 'common' endpoint",
        ),
        ({**GOOD, "OBSERVE_OIDC_ALLOWED_DOMAINS": "district.org, *"}, "not a domain: '*'"),
    ],
)
def test_a_setting_that_cannot_work_stops_the_start(make_app, config, message):
    with pytest.raises(RuntimeError, match=message.replace("*", r"\*")):
        make_app(**config)


def test_googles_two_spellings_of_its_issuer_are_both_taken():
    checks = oidc.id_token_checks(oidc.settings_from(GOOD))
    assert checks["iss"]["values"] == ["https://accounts.google.com", "accounts.google.com"]
    assert checks["aud"] == {"essential": True, "value": "id"}
    other = oidc.settings_from({**GOOD, "OBSERVE_OIDC_ISSUER": "https://idp.district.example"})
    assert oidc.id_token_checks(other)["iss"]["values"] == ["https://idp.district.example"]
    assert "secret" not in repr(other)  # settings may be logged; the client secret is not


def test_microsoft_vouches_for_an_email_with_xms_edov():
    microsoft = oidc.settings_from(
        {**GOOD, "OBSERVE_OIDC_ISSUER": "https://login.microsoftonline.com/tenant-id/v2.0"}
    )
    google = oidc.settings_from(GOOD)
    claims = {"email": "Ana@District.org", "xms_edov": True}
    assert oidc.verified_email(claims, microsoft) == "ana@district.org"
    assert oidc.verified_email(claims, google) is None
    assert oidc.verified_email({**claims, "xms_edov": False}, microsoft) is None
    assert oidc.verified_email({"email": "ana@district.org", "email_verified": True}, google)


def test_a_signed_in_person_is_sent_on_and_a_forged_callback_changes_nothing(
    client, create_user, provider
):
    user = create_user(email="ana@example.org")
    client.post_form("/sign-in", {"email": user.email, "password": PASSWORD})
    response = client.get("/sign-in/sso?next=/settings")
    assert (response.status_code, response.headers["Location"]) == (302, "/settings")
    redeemed = len(provider.token_requests)
    assert client.get("/sign-in/sso/callback?code=forged&state=forged").status_code == 400
    assert len(provider.token_requests) == redeemed  # the forged code never reached it
    assert signed_in_email(client) == user.email  # still the same session, no other
