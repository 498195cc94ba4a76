"""Who is making this request: a session cookie (people) or a bearer token (programs).

Every page needs a signed-in user except the few listed in ``PUBLIC_ENDPOINTS``. Credentials
are checked first: a request with neither a live session nor a token is answered 401 (the API)
or sent to sign in (pages) before anything else is looked at. Browser requests that change state
must then carry the CSRF token; bearer-token requests cannot be forged by another site (a
browser never adds the header on its own), so they skip that check.

A session cookie names the user *and* their session generation (``User.get_id``): raising the
generation ends every session of that user at once (see docs/security.md).

A token is for programs and reaches only the API (``/api/…``): it opens no page, so it can
neither create nor revoke tokens, and a read-only token may only read.
"""

from __future__ import annotations

import re

from flask import Flask, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from observe.accounts import operations
from observe.accounts.models import User
from observe.errors import ErrorResponse, error_response
from observe.extensions import csrf, db, login_manager

PUBLIC_ENDPOINTS = {
    "accounts.sign_in",
    # Single sign-on: the start only redirects to the provider; the callback opens a session
    # for nothing but a verified ID token (accounts.views.sso_callback).
    "accounts.sso_start",
    "accounts.sso_callback",
    "static",
    "home.health",
    "home.favicon",
    "api.openapi",
    # The tablet app's page, worker and manifest are the same for everyone and must be
    # cacheable; the app asks the API who is signed in.
    "tablet.app",
    "tablet.service_worker",
    "tablet.manifest",
    # A teacher's feedback, opened from the e-mailed link: the signed link is the credential
    # (observe/observations/sending.py; what its holder can do is in docs/security.md).
    "teacher_feedback.teacher_page",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_SESSION_ID = re.compile(r"(\d{1,18}):(\d{1,18})", re.ASCII)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user a session cookie names, if that session has not been ended since."""
    # Cookies from before session generations existed carry the bare id: they end too.
    match = _SESSION_ID.fullmatch(session_id)
    if match is None:
        return None
    user_id, generation = match.groups()
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.sign_in"
    login_manager.session_protection = "basic"

    @app.before_request
    def authenticate() -> ErrorResponse | Response | None:
        header = request.headers.get("Authorization")
        if header is not None:
            return _authenticate_token(header)
        if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
            if request.path.startswith("/api/"):
                return error_response(401, "unauthorized", "Sign in or send an API token.")
            return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))
        # Before the CSRF check, so that its refusal is in the person's language too.
        _reader_language()
        if request.method in UNSAFE_METHODS:
            csrf.protect()
        return None


def _reader_language() -> None:
    """The signed-in person's language for this request (core.i18n.select_locale reads it); a
    person who chose none, or nobody signed in, gets the browser's."""
    if current_user.is_authenticated:
        g.language = current_user.language


def _authenticate_token(header: str) -> ErrorResponse | None:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return error_response(
            401, "unauthorized", "The Authorization header must be 'Bearer <token>'."
        )
    # A revoked, expired or unknown token is told so wherever it is sent (401), so that a
    # program learns at once that its token no longer works.
    token, problem = operations.token_for_secret(secret.strip())
    if token is None:
        return error_response(401, "unauthorized", problem)
    if not request.path.startswith("/api/"):
        # Pages (settings and its token forms among them) are for people signed in; a token
        # that could open them could mint tokens that outlive its own revocation.
        return error_response(
            403, "forbidden", "API tokens work only for the API (/api/…); sign in to use pages."
        )
    if token.read_only and request.method in UNSAFE_METHODS:
        return error_response(
            403,
            "forbidden",
            f"This API token is read-only: it may read but not {request.method}. "
            "Use a token with full access to change data.",
        )
    # Flask-Login reads the request's user from g; setting it here keeps the token's user for
    # this request only and never writes the session cookie.
    g._login_user = token.user
    g.authenticated_by_token = True
    g.api_token_id = token.id
    _reader_language()
    return None
