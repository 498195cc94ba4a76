"""Rollups: the summary report's counts kept current as walkthroughs arrive, so a district's
report reads thousands of rows instead of millions.

Two tables of rating counts per rubric version, month (UTC, "YYYY-MM"), look-for and level
(``NOT_OBSERVED`` for "not observed"), and one more key: the school (``rollup_school``), or the
classroom's *profile* (``rollup_profile``) — its grade, subject, course level, programs and
district attributes, shared by every classroom alike in all of them. A row with look-for
``VISITS`` counts walkthroughs. Only walkthroughs that count in reports are in them (submitted,
not deleted, not calibration practice). ``rollup_state`` says whether they have been built.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from observe.core.models import UTCDateTime
from observe.extensions import db

NOT_OBSERVED = -1  # the level of a "not observed" rating
VISITS = 0  # the look-for of a walkthrough count


class RollupSchool(db.Model):
    __tablename__ = "rollup_school"

    rubric_version_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    school_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    criterion_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupProfile(db.Model):
    __tablename__ = "rollup_profile"

    rubric_version_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    profile: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" for whole school
    criterion_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupState(db.Model):
    """One row once the rollups have been built from the walkthroughs."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())
