"""Reading roster files: observe's own simple CSV layout and OneRoster 1.1 CSV bundles.

Pure: files in, a normalised :class:`Roster` out, with every problem found listed in
``Roster.problems``. Nothing here touches the database; the caller passes the school codes the
database already holds, so a classrooms file may refer to schools imported earlier.

The layouts, the rules for normalising values and every check are described for districts in
``docs/roster-format.md``; keep the two in step.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from observe.roster import academic_sessions
from observe.roster.academic_sessions import SessionRecord

# Column limits of the roster tables: checked here so a long value is a clear problem on its
# line instead of a database error (PostgreSQL refuses it) or silent truncation.
MAX_LENGTH = {
    "code": 64,
    "external_id": 128,
    "name": 200,
    "level": 40,
    "region": 100,
    "grade": 40,
    "subject": 100,
    "course_level": 40,
    "email": 254,
    "program": 100,
    "attribute_name": 64,
    "attribute_value": 200,
}

SCHOOL_COLUMNS = ("school_code", "name", "level", "region", "title_i")
SCHOOL_REQUIRED = ("school_code", "name")
CLASSROOM_COLUMNS = (
    "classroom_id",
    "school_code",
    "name",
    "teacher_id",
    "teacher_name",
    "teacher_email",
    "grade",
    "subject",
    "course_level",
    "programs",
    "students",
    "active",
)
CLASSROOM_REQUIRED = ("classroom_id", "school_code", "name")
# Columns that only a classrooms file has: a header with any of them is a classrooms file even
# when its classroom_id column is missing or misspelt, so the problem named is the right one.
_CLASSROOM_SIGNS = set(CLASSROOM_COLUMNS) - set(SCHOOL_COLUMNS)

ONEROSTER_FILES = {
    "manifest.csv",
    "orgs.csv",
    "courses.csv",
    "classes.csv",
    "users.csv",
    "enrollments.csv",
    "academicsessions.csv",
    "demographics.csv",
}
ONEROSTER_REQUIRED_FILES = ("orgs.csv", "courses.csv", "classes.csv")
METADATA = "metadata."

_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KNOWN_CODES_SHOWN = 6
_PROBLEM_PLACE = re.compile(r"^(.*?)(?: line (\d+))?: ")

# The district's words are kept, but the usual spellings of the common levels are folded into
# one so a report does not show "AP" and "ap" as two groups.
_COURSE_LEVEL_SPELLINGS = {
    "general": "general",
    "regular": "general",
    "honors": "honors",
    "honours": "honors",
    "ap": "AP",
    "advanced placement": "AP",
    "ib": "IB",
    "international baccalaureate": "IB",
}
_INFER_RULES = (
    (re.compile(r"\bpre[- ]?(ap|ib)\b", re.IGNORECASE), "honors"),
    (re.compile(r"\bAP\b|\badvanced placement\b", re.IGNORECASE), "AP"),
    (re.compile(r"\bIB\b|\binternational baccalaureate\b", re.IGNORECASE), "IB"),
    (re.compile(r"\b(honors|honours|hon|hnrs)\b", re.IGNORECASE), "honors"),
)
# OneRoster grade codes in school order, so a class's list of grades can be shown as a range.
_GRADE_ORDER = ["IT", "PR", "PK", "TK", "K", *[str(n) for n in range(1, 14)]]


# ---------------------------------------------------------------------------------------------
# The normalised roster


@dataclass
class SchoolRecord:
    code: str
    name: str
    level: str | None = None
    region: str | None = None
    title_i: bool | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    # The fields and attributes this source speaks for. A column a file does not have leaves
    # the stored value alone; a column it has but leaves blank clears it.
    given: frozenset[str] = frozenset()
    attribute_names: frozenset[str] = frozenset()
    where: str = ""


@dataclass
class TeacherRecord:
    external_id: str
    name: str
    email: str | None = None
    where: str = ""


@dataclass
class ClassroomRecord:
    external_id: str
    school_code: str
    name: str
    teacher_id: str | None = None
    grade: str | None = None
    subject: str | None = None
    course_level: str | None = None
    students: int | None = None
    active: bool = True
    programs: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    course_level_inferred: bool = False
    given: frozenset[str] = frozenset()
    attribute_names: frozenset[str] = frozenset()
    where: str = ""


@dataclass
class Roster:
    schools: dict[str, SchoolRecord] = field(default_factory=dict)
    teachers: dict[str, TeacherRecord] = field(default_factory=dict)
    classrooms: dict[str, ClassroomRecord] = field(default_factory=dict)
    # School years and terms (OneRoster academicSessions.csv); checked against the stored ones
    # when written (observe/roster/years.py).
    sessions: list[SessionRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def course_levels_inferred(self) -> int:
        return sum(1 for c in self.classrooms.values() if c.course_level_inferred)


# ---------------------------------------------------------------------------------------------
# Public entry points


def read_roster(paths: Iterable[Path], known_school_codes: Collection[str] = ()) -> Roster:
    """Read every file, folder and zip in ``paths`` into one roster, checking all of it.

    ``known_school_codes`` are the schools already stored: a classrooms file may name them.
    The result's ``problems`` lists every bad row found; when it is not empty, nothing in the
    roster should be written.
    """
    builder = _Builder()
    for path in paths:
        _read_path(Path(path), builder)
    builder.check_school_codes(set(known_school_codes))
    builder.sort_problems()
    return builder.roster


def infer_course_level(title: str) -> str:
    """The course level a course title implies: AP, IB, honors, or general.

    Pre-AP and Pre-IB courses count as honors (they are the advanced track before AP and IB).
    """
    for pattern, level in _INFER_RULES:
        if pattern.search(title):
            return level
    return "general"


def normalise_course_level(text: str) -> str | None:
    """Trim a district's course level, folding the usual spellings of the common ones."""
    words = " ".join(text.split())
    if not words:
        return None
    return _COURSE_LEVEL_SPELLINGS.get(words.lower(), words)


