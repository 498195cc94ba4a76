"""Calibration sessions: several observers score one lesson blind, then compare.

A session names the lesson (a classroom visit or a video), the rubric version, who takes part
and, optionally, an anchor rater whose scores are the reference. Participants score with the
ordinary walkthrough form; their observations carry the session's id. Until the facilitator
reveals, nobody sees anyone else's scores; the reveal records who had submitted, and when.
After it the team may record a consensus score per criterion, with its rationale.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Date, Enum, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import JSONDocument, UTCDateTime, utcnow
from observe.extensions import Model, db

if TYPE_CHECKING:
    from observe.accounts.models import User
    from observe.roster.models import Classroom, School
    from observe.rubrics.models import Criterion, RubricVersion


class SessionState(enum.StrEnum):
    SCORING = "scoring"  # participants score blind
    REVEALED = "revealed"  # scores are visible to the team; scoring is closed


calibration_participant = Table(
    "calibration_participant",
    db.metadata,
    Column(
        "session_id", ForeignKey("calibration_session.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class CalibrationSession(Model):
    __tablename__ = "calibration_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # Sessions of one team form its trend over months ("District equity team").
    team: Mapped[str] = mapped_column(String(120), default="", index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_version.id"))
    # The lesson: a classroom visited together, or a recording named by ``lesson_reference``.
    # Every session belongs to a school (a video's school, or the facilitator's).
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classroom.id"))
    lesson_reference: Mapped[str] = mapped_column(String(500), default="")
    held_on: Mapped[date] = mapped_column(Date)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    state: Mapped[SessionState] = mapped_column(
        Enum(
            SessionState,
            name="calibration_state",
            values_callable=lambda states: [s.value for s in states],
        ),
        default=SessionState.SCORING,
    )
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Who had submitted at the reveal, and when: [{user_id, observation_id, submitted_at}].
    reveal_record: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rubric_version: Mapped[RubricVersion] = relationship()
    school: Mapped[School] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    facilitator: Mapped[User] = relationship(foreign_keys=[facilitator_id])
    anchor: Mapped[User | None] = relationship(foreign_keys=[anchor_id])
    revealed_by: Mapped[User | None] = relationship(foreign_keys=[revealed_by_id])
    participants: Mapped[list[User]] = relationship(
        secondary=calibration_participant, order_by="User.name", lazy="selectin"
    )
    consensus: Mapped[list[ConsensusScore]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )

    @property
    def is_revealed(self) -> bool:
        return self.state is SessionState.REVEALED

    def has_participant(self, user_id: int) -> bool:
        return any(p.id == user_id for p in self.participants)


class ConsensusScore(Model):
    """The level the team agreed on for one criterion after the reveal, and why."""

    __tablename__ = "consensus_score"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"), primary_key=True)
    level: Mapped[int | None] = mapped_column()  # None when the team agreed "not observed"
    not_observed: Mapped[bool] = mapped_column(default=False)
    rationale: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[CalibrationSession] = relationship(back_populates="consensus")
    criterion: Mapped[Criterion] = relationship()


class CalibrationReminder(Model):
    """The last time a participant who had not scored was e-mailed a reminder: at most one
    an hour each (``sessions.remind``). Every reminder is in the audit log too."""

    __tablename__ = "calibration_reminder"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    reminded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reminded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))


class StoredRaterFit(Model):
    """The latest fit of the rater-effects model (``calibration/raters.py``) for one rubric
    version and level: what the summary's "adjusted for who observed" figures and the trends
    page's observer leans read. Refitted when stale (``reports/raters.py``), never on a push."""

    __tablename__ = "rater_fit"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_version_id: Mapped[int] = mapped_column(
        ForeignKey("rubric_version.id", ondelete="CASCADE"), index=True
    )
    at_least: Mapped[int] = mapped_column()  # the level whose share the leans are in
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The walkthroughs counted in reports when it was fitted (staleness is measured from it),
    # and those the fit rests on (of a classroom, by a linked observer, calibration included).
    walkthroughs_counted: Mapped[int] = mapped_column()
    walkthroughs_fitted: Mapped[int] = mapped_column()
    lessons: Mapped[int] = mapped_column()
    refused: Mapped[str | None] = mapped_column(Text)  # why there is no estimate
    sigma: Mapped[float] = mapped_column(default=0.0)
    tau_observer: Mapped[float] = mapped_column(default=0.0)
    tau_lesson: Mapped[float] = mapped_column(default=0.0)
    seconds: Mapped[float] = mapped_column(default=0.0)  # how long the fit took
    # Observers the fit could not estimate: [{user_id, walkthroughs, shared, reason}].
    left_out: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)

    leans: Mapped[list[ObserverLean]] = relationship(
        back_populates="fit", cascade="all, delete-orphan", passive_deletes=True
    )


class ObserverLean(Model):
    """One observer's estimated lean in a stored fit: + lenient, - severe, in share points."""

    __tablename__ = "rater_lean"

    fit_id: Mapped[int] = mapped_column(
        ForeignKey("rater_fit.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    lean: Mapped[float] = mapped_column()
    standard_error: Mapped[float] = mapped_column()
    walkthroughs: Mapped[int] = mapped_column()
    lessons: Mapped[int] = mapped_column()  # classrooms and calibration lessons
    shared: Mapped[int] = mapped_column()  # of which another observer rated too

    fit: Mapped[StoredRaterFit] = relationship(back_populates="leans")
