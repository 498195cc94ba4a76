"""Writing an imported roster. Functions flush; the caller (a CLI command) commits.

An import is all or nothing: every file is read and checked before the first row is written,
and one bad row anywhere stops the whole import. Rows are matched by their external ids
(``School.code``, ``Teacher.external_id``, ``Classroom.external_id``), so importing the same
files twice changes nothing the second time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from observe.audit import operations as audit
from observe.core import hooks
from observe.errors import ProblemList, ValidationFailed, plural
from observe.extensions import db
from observe.roster.importers import ClassroomRecord, Roster, SchoolRecord, read_roster
from observe.roster.models import (
    Classroom,
    ClassroomAttribute,
    ClassroomProgram,
    School,
    SchoolAttribute,
    SchoolMerge,
    Teacher,
)
from observe.roster.years import SessionsWritten, check_sessions, write_sessions


class RosterImportError(ProblemList):
    """The roster files have problems; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        message = f"The roster was not imported: {plural(len(problems), 'problem')} found."
        super().__init__(message, problems)


@dataclass
class ImportSummary:
    schools_created: int = 0
    schools_updated: int = 0
    schools_unchanged: int = 0
    teachers_created: int = 0
    teachers_updated: int = 0
    teachers_unchanged: int = 0
    classrooms_created: int = 0
    classrooms_updated: int = 0
    classrooms_unchanged: int = 0
    # Classes whose course level was guessed from the course title (OneRoster carries none).
    course_levels_inferred: int = 0
    # School years and terms (OneRoster academicSessions.csv).
    sessions: SessionsWritten | None = None

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sessions"}

    def lines(self) -> list[str]:
        """The summary as people read it, one line per kind of row."""
        lines = [
            f"{kind.capitalize()}: {getattr(self, kind + '_created')} created, "
            f"{getattr(self, kind + '_updated')} updated, "
            f"{getattr(self, kind + '_unchanged')} unchanged"
            for kind in ("schools", "teachers", "classrooms")
        ]
        if self.sessions:
            lines.append(
                f"School years and terms: {self.sessions.created} created, "
                f"{self.sessions.updated} updated, {self.sessions.unchanged} unchanged"
            )
        if self.course_levels_inferred:
            lines.append(
                f"Course level inferred from the course title for {self.course_levels_inferred} "
                "classroom(s); give metadata.course_level to set it."
            )
        return lines


def import_roster(
    paths: Iterable[Path], accept_moves: bool = False, accept_blanks: bool = False
) -> ImportSummary:
    """Check every file in ``paths``, then create or update schools, teachers and classrooms.

    Raises :class:`RosterImportError` listing every problem, having written nothing, when any
    row anywhere is bad. Rows the files do not mention are left as they are. A school whose
    classrooms would all move to a school the files create looks recoded (see
    :func:`recoded_schools`): nothing is imported unless ``accept_moves``. Files that would
    blank a classroom's stored value, or replace a recorded course level by one guessed from
    the course title, are refused the same way unless ``accept_blanks`` (see
    :func:`lost_values`): reports split walkthroughs by those values.
    """
    known_codes = set(db.session.scalars(select(School.code)))
    roster = read_roster(list(paths), known_codes)
    if roster.problems:
        raise RosterImportError(roster.problems)
    if roster.sessions and (problems := check_sessions(roster.sessions)):
        raise RosterImportError(problems)
    if not accept_moves and (recodes := recoded_schools(roster, known_codes)):
        raise RosterImportError(
            [
                f"{plural(count, 'classroom')} of {old} in these files would all move to the new "
                f"school {new}, and the files do not list {old}: if the school was recoded, run "
                f"`observe roster recode {old} {new}` first, so that its "
                "walkthroughs, people and goals follow; to import the new school anyway, "
                "import again with --accept-moves"
                for old, new, count in recodes
            ]
        )
    summary = write_roster(roster, accept_blanks=accept_blanks)
    if roster.sessions:
        summary.sessions = write_sessions(roster.sessions)
    return summary


