"""Reading the roster as a person may see it."""

from __future__ import annotations

from sqlalchemy import select

from observe.core.permissions import Principal, visible_school_ids
from observe.extensions import db
from observe.roster.models import School, SchoolMerge


def visible_schools(who: Principal) -> list[School]:
    """The schools ``who`` may see, by name: theirs (a district admin's: every one)."""
    query = select(School).order_by(School.name)
    visible = visible_school_ids(who)
    if visible is not None:
        query = query.where(School.id.in_(visible))
    return list(db.session.scalars(query))


def merged_into(school_ids: set[int]) -> dict[int, int]:
    """Of these school ids, those of schools merged into another (and gone): the id of the
    school each became (see :class:`~observe.roster.models.SchoolMerge`)."""
    if not school_ids:
        return {}
    rows = db.session.execute(
        select(SchoolMerge.old_id, SchoolMerge.school_id).where(SchoolMerge.old_id.in_(school_ids))
    )
    return {row[0]: row[1] for row in rows}


def current_school_id(school_id: int) -> int:
    """The school with this id, or, if it was merged into another and is gone, that one."""
    if db.session.get(School, school_id) is not None:
        return school_id
    return merged_into({school_id}).get(school_id, school_id)