def parse_yes_no(text: str) -> bool | None:
    """yes/no, true/false, y/n, 1/0 in any case; blank is ``None``. Raises ``ValueError``."""
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(text)


def split_programs(text: str) -> list[str]:
    """Programs separated by ``;``, trimmed, without blanks or repeats (ignoring case)."""
    programs: list[str] = []
    seen: set[str] = set()
    for part in text.split(";"):
        program = " ".join(part.split())
        if program and program.casefold() not in seen:
            seen.add(program.casefold())
            programs.append(program)
    return programs


def oneroster_grades(text: str) -> str | None:
    """OneRoster's comma-separated grade codes as one label: "09,10,11,12" → "9-12"."""
    codes = []
    for part in text.split(","):
        code = part.strip().upper()
        if not code:
            continue
        if code.isdigit():
            code = str(int(code))
        elif code == "KG":
            code = "K"
        codes.append(code)
    if not codes:
        return None
    if len(codes) == 1:
        return codes[0]
    if all(code in _GRADE_ORDER for code in codes):
        positions = sorted({_GRADE_ORDER.index(code) for code in codes})
        if positions == list(range(positions[0], positions[-1] + 1)):
            return f"{_GRADE_ORDER[positions[0]]}-{_GRADE_ORDER[positions[-1]]}"
    return ", ".join(codes)


# ---------------------------------------------------------------------------------------------
# Files, folders and zips


def _read_path(path: Path, builder: _Builder) -> None:
    if path.is_dir():
        csvs = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if not csvs:
            builder.problem(f"{builder.name_of(path)}: the folder holds no CSV files")
        elif sum(_too_large(p, builder) for p in csvs):
            return  # each is named; nothing of the folder is read
        elif any(p.name.lower() in ONEROSTER_FILES for p in csvs):
            files = {p.name.lower(): p.read_bytes() for p in csvs}
            _read_oneroster(builder.name_of(path), files, builder)
        else:
            for csv_path in csvs:
                _read_simple(builder.name_of(csv_path), csv_path.read_bytes(), builder)
    elif not path.exists():
        builder.problem(f"{path}: no such file or folder")
    elif path.suffix.lower() == ".zip":
        members = _zip_members(path, builder)
        if members is not None:
            _read_oneroster(builder.name_of(path), members, builder)
    elif _too_large(path, builder):
        pass
    else:
        _read_simple(builder.name_of(path), path.read_bytes(), builder)


# A district's largest roster file (enrollments) is tens of megabytes and CSV compresses
# perhaps tenfold; a "zip bomb" expands a few kilobytes into gigabytes.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, checked beyond the first megabyte
_RATIO_FREE = 1024 * 1024


