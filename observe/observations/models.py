"""Walkthrough observations and the ratings they hold.

An observation's id is a UUID made on the device that started it, so a retried upload is
recognised rather than stored twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import JSONDocument, UTCDateTime, utcnow
from observe.extensions import db

if TYPE_CHECKING:
    from observe.accounts.models import User
    from observe.roster.models import Classroom, School
    from observe.rubrics.models import Criterion, RubricVersion


class Observation(db.Model):
    __tablename__ = "observation"
    __table_args__ = (Index("ix_observation_school_observed", "school_id", "observed_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID from the device
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_version.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classroom.id"), index=True)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column()
    context: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship()
    rubric_version: Mapped[RubricVersion] = relationship()
    school: Mapped[School] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    ratings: Mapped[list[Rating]] = relationship(
        back_populates="observation", cascade="all, delete-orphan"
    )


class Rating(db.Model):
    """One criterion's rating in an observation: a level value, or "not observed"."""

    __tablename__ = "rating"

    observation_id: Mapped[str] = mapped_column(
        ForeignKey("observation.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criterion.id"), primary_key=True, index=True
    )
    level: Mapped[int | None] = mapped_column()  # None when not observed
    not_observed: Mapped[bool] = mapped_column(default=False)
    evidence: Mapped[str] = mapped_column(Text, default="")

    observation: Mapped[Observation] = relationship(back_populates="ratings")
    criterion: Mapped[Criterion] = relationship()
