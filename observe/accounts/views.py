"""Sign in, sign out, and a person's settings (their API tokens)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext, refresh
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from observe.accounts import access, devices, oidc, operations
from observe.accounts.models import User
from observe.audit.operations import record, record_failed_sign_in, record_throttled_sign_in
from observe.core import confirm, hooks, i18n
from observe.core.database import begin_write
from observe.core.models import utcnow
from observe.core.permissions import Role, requires
from observe.core.validation import printable
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.roster.models import School
from observe.roster.queries import visible_schools

bp = Blueprint("accounts", __name__)
# The sign-in page, its HTTP status and headers (Retry-After when sign-ins are throttled).
_Page = tuple[str, int, dict[str, str]]
TOKEN_SCOPES = ("full", "read-only")


def _open_session(user: User) -> None:
    """A fresh session for ``user`` (nothing of the one before carried over): permanent, in
    the user's current session generation, stamped with when it was opened (a recent sign-in
    stands in for a password, see create_token)."""
    session.clear()
    session.permanent = True
    login_user(user)
    session["signed_in_at"] = utcnow().timestamp()
    # The CSRF secret goes into the new session now, not at the first page that asks for a
    # token: every request re-sends the session cookie as it read it, so one begun before the
    # secret existed (the app shell's assets, the service worker's precache) would otherwise
    # drop it, and the app's first POST fail.
    generate_csrf()


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a crafted ?next= must not send people to another site."""
    if not target:
        return url_for("home.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.home")
    # Browsers take a backslash for a slash (/\evil.example is another site) and drop tabs
    # and newlines (/<tab>/evil.example too).
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return url_for("home.home")
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | _Page:
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error, status, headers = None, 200, {}
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        password = request.form.get("password", "")
        if not email or not password:
            error, status = _("Enter your email and your password."), 401
        else:
            device = devices.device_for(request, operations.normalise_email(email))
            begin_write()
            wait = operations.reserve_sign_in(email, request.remote_addr or "", device)
            db.session.commit()
            user = operations.authenticate(email, password) if wait is None else None
            if wait is not None:
                minutes = max(1, math.ceil(wait.total_seconds() / 60))
                error = ngettext(
                    "Too many failed sign-ins for this email or from this network. Try again "
                    "in %(num)d minute. If you have forgotten your password, a district admin "
                    "can set a new one.",
                    "Too many failed sign-ins for this email or from this network. Try again "
                    "in %(num)d minutes. If you have forgotten your password, a district admin "
                    "can set a new one.",
                    minutes,
                )
                status, headers = 429, {"Retry-After": str(math.ceil(wait.total_seconds()))}
                record_throttled_sign_in(email, operations.FAILURE_WINDOW)
            elif user is None:
                error, status = _password_refused(), 401
                record_failed_sign_in(email, "wrong email or password, or account inactive")
            elif not (oidc.password_sign_in_for_everyone() or user.is_district_admin):
                # The same answer as a wrong password, so that it confirms no password; the
                # attempt stays counted by the throttle, and the audit log says what happened.
                error, status = _password_refused(), 401
                record_failed_sign_in(email, "password sign-in is for district admins only")
            else:
                begin_write()
                operations.signed_in(email, device)
                record("sign_in", actor=user)
                db.session.commit()
                _open_session(user)
                response = redirect(_safe_next(request.args.get("next")))
                devices.remember(request, response, user.email)
                return response
    return _sign_in_page(error, email, status, headers)


def _password_refused() -> str:
    if oidc.password_sign_in_for_everyone():
        return _("That email and password do not match an active account.")
    sso = oidc.settings()
    assert sso is not None  # settings_from allows "admins" only with single sign-on
    return _(
        "That email and password do not match an active district admin account. "
        "Everyone else signs in with %(provider)s.",
        provider=sso.name,
    )


def _sign_in_page(
    error: str | None, email: str = "", status: int = 200, headers: dict[str, str] | None = None
) -> _Page:
    page = render_template(
        "accounts/sign_in.html",
        error=error,
        email=email,
        sso=oidc.settings(),
        password_for_everyone=oidc.password_sign_in_for_everyone(),
        next=request.args.get("next") or session.get("sso_next"),
    )
    return page, status, headers or {}


