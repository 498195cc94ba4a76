"""The period a report counts: the dates asked for, else a school year or term picked, else the
current school year (observe/roster/years.py). The summary, goals and calibration trends open
on the current year rather than on everything."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from observe.reports.scope import read_dates
from observe.roster import years
from observe.roster.years import Period


def read_period(args: Any, problems: dict[str, str]) -> Period:
    """A report's period from its parameters: ``from`` and ``to`` when either is given (they
    win), else the ``year`` and ``term`` picked, else the current school year — a year as the
    whole months it spans (``whole_months``)."""
    start_text, end_text = args.get("from") or None, args.get("to") or None
    if start_text or end_text:
        start, end = read_dates(start_text, end_text, problems)
        return Period(start, end, chosen=True)
    return whole_months(years.period_for(args.get("year"), args.get("term"), problems))


def whole_months(period: Period) -> Period:
    """A school year's period as the whole months it spans (2026-08-17 to 2027-06-11 counts
    August 2026 to June 2027), so that the summary's monthly rollups answer it at district
    scale instead of every walkthrough being read (docs/benchmarks.md); a term and dates typed
    stay as they are."""
    if period.year is None or period.term is not None or period.start is None:
        return period
    assert period.end is not None  # a year's period has both ends
    return Period(
        period.start.replace(day=1), month_end(period.end), period.year, None, period.chosen
    )


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def default_period() -> Period:
    """The period a report opens on: the current school year (everything when none)."""
    return whole_months(years.period_for(None, None, {}))