def _too_large(path: Path, builder: _Builder) -> bool:
    """Whether a file is over :data:`MAX_MEMBER_BYTES`, named as a problem if so."""
    if (size := path.stat().st_size) <= MAX_MEMBER_BYTES:
        return False
    builder.problem(
        f"{builder.name_of(path)}: {size:,} bytes is more than a roster file can be "
        f"({MAX_MEMBER_BYTES // (1024 * 1024)} MiB)"
    )
    return True


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, room: int) -> bytes | str:
    """A zip member's bytes, read a piece at a time (the sizes a zip declares can lie), or
    what is wrong with it. ``room`` is what the zip's members may still expand to together."""
    chunks, total = [], 0
    with archive.open(info) as member:
        while chunk := member.read(1024 * 1024):
            total += len(chunk)
            if total > room:
                return (
                    f"the zip's CSV files expand to more than {MAX_MEMBER_BYTES // (1024 * 1024)} "
                    "MiB together; not read"
                )
            if total > _RATIO_FREE and total > MAX_RATIO * max(info.compress_size, 1):
                return (
                    f"expands more than {MAX_RATIO} times its compressed size, as no roster "
                    "file does; not read"
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _zip_members(path: Path, builder: _Builder) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            members: dict[str, bytes] = {}
            used = 0
            for info in archive.infolist():
                member = PurePosixPath(info.filename)
                # SIS exports sometimes wrap the files in a folder; macOS adds __MACOSX copies.
                if info.is_dir() or "__MACOSX" in member.parts or member.suffix.lower() != ".csv":
                    continue
                data = _read_member(archive, info, MAX_MEMBER_BYTES - used)
                if isinstance(data, str):
                    builder.problem(f"{builder.name_of(path)}: {info.filename}: {data}")
                    return None
                used += len(data)
                members[member.name.lower()] = data
            return members
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError):
        builder.problem(f"{builder.name_of(path)}: not a readable zip file")
        return None


@dataclass
class _Table:
    """One CSV file: its normalised header and a one-pass iterator over its rows."""

    name: str
    header: list[str]
    text: str
    builder: _Builder
    # Excel writes empty cells out to the widest column anyone ever typed in, header included;
    # those unnamed columns are dropped when they stay empty.
    raw_width: int = 0

    def rows(self) -> Iterator[tuple[str, dict[str, str]]]:
        """Yield ``(where, values)`` per data row; ``where`` is "file line N"."""
        reader = csv.reader(io.StringIO(self.text, newline=""))
        width = len(self.header)
        try:
            next(reader)
            line = reader.line_num + 1
            for row in reader:
                where = f"{self.name} line {line}"
                line = reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue  # Excel leaves rows of empty cells at the end of a sheet
                if len(row) == self.raw_width > width:
                    if any(cell.strip() for cell in row[width:]):
                        self.builder.problem(f"{where}: a value is in a column without a name")
                        continue
                    row = row[:width]
                if len(row) != width:
                    self.builder.problem(
                        f"{where}: {len(row)} values but the header has {self.raw_width} columns"
                    )
                    continue
                yield where, {col: cell.strip() for col, cell in zip(self.header, row, strict=True)}
        except csv.Error as error:
            self.builder.problem(f"{self.name} line {reader.line_num}: not valid CSV ({error})")


def _open_table(name: str, data: bytes, builder: _Builder) -> _Table | None:
    builder.opened(name)
    try:
        # utf-8-sig drops the byte-order mark Excel writes at the start of "CSV UTF-8" files.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        builder.problem(
            f"{name}: not UTF-8 text (byte 0x{data[error.start]:02x} at line {line}); "
            "save it as UTF-8 CSV"
        )
        return None
    if "\x00" in text:
        # PostgreSQL stores no NUL in text; a CSV never has one (a spreadsheet's own format does).
        line = text[: text.index("\x00")].count("\n") + 1
        builder.problem(
            f"{name} line {line}: holds a NUL character, which no CSV file has (is it a "
            "spreadsheet saved in its own format?); save it as UTF-8 CSV"
        )
        return None
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error as error:
        builder.problem(f"{name} line 1: not valid CSV ({error})")
        return None
    if not header or not any(cell.strip() for cell in header):
        builder.problem(f"{name}: the file is empty; the first line must name the columns")
        return None
    raw_width = len(header)
    columns = [_column_name(cell) for cell in header]
    while columns and not columns[-1]:
        columns.pop()
    repeated = {c for c in columns if c and columns.count(c) > 1}
    blank = [str(i + 1) for i, c in enumerate(columns) if not c]
    if repeated:
        builder.problem(
            f"{name} line 1: column {', '.join(sorted(repeated))} appears more than once"
        )
    if blank:
        builder.problem(f"{name} line 1: column {', '.join(blank)} has no name")
    if repeated or blank:
        return None
    return _Table(name, columns, text, builder, raw_width)


def _column_name(cell: str) -> str:
    return re.sub(r"\s+", "_", cell.strip().lower())


def _missing(table: _Table, required: Iterable[str]) -> list[str]:
    return [column for column in required if column not in table.header]