@bp.get("/sign-in/sso")
def sso_start() -> Response | _Page:
    """Off to the district's provider; it sends the person back to ``sso_callback``."""
    if oidc.settings() is None:
        abort(404)
    target = _safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target)
    session["sso_next"] = target
    try:
        return oidc.start(url_for("accounts.sso_callback", _external=True))
    except oidc.SignInRefused as refusal:
        return _sign_in_page(refusal.message, status=refusal.status)


@bp.get("/sign-in/sso/callback")
def sso_callback() -> Response | _Page:
    """The provider's answer. Nothing here opens a session but a verified ID token (Authlib:
    state, PKCE, signature, issuer, audience, expiry, nonce) for a verified email of an active
    account; every refusal is recorded with its reason."""
    sso = oidc.settings()
    if sso is None:
        abort(404)
    target = _safe_next(session.get("sso_next"))
    try:
        claims = oidc.finish()
        email = oidc.verified_email(claims, sso)
        if email is None:
            raise oidc.SignInRefused(
                "email not verified",
                f"{sso.name} did not confirm an email address for your account, so observe "
                "cannot tell which account is yours. Ask a district admin.",
                403,
                email=str(claims.get("email") or "")[:254],
            )
        begin_write()
        user = operations.account_for_single_sign_on(
            email, str(claims.get("name") or ""), sso.allowed_domains
        )
        if user is None:
            raise oidc.SignInRefused(
                "no account for this email",
                _(
                    "No observe account uses %(email)s. Ask a district admin to create one.",
                    email=email,
                ),
                403,
                email=email,
            )
        if not user.active:
            raise oidc.SignInRefused(
                "account deactivated",
                _(
                    "The observe account for %(email)s is deactivated. If you still work here, "
                    "ask a district admin to reactivate it.",
                    email=email,
                ),
                403,
                email=email,
            )
    except ValidationFailed as error:  # a provider's email observe cannot hold
        db.session.rollback()
        return _refuse(oidc.SignInRefused("email not usable", error.message, 403))
    except oidc.SignInRefused as refusal:
        db.session.rollback()
        return _refuse(refusal)
    record("sign_in", actor=user, detail={"via": "oidc"})
    db.session.commit()
    # The same session as a password sign-in: a fresh cookie (nothing of the flow carried
    # over), permanent, in the user's current session generation.
    _open_session(user)
    response = redirect(target)
    devices.remember(request, response, user.email)
    return response


def _refuse(refusal: oidc.SignInRefused) -> _Page:
    record_failed_sign_in(refusal.email, refusal.reason)
    return _sign_in_page(refusal.message, status=refusal.status)


@bp.post("/sign-out")
def sign_out() -> Response:
    # Signing out ends every session of this person, on every device: a copy of this cookie
    # (or of a tablet's) is worth nothing after it. A tablet keeps its unsynced work and asks
    # to sign in again (docs/security.md).
    _end_every_session(_signed_out, "sign_out")
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.sign_in"))


def _signed_out(user: User) -> None:
    operations.end_sessions(user)
    # The tablet app deleted this user's database on purpose (nothing was unsynced) and says
    # which: that is no eviction, and the next sign-in on this browser is not told of one.
    cleared = printable(request.form.get("cleared_database", ""))
    if cleared:
        hooks.tablet_cleared.send(db.session, hooks.TabletCleared(user.id, cleared))


@bp.get("/settings/sign-out-everywhere")
def confirm_sign_out_everywhere() -> str:
    return confirm.page(
        confirm.Confirmation(
            title=_("Sign out everywhere?"),
            action=url_for("accounts.sign_out_everywhere"),
            button=_("Sign out everywhere"),
            back=url_for("accounts.settings"),
            lines=[
                _(
                    "This ends every session of yours, on every device, this one included; you "
                    "sign in again on each."
                ),
                _(
                    "Tablets keep the walkthroughs they have not sent yet and send them once you "
                    "sign in on them again. API tokens are not affected."
                ),
            ],
            cancel=_("Stay signed in"),
        )
    )


