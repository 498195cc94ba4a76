"""Which walkthroughs a report or an export counts, shared by both."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, select

from observe.core import clock
from observe.core.permissions import Principal, visible_school_ids
from observe.core.validation import EARLIEST_DATE, LATEST_DATE
from observe.extensions import db
from observe.observations.models import Observation
from observe.roster.models import School


def read_dates(
    start: str | None, end: str | None, problems: dict[str, str]
) -> tuple[date | None, date | None]:
    """The "from" and "to" dates of a form or command (YYYY-MM-DD, either may be left out);
    what is wrong with them goes into ``problems``."""
    dates: dict[str, date | None] = {"from": None, "to": None}
    for name, text in (("from", start), ("to", end)):
        if text:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                problems[name] = _("%(text)s is not a date (YYYY-MM-DD)", text=repr(text))
                continue
            if EARLIEST_DATE <= day <= LATEST_DATE:
                dates[name] = day
            else:
                # Year 1 or 9999 would overflow once turned into a moment in UTC.
                problems[name] = _(
                    "must be between %(earliest)s and %(latest)s",
                    earliest=EARLIEST_DATE,
                    latest=LATEST_DATE,
                )
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        problems["to"] = _("the end date is before the start date")
    return dates["from"], dates["to"]


def check_schools(user: Principal, codes: list[str], problems: dict[str, str]) -> None:
    """Schools named by code must exist and be ``user``'s to see."""
    if not codes:
        return
    known = dict(
        db.session.execute(select(School.code, School.id).where(School.code.in_(codes))).all()
    )
    visible = visible_school_ids(user)
    refused = [
        c for c in codes if c not in known or (visible is not None and known[c] not in visible)
    ]
    if refused:
        problems["school"] = _("not one of your schools: %(codes)s", codes=", ".join(refused))


def within(
    statement: Select,
    user: Principal,
    *,
    start: date | None,
    end: date | None,
    school_codes: list[str],
) -> Select:
    """Limit to the schools ``user`` may see, the schools named (by code), and the dates
    (observed on, in the district's time zone, both ends included)."""
    visible = visible_school_ids(user)
    if visible is not None:
        statement = statement.where(Observation.school_id.in_(visible))
    if school_codes:
        chosen = select(School.id).where(School.code.in_(school_codes))
        statement = statement.where(Observation.school_id.in_(chosen))
    if start:
        statement = statement.where(Observation.observed_at >= clock.day_start(start))
    if end:
        statement = statement.where(Observation.observed_at < clock.day_start(end + timedelta(1)))
    return statement
