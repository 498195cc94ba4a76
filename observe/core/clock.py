"""The district's time zone: days and months as the district lives them.

Times are stored in UTC. What people read — a visit's date on a feedback page, the months of a
report, the days a date range covers — is in the district's zone, ``OBSERVE_TIMEZONE`` (an IANA
name such as ``America/Chicago``; UTC when unset). A visit at 4:30 pm in California on
30 November is a November visit, though it is 1 December in UTC.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import case, func, literal
from sqlalchemy.sql.elements import ColumnElement

from observe.core.models import UTCDateTime

# Offsets are looked up from 2000 (walkthroughs are refused before then) to 2040, or five
# years ahead once that is later.
_FIRST_YEAR = 2000
_LAST_YEAR = 2040


def zone_named(name: str) -> ZoneInfo:
    """The zone called ``name``, or a RuntimeError that says what is wrong with it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"OBSERVE_TIMEZONE must be a time zone name such as America/Chicago, not {name!r}"
        ) from None


def zone() -> ZoneInfo:
    return zone_named(current_app.config["OBSERVE_TIMEZONE"])


def local(moment: datetime) -> datetime:
    """An aware moment as the district's wall clock shows it."""
    return moment.astimezone(zone())


def today() -> date:
    return datetime.now(zone()).date()


def month_of(moment: datetime) -> str:
    """The district's month of a moment, "YYYY-MM"."""
    return local(moment).strftime("%Y-%m")


def day_start(day: date) -> datetime:
    """The moment (UTC) the district's ``day`` begins."""
    return datetime.combine(day, time(), zone()).astimezone(UTC)


def rules() -> str:
    """The zone's name and a digest of its offsets: what the report rollups were counted under.
    A zone changed in the configuration, or its rules changed by a tzdata update, differ."""
    name = current_app.config["OBSERVE_TIMEZONE"]
    return f"{name} {_digest(name)}"


def month_sql(column: Any, dialect: str) -> ColumnElement[str]:
    """SQL for the district's month ("YYYY-MM") of a stored UTC time column.

    Both databases shift the time by the zone's offset at that moment, looked up among the
    offsets Python knows (newest first: most of what reports count is recent) — not by the
    database's own zone files, which may be older or newer than the app's: pushes count a
    walkthrough in the month Python gives it, and every count must agree."""
    # Changes after next year are left out: no walkthrough is dated then (pushes from the
    # future are refused), and each one is a comparison for every row counted.
    horizon = datetime(datetime.now(UTC).year + 2, 1, 1, tzinfo=UTC)
    changes = [c for c in _offsets(current_app.config["OBSERVE_TIMEZONE"]) if c[0] < horizon]
    if len(changes) == 1:
        minutes: Any = literal(changes[0][1])
        if changes[0][1] == 0:
            return _month(column, dialect)
    else:
        stored = UTCDateTime()
        minutes = case(
            *[(column >= literal(start, stored), offset) for start, offset in changes],
            else_=changes[-1][1],
        )
    if dialect == "postgresql":
        return _month(column + func.make_interval(0, 0, 0, 0, 0, minutes), dialect)
    return func.strftime("%Y-%m", column, func.printf("%d minutes", minutes))


def _month(moment: Any, dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(moment, "YYYY-MM")
    return func.strftime("%Y-%m", moment)


@cache
def _digest(name: str) -> str:
    return hashlib.sha256(repr(_offsets(name)).encode()).hexdigest()[:12]


@cache
def _offsets(name: str) -> list[tuple[datetime, int]]:
    """When the zone's offset from UTC changed, newest first, with the offset in minutes from
    then on; the last entry holds from the start of the range."""
    where = zone_named(name)
    start = datetime(_FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(max(_LAST_YEAR, datetime.now(UTC).year + 5), 1, 1, tzinfo=UTC)

    def minutes(moment: datetime) -> int:
        offset = moment.astimezone(where).utcoffset()
        assert offset is not None  # an aware moment in a real zone
        return int(offset.total_seconds() // 60)

    changes = [(start, minutes(start))]
    step = timedelta(days=1)  # zones change their offset a few times a year at most
    moment = start
    while moment < end:
        following = moment + step
        if minutes(following) != minutes(moment):
            low, high = moment, following  # the change is in (low, high]; find its minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if minutes(middle) == minutes(low):
                    low = middle
                else:
                    high = middle
            high = high.replace(second=0, microsecond=0)
            changes.append((high, minutes(following)))
        moment = following
    return changes[::-1]
