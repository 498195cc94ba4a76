"""Writes for accounts. Each function flushes; the caller (a request or a CLI command) commits."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext, ngettext
from sqlalchemy import and_, delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from observe.accounts import passwords
from observe.accounts.models import ApiToken, SignInFailure, User
from observe.audit.operations import record
from observe.core import hooks, i18n
from observe.core.database import begin_write
from observe.core.models import utcnow
from observe.core.permissions import Role
from observe.errors import NotFound, ValidationFailed
from observe.extensions import db
from observe.roster.models import School

MIN_PASSWORD_LENGTH = 10
# Hashing cost grows with length; a pass phrase is well under this.
MAX_PASSWORD_LENGTH = 200
TOKEN_PREFIX = "obs_"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# How passwords are hashed: Werkzeug's scrypt (N=2**15, r=8, p=1), about a tenth of a second a
# hash, which is the point. Each stored hash names its own method, so changing this changes new
# hashes only. The test suite lowers it (tests/conftest.py): thousands of tests sign people in,
# and what they test is who signs in, not how hard a stolen hash is to crack.
PASSWORD_HASH_METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """Checked against when the email is unknown, so that a wrong email takes as long as a
    wrong password: made once per method, with the method real hashes are made with."""
    method = PASSWORD_HASH_METHOD
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = hash_password("observe-timing-equaliser")
    return _DUMMY_HASHES[method]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str, email: str | None = None) -> None:
    """Refuse a password that is short, common, or made of the person's email (NIST SP 800-63B
    §5.1.1.2: length and a blocklist, no composition rules)."""
    problems = password_problems(password, email)
    if problems:
        raise ValidationFailed(
            gettext("password: %(problems)s", problems="; ".join(problems)),
            details={"password": problems},
        )


def password_problems(password: str, email: str | None = None) -> list[str]:
    """What is wrong with ``password`` for the account ``email``, in words; empty when nothing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [gettext("must be at least %(n)s characters long", n=MIN_PASSWORD_LENGTH)]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [gettext("must be at most %(n)s characters long", n=MAX_PASSWORD_LENGTH)]
    problems = []
    lowered = password.lower()
    if passwords.is_common(lowered):
        problems.append(
            gettext(
                "is one of the most common passwords, the first an attacker tries; "
                "choose a few unrelated words instead"
            )
        )
    local = normalise_email(email).partition("@")[0] if email else ""
    if len(local) >= 3 and local in lowered:
        problems.append(gettext("must not contain your email address's name part"))
    if len(set(lowered)) < 3:
        problems.append(gettext("must use more than two different characters"))
    return problems


def create_user(
    email: str, name: str, role: Role, password: str | None, school_codes: Sequence[str] = ()
) -> User:
    """Create a user. Every problem is reported at once and nothing is written on error."""
    email = normalise_email(email)
    problems: dict[str, list[str]] = {}
    if not _EMAIL.match(email):
        problems["email"] = [gettext("%(email)r is not an email address", email=email)]
    elif db.session.scalar(select(User.id).where(User.email == email)) is not None:
        problems["email"] = [gettext("a user with email %(email)s already exists", email=email)]
    if not name.strip():
        problems["name"] = [gettext("must not be empty")]
    if password is not None and (password_issues := password_problems(password, email)):
        problems["password"] = password_issues
    schools = _schools_by_code(school_codes, problems)
    _role_problems(role, list(school_codes), problems)
    if problems:
        summary = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in problems.items())
        raise ValidationFailed(summary, details=problems)

    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password) if password else None,
        schools=schools,
    )
    db.session.add(user)
    db.session.flush()
    record(
        "user.created",
        object_type="user",
        object_id=user.id,
        detail={"email": email, "role": role.value},
    )
    return user


def _last_admin_problem(user: User, role: Role, active: bool) -> str | None:
    """Why ``user`` may not become ``role``/``active``: the district would be left with no
    active admin, and nobody could give the role back from a page. Admins' changes are taken
    one at a time, so two admins demoting each other at once cannot both pass."""
    if user.role is not Role.DISTRICT_ADMIN or not user.active:
        return None
    if role is Role.DISTRICT_ADMIN and active:
        return None
    _serialise("district admins")
    others = db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.DISTRICT_ADMIN, User.active.is_(True), User.id != user.id
        )
    )
    if others:
        return None
    return gettext(
        "%(email)s is the last active district admin; make someone else an admin first",
        email=user.email,
    )


