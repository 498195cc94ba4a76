"""Sign in, sign out, and a person's settings (their API tokens)."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from observe.accounts import operations
from observe.audit.operations import record
from observe.audit.views import record_failed_sign_in, record_now
from observe.core.database import begin_write
from observe.errors import ValidationFailed
from observe.extensions import db

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a crafted ?next= must not send people to another site."""
    if not target:
        return url_for("core.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("core.home")
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error, status, headers = None, 200, {}
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        password = request.form.get("password", "")
        if not email or not password:
            error, status = "Enter your email and your password.", 401
        else:
            begin_write()
            wait = operations.reserve_sign_in(email, request.remote_addr or "")
            db.session.commit()
            user = operations.authenticate(email, password) if wait is None else None
            if wait is not None:
                minutes = max(1, math.ceil(wait.total_seconds() / 60))
                error = (
                    "Too many failed sign-ins for this email or from this network. Try again "
                    f"in {minutes} minute{'s' if minutes != 1 else ''}. If you have forgotten "
                    "your password, a district admin can set a new one."
                )
                status, headers = 429, {"Retry-After": str(math.ceil(wait.total_seconds()))}
            elif user is None:
                error, status = "That email and password do not match an active account.", 401
                record_failed_sign_in(email, "wrong email or password, or account inactive")
            else:
                begin_write()
                operations.signed_in(email)
                record("sign_in", actor=user)
                db.session.commit()
                session.clear()
                session.permanent = True
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
    page = render_template("accounts/sign_in.html", error=error, email=email)
    return page, status, headers


@bp.post("/sign-out")
def sign_out():
    record_now("sign_out")
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.sign_in"))


@bp.get("/settings")
def settings():
    return render_template("accounts/settings.html", tokens=current_user.tokens, new_token=None)


@bp.post("/settings/tokens")
def create_token():
    try:
        _, secret = operations.create_token(current_user, request.form.get("name", ""))
    except ValidationFailed as error:
        db.session.rollback()
        flash(f"The token was not created. {error.message}", "error")
        return redirect(url_for("accounts.settings"))
    db.session.commit()
    return render_template("accounts/settings.html", tokens=current_user.tokens, new_token=secret)


@bp.post("/settings/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    token = operations.revoke_token(current_user, token_id)
    db.session.commit()
    flash(f"Token “{token.name}” is revoked; programs using it can no longer sign in.", "info")
    return redirect(url_for("accounts.settings"))
