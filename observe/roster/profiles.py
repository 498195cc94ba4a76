"""A classroom's *profile*: what reports split classrooms by — grade, subject, course level,
programs and the district's own attributes — as one key, and every profile ever seen.

A walkthrough keeps the key of its classroom's profile on the day of the visit
(``Observation.profile``), so a roster import that relabels a classroom changes the future and
never the past (docs/roster-format.md, "History"). The keys resolve to their attributes through
``classroom_profile``, whose rows are never changed or deleted: :func:`lookup` is the one way to
read what a walkthrough's classroom was, and :func:`split_values` what a report's split makes of
it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, String, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, SessionTransaction, lazyload, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from observe.core import hooks
from observe.core.database import AnySession
from observe.extensions import Model
from observe.roster.models import Classroom, ClassroomAttribute, ClassroomProgram

# What a split by a classroom attribute calls a walkthrough with no classroom (a whole-school
# visit); the summary report's own word for it.
WHOLE_SCHOOL = "__whole_school__"


class ClassroomProfile(Model):
    """One profile, as it was when first seen. Never changed or deleted."""

    __tablename__ = "classroom_profile"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    grade: Mapped[str | None] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(100))
    course_level: Mapped[str | None] = mapped_column(String(40))
    programs: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [name, value] pairs, sorted.
    attributes: Mapped[list[list[str]]] = mapped_column(JSON, default=list)

    def value(self, by: str) -> tuple[Any, ...]:
        """The groups a report's split (``grade_band``'s raw grade, ``subject``,
        ``course_level``, ``program``, ``classroom:NAME``) puts this profile in: several
        programs make several groups, none makes one group of None."""
        if by == "program":
            return tuple(self.programs) or (None,)
        if by in ("grade", "grade_band"):
            return (self.grade,)
        if by in ("subject", "course_level"):
            return (getattr(self, by),)
        name = by.partition(":")[2]
        return (next((value for key, value in self.attributes if key == name), None),)


def facts_of(classroom: Classroom) -> dict[str, Any]:
    """A classroom's profile as plain values (the row of ``classroom_profile`` but its key)."""
    return {
        "grade": classroom.grade,
        "subject": classroom.subject,
        "course_level": classroom.course_level,
        "programs": sorted(p.program for p in classroom.programs),
        "attributes": sorted([a.name, a.value] for a in classroom.attributes),
    }


def key_of(facts: dict[str, Any]) -> str:
    """One key for alike classrooms. (Attributes as [name, value] lists or tuples alike: JSON
    writes both as arrays, so the keys the rollups made before this module are the same.)"""
    text = json.dumps(facts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def profile_of(classroom: Classroom) -> str:
    """The key of a classroom's profile as it is now."""
    return key_of(facts_of(classroom))


def remember(session: AnySession, classroom: Classroom | None) -> str:
    """The key of ``classroom``'s current profile, its row in ``classroom_profile`` made if it
    is new ("" for no classroom). Also keeps ``Classroom.profile`` current."""
    if classroom is None:
        return ""
    facts = facts_of(classroom)
    key = key_of(facts)
    if classroom.profile != key:
        classroom.profile = key
    known: set[str] = session.info.setdefault(_KNOWN, set())
    if key not in known:
        dialect = session.get_bind().dialect.name
        statement = (postgresql if dialect == "postgresql" else sqlite).insert(
            ClassroomProfile.__table__
        )
        # Two requests may meet the same new profile at once: the second inserts nothing.
        session.execute(
            statement.values(key=key, **facts).on_conflict_do_nothing(index_elements=["key"])
        )
        known.add(key)
    return key


_KNOWN = "observe.profiles_known"  # keys made or found in this transaction


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    # Any transaction's end, a savepoint's too: a rolled-back one may have taken a row with it.
    session.info.pop(_KNOWN, None)


def at_visit(session: AnySession, classroom_id: int | None) -> dict[str, Any]:
    """What a walkthrough keeps of its classroom as it is now: ``profile`` and ``teacher_id``.

    A classroom's kept key (``Classroom.profile``) is used when it has one: every roster import
    works them out afresh (:func:`refresh`), so a push reads no classroom's programs and
    attributes."""
    classroom = session.get(Classroom, classroom_id) if classroom_id is not None else None
    if classroom is None:
        return {"profile": "", "teacher_id": None}
    return {
        "profile": classroom.profile or remember(session, classroom),
        "teacher_id": classroom.teacher_id,
    }


def refresh(session: AnySession) -> bool:
    """Work out every classroom's current profile afresh, each new one remembered; whether a
    classroom that had one changed. Past walkthroughs keep theirs."""
    changed = False
    classrooms = session.scalars(
        select(Classroom).options(
            lazyload(Classroom.programs),
            lazyload(Classroom.attributes),
            lazyload(Classroom.teacher),
        )
    ).all()
    _load_collections(session, classrooms)
    for classroom in classrooms:
        before = classroom.profile
        changed = (remember(session, classroom) != before and before is not None) or changed
    return changed


def _load_collections(session: AnySession, classrooms: Sequence[Classroom]) -> None:
    """Attach the programs and attributes of the classrooms that lack them, one query per
    table (a roster import has attached them already; anything else reads them here)."""
    unloaded = [c for c in classrooms if {"programs", "attributes"} & inspect(c).unloaded]
    if not unloaded:
        return
    programs: dict[int, list[ClassroomProgram]] = defaultdict(list)
    for program in session.scalars(select(ClassroomProgram).order_by(ClassroomProgram.program)):
        programs[program.classroom_id].append(program)
    attributes: dict[int, list[ClassroomAttribute]] = defaultdict(list)
    for attribute in session.scalars(select(ClassroomAttribute).order_by(ClassroomAttribute.name)):
        attributes[attribute.classroom_id].append(attribute)
    for classroom in unloaded:
        state = inspect(classroom).unloaded
        if "programs" in state:
            set_committed_value(classroom, "programs", programs.get(classroom.id, []))
        if "attributes" in state:
            set_committed_value(classroom, "attributes", attributes.get(classroom.id, []))


@hooks.classrooms_changed.connect
def _classrooms_changed(session: AnySession, fact: hooks.Nothing) -> None:
    """A roster import changed classrooms: new walkthroughs take their profiles as they are."""
    refresh(session)


def lookup(session: AnySession, keys: Iterable[str] | None = None) -> dict[str, ClassroomProfile]:
    """Profile keys → their attributes (every profile when ``keys`` is None). A key that is
    "" (a whole-school visit) or unknown is absent."""
    statement = select(ClassroomProfile)
    if keys is not None:
        wanted = sorted({k for k in keys if k})
        if not wanted:
            return {}
        statement = statement.where(ClassroomProfile.key.in_(wanted))
    return {p.key: p for p in session.scalars(statement)}


def split_values(
    session: AnySession, by: str, whole: Any = WHOLE_SCHOOL
) -> Callable[[str | None], tuple[Any, ...]]:
    """A walkthrough's profile key → the groups a split by a classroom attribute puts it in
    (``whole`` for a walkthrough with no classroom). Reads every profile once."""
    known = lookup(session)

    def value(key: str | None) -> tuple[Any, ...]:
        found = known.get(key) if key else None
        return (whole,) if found is None else found.value(by)

    return value
