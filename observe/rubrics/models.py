"""Rubrics and their immutable versions.

A rubric file is parsed, validated and stored as a :class:`RubricVersion` identified by the
SHA-256 of its canonical content. Competencies and criteria are also stored as rows, so
reports can group ratings by competency, criterion kind and equity dimension in SQL.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import JSONDocument, UTCDateTime, utcnow
from observe.extensions import Model


class EquityDimension(enum.StrEnum):
    IDENTITY = "identity"
    POWER = "power"
    ACCESS = "access"
    ACHIEVEMENT = "achievement"


class CriterionKind(enum.StrEnum):
    STUDENT = "student"
    ADULT = "adult"


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_cls]


class Rubric(Model):
    """A rubric as a district names it (its ``key``), across all its versions."""

    __tablename__ = "rubric"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[RubricVersion]] = relationship(
        back_populates="rubric", order_by="RubricVersion.number"
    )

    @property
    def latest(self) -> RubricVersion:
        return self.versions[-1]

    @property
    def current(self) -> RubricVersion | None:
        """The version new walkthroughs use: the latest not retired (None: all are)."""
        return next((v for v in reversed(self.versions) if not v.retired), None)


class RubricVersion(Model):
    """One stored version of a rubric. Never changes once written."""

    __tablename__ = "rubric_version"
    __table_args__ = (UniqueConstraint("rubric_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubric.id"), index=True)
    number: Mapped[int] = mapped_column()  # 1, 2, 3… within its rubric
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # the validated rubric
    source_name: Mapped[str] = mapped_column(String(255))  # the file it was loaded from
    source_text: Mapped[str] = mapped_column(Text)  # that file's text, as loaded
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rubric: Mapped[Rubric] = relationship(back_populates="versions")
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="rubric_version", order_by="Competency.position"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="rubric_version", order_by="Criterion.position", viewonly=True
    )

    # Viewonly: a retirement is its own row, added and deleted as such, so that a stored
    # version (which refuses every update) is never marked changed by it.
    retirement: Mapped[RubricRetirement | None] = relationship(viewonly=True, lazy="selectin")

    @property
    def label(self) -> str:
        return f"{self.title} (v{self.number})"

    @property
    def retired(self) -> bool:
        return self.retirement is not None


@event.listens_for(RubricVersion, "before_update")
def _refuse_rubric_version_update(mapper: Any, connection: Any, target: RubricVersion) -> None:
    raise ValueError(
        f"rubric version {target.id} is immutable; load an edited file as a new version"
    )


class RubricRetirement(Model):
    """A version the district retired: tablets no longer offer it for new walkthroughs, while
    drafts and amendments on it are still accepted. Deleting the row brings it back."""

    __tablename__ = "rubric_retirement"

    rubric_version_id: Mapped[int] = mapped_column(
        ForeignKey("rubric_version.id"), primary_key=True, autoincrement=False
    )
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who retired it; None from the command line.
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Competency(Model):
    """A graduate-portrait competency (e.g. "Critical thinker") within one rubric version."""

    __tablename__ = "competency"
    __table_args__ = (UniqueConstraint("rubric_version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_version.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column()

    rubric_version: Mapped[RubricVersion] = relationship(back_populates="competencies")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="competency", order_by="Criterion.position"
    )


class Criterion(Model):
    """A look-for. ``levels`` holds its effective scale: value, label and descriptor."""

    __tablename__ = "criterion"
    __table_args__ = (UniqueConstraint("rubric_version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_version.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[CriterionKind] = mapped_column(
        Enum(CriterionKind, name="criterion_kind", values_callable=_values)
    )
    position: Mapped[int] = mapped_column()  # order within the whole rubric
    allows_not_observed: Mapped[bool] = mapped_column()
    # The file's ``required: true``: a submitted walkthrough must rate it (or mark it not
    # observed, where allowed). False for every version loaded before the key existed.
    required: Mapped[bool] = mapped_column(default=False, server_default=false())
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)

    rubric_version: Mapped[RubricVersion] = relationship(back_populates="criteria")
    competency: Mapped[Competency] = relationship(back_populates="criteria")
    dimensions: Mapped[list[CriterionDimension]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CriterionDimension.dimension"
    )

    @property
    def dimension_names(self) -> list[str]:
        return [d.dimension.value for d in self.dimensions]


class CriterionDimension(Model):
    """An equity dimension a criterion serves."""

    __tablename__ = "criterion_dimension"

    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[EquityDimension] = mapped_column(
        Enum(EquityDimension, name="equity_dimension", values_callable=_values),
        primary_key=True,
        index=True,
    )
