"""Rollups: the summary report's counts kept current as walkthroughs arrive, so a district's
report reads thousands of rows instead of millions.

Three tables of rating counts per rubric version, month (UTC, "YYYY-MM"), look-for and level
(``NOT_OBSERVED`` for "not observed"), and one more key: the school (``rollup_school``), the
classroom's *profile* (``rollup_profile``) — its grade, subject, course level, programs and
district attributes, shared by every classroom alike in all of them — or the school and the
classroom itself (``rollup_classroom``, for the clustered intervals). A row with look-for
``VISITS`` counts walkthroughs. Only walkthroughs that count in reports are in them (submitted,
not deleted, not calibration practice). ``rollup_state`` says whether they have been built.

Equity goals (``goal``) live here too: reports show progress toward them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import JSONDocument, UTCDateTime, utcnow
from observe.extensions import Model

if TYPE_CHECKING:
    from observe.accounts.models import User
    from observe.roster.models import School
    from observe.rubrics.models import RubricVersion

NOT_OBSERVED = -1  # the level of a "not observed" rating
VISITS = 0  # the look-for of a walkthrough count


class RollupSchool(Model):
    __tablename__ = "rollup_school"
    # The walkthrough counts alone, for the walkthroughs per rubric (revisions.default_version)
    # and per version (the rater fit's staleness); queries name the look-for as the literal
    # ``SCHOOL_VISITS_ONLY``, as for rollup_classroom's index below.
    __table_args__ = (
        Index(
            "ix_rollup_school_visits", "rubric_version_id", "school_id", "month", "count",
            sqlite_where=text("criterion_id = 0"), postgresql_where=text("criterion_id = 0"),
        ),
    )  # fmt: skip

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
    """Rating counts per classroom: what the summary's clustered intervals and gap tests rest
    on (a share's variance comes from each classroom's totals, see reports/uncertainty.py).
    ``classroom_id`` 0 is the school's walkthroughs of no classroom, one cluster per school.
    Kept under the classroom profile of each visit too, so a split by a classroom attribute
    reads the walkthroughs as they were (observe/roster/profiles.py)."""

    __tablename__ = "rollup_classroom"
    # The walkthrough counts alone (a twenty-fifth of the rows), for counting distinct
    # classrooms per group and month without reading every look-for's levels. Queries name the
    # look-for as the literal ``VISITS_ONLY`` so that both databases know the index applies.
    __table_args__ = (
        Index(
            "ix_rollup_classroom_visits",
            "rubric_version_id", "month", "school_id", "profile", "classroom_id", "count",
            sqlite_where=text("criterion_id = 0"),
            postgresql_where=text("criterion_id = 0"),
        ),
    )  # fmt: skip

    rubric_version_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    school_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    profile: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" for whole school
    classroom_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    criterion_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupStamp(Model):
    """How often each school's month of rollups has changed, per rubric version: a report keeps
    what it read of them in memory (reports/cache.py) and asks only this table whether that is
    still current. Every write to the rollups adds one here in the same transaction; a build
    starts every (version, month, school) with walkthroughs at 0."""

    __tablename__ = "rollup_stamp"

    rubric_version_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    school_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    serial: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupState(Model):
    """One row once the rollups have been built from the walkthroughs, saying in which time
    zone's months: the rollups are counted afresh when the district's zone changes."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The zone's name and a digest of its rules (core.clock.rules).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Drawn afresh by every build: what a report kept in memory of an earlier build, or of
    # another database, never passes for this one's (reports/cache.py).
    token: Mapped[str] = mapped_column(String(32), default="", server_default="")


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
    # Set when its school year is closed: the goal's result as it stood then (status, the
    # deciding figure, month by month), shown from here on and never counted again, so a
    # later roster import or re-rating does not change a closed year's goals.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    # The goal it was carried from, when a new year's goals were started from last year's.
    carried_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal.id", ondelete="SET NULL"), index=True
    )

    rubric_version: Mapped[RubricVersion] = relationship()
    school: Mapped[School | None] = relationship()
    created_by: Mapped[User] = relationship()


# rollup_classroom's walkthrough-count rows, written as SQL text so that the partial index on
# them (``ix_rollup_classroom_visits``) is seen to apply: a bound parameter would hide it.
VISITS_ONLY = text(f"rollup_classroom.criterion_id = {VISITS}")
SCHOOL_VISITS_ONLY = text(f"rollup_school.criterion_id = {VISITS}")