# ---------------------------------------------------------------------------------------------
# observe's simple CSV layout


def _read_simple(name: str, data: bytes, builder: _Builder) -> None:
    table = _open_table(name, data, builder)
    if table is None:
        return
    columns = set(table.header)
    if "classroom_id" in columns or columns & _CLASSROOM_SIGNS:
        missing = _missing(table, CLASSROOM_REQUIRED)
        if missing:
            builder.problem(
                f"{name} line 1: missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (a classrooms file needs {', '.join(CLASSROOM_REQUIRED)})"
            )
            return
        _read_simple_classrooms(table, builder)
    elif "school_code" in columns:
        missing = _missing(table, SCHOOL_REQUIRED)
        if missing:
            builder.problem(
                f"{name} line 1: missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (a schools file needs {', '.join(SCHOOL_REQUIRED)})"
            )
            return
        _read_simple_schools(table, builder)
    elif "sourcedid" in columns:
        builder.problem(
            f"{name} line 1: this looks like one file of a OneRoster bundle; "
            "import the folder or .zip that holds the whole bundle"
        )
    else:
        builder.problem(
            f"{name} line 1: the header matches no known layout; a schools file needs the "
            f"columns {', '.join(SCHOOL_REQUIRED)}, a classrooms file "
            f"{', '.join(CLASSROOM_REQUIRED)} (see docs/roster-format.md)"
        )


def _read_simple_schools(table: _Table, builder: _Builder) -> None:
    extra = [c for c in table.header if c not in SCHOOL_COLUMNS]
    given = frozenset({"name"} | {c for c in ("level", "region", "title_i") if c in table.header})
    if not _attribute_names_fit(table, extra, builder):
        return
    for where, row in table.rows():
        check = _RowCheck(where, builder)
        code = check.required(row, "school_code", "code")
        builder.claim(check, "school", "school_code", code)
        name = check.required(row, "name", "name")
        level = check.optional(row, "level", "level")
        school = SchoolRecord(
            code=code,
            name=name,
            level=level.lower() if level else None,
            region=check.optional(row, "region", "region"),
            title_i=check.yes_no(row, "title_i"),
            attributes=check.attributes(row, extra),
            given=given,
            attribute_names=frozenset(extra),
            where=where,
        )
        if check.ok:
            builder.add_school(school)


def _read_simple_classrooms(table: _Table, builder: _Builder) -> None:
    extra = [c for c in table.header if c not in CLASSROOM_COLUMNS]
    given = frozenset(
        {"name", "school"}
        | {
            {"teacher_id": "teacher"}.get(c, c)
            for c in ("teacher_id", "grade", "subject", "course_level", "programs", "students")
            if c in table.header
        }
        | ({"active"} if "active" in table.header else set())
    )
    if not _attribute_names_fit(table, extra, builder):
        return
    for where, row in table.rows():
        check = _RowCheck(where, builder)
        external_id = check.required(row, "classroom_id", "external_id")
        builder.claim(check, "classroom", "classroom_id", external_id)
        school_code = check.required(row, "school_code", "code")
        name = check.required(row, "name", "name")
        teacher = check.teacher(row)
        students = check.whole_number(row, "students")
        active = check.yes_no(row, "active")
        programs = split_programs(row.get("programs", ""))
        check.programs(programs)
        classroom = ClassroomRecord(
            external_id=external_id,
            school_code=school_code,
            name=name,
            teacher_id=teacher.external_id if teacher else None,
            grade=check.optional(row, "grade", "grade"),
            subject=check.optional(row, "subject", "subject"),
            course_level=check.course_level(row.get("course_level", "")),
            students=students,
            active=active is not False,
            programs=programs,
            attributes=check.attributes(row, extra),
            given=given,
            attribute_names=frozenset(extra),
            where=where,
        )
        if not check.ok:
            continue
        if teacher is not None and not builder.add_teacher(teacher):
            continue
        builder.add_classroom(classroom, school_checked=False)


def _attribute_names_fit(table: _Table, names: list[str], builder: _Builder) -> bool:
    too_long = [n for n in names if len(n) > MAX_LENGTH["attribute_name"]]
    for column in too_long:
        builder.problem(
            f"{table.name} line 1: column name {column[:20]}… is longer than "
            f"{MAX_LENGTH['attribute_name']} characters"
        )
    return not too_long


