"""Schools, teachers and classrooms (sections), with the attributes reports disaggregate by.

The common attributes are columns; programs and a district's own attributes are rows in narrow
tables, so a report can group or filter by any of them in SQL instead of parsing text.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import UTCDateTime, utcnow
from observe.extensions import Model


class School(Model):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The district's own code (or the OneRoster org sourcedId): the key re-imports match on.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(40))  # elementary, middle, high, …
    region: Mapped[str | None] = mapped_column(String(100))
    title_i: Mapped[bool | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    classrooms: Mapped[list[Classroom]] = relationship(
        back_populates="school", order_by="Classroom.name"
    )
    attributes: Mapped[list[SchoolAttribute]] = relationship(
        cascade="all, delete-orphan", order_by="SchoolAttribute.name", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<School {self.code}>"


class SchoolAttribute(Model):
    """A district-defined attribute of a school (e.g. ``feeder_pattern``)."""

    __tablename__ = "school_attribute"

    school_id: Mapped[int] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    value: Mapped[str] = mapped_column(String(200))


class Teacher(Model):
    __tablename__ = "teacher"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))


class Classroom(Model):
    """A class section: one teacher's group of students in one school."""

    __tablename__ = "classroom"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teacher.id"), index=True)
    grade: Mapped[str | None] = mapped_column(String(40))  # "K", "3", "9-12"
    subject: Mapped[str | None] = mapped_column(String(100))
    course_level: Mapped[str | None] = mapped_column(String(40))  # general, honors, AP, …
    # Whether the course level was guessed from the course title (a OneRoster bundle without
    # metadata.course_level): a later guess may replace a guess, never a recorded level.
    course_level_inferred: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    students: Mapped[int | None] = mapped_column()  # enrolled students, when the roster says
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # What reports split classrooms by, as one key (observe/reports/rollups.py); kept by it.
    profile: Mapped[str | None] = mapped_column(String(32), index=True)

    school: Mapped[School] = relationship(back_populates="classrooms")
    teacher: Mapped[Teacher | None] = relationship(lazy="joined")
    programs: Mapped[list[ClassroomProgram]] = relationship(
        cascade="all, delete-orphan", order_by="ClassroomProgram.program", lazy="selectin"
    )
    attributes: Mapped[list[ClassroomAttribute]] = relationship(
        cascade="all, delete-orphan", order_by="ClassroomAttribute.name", lazy="selectin"
    )

    @property
    def program_names(self) -> list[str]:
        return [p.program for p in self.programs]

    def __repr__(self) -> str:
        return f"<Classroom {self.external_id}>"


class ClassroomProgram(Model):
    """A program a section belongs to (English learners, special-education inclusion, …)."""

    __tablename__ = "classroom_program"

    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classroom.id", ondelete="CASCADE"), primary_key=True
    )
    program: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class ClassroomAttribute(Model):
    """A district-defined attribute of a section (e.g. ``period``, ``co_taught``)."""

    __tablename__ = "classroom_attribute"

    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classroom.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    value: Mapped[str] = mapped_column(String(200))


class SchoolMerge(Model):
    """A school closed into another (``observe roster merge OLD INTO``). The old school's row is
    gone, but tablets that held it still name it by its id in drafts and amendments they have
    not pushed yet: the push follows this record to the school it became, so they are accepted.
    Once that school is merged in turn, every record pointing at it is re-pointed, so one
    look-up always reaches a school that exists."""

    __tablename__ = "school_merge"

    old_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    old_code: Mapped[str] = mapped_column(String(64))
    old_name: Mapped[str] = mapped_column(String(200))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


SCHOOL_YEAR = "schoolYear"
# OneRoster's session types: a school year, and the parts of one.
TERM_KINDS = ("term", "semester", "gradingPeriod")


class AcademicSession(Model):
    """A school year, or a term within one (a term, semester or grading period: OneRoster's
    academic sessions), with its first and last day. Reports pick the current year's dates by
    default; a year is *closed* once its goals are frozen (observe/reports/years.py)."""

    __tablename__ = "academic_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # OneRoster's sourcedId, the key re-imports match on; None for a year added by command.
    sourced_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # schoolYear, term, semester, gradingPeriod
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # the last day, included
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("academic_session.id", ondelete="CASCADE"), index=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    parent: Mapped[AcademicSession | None] = relationship(
        remote_side=[id], back_populates="children"
    )
    children: Mapped[list[AcademicSession]] = relationship(
        back_populates="parent", order_by="AcademicSession.start_date"
    )

    @property
    def is_year(self) -> bool:
        return self.kind == SCHOOL_YEAR

    def __repr__(self) -> str:
        return f"<AcademicSession {self.kind} {self.title}>"