def set_role(user: User, role: Role, school_codes: Sequence[str] = ()) -> None:
    """Give ``user`` a role and the schools they work in (replacing their schools); the same
    rules as for a new account, every problem reported at once and nothing changed on error.
    An account made at its first single sign-on starts as an observer with no schools."""
    problems: dict[str, list[str]] = {}
    schools = _schools_by_code(list(school_codes), problems)
    _role_problems(role, list(school_codes), problems)
    if last_admin := _last_admin_problem(user, role, user.active):
        problems.setdefault("role", []).append(last_admin)
    if problems:
        summary = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in problems.items())
        raise ValidationFailed(summary, details=problems)
    user.role = role
    user.schools = schools
    db.session.flush()
    # Their devices hold the rosters of the schools they had: the pull gives them the new set.
    hooks.access_changed.send(db.session, hooks.Entity(user.id))
    record(
        "user.role_set",
        object_type="user",
        object_id=user.id,
        detail={"email": user.email, "role": role.value, "schools": [s.code for s in schools]},
    )


def _role_problems(role: Role, school_codes: list[str], problems: dict[str, list[str]]) -> None:
    if role is Role.SCHOOL_LEADER and not school_codes:
        problems.setdefault("school", []).append(
            gettext("a school leader needs at least one school")
        )
    if role is Role.DISTRICT_ADMIN and school_codes:
        problems.setdefault("school", []).append(
            gettext("a district admin sees every school; give no schools")
        )


def _schools_by_code(codes: Sequence[str], problems: dict[str, list[str]]) -> list[School]:
    if not codes:
        return []
    found = {
        school.code: school
        for school in db.session.scalars(select(School).where(School.code.in_(codes)))
    }
    missing = [code for code in codes if code not in found]
    if missing:
        problems.setdefault("school", []).append(
            ngettext(
                "unknown school code %(codes)s",
                "unknown school codes %(codes)s",
                len(missing),
                codes=", ".join(missing),
            )
        )
    return [found[code] for code in dict.fromkeys(codes) if code in found]


def set_password(user: User, password: str) -> None:
    """A new password. Every session of the user ends (whoever knew the old password may hold
    one), and any hold on signing in to the account (see reserve_sign_in) ends with it."""
    check_password_rules(password, user.email)
    user.password_hash = hash_password(password)
    forget_failures(user.email)
    end_sessions(user)
    record("user.password_set", object_type="user", object_id=user.id, detail={"email": user.email})


def set_language(user: User, language: str) -> None:
    """The language observe speaks to ``user`` ("" follows their browser), or ValidationFailed
    naming what is wrong with nothing changed."""
    if problem := i18n.language_problem(language):
        raise ValidationFailed.naming(
            gettext("The language was not changed"), {"language": problem}
        )
    user.language = language or None


def sign_out_everywhere(user: User) -> None:
    """What "sign out everywhere" does (the settings page, the command line): end every session
    of ``user``, and say so in the audit log."""
    end_sessions(user)
    record(
        "user.signed_out_everywhere",
        object_type="user",
        object_id=user.id,
        detail={"email": user.email},
    )


def end_sessions(user: User) -> None:
    """End every session of ``user`` at once, on every device: each session cookie carries the
    generation it was opened in (User.get_id), and no cookie carries the new one. API tokens are
    not sessions and stay valid (revoke_tokens ends those)."""
    user.session_generation = User.session_generation + 1
    db.session.flush()
    db.session.refresh(user, ["session_generation"])


