"""The period a report counts: the dates asked for, else a school year or term picked, else the
current school year (observe/roster/years.py). The summary, goals and calibration trends open
on the current year rather than on everything."""

from __future__ import annotations

from typing import Any

from observe.reports.scope import read_dates
from observe.roster import years
from observe.roster.years import Period


def read_period(args: Any, problems: dict[str, str]) -> Period:
    """A report's period from its parameters: ``from`` and ``to`` when either is given (they
    win), else the ``year`` and ``term`` picked, else the current school year."""
    start_text, end_text = args.get("from") or None, args.get("to") or None
    if start_text or end_text:
        start, end = read_dates(start_text, end_text, problems)
        return Period(start, end, chosen=True)
    return years.period_for(args.get("year"), args.get("term"), problems)


def default_period() -> Period:
    """The period a report opens on: the current school year (everything when none)."""
    return years.period_for(None, None, {})