@bp.post("/settings/sign-out-everywhere")
def sign_out_everywhere() -> Response:
    if not confirm.confirmed():
        return confirm.ask_first(url_for("accounts.confirm_sign_out_everywhere"))
    _end_every_session(operations.sign_out_everywhere)
    flash(
        _(
            "You are signed out on every device. Tablets keep their unsynced walkthroughs and "
            "send them once you sign in on them again."
        ),
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
def settings() -> str:
    return _settings_page(new_token=None)


def _settings_page(new_token: str | None) -> str:
    return render_template(
        "accounts/settings.html",
        has_password=current_user.password_hash is not None,
        tokens=current_user.tokens,
        new_token=new_token,
        now=utcnow(),
        min_password_length=operations.MIN_PASSWORD_LENGTH,
        languages=i18n.LANGUAGE_NAMES,
    )


@bp.post("/settings/language")
def change_language() -> Response:
    """The language observe speaks to the person signed in; "" follows their browser."""
    user = current_user._get_current_object()
    try:
        begin_write()
        operations.set_language(user, request.form.get("language", ""))
    except ValidationFailed as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("accounts.settings"))
    db.session.commit()
    # This response is already in the old language; the page it leads to speaks the new one.
    g.language = user.language
    refresh()
    flash(_("Your language is saved."), "success")
    return redirect(url_for("accounts.settings"))


@bp.post("/settings/password")
def change_password() -> Response:
    """A new password, given the current one. Every other session ends; this one goes on."""
    user = current_user._get_current_object()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        flash(_("The password was not changed: the two new passwords differ."), "error")
        return redirect(url_for("accounts.settings"))
    if problem := _recheck_password(user, current, "wrong current password when changing it"):
        flash(_("The password was not changed: %(problem)s", problem=problem), "error")
        return redirect(url_for("accounts.settings"))
    try:
        begin_write()
        operations.set_password(user, new)
    except ValidationFailed as error:
        db.session.rollback()
        flash(_("The password was not changed. %(problem)s", problem=error.message), "error")
        return redirect(url_for("accounts.settings"))
    db.session.commit()
    _open_session(user)  # this session, in the new generation
    flash(_("Your password is changed; you are signed out on every other device."), "success")
    return redirect(url_for("accounts.settings"))


def _recheck_password(user: User, password: str, reason: str) -> str | None:
    """Ask a signed-in person for their password again before what a copied cookie must not
    do alone (a new password, a token that outlives the session). Returns what is wrong, or
    None. A wrong password counts as a failed sign-in, so a borrowed session cannot guess at
    speed; the count is this session's own (its generation), so failures typed at the sign-in
    page by anyone else never stop the real user here."""
    ledger = f"s{user.id}.{user.session_generation}"
    begin_write()
    wait = operations.reserve_sign_in(user.email, request.remote_addr or "", ledger)
    db.session.commit()
    if wait is not None:
        return "too many wrong passwords; try again later."
    if operations.authenticate(user.email, password) is None:
        record_failed_sign_in(user.email, reason)
        return "your current password is not right."
    begin_write()
    operations.signed_in(user.email, ledger)
    db.session.commit()
    return None


# How recent a single sign-on must be for an account without a password to make a token.
FRESH_SIGN_IN = timedelta(minutes=10)


def _recently_signed_in() -> bool:
    at = session.get("signed_in_at")
    return (
        isinstance(at, int | float) and utcnow().timestamp() - at <= FRESH_SIGN_IN.total_seconds()
    )


@bp.post("/settings/tokens")
def create_token() -> Response | str:
    form = request.form
    user = current_user._get_current_object()
    if user.password_hash is None:
        # An account that signs in only through the district's provider has no password to
        # ask for: a sign-in within the last minutes stands in for it.
        problem = (
            None
            if _recently_signed_in()
            else _("sign out and sign in again, then make the token within 10 minutes.")
        )
    else:
        problem = _recheck_password(
            user, form.get("password", ""), "wrong current password when creating an API token"
        )
    if problem:
        flash(_("The token was not created: %(problem)s", problem=problem), "error")
        return redirect(url_for("accounts.settings"))
    days_field = form.get("expires_in_days", "").strip()
    scope = form.get("scope", "full")
    try:
        if days_field and not (days_field.isascii() and days_field.isdigit()):
            raise ValidationFailed(
                _("expires_in_days: must be a whole number of days, or empty for no expiry"),
                details={"expires_in_days": [_("must be a whole number of days")]},
            )
        if scope not in TOKEN_SCOPES:
            raise ValidationFailed(
                _("scope: must be full or read-only"),
                details={"scope": [_("must be full or read-only")]},
            )
        days = None
        if days_field:  # a number too long to be a day count becomes one out of range
            days = int(days_field) if len(days_field) <= 6 else operations.MAX_TOKEN_DAYS + 1
        _token, secret = operations.create_token(
            current_user,
            form.get("name", ""),
            expires_in_days=days,
            read_only=scope == "read-only",
        )
    except ValidationFailed as error:
        db.session.rollback()
        flash(_("The token was not created. %(problem)s", problem=error.message), "error")
        return redirect(url_for("accounts.settings"))
    db.session.commit()
    return _settings_page(new_token=secret)


