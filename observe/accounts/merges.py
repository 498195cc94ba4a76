"""When a school closes into another (``observe roster merge``): the people assigned to it are
assigned to the school it became, and every device whose schools changed replaces its roster."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from observe.accounts.models import User, user_school
from observe.core import hooks
from observe.core.database import AnySession
from observe.core.permissions import Role


@hooks.schools_merged.connect
def _schools_merged(session: AnySession, fact: hooks.SchoolsMerged) -> None:
    assigned = set(
        session.scalars(select(user_school.c.user_id).where(user_school.c.school_id == fact.old_id))
    )
    already = set(
        session.scalars(
            select(user_school.c.user_id).where(
                user_school.c.school_id == fact.into_id, user_school.c.user_id.in_(assigned)
            )
        )
    )
    if assigned - already:
        session.execute(
            insert(user_school),
            [{"user_id": id_, "school_id": fact.into_id} for id_ in sorted(assigned - already)],
        )
    session.execute(delete(user_school).where(user_school.c.school_id == fact.old_id))
    fact.moved["people's school assignments"] = len(assigned)
    # A district admin's tablet holds every school: the old one is gone from theirs too.
    admins = set(session.scalars(select(User.id).where(User.role == Role.DISTRICT_ADMIN)))
    for user_id in sorted(assigned | admins):
        hooks.access_changed.send(session, hooks.Entity(user_id))
    for held in list(session.identity_map.values()):
        if isinstance(held, User):
            session.expire(held, ["schools"])
