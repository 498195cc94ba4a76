"""Single sign-on with OpenID Connect: the district's Google Workspace, Microsoft Entra ID or any
standard provider signs people in (docs/security.md, "Single sign-on").

Authlib's Flask client does the protocol: discovery from the issuer's
``/.well-known/openid-configuration``, the authorization code flow with PKCE (S256), ``state``
and ``nonce`` kept in the signed session cookie, and the ID token's verification (signature
against the provider's published keys, issuer, audience, expiry, nonce). This module holds the
settings, asks Authlib for a verified token, and turns every way it can fail into a reason a
person can read and an admin can find in the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, current_app
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)

SCOPES = "openid email profile"
PASSWORD_SIGN_IN = ("on", "admins")
# Seconds to wait for the provider (discovery, keys, the token endpoint) before giving up.
PROVIDER_TIMEOUT = 10
_MICROSOFT = re.compile(r"https://login\.microsoftonline\.com/([^/]+)/v2\.0")
# Microsoft's multi-tenant issuers: tokens name the tenant instead, so none would verify, and
# any Microsoft account of any organisation could try to sign in.
_MICROSOFT_SHARED_TENANTS = {"common", "organizations", "consumers"}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EXTENSION = "observe.oidc"


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    name: str  # "Sign in with <name>"
    allowed_domains: frozenset[str]  # just-in-time accounts for these email domains
    # Entra ID sends no email_verified; its optional claim xms_edov says the email's domain is
    # verified by the tenant that owns it (Microsoft's advice after the "nOAuth" misuse).
    microsoft: bool


class SignInRefused(Exception):
    """The provider's answer signs nobody in. ``reason`` goes to the audit log; ``message`` to
    the person, with ``status``."""

    def __init__(self, reason: str, message: str, status: int = 401, email: str = "") -> None:
        super().__init__(reason)
        self.reason, self.message, self.status, self.email = reason, message, status, email


def _text(config: dict[str, Any], key: str) -> str:
    return str(config.get(key) or "").strip()


def settings_from(config: dict[str, Any]) -> Settings | None:
    """The single sign-on settings, or None when it is off. A setting that cannot work stops the
    start with a message naming it (RuntimeError), like every other setting."""
    password = _text(config, "OBSERVE_PASSWORD_SIGN_IN").lower() or "on"
    if password not in PASSWORD_SIGN_IN:
        raise RuntimeError(
            f"OBSERVE_PASSWORD_SIGN_IN must be 'on' or 'admins' (district admins only, as a "
            f"break-glass way in when single sign-on fails), not {password!r}"
        )
    issuer = _text(config, "OBSERVE_OIDC_ISSUER")
    others = [
        key
        for key in (
            "OBSERVE_OIDC_CLIENT_ID",
            "OBSERVE_OIDC_CLIENT_SECRET",
            "OBSERVE_OIDC_NAME",
            "OBSERVE_OIDC_ALLOWED_DOMAINS",
        )
        if _text(config, key)
    ]
    if not issuer:
        if others:
            raise RuntimeError(
                f"{', '.join(others)} set but OBSERVE_OIDC_ISSUER is not: set the provider's "
                "issuer (https://accounts.google.com, "
                "https://login.microsoftonline.com/<tenant id>/v2.0, …) or unset them"
            )
        if password != "on":
            raise RuntimeError(
                "OBSERVE_PASSWORD_SIGN_IN=admins needs single sign-on (OBSERVE_OIDC_ISSUER …): "
                "without it nobody but district admins could sign in"
            )
        return None
    parts = urlsplit(issuer)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise RuntimeError(
            f"OBSERVE_OIDC_ISSUER must be an https:// URL (plain http only on this machine, for "
            f"tests), not {issuer!r}"
        )
    if parts.query or parts.fragment or not parts.hostname:
        raise RuntimeError(f"OBSERVE_OIDC_ISSUER must be the provider's issuer URL, not {issuer!r}")
    microsoft = _MICROSOFT.fullmatch(issuer)
    if microsoft and microsoft.group(1).lower() in _MICROSOFT_SHARED_TENANTS:
        raise RuntimeError(
            f"OBSERVE_OIDC_ISSUER names Microsoft's shared '{microsoft.group(1)}' endpoint: use "
            "your tenant's own, https://login.microsoftonline.com/<directory (tenant) id>/v2.0"
        )
    missing = [
        key
        for key in ("OBSERVE_OIDC_CLIENT_ID", "OBSERVE_OIDC_CLIENT_SECRET")
        if not _text(config, key)
    ]
    if missing:
        raise RuntimeError(
            f"OBSERVE_OIDC_ISSUER is set but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not: copy them from the app's registration "
            "with the provider (docs/deployment.md, Single sign-on)"
        )
    domains = [
        domain.strip().lower().lstrip("@")
        for domain in _text(config, "OBSERVE_OIDC_ALLOWED_DOMAINS").split(",")
        if domain.strip()
    ]
    if bad := [domain for domain in domains if not _DOMAIN.match(domain)]:
        raise RuntimeError(
            "OBSERVE_OIDC_ALLOWED_DOMAINS must be email domains separated by commas "
            f"(district.org,students.district.org); not a domain: {', '.join(map(repr, bad))}"
        )
    if issuer == "https://accounts.google.com":
        preset = "Google"
    elif microsoft:
        preset = "Microsoft"
    else:
        preset = parts.hostname
    return Settings(
        issuer=issuer,
        client_id=_text(config, "OBSERVE_OIDC_CLIENT_ID"),
        client_secret=_text(config, "OBSERVE_OIDC_CLIENT_SECRET"),
        name=_text(config, "OBSERVE_OIDC_NAME") or preset,
        allowed_domains=frozenset(domains),
        microsoft=bool(microsoft),
    )


def init_app(app: Flask) -> None:
    """Check the settings (a bad one stops the start) and register the provider with Authlib."""
    settings = settings_from(app.config)
    app.config["OBSERVE_PASSWORD_SIGN_IN"] = (
        _text(app.config, "OBSERVE_PASSWORD_SIGN_IN").lower() or "on"
    )
    app.extensions[_EXTENSION] = settings
    if settings is None:
        return
    oauth = OAuth(app)
    oauth.register(
        "sso",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT,
        },
    )
    app.extensions[_EXTENSION + ".client"] = oauth.create_client("sso")


def settings() -> Settings | None:
    """This app's single sign-on settings; None when it is off."""
    return current_app.extensions.get(_EXTENSION)