@bp.get("/settings/tokens/<int:token_id>/revoke")
def confirm_revoke_token(token_id: int) -> str | Response:
    token = operations.own_token(current_user, token_id)
    if token.is_revoked:
        return redirect(url_for("accounts.settings"))
    return confirm.page(
        confirm.Confirmation(
            title=_("Revoke the token “%(name)s”?", name=token.name),
            action=url_for("accounts.revoke_token", token_id=token_id),
            button=_("Revoke the token"),
            back=url_for("accounts.settings"),
            lines=[
                _(
                    "Programs using the token that starts with %(prefix)s… can no longer use "
                    "the API, at once. A revoked token cannot be brought back: you would create "
                    "a new one and give it to each program.",
                    prefix=token.prefix,
                ),
            ],
            cancel=_("Keep it"),
        )
    )


@bp.post("/settings/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    if not confirm.confirmed():
        operations.own_token(current_user, token_id)  # someone else's: 404 before being asked
        return confirm.ask_first(url_for("accounts.confirm_revoke_token", token_id=token_id))
    token = operations.revoke_token(current_user, token_id)
    db.session.commit()
    flash(
        _("Token “%(name)s” is revoked; programs using it can no longer sign in.", name=token.name),
        "info",
    )
    return redirect(url_for("accounts.settings"))


# ---- people: district admins change others' accounts (as `observe users update` does) ----

people = Blueprint("people", __name__, url_prefix="/admin/people")


@people.get("")
@requires(access.MANAGE_PEOPLE)
def people_index() -> str:
    query = request.args.get("q", "").strip()[:254]
    statement = select(User).order_by(User.active.desc(), User.role, func.lower(User.name))
    if query:
        needle = query.lower()
        statement = statement.where(
            or_(
                func.lower(User.name).contains(needle, autoescape=True),
                func.lower(User.email).contains(needle, autoescape=True),
            )
        )
    return render_template(
        "accounts/people.html", users=db.session.scalars(statement).all(), query=query
    )


@people.route("/<int:user_id>", methods=["GET", "POST"])
@requires(access.MANAGE_PEOPLE)
def person(user_id: int) -> str | Response | tuple[str, int]:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    schools = visible_schools(current_user)
    if request.method == "GET":
        return _person_page(user, schools, {}, status=200)
    form = request.form
    role = form.get("role", "")
    problems: dict[str, list[str]] = {}
    if role not in {r.value for r in Role}:
        problems["role"] = [_("%(role)r is not a role", role=role)]
    if form.get("active") not in ("yes", "no"):
        problems["active"] = [_("choose whether they may sign in")]
    if problems:
        return _person_page(user, schools, problems)
    changes = operations.UserChanges(
        name=form.get("name"),
        email=form.get("email"),
        role=Role(role),
        # The form marks that it sent the school boxes: a form without them changes no school.
        school_codes=form.getlist("school") if form.get("schools_shown") else None,
        active=form.get("active") == "yes",
    )
    begin_write()
    try:
        changed = operations.update_user(user, changes)
    except ValidationFailed as error:
        db.session.rollback()
        return _person_page(db.session.get(User, user_id) or user, schools, error.details)
    db.session.commit()
    if changed:
        flash(
            _(
                "Saved %(email)s: %(changes)s.",
                email=user.email,
                changes="; ".join(operations.describe_changes(changed)),
            ),
            "success",
        )
    else:
        flash(_("Nothing changed for %(email)s.", email=user.email), "info")
    return redirect(url_for("people.people_index"))


def _person_page(
    user: User, schools: list[School], problems: dict[str, Any], status: int = 422
) -> tuple[str, int]:
    """The person's form; after a refused change, what was sent and what is wrong with it
    (nothing was saved)."""
    return render_template(
        "accounts/person.html",
        user=user,
        schools=schools,
        roles=[(role.value, role.label) for role in Role],
        problems={key: v if isinstance(v, list) else [v] for key, v in problems.items()},
        sent=request.form if problems else None,
    ), status
