"""Sign in, sign out, and a person's settings (their API tokens)."""

from __future__ import annotations

import math
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from observe.accounts import devices, operations
from observe.accounts.models import User
from observe.audit.operations import record
from observe.audit.views import record_failed_sign_in
from observe.core.database import begin_write
from observe.core.models import utcnow
from observe.core.validation import printable
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.sync import devices as tablet_devices

bp = Blueprint("accounts", __name__)
TOKEN_SCOPES = ("full", "read-only")


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
            device = devices.device_for(request, operations.normalise_email(email))
            begin_write()
            wait = operations.reserve_sign_in(email, request.remote_addr or "", device)
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
                operations.signed_in(email, device)
                record("sign_in", actor=user)
                db.session.commit()
                session.clear()
                session.permanent = True
                login_user(user)
                # The CSRF secret goes into the new session now, not at the first page that
                # asks for a token: every request re-sends the session cookie as it read it,
                # so one begun before the secret existed (the app shell's assets, the service
                # worker's precache) would otherwise drop it, and the app's first POST fail.
                generate_csrf()
                response = redirect(_safe_next(request.args.get("next")))
                devices.remember(request, response, user.email)
                return response
    page = render_template("accounts/sign_in.html", error=error, email=email)
    return page, status, headers


@bp.post("/sign-out")
def sign_out():
    # Signing out ends every session of this person, on every device: a copy of this cookie
    # (or of a tablet's) is worth nothing after it. A tablet keeps its unsynced work and asks
    # to sign in again (docs/security.md).
    _end_every_session(_signed_out, "sign_out")
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.sign_in"))


def _signed_out(user: User) -> None:
    operations.end_sessions(user)
    # The tablet app deleted this user's database on purpose (nothing was unsynced) and says
    # which: that is no eviction, and the next sign-in on this browser is not told of one.
    cleared = printable(request.form.get("cleared_database", ""))
    if cleared:
        tablet_devices.cleared(user, tablet_devices.key_of(request), cleared)


@bp.post("/settings/sign-out-everywhere")
def sign_out_everywhere():
    _end_every_session(operations.sign_out_everywhere)
    flash(
        "You are signed out on every device. Tablets keep their unsynced walkthroughs and send "
        "them once you sign in on them again.",
        "info",
    )
    return redirect(url_for("accounts.sign_in"))


def _end_every_session(end: Callable[[User], None], action: str | None = None) -> None:
    user = current_user._get_current_object()
    begin_write()
    end(user)
    if action:
        record(action, actor=user)
    db.session.commit()
    logout_user()
    session.clear()


@bp.get("/settings")
def settings():
    return _settings_page(new_token=None)


def _settings_page(new_token: str | None) -> str:
    return render_template(
        "accounts/settings.html",
        tokens=current_user.tokens,
        new_token=new_token,
        now=utcnow(),
        min_password_length=operations.MIN_PASSWORD_LENGTH,
    )


@bp.post("/settings/password")
def change_password():
    """A new password, given the current one. Every other session ends; this one goes on."""
    user = current_user._get_current_object()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        flash("The password was not changed: the two new passwords differ.", "error")
        return redirect(url_for("accounts.settings"))
    # A wrong current password counts as a failed sign-in: a borrowed session must not become
    # a way to guess the password at speed.
    begin_write()
    wait = operations.reserve_sign_in(user.email, request.remote_addr or "")
    db.session.commit()
    if wait is not None:
        flash("The password was not changed: too many wrong passwords; try again later.", "error")
        return redirect(url_for("accounts.settings"))
    if operations.authenticate(user.email, current) is None:
        record_failed_sign_in(user.email, "wrong current password when changing it")
        flash("The password was not changed: your current password is not right.", "error")
        return redirect(url_for("accounts.settings"))
    try:
        begin_write()
        operations.set_password(user, new)
    except ValidationFailed as error:
        db.session.rollback()
        flash(f"The password was not changed. {error.message}", "error")
        return redirect(url_for("accounts.settings"))
    db.session.commit()
    session.clear()
    session.permanent = True
    login_user(user)  # this session, in the new generation
    flash("Your password is changed; you are signed out on every other device.", "success")
    return redirect(url_for("accounts.settings"))


@bp.post("/settings/tokens")
def create_token():
    form = request.form
    days_field = form.get("expires_in_days", "").strip()
    scope = form.get("scope", "full")
    try:
        if days_field and not (days_field.isascii() and days_field.isdigit()):
            raise ValidationFailed(
                "expires_in_days: must be a whole number of days, or empty for no expiry",
                details={"expires_in_days": ["must be a whole number of days"]},
            )
        if scope not in TOKEN_SCOPES:
            raise ValidationFailed(
                "scope: must be full or read-only",
                details={"scope": ["must be full or read-only"]},
            )
        days = None
        if days_field:  # a number too long to be a day count becomes one out of range
            days = int(days_field) if len(days_field) <= 6 else operations.MAX_TOKEN_DAYS + 1
        _, secret = operations.create_token(
            current_user,
            form.get("name", ""),
            expires_in_days=days,
            read_only=scope == "read-only",
        )
    except ValidationFailed as error:
        db.session.rollback()
        flash(f"The token was not created. {error.message}", "error")
        return redirect(url_for("accounts.settings"))
    db.session.commit()
    return _settings_page(new_token=secret)


@bp.post("/settings/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    token = operations.revoke_token(current_user, token_id)
    db.session.commit()
    flash(f"Token “{token.name}” is revoked; programs using it can no longer sign in.", "info")
    return redirect(url_for("accounts.settings"))
