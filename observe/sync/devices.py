"""Noticing a tablet database the browser evicted (docs/sync.md "Eviction").

Browsers evict script-writable storage: Safari deletes a website's IndexedDB, localStorage and
service-worker caches after seven days of use without a visit, unless the site was added to the
Home Screen. A flag kept inside that storage goes with it. A cookie the *server* sets
(HttpOnly) is not script-writable and survives, so the server names each browser with a random
key in such a cookie and keeps, per browser and user, which tablet database it held and what it
acknowledged to that database. When the app later reports a different database, the browser
lost the old one: the app is told what was safe on the server, once.

Functions flush; the request commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from flask import Request, Response, current_app, request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from observe.accounts.models import User
from observe.core import hooks
from observe.core.database import AnySession
from observe.core.models import utcnow
from observe.extensions import db
from observe.sync.models import TabletDevice

COOKIE_NAME = "observe_tablet"
# Chromium caps a cookie's life at 400 days; the app renews it at every start.
LIFETIME = timedelta(days=400)
_KEY = re.compile(r"[A-Za-z0-9_-]{43}")
ACKNOWLEDGED = frozenset({"applied", "duplicate", "conflict"})


def key_of(request: Request) -> str | None:
    """This browser's device key from its cookie, or None (no cookie, or not one we made)."""
    value = request.cookies.get(COOKIE_NAME, "")
    return value if _KEY.fullmatch(value) else None


def new_key() -> str:
    return secrets.token_urlsafe(32)  # 43 characters


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def set_cookie(response: Response, key: str) -> None:
    """(Re)set the long-lived device cookie: HttpOnly, so no script can write or evict it."""
    response.set_cookie(
        COOKIE_NAME,
        key,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )


def _row(user: User, key: str) -> TabletDevice | None:
    return db.session.scalar(
        select(TabletDevice).where(
            TabletDevice.key_hash == _hash(key), TabletDevice.user_id == user.id
        )
    )


def register(
    user: User, key: str, database_id: str, persisted: str | None
) -> dict[str, Any] | None:
    """The app of ``user`` in the browser named by ``key`` holds the database ``database_id``.

    Returns None, or — when this browser's database of this user had versions acknowledged
    and is now another one — what was safe on the server before the browser lost it. A
    database cleared on purpose (a sign-out that told the server, see ``cleared``) is no
    longer known, so a new one after it is reported as nothing.
    """
    now = utcnow()
    row = _row(user, key)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    TabletDevice(
                        key_hash=_hash(key),
                        user_id=user.id,
                        database_id=database_id,
                        acknowledged_count=0,
                        persisted=persisted,
                        created_at=now,
                        last_seen_at=now,
                    )
                )
            return None
        except IntegrityError:
            # Another tab of this browser registered at the same moment (PostgreSQL; SQLite
            # has one writer at a time): go on with the row it made.
            row = _row(user, key)
            if row is None:
                raise
    lost = None
    if row.database_id != database_id:
        if row.database_id is not None and row.acknowledged_count > 0:
            lost = {
                "acknowledged_count": row.acknowledged_count,
                "last_acknowledged_at": row.last_acknowledged_at.isoformat()
                if row.last_acknowledged_at
                else None,
                "last_version_id": row.last_version_id,
                "last_seen_at": row.last_seen_at.isoformat(),
                "persisted": row.persisted,
            }
        row.database_id = database_id
        row.acknowledged_count = 0
        row.last_version_id = None
        row.last_acknowledged_at = None
    if persisted is not None:
        row.persisted = persisted
    row.last_seen_at = now
    db.session.flush()
    return lost


def acknowledged(
    user: User, key: str | None, database_id: str, results: list[dict[str, Any]]
) -> None:
    """One push batch's results reached ``database_id``: one small UPDATE for the batch, none
    when nothing was acknowledged or the browser has no device cookie (a program)."""
    if key is None:
        return
    settled = [r for r in results if r.get("status") in ACKNOWLEDGED]
    if not settled:
        return
    now = utcnow()
    db.session.execute(
        update(TabletDevice)
        .where(
            TabletDevice.key_hash == _hash(key),
            TabletDevice.user_id == user.id,
            TabletDevice.database_id == database_id,
        )
        .values(
            acknowledged_count=TabletDevice.acknowledged_count + len(settled),
            last_version_id=str(settled[-1]["version_id"])[:36],
            last_acknowledged_at=now,
            last_seen_at=now,
        )
        .execution_options(synchronize_session=False)
    )


@hooks.tablet_cleared.connect
def _signed_out(session: AnySession, fact: hooks.TabletCleared) -> None:
    cleared(fact.user_id, key_of(request), fact.database_id)


def cleared(user_id: int, key: str | None, database_id: str) -> None:
    """The app deleted ``database_id`` on purpose (sign-out with nothing unsynced): forget it,
    so the next database of this user in this browser is not reported as an eviction."""
    if key is None or not database_id:
        return
    db.session.execute(
        update(TabletDevice)
        .where(
            TabletDevice.key_hash == _hash(key),
            TabletDevice.user_id == user_id,
            TabletDevice.database_id == database_id[:100],
        )
        .values(
            database_id=None,
            acknowledged_count=0,
            last_version_id=None,
            last_acknowledged_at=None,
            last_seen_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