class _RowCheck:
    """Reads one row's values, recording each problem on the row's line."""

    def __init__(self, where: str, builder: _Builder) -> None:
        self.where = where
        self.builder = builder
        self.ok = True

    def fail(self, message: str) -> None:
        self.ok = False
        self.builder.problem(f"{self.where}: {message}")

    def fits(self, column: str, value: str, limit: str) -> str:
        if len(value) > MAX_LENGTH[limit]:
            self.fail(f"{column} is longer than {MAX_LENGTH[limit]} characters")
        return value

    def required(self, row: dict[str, str], column: str, limit: str) -> str:
        value = row.get(column, "")
        if not value:
            self.fail(f"{column} is empty")
        return self.fits(column, value, limit)

    def optional(self, row: dict[str, str], column: str, limit: str) -> str | None:
        return self.fits(column, row.get(column, ""), limit) or None

    def yes_no(self, row: dict[str, str], column: str) -> bool | None:
        try:
            return parse_yes_no(row.get(column, ""))
        except ValueError:
            self.fail(f'{column} "{row[column]}" is not yes, no, true, false, 1 or 0 (or blank)')
            return None

    def whole_number(self, row: dict[str, str], column: str) -> int | None:
        value = row.get(column, "")
        if not value:
            return None
        if not value.isdigit():
            self.fail(f'{column} "{value}" is not a whole number')
            return None
        return int(value)

    def course_level(self, text: str) -> str | None:
        level = normalise_course_level(text)
        if level:
            self.fits("course_level", level, "course_level")
        return level

    def programs(self, programs: list[str]) -> None:
        for program in programs:
            if len(program) > MAX_LENGTH["program"]:
                self.fail(
                    f'program "{program[:30]}…" is longer than {MAX_LENGTH["program"]} characters'
                )

    def email(self, value: str, column: str) -> str | None:
        email = value.strip().lower()
        if not email:
            return None
        if not _EMAIL.match(email):
            self.fail(f'{column} "{value}" is not an email address')
        return self.fits(column, email, "email")

    def attributes(self, row: dict[str, str], names: Iterable[str]) -> dict[str, str]:
        attributes = {}
        for name in names:
            value = row.get(name, "")
            if value:
                attributes[name] = self.fits(name, value, "attribute_value")
        return attributes

    def teacher(self, row: dict[str, str]) -> TeacherRecord | None:
        teacher_id = self.fits("teacher_id", row.get("teacher_id", ""), "external_id")
        name = self.fits("teacher_name", row.get("teacher_name", ""), "name")
        email = self.email(row.get("teacher_email", ""), "teacher_email")
        if not teacher_id:
            if name or email:
                self.fail("teacher_name or teacher_email is given but teacher_id is empty")
            return None
        if not name:
            self.fail(f'teacher_name is empty for teacher_id "{teacher_id}"')
        return TeacherRecord(teacher_id, name, email, self.where)


# ---------------------------------------------------------------------------------------------
# OneRoster 1.1 CSV bundles


@dataclass
class _Course:
    title: str
    grades: str
    subjects: str
    metadata: dict[str, str]


@dataclass
class _Class:
    record: ClassroomRecord
    teachers: list[tuple[bool, str]] = field(default_factory=list)  # (primary, user id)
    students: set[str] = field(default_factory=set)


def _read_oneroster(bundle: str, files: dict[str, bytes], builder: _Builder) -> None:
    missing = [name for name in ONEROSTER_REQUIRED_FILES if name not in files]
    if missing:
        builder.problem(
            f"{bundle}: missing {', '.join(missing)} (a OneRoster bundle needs "
            f"{', '.join(ONEROSTER_REQUIRED_FILES)}; users.csv and enrollments.csv add teachers "
            "and student counts)"
        )
        return
    if "enrollments.csv" in files and "users.csv" not in files:
        builder.problem(f"{bundle}: enrollments.csv is there but users.csv is missing")
        return
    tables: dict[str, _Table] = {}
    required_columns = {
        "orgs.csv": ("sourcedid", "name", "type"),
        "courses.csv": ("sourcedid", "title"),
        "classes.csv": ("sourcedid", "title", "coursesourcedid", "schoolsourcedid"),
        "users.csv": ("sourcedid", "role", "givenname", "familyname"),
        "enrollments.csv": ("classsourcedid", "usersourcedid", "role"),
    }
    for file_name, required in required_columns.items():
        if file_name not in files:
            continue
        table = _open_table(f"{bundle}/{file_name}", files[file_name], builder)
        if table is None:
            continue
        missing_columns = _missing(table, required)
        if missing_columns:
            builder.problem(
                f"{table.name} line 1: missing required column"
                f"{'s' if len(missing_columns) > 1 else ''} {', '.join(missing_columns)}"
            )
            continue
        tables[file_name] = table
    if len(tables) < len([f for f in required_columns if f in files]):
        return  # a file that cannot be read makes every reference into it meaningless

    if "academicsessions.csv" in files:
        name = f"{bundle}/academicSessions.csv"
        _oneroster_sessions(name, files["academicsessions.csv"], builder)
    school_codes, other_orgs = _oneroster_orgs(tables["orgs.csv"], builder)
    courses = _oneroster_courses(tables["courses.csv"], builder)
    teachers, departed = (
        _oneroster_teachers(tables["users.csv"], builder) if "users.csv" in tables else ({}, set())
    )
    classes = _oneroster_classes(
        tables["classes.csv"],
        courses,
        {c[len(METADATA) :] for c in tables["courses.csv"].header if c.startswith(METADATA)},
        school_codes,
        other_orgs,
        "enrollments.csv" in tables,
    )
    if "enrollments.csv" in tables:
        _oneroster_enrollments(tables["enrollments.csv"], classes, teachers, departed, builder)

    for teacher in teachers.values():
        builder.add_teacher(teacher)
    for entry in classes.values():
        if entry is None:
            continue
        record = entry.record
        if "enrollments.csv" in tables:
            record.students = len(entry.students)
            primary = [user for is_primary, user in entry.teachers if is_primary]
            chosen = primary or [user for _, user in entry.teachers]
            record.teacher_id = chosen[0] if chosen else None
        builder.add_classroom(record, school_checked=True)