def recoded_schools(roster: Roster, known_codes: set[str]) -> list[tuple[str, str, int]]:
    """Schools the roster seems to recode: every stored classroom of a school that the files
    mention moves to one school code that is not stored yet, and the files do not list the old
    school. (old code,
    new code, classrooms the files move), by old code."""
    if not {record.school_code for record in roster.classrooms.values()} - known_codes:
        return []  # every classroom is in a stored school: nothing can be a recode
    moving: dict[str, set[str]] = defaultdict(set)
    rows = db.session.execute(
        select(Classroom.external_id, School.code)
        .join(School, Classroom.school_id == School.id)
        .where(Classroom.active)
    )
    stored: dict[str, str] = {row[0]: row[1] for row in rows}
    mentioned: dict[str, int] = defaultdict(int)
    for record in roster.classrooms.values():
        before = stored.get(record.external_id)
        if before is not None:
            moving[before].add(record.school_code)
            mentioned[before] += 1
    found = []
    for old, targets in sorted(moving.items()):
        (new, *others) = sorted(targets)
        # Every classroom of the old school that the files mention goes to one new code, and the
        # files do not list the old school itself: that is a recode, not a school that opened.
        if others or new == old or new in known_codes or old in roster.schools:
            continue
        found.append((old, new, mentioned[old]))
    return found


def recode_school(old_code: str, new_code: str) -> School:
    """Give a school a new code (a district renumbering it, a new state code). Everything that
    belongs to the school — classrooms, walkthroughs, people's assignments, goals, calibration
    sessions — points at the school, not at its code, so all of it follows; tablets learn the
    new code at their next pull. Every problem is reported at once and nothing changes on
    error; the new code must not belong to a school already."""
    old_code, new_code = old_code.strip(), new_code.strip()
    problems: list[str] = []
    school = db.session.scalar(select(School).where(School.code == old_code))
    if school is None:
        problems.append(f"there is no school with code {old_code!r}")
    if not new_code:
        problems.append("the new code is empty")
    elif len(new_code) > 64:
        problems.append("the new code is longer than 64 characters")
    elif new_code == old_code:
        problems.append(f"{old_code} already has that code")
    elif other := db.session.scalar(select(School).where(School.code == new_code)):
        problems.append(
            f"{new_code} is already the code of {other.name}; a code belongs to one school "
            f"(if {old_code} is closing into {other.name}, run "
            f"`observe roster merge {old_code} {new_code}`)"
        )
    if problems:
        raise ValidationFailed("; ".join(problems), details={"code": problems})
    assert school is not None
    school.code = new_code
    db.session.flush()
    hooks.school_changed.send(db.session, hooks.Entity(school.id))
    audit.record(
        "roster.recoded",
        object_type="school",
        object_id=school.id,
        detail={"from": old_code, "to": new_code, "name": school.name},
    )
    return school


@dataclass
class MergeResult:
    """What merging one school into another moved (for the preview, or after it)."""

    old_code: str
    old_name: str
    into: School
    moved: dict[str, int]
    notes: list[str]

    def lines(self) -> list[str]:
        return [f"{what}: {count}" for what, count in self.moved.items()] + self.notes


