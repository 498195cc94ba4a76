"""What the server knows of the tablets that sync: one row per tablet database (eviction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from observe.core.models import UTCDateTime, utcnow
from observe.extensions import Model


class TabletDevice(Model):
    """What the server knows of one user's tablet database in one browser, so that a database
    the browser evicted (Safari's seven-day rule deletes IndexedDB, localStorage and caches,
    but not a cookie the server set) is noticed at the next sign-in. See docs/sync.md
    "Eviction".

    The browser is named by a random key in an HttpOnly cookie (only its SHA-256 is stored);
    each user's database on a shared tablet has its own row.
    """

    __tablename__ = "tablet_device"
    __table_args__ = (UniqueConstraint("key_hash", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The id the tablet's database made for itself when it was created (the push envelope's
    # device_id); None once the app said it cleared the database on purpose (a sign-out).
    database_id: Mapped[str | None] = mapped_column(String(100))
    # Versions the server acknowledged (applied, duplicate, conflict) to that database, the
    # last of them, and when.
    acknowledged_count: Mapped[int] = mapped_column(Integer, default=0)
    last_version_id: Mapped[str | None] = mapped_column(String(36))
    last_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the browser answered when asked for persistent storage: yes, no, unsupported.
    # Kept here because the database's own copy of it goes when the database does.
    persisted: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