def _oneroster_sessions(name: str, data: bytes, builder: _Builder) -> None:
    table = _open_table(name, data, builder)
    if table is None:
        return
    missing = _missing(table, academic_sessions.REQUIRED_COLUMNS)
    if missing:
        names = [academic_sessions.COLUMN[column] for column in missing]
        builder.problem(
            f"{name} line 1: missing required column{'s' if len(names) > 1 else ''} "
            f"{', '.join(names)}"
        )
        return
    builder.roster.sessions = academic_sessions.read_rows(table.rows(), builder.problem)


def _metadata(row: dict[str, str]) -> dict[str, str]:
    return {
        column[len(METADATA) :]: value
        for column, value in row.items()
        if column.startswith(METADATA) and value
    }


def _oneroster_orgs(table: _Table, builder: _Builder) -> tuple[set[str], dict[str, str]]:
    columns = {c[len(METADATA) :] for c in table.header if c.startswith(METADATA)}
    attribute_names = sorted(columns - {"level", "region", "title_i"})
    given = {"name"} | (columns & {"level", "region", "title_i"})
    if not _attribute_names_fit(table, attribute_names, builder):
        return set(), {}
    schools: set[str] = set()
    others: dict[str, str] = {}
    for where, row in table.rows():
        kind = row.get("type", "").lower()
        if kind != "school":
            if row.get("sourcedid"):
                others[row["sourcedid"]] = kind or "org without a type"
            continue
        check = _RowCheck(where, builder)
        code = check.required(row, "sourcedid", "code")
        builder.claim(check, "school", "school", code)
        name = check.required(row, "name", "name")
        level = check.optional(row, "metadata.level", "level")
        school = SchoolRecord(
            code=code,
            name=name,
            level=level.lower() if level else None,
            region=check.optional(row, "metadata.region", "region"),
            title_i=check.yes_no(row, "metadata.title_i"),
            attributes=check.attributes(
                {name: row.get(METADATA + name, "") for name in attribute_names}, attribute_names
            ),
            given=frozenset(given),
            attribute_names=frozenset(attribute_names),
            where=where,
        )
        if check.ok:
            builder.add_school(school)
        # Classes may name the school even when its own row is bad: report only the row.
        schools.add(code)
    return schools, others


def _oneroster_courses(table: _Table, builder: _Builder) -> dict[str, _Course]:
    courses: dict[str, _Course] = {}
    first_seen: dict[str, str] = {}
    for where, row in table.rows():
        check = _RowCheck(where, builder)
        sourced_id = check.required(row, "sourcedid", "external_id")
        title = check.required(row, "title", "name")
        if sourced_id in first_seen:
            check.fail(f'duplicate course "{sourced_id}" (also at {first_seen[sourced_id]})')
            continue
        if sourced_id:
            first_seen[sourced_id] = where
        courses[sourced_id] = _Course(
            title, row.get("grades", ""), row.get("subjects", ""), _metadata(row)
        )
    return courses