def merge_schools(old_code: str, into_code: str) -> MergeResult:
    """Close school ``old_code`` into ``into_code`` (the district closed one school into
    another, or a recode lands on a code that exists): its classrooms, walkthroughs, people's
    assignments, goals, calibration sessions and report rollups become the other school's — it
    is the same school now, so its history follows — and the old school is removed. A
    :class:`~observe.roster.models.SchoolMerge` keeps its id, so drafts that tablets still
    hold for it are accepted into the other school. Every problem is reported at once and
    nothing changes on error. Run it in a transaction the caller may roll back: that is the
    preview (the counts are what the merge moved)."""
    old_code, into_code = old_code.strip(), into_code.strip()
    problems: list[str] = []
    old = db.session.scalar(select(School).where(School.code == old_code)) if old_code else None
    into = db.session.scalar(select(School).where(School.code == into_code)) if into_code else None
    for code, school, which in ((old_code, old, "school to close"), (into_code, into, "school")):
        if not code:
            problems.append(f"the code of the {which} is empty")
        elif school is None:
            problems.append(f"there is no school with code {code!r}")
    if old is not None and old is into:
        problems.append(f"{old_code} cannot be merged into itself")
    if problems:
        raise ValidationFailed("; ".join(problems), details={"code": problems})
    assert old is not None and into is not None
    old_id, old_name = old.id, old.name
    moved: dict[str, int] = {}
    classrooms = list(old.classrooms)
    for classroom in classrooms:
        classroom.school = into
    moved["classrooms"] = len(classrooms)
    # Records of schools merged into the old one before now point at the one it becomes.
    for earlier in db.session.scalars(select(SchoolMerge).where(SchoolMerge.school_id == old_id)):
        earlier.school_id = into.id
    db.session.add(
        SchoolMerge(old_id=old_id, old_code=old.code, old_name=old_name, school_id=into.id)
    )
    db.session.flush()
    fact = hooks.SchoolsMerged(old_id=old_id, into_id=into.id, moved=moved, notes=[])
    hooks.schools_merged.send(db.session, fact)
    db.session.flush()
    db.session.delete(old)
    db.session.flush()
    db.session.expire(into, ["classrooms"])
    hooks.school_changed.send(db.session, hooks.Entity(into.id))
    audit.record(
        "roster.merged",
        object_type="school",
        object_id=into.id,
        detail={
            "from": old_code,
            "from_name": old_name,
            "into": into.code,
            "into_name": into.name,
            "moved": dict(moved),
        },
    )
    return MergeResult(old_code, old_name, into, moved, fact.notes)


def write_roster(roster: Roster, accept_blanks: bool = True) -> ImportSummary:
    """Upsert a roster that :func:`read_roster` found no problem in. Unless ``accept_blanks``,
    raise :class:`RosterImportError` (the caller rolls back) when it would lose stored values."""
    summary = ImportSummary(course_levels_inferred=roster.course_levels_inferred)
    touched: set[str] = set()
    schools = _upsert_schools(roster, summary, touched)
    teachers = _upsert_teachers(roster, summary)
    # New schools and teachers need their ids before classrooms can point at them.
    db.session.flush()
    _upsert_classrooms(roster, schools, teachers, summary, touched, accept_blanks)
    db.session.flush()
    # Reports split classrooms by their attributes, which an import may change: once the
    # report's rollups exist, they are counted afresh when a classroom's changed.
    hooks.classrooms_changed.send(db.session, hooks.NOTHING)
    # Devices hold their schools' rosters offline; each changed school reaches them by pull.
    for code in sorted(touched):
        hooks.school_changed.send(db.session, hooks.Entity(schools[code].id))
    audit.record("roster.imported", detail=summary.as_dict())
    return summary


def _upsert_schools(roster: Roster, summary: ImportSummary, touched: set[str]) -> dict[str, School]:
    # Every school, not only the imported ones: classrooms may name any stored school.
    schools = {school.code: school for school in db.session.scalars(select(School))}
    for record in roster.schools.values():
        school = schools.get(record.code)
        if school is None:
            school = School(code=record.code, name=record.name)
            db.session.add(school)
            schools[record.code] = school
            _apply_school(school, record)
            summary.schools_created += 1
            touched.add(record.code)
        elif _apply_school(school, record):
            summary.schools_updated += 1
            touched.add(record.code)
        else:
            summary.schools_unchanged += 1
    return schools


