"""Which walkthroughs a report or an export counts, shared by both."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, select

from observe.accounts.models import User
from observe.core import clock
from observe.core.permissions import visible_school_ids
from observe.observations.models import Observation
from observe.roster.models import School


def within(
    statement: Select,
    user: User,
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