def set_active(user: User, active: bool) -> None:
    """Deactivate (or reactivate) an account. A deactivated user can neither sign in nor use
    a token: their open sessions end and their tokens are revoked now. Returns nothing;
    reactivation brings neither back. The last active district admin cannot be deactivated."""
    if last_admin := _last_admin_problem(user, user.role, active):
        raise ValidationFailed(f"active: {last_admin}", details={"active": [last_admin]})
    user.active = active
    if not active:
        end_sessions(user)
        # Revoked, not only refused while inactive: reactivating an account must not revive a
        # token someone may have copied before it was deactivated.
        revoke_tokens(user)
    db.session.flush()
    record(
        "user.activated" if active else "user.deactivated",
        object_type="user",
        object_id=user.id,
        detail={"email": user.email},
    )


# What update_user changed: {field: (before, after)}.
Changes = dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class UserChanges:
    """What an admin changes about a person; None leaves a field as it is. ``school_codes``
    replaces their schools (an empty tuple: none)."""

    name: str | None = None
    email: str | None = None
    role: Role | None = None
    school_codes: Sequence[str] | None = None
    active: bool | None = None


def update_user(user: User, changes: UserChanges) -> Changes:
    """Change a person's name, email, role, schools and whether they may sign in, all at once:
    every problem is reported together and nothing changes on error. Returns what changed,
    ``{field: (before, after)}`` (empty when every value was already so).

    Each change is in the audit log under its own action: ``user.updated`` (name, email),
    ``user.role_set`` (role, schools), ``user.deactivated`` / ``user.activated`` (which also end
    their sessions and revoke their tokens, as ``set_active`` does). A new email ends their
    sessions and revokes their tokens too: single sign-on finds accounts by email. A role made
    district admin drops its schools (an admin sees every school). The last active district
    admin can be neither demoted nor deactivated: nobody could give the role back from a page."""
    problems: dict[str, list[str]] = {}
    name = " ".join(changes.name.split()) if changes.name is not None else user.name
    if not name:
        problems["name"] = [gettext("must not be empty")]
    elif len(name) > 200:
        problems["name"] = [gettext("must be at most %(n)s characters", n=200)]
    email = normalise_email(changes.email) if changes.email is not None else user.email
    if email != user.email:
        if len(email) > 254 or not _EMAIL.match(email):
            problems["email"] = [gettext("%(email)r is not an email address", email=email)]
        else:
            _serialise(f"single sign-on {email}")  # as a first sign-in would make it
        if "email" not in problems and db.session.scalar(
            select(User.id).where(func.lower(User.email) == email, User.id != user.id)
        ):
            problems["email"] = [gettext("a user with email %(email)s already exists", email=email)]
    role = changes.role or user.role
    if role is Role.DISTRICT_ADMIN:
        codes = []  # an admin sees every school: schools ticked before the promotion are dropped
    elif changes.school_codes is not None:
        codes = list(dict.fromkeys(code.strip() for code in changes.school_codes if code.strip()))
    else:
        codes = [school.code for school in user.schools]
    schools = _schools_by_code(codes, problems)
    _role_problems(role, codes, problems)
    active = user.active if changes.active is None else changes.active
    if last_admin := _last_admin_problem(user, role, active):
        problems.setdefault("role" if role is not Role.DISTRICT_ADMIN else "active", []).append(
            last_admin
        )
    if problems:
        summary = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in problems.items())
        raise ValidationFailed(summary, details=problems)

    changed: Changes = {}
    before_email = user.email
    if name != user.name:
        changed["name"] = (user.name, name)
        user.name = name
    if email != user.email:
        changed["email"] = (user.email, email)
        user.email = email
        # Single sign-on finds the account by its email: whoever signed in as the old address
        # (a wrongly provisioned account handed to its rightful owner) keeps no way in.
        end_sessions(user)
        changed["tokens"] = (None, revoke_tokens(user))
    if changed:
        db.session.flush()
        record(
            "user.updated",
            object_type="user",
            object_id=user.id,
            detail={
                "email": before_email,
                "changes": {f: list(v) for f, v in changed.items() if f != "tokens"},
            },
        )
    old_codes = sorted(school.code for school in user.schools)
    if role is not user.role or sorted(codes) != old_codes:
        if role is not user.role:
            changed["role"] = (user.role.value, role.value)
        if sorted(codes) != old_codes:
            changed["schools"] = (old_codes, sorted(codes))
        set_role(user, role, [school.code for school in schools])
    if active != user.active:
        changed["active"] = (user.active, active)
        set_active(user, active)
    return changed