def _apply_school(school: School, record: SchoolRecord) -> bool:
    changed = _set(school, "name", record.name)
    for name in ("level", "region", "title_i"):
        if name in record.given:
            changed |= _set(school, name, getattr(record, name))
    changed |= _replace_rows(
        school.attributes,
        {row.name: row for row in school.attributes if row.name in record.attribute_names},
        record.attributes,
        lambda name, value: SchoolAttribute(name=name, value=value),
    )
    return changed


def _upsert_teachers(roster: Roster, summary: ImportSummary) -> dict[str, Teacher]:
    teachers = {t.external_id: t for t in db.session.scalars(select(Teacher))}
    for record in roster.teachers.values():
        teacher = teachers.get(record.external_id)
        if teacher is None:
            teacher = Teacher(external_id=record.external_id, name=record.name, email=record.email)
            db.session.add(teacher)
            teachers[record.external_id] = teacher
            summary.teachers_created += 1
            continue
        changed = _set(teacher, "name", record.name)
        # A roster that names a teacher without an email does not erase the one on file.
        if record.email:
            changed |= _set(teacher, "email", record.email)
        if changed:
            summary.teachers_updated += 1
        else:
            summary.teachers_unchanged += 1
    return teachers


def _upsert_classrooms(
    roster: Roster,
    schools: dict[str, School],
    teachers: dict[str, Teacher],
    summary: ImportSummary,
    touched: set[str],
    accept_blanks: bool = True,
) -> None:
    # One query per table: the classrooms with their programs and attributes loaded in bulk
    # and attached by hand, instead of a lazy load (or a selectin batch) per classroom.
    existing = {
        c.external_id: c
        for c in db.session.scalars(
            select(Classroom).options(
                lazyload(Classroom.programs),
                lazyload(Classroom.attributes),
                lazyload(Classroom.teacher),
            )
        )
    }
    programs: dict[int, list[ClassroomProgram]] = defaultdict(list)
    for program in db.session.scalars(select(ClassroomProgram).order_by(ClassroomProgram.program)):
        programs[program.classroom_id].append(program)
    attributes: dict[int, list[ClassroomAttribute]] = defaultdict(list)
    for attribute in db.session.scalars(
        select(ClassroomAttribute).order_by(ClassroomAttribute.name)
    ):
        attributes[attribute.classroom_id].append(attribute)
    for classroom in existing.values():
        set_committed_value(classroom, "programs", programs.get(classroom.id, []))
        set_committed_value(classroom, "attributes", attributes.get(classroom.id, []))
    if not accept_blanks and (lost := lost_values(roster, existing)):
        raise RosterImportError(lost)

    for record in roster.classrooms.values():
        school = schools[record.school_code]
        teacher = teachers[record.teacher_id] if record.teacher_id else None
        found = existing.get(record.external_id)
        if found is None:
            classroom = Classroom(
                external_id=record.external_id, school_id=school.id, name=record.name
            )
            set_committed_value(classroom, "programs", [])
            set_committed_value(classroom, "attributes", [])
            db.session.add(classroom)
            _apply_classroom(classroom, record, school, teacher)
            summary.classrooms_created += 1
            touched.add(record.school_code)
        else:
            before = found.school_id
            if not _apply_classroom(found, record, school, teacher):
                summary.classrooms_unchanged += 1
                continue
            summary.classrooms_updated += 1
            touched.add(record.school_code)
            if before != school.id:  # the school it left: devices must drop it there
                touched.update(code for code, s in schools.items() if s.id == before)


_BLANKABLE = ("grade", "subject", "course_level", "students")