def _oneroster_teachers(
    table: _Table, builder: _Builder
) -> tuple[dict[str, TeacherRecord], set[str]]:
    """Teachers only. Students are never kept: walkthroughs are read in aggregate."""
    teachers: dict[str, TeacherRecord] = {}
    departed: set[str] = set()
    first_seen: dict[str, str] = {}
    for where, row in table.rows():
        if row.get("role", "").lower() != "teacher":
            continue
        if row.get("status", "").lower() == "tobedeleted":
            departed.add(row.get("sourcedid", ""))
            continue
        check = _RowCheck(where, builder)
        sourced_id = check.required(row, "sourcedid", "external_id")
        name = " ".join(part for part in (row.get("givenname"), row.get("familyname")) if part)
        if not name:
            check.fail("givenName and familyName are both empty")
        check.fits("name", name, "name")
        email = check.email(row.get("email", ""), "email")
        first = first_seen.setdefault(sourced_id, where) if sourced_id else where
        if first != where:
            check.fail(f'duplicate user "{sourced_id}" (also at {first})')
        if check.ok:
            teachers[sourced_id] = TeacherRecord(sourced_id, name, email, where)
        else:
            departed.add(sourced_id)  # reported here; enrollments naming them are not
    return teachers, departed


def _oneroster_classes(
    table: _Table,
    courses: dict[str, _Course],
    course_metadata: set[str],
    school_codes: set[str],
    other_orgs: dict[str, str],
    has_enrollments: bool,
) -> dict[str, _Class | None]:
    builder = table.builder
    class_metadata = {c[len(METADATA) :] for c in table.header if c.startswith(METADATA)}
    metadata_names = class_metadata | course_metadata
    attribute_names = frozenset(metadata_names - {"course_level", "programs"})
    given = {"name", "school", "grade", "subject", "course_level", "active"}
    if "programs" in metadata_names:
        given.add("programs")
    if has_enrollments:
        given |= {"teacher", "students"}
    if not _attribute_names_fit(table, sorted(metadata_names), builder):
        return {}

    # None marks a class whose row was bad: enrollments naming it are not reported again.
    classes: dict[str, _Class | None] = {}
    for where, row in table.rows():
        check = _RowCheck(where, builder)
        sourced_id = check.required(row, "sourcedid", "external_id")
        builder.claim(check, "classroom", "class", sourced_id)
        title = check.required(row, "title", "name")
        course_id = check.required(row, "coursesourcedid", "external_id")
        school_code = check.required(row, "schoolsourcedid", "code")
        course = courses.get(course_id)
        if course_id and course is None:
            check.fail(f'course "{course_id}" is not in courses.csv')
        if school_code and school_code not in school_codes:
            if school_code in other_orgs:
                check.fail(
                    f'org "{school_code}" is a {other_orgs[school_code]} in orgs.csv, not a school'
                )
            else:
                check.fail(f'school "{school_code}" is not in orgs.csv')
        if sourced_id in classes:
            continue  # a duplicate, reported by claim(); enrollments go to the first
        metadata = {**(course.metadata if course else {}), **_metadata(row)}
        level_text = metadata.pop("course_level", "")
        programs = split_programs(metadata.pop("programs", ""))
        check.programs(programs)
        level = check.course_level(level_text)
        inferred = level is None
        if inferred:
            level = infer_course_level(course.title if course else title)
        grade = oneroster_grades(row.get("grades", "") or (course.grades if course else ""))
        subject = ", ".join(
            s.strip()
            for s in (row.get("subjects", "") or (course.subjects if course else "")).split(",")
            if s.strip()
        )
        record = ClassroomRecord(
            external_id=sourced_id,
            school_code=school_code,
            name=title,
            grade=check.fits("grades", grade or "", "grade") or None,
            subject=check.fits("subjects", subject, "subject") or None,
            course_level=level,
            active=row.get("status", "").lower() != "tobedeleted",
            programs=programs,
            attributes=check.attributes(metadata, sorted(metadata)),
            course_level_inferred=inferred,
            given=frozenset(given),
            attribute_names=attribute_names,
            where=where,
        )
        classes[sourced_id] = _Class(record) if check.ok else None
    return classes


def _oneroster_enrollments(
    table: _Table,
    classes: dict[str, _Class | None],
    teachers: dict[str, TeacherRecord],
    departed: set[str],
    builder: _Builder,
) -> None:
    for where, row in table.rows():
        if row.get("status", "").lower() == "tobedeleted":
            continue
        role = row.get("role", "").lower()
        if role not in ("teacher", "student"):
            continue  # aides, administrators, proctors: not a section's teacher
        check = _RowCheck(where, builder)
        class_id = check.required(row, "classsourcedid", "external_id")
        user_id = check.required(row, "usersourcedid", "external_id")
        if not check.ok:
            continue
        if class_id not in classes:
            check.fail(f'class "{class_id}" is not in classes.csv')
            continue
        entry = classes[class_id]
        if role == "teacher":
            if user_id in departed:
                continue
            if user_id not in teachers:
                check.fail(f'teacher "{user_id}" is not a teacher in users.csv')
                continue
            if entry is not None:
                primary = row.get("primary", "").lower() == "true"
                entry.teachers.append((primary, user_id))
        elif entry is not None:
            entry.students.add(user_id)


