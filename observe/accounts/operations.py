"""Writes for accounts. Each function flushes; the caller (a request or a CLI command) commits."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from observe.accounts.models import ApiToken, Role, SignInFailure, User
from observe.audit.operations import record
from observe.core.database import begin_write
from observe.core.models import utcnow
from observe.errors import NotFound, ValidationFailed
from observe.extensions import db
from observe.roster.models import School

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "obs_"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("observe-timing-equaliser")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password: must be at least {MIN_PASSWORD_LENGTH} characters long",
            details={"password": [f"must be at least {MIN_PASSWORD_LENGTH} characters long"]},
        )


def create_user(
    email: str, name: str, role: Role, password: str | None, school_codes: list[str] = ()
) -> User:
    """Create a user. Every problem is reported at once and nothing is written on error."""
    email = normalise_email(email)
    problems: dict[str, list[str]] = {}
    if not _EMAIL.match(email):
        problems["email"] = [f"{email!r} is not an email address"]
    elif db.session.scalar(select(User.id).where(User.email == email)) is not None:
        problems["email"] = [f"a user with email {email} already exists"]
    if not name.strip():
        problems["name"] = ["must not be empty"]
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = [f"must be at least {MIN_PASSWORD_LENGTH} characters long"]
    schools = _schools_by_code(school_codes, problems)
    if role is Role.SCHOOL_LEADER and not school_codes:
        problems.setdefault("school", []).append("a school leader needs at least one school")
    if role is Role.DISTRICT_ADMIN and school_codes:
        problems.setdefault("school", []).append(
            "a district admin sees every school; give no schools"
        )
    if problems:
        summary = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in problems.items())
        raise ValidationFailed(summary, details=problems)

    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=generate_password_hash(password) if password else None,
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


def _schools_by_code(codes: list[str], problems: dict[str, list[str]]) -> list[School]:
    if not codes:
        return []
    found = {
        school.code: school
        for school in db.session.scalars(select(School).where(School.code.in_(codes)))
    }
    missing = [code for code in codes if code not in found]
    if missing:
        problems.setdefault("school", []).append(
            "unknown school code" + ("s " if len(missing) > 1 else " ") + ", ".join(missing)
        )
    return [found[code] for code in dict.fromkeys(codes) if code in found]


def set_password(user: User, password: str) -> None:
    """A new password; any hold on signing in to the account (see sign_in_wait) ends with it."""
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    signed_in(user.email)
    db.session.flush()
    record("user.password_set", object_type="user", object_id=user.id, detail={"email": user.email})


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


# Sign-in throttling. Failures are counted over a sliding window: per email, so one account's
# password cannot be guessed at speed; and per network address, generously, since a school's
# staff may all reach the server from one address.
FAILURE_WINDOW = timedelta(minutes=15)
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 100
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


def reserve_sign_in(email: str, address: str) -> timedelta | None:
    """Count this attempt as a failure before its password is checked, or say how long the
    email (or the address) is held. The caller commits at once, so attempts made at the same
    moment see each other: the limit holds however many arrive together. A success takes the
    email's failures back (``signed_in``)."""
    email, address = throttle_keys(email, address)
    _serialise(f"sign-in email {email}")
    _serialise(f"sign-in address {address}")
    now = utcnow()
    waits = []
    for column, value, allowed in (
        (SignInFailure.email, email, FAILURES_PER_EMAIL),
        (SignInFailure.address, address, FAILURES_PER_ADDRESS),
    ):
        recent = db.session.scalars(
            select(SignInFailure.at)
            .where(column == value, SignInFailure.at > now - FAILURE_WINDOW)
            .order_by(SignInFailure.at.desc())
            .limit(allowed)
        ).all()
        if len(recent) >= allowed:  # the oldest of them must leave the window first
            waits.append(recent[-1] + FAILURE_WINDOW - now)
    if waits:
        return max(waits)
    db.session.execute(delete(SignInFailure).where(SignInFailure.at <= now - FAILURE_WINDOW))
    db.session.add(SignInFailure(email=email, address=address, at=now))
    db.session.flush()
    return None


def signed_in(email: str) -> None:
    """A right password: the email's failures, this attempt's included, are forgotten."""
    email, _ = throttle_keys(email, "")
    db.session.execute(delete(SignInFailure).where(SignInFailure.email == email))


def _serialise(key: str) -> None:
    """On PostgreSQL, one transaction at a time per key (SQLite writes one at a time anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


def _hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``. Returns the row and the token itself, which is never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed("name: must not be empty", details={"name": ["must not be empty"]})
    if len(name) > 100:
        raise ValidationFailed(
            "name: must be at most 100 characters", details={"name": ["at most 100 characters"]}
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_hash_token(secret), prefix=secret[:10])
    db.session.add(token)
    db.session.flush()
    record(
        "token.created",
        object_type="api_token",
        object_id=token.id,
        detail={"user": user.email, "name": name},
    )
    return token, secret


def user_for_token(secret: str) -> User | None:
    """The active user a live token belongs to; records when the token was last used."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if token is None or token.is_revoked or not token.user.active:
        return None
    now = utcnow()
    # Record use at most every few minutes: a write per request would serialise API reads
    # on SQLite.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token_id, user_id = token.id, token.user_id
        begin_write()
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
        return db.session.get(User, user_id)
    return token.user


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id} among your tokens")
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