def lost_values(roster: Roster, existing: Mapping[str, Classroom]) -> list[str]:
    """What importing ``roster`` would lose, one line per field: stored values a blank cell
    (or a missing program or attribute) would clear, and recorded course levels a guess from
    the course title would replace. Reports split walkthroughs by these values, so a SIS
    export that lost a column would otherwise move visits into "not recorded" silently."""
    blanked: dict[str, list[str]] = defaultdict(list)
    guessed: list[str] = []
    for record in roster.classrooms.values():
        classroom = existing.get(record.external_id)
        if classroom is None or not record.active:
            continue  # new, or being retired: nothing reports split by is lost
        for name in _BLANKABLE:
            before = getattr(classroom, name)
            if (
                name in record.given
                and before not in (None, "")
                and getattr(record, name)
                in (
                    None,
                    "",
                )
            ):
                blanked[name].append(record.external_id)
        if (
            record.course_level_inferred
            and classroom.course_level
            and not classroom.course_level_inferred  # a guess may replace a guess
            and record.course_level != classroom.course_level
        ):
            guessed.append(record.external_id)
        if "teacher" in record.given and classroom.teacher_id and not record.teacher_id:
            blanked["teacher"].append(record.external_id)
        if "programs" in record.given and classroom.programs and not record.programs:
            blanked["programs"].append(record.external_id)
        for row in classroom.attributes:
            if row.name in record.attribute_names and not record.attributes.get(row.name):
                blanked[row.name].append(record.external_id)
    lines = [
        f"{name}: {plural(len(ids), 'classroom')} that "
        f"{'has' if len(ids) == 1 else 'have'} a value would be left blank "
        f"({_some(ids)}); import with --accept-blanks if that is what you mean"
        for name, ids in sorted(blanked.items())
    ]
    if guessed:
        lines.append(
            f"course_level: {plural(len(guessed), 'classroom')} would have their recorded course "
            f"level replaced by one guessed from the course title ({_some(guessed)}); give "
            "metadata.course_level in the files, or import with --accept-blanks to take the "
            "guesses"
        )
    return lines


def _some(ids: list[str], shown: int = 3) -> str:
    listed = ", ".join(sorted(ids)[:shown])
    return listed + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def _apply_classroom(
    classroom: Classroom, record: ClassroomRecord, school: School, teacher: Teacher | None
) -> bool:
    changed = _set(classroom, "name", record.name) | _set(classroom, "school_id", school.id)
    if "teacher" in record.given:
        changed |= _set(classroom, "teacher_id", teacher.id if teacher else None)
    for name in ("grade", "subject", "course_level", "students", "active"):
        if name in record.given:
            changed |= _set(classroom, name, getattr(record, name))
    if "course_level" in record.given:
        changed |= _set(classroom, "course_level_inferred", record.course_level_inferred)
    if "programs" in record.given:
        changed |= _replace_rows(
            classroom.programs,
            {row.program: row for row in classroom.programs},
            dict.fromkeys(record.programs, ""),
            lambda program, _: ClassroomProgram(program=program),
        )
    changed |= _replace_rows(
        classroom.attributes,
        {row.name: row for row in classroom.attributes if row.name in record.attribute_names},
        record.attributes,
        lambda name, value: ClassroomAttribute(name=name, value=value),
    )
    return changed


def _set(obj: object, name: str, value: object) -> bool:
    if getattr(obj, name) == value:
        return False
    setattr(obj, name, value)
    return True


_Row = TypeVar("_Row", SchoolAttribute, ClassroomAttribute, ClassroomProgram)


def _replace_rows(
    collection: list[_Row],
    current: Mapping[str, _Row],
    wanted: Mapping[str, str],
    make: Callable[[str, str], _Row],
) -> bool:
    """Make a child collection match ``wanted`` (key → value), touching only what differs
    (a program is its name alone: it has no value to change).

    Rows are removed, changed or added one key at a time: deleting and re-inserting a row with
    the same primary key in one flush would make the unit of work issue both for one row.
    """
    changed = False
    for key, row in current.items():
        if key not in wanted:
            collection.remove(row)
            changed = True
        elif not isinstance(row, ClassroomProgram) and row.value != wanted[key]:
            row.value = wanted[key]
            changed = True
    for key, value in wanted.items():
        if key not in current:
            collection.append(make(key, value))
            changed = True
    return changed
