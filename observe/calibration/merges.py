"""When a school closes into another (``observe roster merge``): its calibration sessions are
the other school's, and their participants' devices learn so at their next pull."""

from __future__ import annotations

from sqlalchemy import select, update

from observe.calibration.models import CalibrationSession
from observe.core import hooks
from observe.core.database import AnySession


@hooks.schools_merged.connect
def _schools_merged(session: AnySession, fact: hooks.SchoolsMerged) -> None:
    moving = list(
        session.scalars(
            select(CalibrationSession.id)
            .where(CalibrationSession.school_id == fact.old_id)
            .order_by(CalibrationSession.id)
        )
    )
    session.execute(
        update(CalibrationSession)
        .where(CalibrationSession.school_id == fact.old_id)
        .values(school_id=fact.into_id)
        .execution_options(synchronize_session="fetch")
    )
    fact.moved["calibration sessions"] = len(moving)
    for session_id in moving:
        hooks.calibration_changed.send(session, hooks.Entity(session_id))