# ---------------------------------------------------------------------------------------------
# Collecting records from every source, with the checks that span files


class _Builder:
    def __init__(self) -> None:
        self.roster = Roster()
        self._emails: dict[str, TeacherRecord] = {}
        self._unchecked_schools: list[ClassroomRecord] = []
        self._claimed: dict[tuple[str, str], _RowCheck] = {}
        self._names: dict[str, Path] = {}
        self._file_order: dict[str, int] = {}

    def opened(self, name: str) -> None:
        self._file_order.setdefault(name, len(self._file_order))

    def name_of(self, path: Path) -> str:
        """How messages name a file: its name, or its whole path when two share a name."""
        first = self._names.setdefault(path.name, path)
        return path.name if first == path else str(path)

    def problem(self, message: str) -> None:
        self.roster.problems.append(message)

    def sort_problems(self) -> None:
        """Order problems by file (in the order read), then line, as a person fixes them."""
        files = self._file_order

        def key(message: str) -> tuple[int, int]:
            match = _PROBLEM_PLACE.match(message)
            if match is None:
                return len(files), 0
            return files.get(match.group(1), len(files)), int(match.group(2) or 0)

        self.roster.problems.sort(key=key)

    def claim(self, check: _RowCheck, kind: str, label: str, external_id: str) -> None:
        """Record that ``check``'s row defines ``external_id``; a second definition is a problem.

        Rows are claimed whether or not they are otherwise good, so a duplicate of a bad row
        is reported in the same run and not only after the first is fixed.
        """
        if not external_id:
            return
        first = self._claimed.setdefault((kind, external_id), check)
        if first is not check:
            check.fail(f'duplicate {label} "{external_id}" (also at {first.where})')

    def add_school(self, school: SchoolRecord) -> None:
        self.roster.schools[school.code] = school

    def add_teacher(self, teacher: TeacherRecord) -> bool:
        first = self.roster.teachers.get(teacher.external_id)
        if first is not None:
            if first.name != teacher.name:
                self.problem(
                    f'{teacher.where}: teacher "{teacher.external_id}" is named "{teacher.name}" '
                    f'here but "{first.name}" at {first.where}'
                )
                return False
            if teacher.email and first.email and teacher.email != first.email:
                self.problem(
                    f'{teacher.where}: teacher "{teacher.external_id}" has email '
                    f'"{teacher.email}" here but "{first.email}" at {first.where}'
                )
                return False
            if first.email or not teacher.email:
                return True
        if teacher.email:
            owner = self._emails.get(teacher.email)
            if owner is not None and owner.external_id != teacher.external_id:
                self.problem(
                    f'{teacher.where}: teacher email "{teacher.email}" is already used by '
                    f'teacher "{owner.external_id}" ({owner.where})'
                )
                return False
            self._emails[teacher.email] = teacher
        if first is not None:
            first.email = teacher.email
        else:
            self.roster.teachers[teacher.external_id] = teacher
        return True

    def add_classroom(self, classroom: ClassroomRecord, *, school_checked: bool) -> None:
        self.roster.classrooms[classroom.external_id] = classroom
        if not school_checked:
            self._unchecked_schools.append(classroom)

    def check_school_codes(self, known: set[str]) -> None:
        """Classrooms files may name a school from any file of the import or the database."""
        # A school whose own row is bad still counts as defined: its row is reported already.
        codes = known | {code for kind, code in self._claimed if kind == "school"}
        by_folded = {code.casefold(): code for code in codes}
        for classroom in self._unchecked_schools:
            code = classroom.school_code
            if code in codes:
                continue
            hint = by_folded.get(code.casefold())
            if hint:
                detail = f'did you mean "{hint}"? Codes must match exactly'
            elif codes:
                shown = sorted(codes)[:_KNOWN_CODES_SHOWN]
                more = ", …" if len(codes) > _KNOWN_CODES_SHOWN else ""
                detail = f"known: {', '.join(shown)}{more}"
            else:
                detail = "no school is defined in this import or stored yet"
            self.problem(f'{classroom.where}: unknown school code "{code}" ({detail})')
