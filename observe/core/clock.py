"""The district's time zone: days and months as the district lives them.

Times are stored in UTC. What people read — a visit's date on a feedback page, the months of a
report, the days a date range covers — is in the district's zone, ``OBSERVE_TIMEZONE`` (an IANA
name such as ``America/Chicago``; UTC when unset). A visit at 4:30 pm in California on
30 November is a November visit, though it is 1 December in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import case, func, literal
from sqlalchemy.sql.elements import ColumnElement

from observe.core.models import UTCDateTime

# Offsets are looked up from here to a few years ahead (walkthroughs are refused before 2000).
_FIRST_YEAR = 2000
_YEARS_AHEAD = 5


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


def month_sql(column: Any, dialect: str) -> ColumnElement[str]:
    """SQL for the district's month ("YYYY-MM") of a stored UTC time column."""
    name = current_app.config["OBSERVE_TIMEZONE"]
    if dialect == "postgresql":
        if name == "UTC":
            return func.to_char(column, "YYYY-MM")
        return func.to_char(func.timezone(name, func.timezone("UTC", column)), "YYYY-MM")
    if name == "UTC":
        return func.strftime("%Y-%m", column)
    # SQLite knows no zones: shift by the offset in force at that moment, looked up among the
    # zone's changes, newest first (most of what reports count is recent).
    changes = _offsets(name)
    offset = case(
        *[
            (column >= literal(start, UTCDateTime()), f"{minutes} minutes")
            for start, minutes in changes
        ],
        else_=f"{changes[-1][1]} minutes",
    )
    return func.strftime("%Y-%m", column, offset)


@cache
def _offsets(name: str) -> list[tuple[datetime, int]]:
    """When the zone's offset from UTC changed, newest first, with the offset in minutes from
    then on; the last entry holds from the start of the range."""
    where = zone_named(name)
    start = datetime(_FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(datetime.now(UTC).year + _YEARS_AHEAD, 1, 1, tzinfo=UTC)

    def minutes(moment: datetime) -> int:
        return int(moment.astimezone(where).utcoffset().total_seconds() // 60)

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
