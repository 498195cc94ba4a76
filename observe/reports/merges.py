"""When a school closes into another (``observe roster merge``): its equity goals become the
other school's (a goal both schools had is kept twice, and the merge says so), and its rollup
counts are added to the other school's, so the report reads the two as one school at once."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from observe.core import hooks
from observe.core.database import AnySession, executemany_plain
from observe.reports.models import Goal, RollupClassroom, RollupSchool
from observe.reports.rollups import _upsert, stamp
from observe.roster.models import School


@hooks.schools_merged.connect
def _schools_merged(session: AnySession, fact: hooks.SchoolsMerged) -> None:
    _move_goals(session, fact)
    _move_rollups(session, fact)


def _move_goals(session: AnySession, fact: hooks.SchoolsMerged) -> None:
    moving = list(session.scalars(select(Goal).where(Goal.school_id == fact.old_id)))
    kept = list(session.scalars(select(Goal).where(Goal.school_id == fact.into_id)))
    old_code = session.get_one(School, fact.old_id).code
    into_code = session.get_one(School, fact.into_id).code
    for goal in moving:
        for other in kept:
            if (goal.rubric_version_id, goal.target_kind, goal.target_key) == (
                other.rubric_version_id,
                other.target_kind,
                other.target_key,
            ):
                fact.notes.append(
                    f"Goal {goal.id} {goal.title!r} (from {old_code}) and goal {other.id} "
                    f"{other.title!r} of {into_code} have the same target ({goal.target_kind} "
                    f"{goal.target_key}): both are kept; remove one on the goals page if they "
                    "say the same."
                )
    session.execute(
        update(Goal)
        .where(Goal.school_id == fact.old_id)
        .values(school_id=fact.into_id)
        .execution_options(synchronize_session="fetch")
    )
    fact.moved["goals"] = len(moving)


_KEY = ("rubric_version_id", "month", "school_id", "criterion_id", "level", "count")


def _move_rollups(session: AnySession, fact: hooks.SchoolsMerged) -> None:
    """The old school's counts are added to the other's, row by row (rollup_profile is not kept
    by school: nothing there moves)."""
    rows = session.execute(
        select(
            RollupSchool.rubric_version_id,
            RollupSchool.month,
            RollupSchool.criterion_id,
            RollupSchool.level,
            RollupSchool.count,
        ).where(RollupSchool.school_id == fact.old_id)
    ).all()
    if rows:
        session.execute(delete(RollupSchool).where(RollupSchool.school_id == fact.old_id))
        connection = session.connection()
        statement = _upsert(connection.dialect.name, RollupSchool)
        values = [(v, month, fact.into_id, c, level, n) for v, month, c, level, n in rows]
        executemany_plain(connection, statement, _KEY, values)
    # Per classroom too: the old school's classrooms are the other's now, and its walkthroughs of
    # no classroom (classroom 0) join the other's.
    per_classroom = session.execute(
        select(
            RollupClassroom.rubric_version_id,
            RollupClassroom.month,
            RollupClassroom.profile,
            RollupClassroom.classroom_id,
            RollupClassroom.criterion_id,
            RollupClassroom.level,
            RollupClassroom.count,
        ).where(RollupClassroom.school_id == fact.old_id)
    ).all()
    if per_classroom:
        session.execute(delete(RollupClassroom).where(RollupClassroom.school_id == fact.old_id))
        connection = session.connection()
        statement = _upsert(connection.dialect.name, RollupClassroom)
        moved = [
            (v, m, fact.into_id, p, room, c, lv, n) for v, m, p, room, c, lv, n in per_classroom
        ]
        executemany_plain(connection, statement, _CLASSROOM_KEY, moved)
    # Both schools' months changed: what reports keep of them is read afresh.
    stamp(
        session,
        [(v, month, school) for v, month, *_ in rows for school in (fact.old_id, fact.into_id)],
    )
    fact.moved["report rollup rows"] = len(rows)  # per school (the per-classroom ones follow)


_CLASSROOM_KEY = (
    "rubric_version_id",
    "month",
    "school_id",
    "profile",
    "classroom_id",
    "criterion_id",
    "level",
    "count",
)
