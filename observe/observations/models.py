"""Walkthrough observations, every version of them ever received, and their current ratings.

An observation's id and each version's id are UUIDs made on the device, so an upload that is
retried after a lost response is recognised rather than stored twice. Versions are append-only;
the observation row and its ratings mirror the current head version for reports.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import JSONDocument, UTCDateTime, utcnow
from observe.extensions import Model

if TYPE_CHECKING:
    from observe.accounts.models import User
    from observe.calibration.models import CalibrationSession
    from observe.roster.models import Classroom, School, Teacher
    from observe.rubrics.models import Criterion, RubricVersion


class ObservationState(enum.StrEnum):
    DRAFT = "draft"  # being written; kept on the server so a lost tablet loses nothing
    SUBMITTED = "submitted"  # counted in reports


class VersionOutcome(enum.StrEnum):
    APPLIED = "applied"
    CONFLICT = "conflict"


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_cls]


class Observation(Model):
    __tablename__ = "observation"
    __table_args__ = (
        Index("ix_observation_school_observed", "school_id", "observed_at"),
        # Exports read every walkthrough in date order: with this they need no sort.
        Index("ix_observation_observed", "observed_at", "id"),
        # The coverage report counts a period's visits per classroom from this index alone,
        # without reading a row (observe/reports/coverage.py; docs/benchmarks.md).
        Index(
            "ix_observation_visits",
            "observed_at",
            "classroom_id",
            "school_id",
            "state",
            "deleted_at",
            "calibration_session_id",
            "profile",  # the classroom's profile at the visit: coverage groups by it
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID from the device
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_version.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classroom.id"), index=True)
    # The classroom as it was at the visit (observe/roster/profiles.py), kept when a roster
    # import changes the classroom, so reports, exports and feedback tell the past as it was:
    # its profile's key ("" for a whole-school visit; resolve it with profiles.lookup) and its
    # teacher. Set when the walkthrough is first stored, and again only when an amendment
    # changes the classroom or `observe roster relabel` corrects them.
    profile: Mapped[str | None] = mapped_column(String(32))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teacher.id"), index=True)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column()
    context: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The observer's feedback for the teacher, from the review screen: what went well and one
    # next step (each at most sync.schemas.MAX_FEEDBACK characters). Empty when not written.
    strengths: Mapped[str] = mapped_column(Text, default="", server_default="")
    next_step: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The language the observer's app showed the rubric in (its head version says so): the
    # version's text in that language where the rubric translates it, else its default text.
    # None for walkthroughs from apps that did not say (they showed the default text).
    language: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[ObservationState] = mapped_column(
        Enum(ObservationState, name="observation_state", values_callable=_values),
        default=ObservationState.SUBMITTED,
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # The version the row and its ratings mirror. No foreign key: versions point at their
    # observation, and a cycle of foreign keys would complicate every insert and migration.
    head_version_id: Mapped[str | None] = mapped_column(String(36))
    # Two versions were made from the same base: both are kept; a person should look.
    has_conflict: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Scored as part of a calibration session: blind until the reveal, and left out of the
    # district's walkthrough figures (it is practice in seeing alike, not a visit).
    calibration_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("calibration_session.id"), index=True
    )

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    rubric_version: Mapped[RubricVersion] = relationship()
    school: Mapped[School] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    teacher: Mapped[Teacher | None] = relationship(foreign_keys=[teacher_id])
    ratings: Mapped[list[Rating]] = relationship(
        back_populates="observation", cascade="all, delete-orphan"
    )
    calibration_session: Mapped[CalibrationSession | None] = relationship()
    versions: Mapped[list[ObservationVersion]] = relationship(
        back_populates="observation", order_by="ObservationVersion.received_at"
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def counts_in_reports(self) -> bool:
        """Submitted, not deleted, and not a calibration score (practice, not a visit)."""
        return (
            self.state is ObservationState.SUBMITTED
            and self.deleted_at is None
            and self.calibration_session_id is None
        )


class Rating(Model):
    """One criterion's rating in an observation's head version: a level, or "not observed"."""

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


class ObservationVersion(Model):
    """One saved version of an observation as a device sent it. Never changed or deleted."""

    __tablename__ = "observation_version"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID from the device
    observation_id: Mapped[str] = mapped_column(ForeignKey("observation.id"), index=True)
    base_version_id: Mapped[str | None] = mapped_column(String(36))
    pushed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    device_id: Mapped[str] = mapped_column(String(100))
    app_version: Mapped[str] = mapped_column(String(40), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the device's clock
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    content_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[VersionOutcome] = mapped_column(
        Enum(VersionOutcome, name="version_outcome", values_callable=_values)
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    observation: Mapped[Observation] = relationship(back_populates="versions")


class RejectedVersion(Model):
    """A pushed version that was not stored, kept with its payload for a person to inspect."""

    __tablename__ = "rejected_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[str] = mapped_column(String(64), index=True)  # as sent, maybe malformed
    observation_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(100))
    app_version: Mapped[str] = mapped_column(String(40), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    code: Mapped[str] = mapped_column(String(40))
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSONDocument)
    payload: Mapped[Any] = mapped_column(JSONDocument)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeedbackSend(Model):
    """A walkthrough's feedback e-mailed to its teacher, with a signed link
    (``observations.sending``), and what the teacher did with it.

    The id is a UUID made on the device that asked, so a request replayed by the tablet's
    offline queue finds its row and sends no second e-mail. A row exists only for an e-mail
    the mail server accepted: a failed send is rolled back with it.
    """

    __tablename__ = "feedback_send"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    observation_id: Mapped[str] = mapped_column(ForeignKey("observation.id"), index=True)
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id"))
    # The address as it was when sent: the roster may change it later.
    sent_to: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Sent by the end of the second school day (Monday to Friday, on the district's clock) after the
    # visit's day: decided when sent, so the leaders' figure is a count, not a calendar walk.
    on_time: Mapped[bool] = mapped_column(default=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reflection: Mapped[str] = mapped_column(Text, default="")
    reflected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    observation: Mapped[Observation] = relationship()
    sent_by: Mapped[User] = relationship()
    teacher: Mapped[Teacher] = relationship()
