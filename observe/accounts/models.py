"""People who use observe, what they may do, and their API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Column, Enum, ForeignKey, String, Table
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import UTCDateTime, utcnow
from observe.core.permissions import Role
from observe.extensions import Model, db

if TYPE_CHECKING:
    from observe.roster.models import School


# The schools a user works in: an observer walks their classrooms; a school leader reads
# their reports. District admins see every school and need no rows here.
user_school = Table(
    "user_school",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", ForeignKey("school.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", values_callable=lambda roles: [r.value for r in roles])
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Part of every session cookie's user id (see get_id): raising it ends every session of the
    # user at once — sign-out, a new password, deactivation, "sign out everywhere".
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # The language the pages speak to this person (one of core.i18n.LANGUAGES); None follows
    # the browser's Accept-Language (docs/languages.md).
    language: Mapped[str | None] = mapped_column(String(10))

    schools: Mapped[list[School]] = relationship(
        secondary=user_school, order_by="School.name", lazy="selectin"
    )
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", order_by="ApiToken.created_at.desc()", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the id and the session generation
        (Flask-Login's "alternative tokens"); accounts.auth.load_user checks both."""
        return f"{self.id}:{self.session_generation}"

    @property
    def is_district_admin(self) -> bool:
        return self.role is Role.DISTRICT_ADMIN

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class ApiToken(Model):
    """A personal token for programmatic clients. Only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, shown so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None: the token works until it is revoked.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A read-only token may only read (GET, HEAD, OPTIONS).
    read_only: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class SignInFailure(Model):
    """A failed sign-in, kept for a short while so that guessing passwords is throttled
    (see accounts.operations.sign_in_wait)."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    # The device cookie's nonce when the attempt came from a browser this email has signed in
    # from before; such failures hold only that device (see accounts.operations.reserve_sign_in).
    device: Mapped[str | None] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
