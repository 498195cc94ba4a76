"""Template filters: shares as percentages and statistics with their undefined case spelled
out, never shown as 0 or NaN; and moments on the district's clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask_login import current_user

from observe.core import clock
from observe.core.permissions import allowed

UNDEFINED = "undefined"


def percent(share: float | None) -> str:
    return UNDEFINED if share is None else f"{share * 100:.0f}%"


def decimal(value: float | None, places: int = 2) -> str:
    if value is None:
        return UNDEFINED
    text = f"{value:.{places}f}"
    return text.replace("-", "\u2212")  # a real minus sign reads better in print


def signed(value: float | None, places: int = 2) -> str:
    if value is None:
        return UNDEFINED
    return ("+" if value > 0 else "") + decimal(value, places)


def local_time(moment: datetime | str | None, pattern: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A stored moment (aware, or ISO 8601 text as the API gives it) in the district's zone;
    the pattern's %Z names the zone (PST, CDT, UTC)."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored times are UTC
    return clock.local(moment).strftime(pattern)


def may(action: str, target: Any = None) -> bool:
    """In a template: whether the signed-in person may do ``action`` (to ``target``) — the
    same rule the view or operation applies (``core.permissions``)."""
    return current_user.is_authenticated and allowed(current_user, action, target)


def register_filters(app: Flask) -> None:
    app.add_template_global(may)
    app.add_template_filter(local_time)
    app.add_template_filter(percent)
    app.add_template_filter(decimal)
    app.add_template_filter(signed)
