"""Reading the roster as a person may see it."""

from __future__ import annotations

from sqlalchemy import select

from observe.core.permissions import Principal, visible_school_ids
from observe.extensions import db
from observe.roster.models import School


def visible_schools(who: Principal) -> list[School]:
    """The schools ``who`` may see, by name: theirs (a district admin's: every one)."""
    query = select(School).order_by(School.name)
    visible = visible_school_ids(who)
    if visible is not None:
        query = query.where(School.id.in_(visible))
    return list(db.session.scalars(query))