def describe_changes(changed: Changes) -> list[str]:
    """One line per changed field, for people to read."""
    lines = []
    for field, (before, after) in changed.items():
        if field == "tokens":
            revoked = f"; {after} API token{'' if after == 1 else 's'} revoked" if after else ""
            lines.append(f"their sessions ended (a new email signs in afresh){revoked}")
        elif field == "active":
            lines.append(
                "deactivated: their sessions ended and their API tokens are revoked"
                if not after
                else "activated: they can sign in again"
            )
        elif field == "schools":
            old = ", ".join(before) or "none"
            new = ", ".join(after) or "none"
            lines.append(f"schools: {old} → {new}")
        else:
            lines.append(f"{field}: {before} → {after}")
    return lines


def revoke_tokens(user: User) -> int:
    """Revoke every live token of ``user``; returns how many were live."""
    now = utcnow()
    live = [token for token in user.tokens if token.revoked_at is None]
    for token in live:
        token.revoked_at = now
    db.session.flush()
    for token in live:
        record(
            "token.revoked",
            object_type="api_token",
            object_id=token.id,
            detail={"user": user.email, "name": token.name},
        )
    return len(live)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or user.password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def account_for_single_sign_on(
    email: str, name: str, allowed_domains: frozenset[str] | set[str]
) -> User | None:
    """The account a verified ``email`` from the district's provider signs in to: the user
    with that email (any case), active or not — the caller refuses an inactive one — or, when
    there is none and the email's domain is in ``allowed_domains``, a new observer with no
    schools (an admin gives them schools or another role). None when there is neither."""
    email = normalise_email(email)
    # Two first sign-ins of the same new person at once (two tabs, a double tap) must make one
    # account, not fail the second on the unique email: one transaction at a time per email.
    _serialise(f"single sign-on {email}")
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None:
        return user
    if email.rpartition("@")[2] not in allowed_domains:
        return None
    # The provider's display name when it sends one, else the email's name part.
    name = " ".join(name.split())[:200] or email.partition("@")[0][:200]
    user = create_user(email, name, Role.OBSERVER, None)
    record(
        "user.provisioned",
        object_type="user",
        object_id=user.id,
        detail={"email": email, "role": Role.OBSERVER.value, "via": "oidc"},
        actor=user,
    )
    return user


# Sign-in throttling. Failures are counted over a sliding window, in two separate ledgers
# (OWASP's "device cookies"): an attempt from a browser this email has signed in from before
# (it shows a signed device cookie naming the email) counts only against that device, so the
# real user is never held by failures made elsewhere; any other attempt counts per email, so one
# account's password cannot be guessed at speed, and per network address, generously, since a
# school's staff may all reach the server from one address.
FAILURE_WINDOW = timedelta(minutes=15)
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 100
FAILURES_PER_DEVICE = 5
_EMAIL_LENGTH, _ADDRESS_LENGTH = 254, 64


