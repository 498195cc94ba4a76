"""Template filters: shares as percentages and statistics with their undefined case spelled
out, never shown as 0 or NaN; and moments on the district's clock — each in the reader's
language (core/i18n.py): "42%" and "3.50" in English, "42 %" and "3,50" in Spanish (CLDR)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent
from flask import Flask
from flask_babel import get_locale, gettext
from flask_login import current_user

from observe.core import clock
from observe.core.permissions import allowed

UNDEFINED = "undefined"  # the English word; undefined() gives it in the reader's language

# Dates written with the month's name, and the CLDR skeleton that writes them in another
# language's own order ("3 December 2026" is "3 de diciembre de 2026"). Numeric patterns
# (2026-12-03 14:05) read the same in every language observe speaks and stay as they are.
_NAMED_DATES = {
    "%-d %B %Y": "yMMMMd",
    "%-d %B": "MMMMd",
    "%-d %b %Y": "yMMMd",
    "%-d %b": "MMMd",
    "%b %-d": "MMMd",
}


def _locale() -> Locale:
    """The reader's locale; English outside a request (a command, a test)."""
    return get_locale() or Locale("en")


def undefined() -> str:
    """The word for a statistic that has no value (never 0, 1 or NaN)."""
    return str(gettext("undefined"))


def percent(share: float | None) -> str:
    if share is None:
        return undefined()
    # Rounded as before (Python's float formatting), then written the reader's way: the
    # English figures stay what they always were, digit for digit.
    whole = Decimal(f"{share * 100:.0f}")
    # The language's own pattern ("#,##0 %" in Spanish) without grouping, as before.
    locale = _locale()
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "0")
    return format_percent(whole / 100, format=pattern, locale=locale)


def decimal(value: float | None, places: int = 2) -> str:
    if value is None:
        return undefined()
    exact = Decimal(f"{value:.{places}f}")
    if exact == 0:
        exact = abs(exact)  # -0.001 to two places is "0.00", unsigned
    # The pattern fixes the places and sets no grouping ("1234.50", as before); the
    # locale gives the decimal sign.
    text = format_decimal(exact, format="0." + "0" * places if places else "0", locale=_locale())
    return text.replace("-", "\u2212")  # a real minus sign reads better in print


def signed(value: float | None, places: int = 2) -> str:
    if value is None:
        return undefined()
    # Signed as written, not as stored: -0.0004 to one place is "0.0", with no sign either way.
    shown = round(value, places) or 0.0
    return ("+" if shown > 0 else "") + decimal(shown, places)


def number(value: int | None) -> str:
    """A count with its digits grouped the reader's way ("250,003"; "250.003" in Spanish)."""
    if value is None:
        return "—"
    return format_decimal(value, locale=_locale()).replace("-", "\u2212")


def local_time(moment: datetime | str | None, pattern: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A stored moment (aware, or ISO 8601 text as the API gives it) in the district's zone;
    the pattern's %Z names the zone (PST, CDT, UTC). A date with the month's name is written
    in the reader's language."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored times are UTC
    local = clock.local(moment)
    locale = _locale()
    if locale.language != "en":
        for named, skeleton in _NAMED_DATES.items():
            if named in pattern:
                before, after = pattern.split(named, 1)
                date = format_skeleton(skeleton, local, locale=locale)
                return local.strftime(before) + date + local.strftime(after)
    return local.strftime(pattern)


def day(value: date, pattern: str = "%-d %B %Y") -> str:
    """A calendar day; with the month's name, in the reader's language."""
    locale = _locale()
    skeleton = _NAMED_DATES.get(pattern)
    if locale.language == "en" or skeleton is None:
        return value.strftime(pattern)
    return format_skeleton(skeleton, value, locale=locale)


def may(action: str, target: Any = None) -> bool:
    """In a template: whether the signed-in person may do ``action`` (to ``target``) — the
    same rule the view or operation applies (``core.permissions``)."""
    return current_user.is_authenticated and allowed(current_user, action, target)


def register_filters(app: Flask) -> None:
    app.add_template_global(may)
    app.add_template_filter(local_time)
    app.add_template_filter(day)
    app.add_template_filter(percent)
    app.add_template_filter(decimal)
    app.add_template_filter(signed)
    app.add_template_filter(number)
