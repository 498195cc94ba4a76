"""When a school closes into another (``observe roster merge``): its walkthroughs are the other
school's — it is the same school now — and their authors' devices learn so at their next pull."""

from __future__ import annotations

from sqlalchemy import select, update

from observe.core import hooks
from observe.core.database import AnySession
from observe.observations.models import Observation


@hooks.schools_merged.connect
def _schools_merged(session: AnySession, fact: hooks.SchoolsMerged) -> None:
    moving = session.execute(
        select(Observation.id, Observation.author_id)
        .where(Observation.school_id == fact.old_id)
        .order_by(Observation.id)
    ).all()
    session.execute(
        update(Observation)
        .where(Observation.school_id == fact.old_id)
        .values(school_id=fact.into_id)
        .execution_options(synchronize_session="fetch")
    )
    fact.moved["walkthroughs"] = len(moving)
    for observation_id, author_id in moving:
        hooks.walkthrough_changed.send(session, hooks.WalkthroughChanged(observation_id, author_id))
