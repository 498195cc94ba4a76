"""Who is making this request: a session cookie (people) or a bearer token (programs).

Every page needs a signed-in user except the few listed in ``PUBLIC_ENDPOINTS``. Browser
requests that change state must carry the CSRF token; bearer-token requests cannot be forged by
another site (a browser never adds the header on its own), so they skip that check.
"""

from __future__ import annotations

from flask import Flask, g, redirect, request, url_for
from flask_login import current_user

from observe.accounts import operations
from observe.accounts.models import User
from observe.errors import error_response
from observe.extensions import csrf, db, login_manager

PUBLIC_ENDPOINTS = {
    "accounts.sign_in",
    "static",
    "core.health",
    "core.favicon",
    "api.openapi",
    # The tablet app's page, worker and manifest are the same for everyone and must be
    # cacheable; the app asks the API who is signed in.
    "tablet.app",
    "tablet.service_worker",
    "tablet.manifest",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.sign_in"
    login_manager.session_protection = "basic"

    @app.before_request
    def authenticate():
        header = request.headers.get("Authorization")
        if header is not None:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                return error_response(
                    401, "unauthorized", "The Authorization header must be 'Bearer <token>'."
                )
            user = operations.user_for_token(secret.strip())
            if user is None:
                return error_response(
                    401, "unauthorized", "This API token is unknown or has been revoked."
                )
            # Flask-Login reads the request's user from g; setting it here keeps the token's
            # user for this request only and never writes the session cookie.
            g._login_user = user
            g.authenticated_by_token = True
        elif request.method in UNSAFE_METHODS:
            csrf.protect()

        if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
            return None
        if request.path.startswith("/api/"):
            return error_response(401, "unauthorized", "Sign in or send an API token.")
        return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))