def throttle_keys(email: str, address: str) -> tuple[str, str]:
    """The email and address as failures are kept: normalised and cut to the columns' length;
    an IPv6 address as its /64 network, which one client can hold whole."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is not None and ip.version == 6:
        address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return normalise_email(email)[:_EMAIL_LENGTH], address[:_ADDRESS_LENGTH]


def reserve_sign_in(email: str, address: str, device: str | None = None) -> timedelta | None:
    """Count this attempt as a failure before its password is checked, or say how long it is
    held. ``device`` is the nonce of a device cookie already checked to name this email
    (accounts.devices); such an attempt is held only by that device's own failures. The caller
    commits at once, so attempts made at the same moment see each other: the limit holds
    however many arrive together. A success takes its failures back (``signed_in``)."""
    email, address = throttle_keys(email, address)
    now = utcnow()
    recent_at = SignInFailure.at > now - FAILURE_WINDOW
    if device is not None:
        _serialise(f"sign-in device {device}")
        this_device = and_(SignInFailure.email == email, SignInFailure.device == device)
        ledgers = [(this_device, FAILURES_PER_DEVICE)]
    else:
        _serialise(f"sign-in email {email}")
        _serialise(f"sign-in address {address}")
        untrusted = SignInFailure.device.is_(None)
        ledgers = [
            (and_(SignInFailure.email == email, untrusted), FAILURES_PER_EMAIL),
            (and_(SignInFailure.address == address, untrusted), FAILURES_PER_ADDRESS),
        ]
    waits = []
    for condition, allowed in ledgers:
        recent = db.session.scalars(
            select(SignInFailure.at)
            .where(condition, recent_at)
            .order_by(SignInFailure.at.desc())
            .limit(allowed)
        ).all()
        if len(recent) >= allowed:  # the oldest of them must leave the window first
            waits.append(recent[-1] + FAILURE_WINDOW - now)
    if waits:
        return max(waits)
    db.session.execute(delete(SignInFailure).where(SignInFailure.at <= now - FAILURE_WINDOW))
    db.session.add(SignInFailure(email=email, address=address, device=device, at=now))
    db.session.flush()
    return None


def signed_in(email: str, device: str | None = None) -> None:
    """A right password: the failures of its ledger, this attempt's included, are forgotten —
    that device's when it came with a device cookie, else the email's from unknown browsers."""
    email, _ = throttle_keys(email, "")
    ledger = SignInFailure.device == device if device else SignInFailure.device.is_(None)
    db.session.execute(delete(SignInFailure).where(SignInFailure.email == email, ledger))


def forget_failures(email: str) -> None:
    """Every failure recorded for ``email``, in every ledger, is forgotten (a new password)."""
    email, _ = throttle_keys(email, "")
    db.session.execute(delete(SignInFailure).where(SignInFailure.email == email))


def _serialise(key: str) -> None:
    """On PostgreSQL, one transaction at a time per key (SQLite writes one at a time anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


def _hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


MAX_TOKEN_DAYS = 3650


def create_token(
    user: User, name: str, *, expires_in_days: int | None = None, read_only: bool = False
) -> tuple[ApiToken, str]:
    """A new token for ``user``, valid until revoked or for ``expires_in_days`` days, able to
    change data unless ``read_only``. Returns the row and the token itself, which is never
    stored."""
    name = name.strip()
    problems: dict[str, str] = {}
    if not name:
        problems["name"] = "must not be empty"
    elif len(name) > 100:
        problems["name"] = "must be at most 100 characters"
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        problems["expires_in_days"] = f"must be a whole number of days from 1 to {MAX_TOKEN_DAYS}"
    if problems:
        raise ValidationFailed(
            "; ".join(f"{field}: {message}" for field, message in problems.items()),
            details={field: [message] for field, message in problems.items()},
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        user=user,
        name=name,
        token_hash=_hash_token(secret),
        prefix=secret[:10],
        expires_at=expires_at,
        read_only=read_only,
    )
    db.session.add(token)
    db.session.flush()
    record(
        "token.created",
        object_type="api_token",
        object_id=token.id,
        detail={
            "user": user.email,
            "name": name,
            "read_only": read_only,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, secret


def token_for_secret(secret: str) -> tuple[ApiToken | None, str]:
    """The live token of an active user that ``secret`` is, or None and why not, in words.
    Records when the token was last used."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    now = utcnow()
    if token is None or token.is_revoked or not token.user.active:
        return None, "This API token is unknown or has been revoked."
    if token.has_expired(now):
        return None, "This API token has expired; create a new one on your settings page."
    # Record use at most every few minutes: a write per request would serialise API reads
    # on SQLite.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token_id = token.id
        begin_write()
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
        return db.session.get(ApiToken, token_id), ""
    return token, ""


def own_token(user: User, token_id: int) -> ApiToken:
    """One of ``user``'s own tokens; anyone else's is unknown to them."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id} among your tokens")
    return token


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = own_token(user, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        record(
            "token.revoked",
            object_type="api_token",
            object_id=token.id,
            detail={"user": user.email, "name": token.name},
        )
    return token