def password_sign_in_for_everyone() -> bool:
    return current_app.config["OBSERVE_PASSWORD_SIGN_IN"] == "on"


def _client() -> Any:
    return current_app.extensions[_EXTENSION + ".client"]


def _unreachable(sso: Settings) -> SignInRefused:
    return SignInRefused(
        "provider unreachable",
        f"{sso.name} could not be reached, or did not answer properly. Try again in a moment; "
        "if it keeps happening, tell a district admin.",
        502,
    )


def _check_discovery(sso: Settings) -> None:
    # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for;
    # otherwise another issuer's tokens could be taken for this one's.
    issuer = _client().load_server_metadata().get("issuer")
    if issuer != sso.issuer:
        current_app.logger.error(
            "single sign-on: %s names the issuer %r, not OBSERVE_OIDC_ISSUER %r",
            sso.issuer,
            issuer,
            sso.issuer,
        )
        raise SignInRefused(
            "issuer",
            f"{sso.name} is not set up as observe expects (its issuer differs). "
            "Tell a district admin.",
            502,
        )


def start(redirect_uri: str) -> Response:
    """The redirect to the provider's sign-in page. Authlib keeps state, nonce and the PKCE
    verifier in the session for the callback."""
    sso = settings()
    assert sso is not None
    try:
        _check_discovery(sso)
        return _client().authorize_redirect(redirect_uri)
    except requests.RequestException:
        current_app.logger.exception("single sign-on: %s unreachable", sso.issuer)
        raise _unreachable(sso) from None


def id_token_checks(sso: Settings) -> dict[str, Any]:
    """The claims Authlib must check beyond signature, expiry and nonce. Authlib checks only
    what it is asked to: the audience must be this app (by default it would take a token for
    another client that names this one as "azp"), the issuer the configured one."""
    issuers = [sso.issuer]
    if sso.issuer == "https://accounts.google.com":
        # Google's documented second spelling of its issuer, in older ID tokens.
        issuers.append("accounts.google.com")
    return {
        "iss": {"essential": True, "values": issuers},
        "aud": {"essential": True, "value": sso.client_id},
    }


def finish() -> dict[str, Any]:
    """The verified ID token's claims for this callback, or SignInRefused saying why."""
    sso = settings()
    assert sso is not None
    try:
        _check_discovery(sso)
        token = _client().authorize_access_token(claims_options=id_token_checks(sso))
    except MismatchingStateError:
        raise SignInRefused(
            "state",
            "This sign-in link was already used, has expired, or was started in another "
            "browser. Start again.",
            400,
        ) from None
    except OAuthError as error:
        # The provider refused (the person pressed "cancel", the code was used or expired).
        detail = f"{error.error}: {error.description}" if error.description else error.error
        raise SignInRefused(
            f"provider refused ({detail})"[:200],
            f"{sso.name} did not sign you in ({error.error}). Start again.",
            401,
        ) from None
    except ExpiredTokenError:
        raise SignInRefused(
            "expired ID token", "The sign-in had expired by the time it arrived. Start again."
        ) from None
    except ClaimError as error:
        reason = {"iss": "issuer", "aud": "audience", "azp": "audience", "nonce": "nonce"}.get(
            error.claim, f"claim {error.claim}"
        )
        raise SignInRefused(
            f"ID token: wrong or missing {reason}",
            f"The answer from {sso.name} could not be trusted (its {reason} is wrong). "
            "Start again; if it keeps happening, tell a district admin.",
        ) from None
    except (BadSignatureError, InvalidKeyIdError):
        raise SignInRefused(
            "ID token: bad signature",
            f"The answer from {sso.name} was not signed by {sso.name}. Start again.",
        ) from None
    except JoseError as error:
        raise SignInRefused(
            f"ID token: {error.error}",
            f"The answer from {sso.name} could not be read. Start again.",
        ) from None
    except (requests.RequestException, ValueError):
        # Not reachable, a 5xx, or not JSON (a gateway's error page).
        current_app.logger.exception("single sign-on: %s unreachable", sso.issuer)
        raise _unreachable(sso) from None
    claims = token.get("userinfo")
    if not claims:  # no ID token at all: nothing verified says who this is
        raise SignInRefused(
            "no ID token", f"{sso.name} did not say who you are. Tell a district admin."
        )
    return dict(claims)


def verified_email(claims: dict[str, Any], sso: Settings) -> str | None:
    """The email the provider vouches for, normalised; None when it does not vouch for one.

    Only a literal ``true`` counts (a provider may send the string "false"). Entra ID sends no
    ``email_verified``; its ``xms_edov`` (an optional claim the registration must add) is the
    same promise there."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    vouched = claims.get("email_verified") is True
    if sso.microsoft and claims.get("xms_edov") is True:
        vouched = True
    return email.strip().lower() if vouched else None
