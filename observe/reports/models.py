"""Rollups: the summary report's counts kept current as walkthroughs arrive, so a district's
report reads thousands of rows instead of millions.

Two tables of rating counts per rubric version, month (UTC, "YYYY-MM"), look-for and level
(``NOT_OBSERVED`` for "not observed"), and one more key: the school (``rollup_school``), or the
classroom's *profile* (``rollup_profile``) — its grade, subject, course level, programs and
district attributes, shared by every classroom alike in all of them. A row with look-for
``VISITS`` counts walkthroughs. A third, ``rollup_classroom``, counts walkthroughs per
classroom, so that reports know how many distinct classrooms a group or month rests on.
Only walkthroughs that count in reports are in them (submitted, not deleted, not calibration
practice). ``rollup_state`` says whether they have been built.

Equity goals (``goal``) live here too: reports show progress toward them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import UTCDateTime, utcnow
from observe.extensions import Model

if TYPE_CHECKING:
    from observe.accounts.models import User
    from observe.roster.models import School
    from observe.rubrics.models import RubricVersion

NOT_OBSERVED = -1  # the level of a "not observed" rating
VISITS = 0  # the look-for of a walkthrough count


class RollupSchool(Model):
    __tablename__ = "rollup_school"

    rubric_version_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    school_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    criterion_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupProfile(Model):
    __tablename__ = "rollup_profile"

    rubric_version_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    profile: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" for whole school
    criterion_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupClassroom(Model):
    """Walkthroughs per rubric version, month and classroom (``classroom`` is the classroom's
    id, or minus the school's id for whole-school visits: the school is then the unit), with the
    classroom's school and profile: reports count the distinct classrooms behind a group or a
    month from it, and show none that rests on too few (``OBSERVE_MIN_CLASSROOMS``)."""

    __tablename__ = "rollup_classroom"

    rubric_version_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    classroom: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    school_id: Mapped[int] = mapped_column()
    profile: Mapped[str] = mapped_column(String(32))  # "" for whole school
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupState(Model):
    """One row once the rollups have been built from the walkthroughs, saying in which time
    zone's months: the rollups are counted afresh when the district's zone changes."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The zone's name and a digest of its rules (core.clock.rules).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")


class Goal(Model):
    """A measurable equity goal: a share of ratings at or above a level, for a look-for, a
    competency or an equity dimension, in the district or one school, by a deadline."""

    __tablename__ = "goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_version.id"))
    target_kind: Mapped[str] = mapped_column(String(20))  # criterion, competency, dimension
    target_key: Mapped[str] = mapped_column(String(100))
    at_least: Mapped[int] = mapped_column()
    target_share: Mapped[float] = mapped_column()  # 0 to 1
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rubric_version: Mapped[RubricVersion] = relationship()
    school: Mapped[School | None] = relationship()
    created_by: Mapped[User] = relationship()
