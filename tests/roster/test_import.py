"""Importing rosters into the database: upserts, idempotence, all-or-nothing, the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from observe.errors import ValidationFailed
from observe.extensions import db
from observe.roster.models import (
    Classroom,
    ClassroomAttribute,
    ClassroomProgram,
    School,
    SchoolAttribute,
    Teacher,
)
from observe.roster.operations import ImportSummary, RosterImportError, import_roster
from observe.roster.years import SessionsWritten


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def classroom(external_id: str) -> Classroom:
    return db.session.scalar(select(Classroom).where(Classroom.external_id == external_id))


def school(code: str) -> School:
    return db.session.scalar(select(School).where(School.code == code))


def attributes_of(row) -> dict[str, str]:
    return {a.name: a.value for a in row.attributes}


def import_and_commit(*paths, **options) -> ImportSummary:
    summary = import_roster(list(paths), **options)
    db.session.commit()
    db.session.expire_all()
    return summary


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=list(args))

    return invoke


def test_simple_import_creates_everything(simple):
    summary = import_and_commit(simple / "schools.csv", simple / "classrooms.csv")

    assert summary == ImportSummary(schools_created=3, teachers_created=5, classrooms_created=6)
    lincoln = school("LIN-HS")
    assert (lincoln.name, lincoln.level, lincoln.region, lincoln.title_i) == (
        "Lincoln High School",
        "high",
        "North",
        False,
    )
    assert attributes_of(lincoln) == {"feeder_pattern": "Lincoln", "grade_band": "9-12"}
    algebra = classroom("LIN-ALG1-4")
    assert algebra.school is lincoln
    assert (algebra.teacher.external_id, algebra.teacher.name, algebra.teacher.email) == (
        "T102",
        "Aisha Bello",
        "abello@lincoln.example",
    )
    assert (algebra.grade, algebra.subject, algebra.course_level) == ("9", "Mathematics", "general")
    assert algebra.program_names == ["English learners", "Special education inclusion"]
    assert attributes_of(algebra) == {"co_taught": "yes", "period": "4"}
    assert algebra.active is True


def test_reimporting_the_same_files_changes_nothing(simple):
    import_and_commit(simple / "schools.csv", simple / "classrooms.csv")
    stamps = dict(db.session.execute(select(Classroom.external_id, Classroom.updated_at)).all())

    summary = import_and_commit(simple / "schools.csv", simple / "classrooms.csv")

    assert summary == ImportSummary(
        schools_unchanged=3, teachers_unchanged=5, classrooms_unchanged=6
    )
    after = db.session.execute(select(Classroom.external_id, Classroom.updated_at)).all()
    assert dict(after) == stamps


def test_an_edited_file_updates_only_the_rows_that_changed(simple, edit):
    import_and_commit(simple / "schools.csv", simple / "classrooms.csv")
    # A program removed, an attribute changed, another cleared, a teacher's name corrected.
    edit(
        simple / "classrooms.csv",
        "Mathematics, general ,Special education inclusion; English learners,4,yes",
        "Mathematics,general,Special education inclusion,5,",
    )
    edit(simple / "classrooms.csv", "T200,Sam Rivera", "T200,Samuel Rivera")
    # A school attribute dropped (blank) and Title I changed.
    edit(simple / "schools.csv", "OAK-ES,Oak Street Elementary,elementary,North,yes,Lincoln,K-5",
         "OAK-ES,Oak Street Elementary,elementary,North,no,Lincoln,")  # fmt: skip

    # Clearing a stored value is refused unless asked for (issue 13: reports split by them).
    with pytest.raises(RosterImportError) as refused:
        import_roster([simple / "schools.csv", simple / "classrooms.csv"])
    assert refused.value.problems == [
        "co_taught: 1 classroom that has a value would be left blank (LIN-ALG1-4); import with "
        "--accept-blanks if that is what you mean"
    ]
    db.session.rollback()
    summary = import_and_commit(
        simple / "schools.csv", simple / "classrooms.csv", accept_blanks=True
    )

    assert summary == ImportSummary(
        schools_updated=1,
        schools_unchanged=2,
        teachers_updated=1,
        teachers_unchanged=4,
        classrooms_updated=1,
        classrooms_unchanged=5,
    )
    algebra = classroom("LIN-ALG1-4")
    assert algebra.program_names == ["Special education inclusion"]
    assert attributes_of(algebra) == {"period": "5"}
    assert classroom("OAK-3A").teacher.name == "Samuel Rivera"
    oak = school("OAK-ES")
    assert (oak.title_i, attributes_of(oak)) == (False, {"feeder_pattern": "Lincoln"})
    # Removed rows are deleted, not orphaned.
    assert count(ClassroomProgram) == 3
    assert count(SchoolAttribute) == 4


def test_adding_a_program_and_an_attribute_column(simple, edit):
    import_and_commit(simple / "schools.csv", simple / "classrooms.csv")
    text = (simple / "classrooms.csv").read_text()
    lines = text.splitlines()
    lines[0] += ",bell_schedule"
    lines[1:] = [line + ",A" for line in lines[1:]]
    (simple / "classrooms.csv").write_text("\n".join(lines) + "\n")
    edit(simple / "classrooms.csv", "Honors,,2,", "Honors,Gifted and talented,2,")

    summary = import_and_commit(simple / "classrooms.csv")

    assert (summary.classrooms_updated, summary.classrooms_unchanged) == (6, 0)
    honors = classroom("LIN-ENG9-H2")
    assert honors.program_names == ["Gifted and talented"]
    assert attributes_of(honors) == {"bell_schedule": "A", "period": "2"}


def test_a_classrooms_file_may_name_a_stored_school(create_school, write):
    create_school("OLD-ES", "Old Mill Elementary", level="elementary")
    path = write(
        "classrooms.csv",
        "classroom_id,school_code,name,grade\nOLD-K1,OLD-ES,Kindergarten A,K\n",
    )
    summary = import_and_commit(path)
    assert summary.classrooms_created == 1
    assert classroom("OLD-K1").school.name == "Old Mill Elementary"
    assert school("OLD-ES").level == "elementary"  # untouched: not in this import


def test_a_column_left_out_leaves_the_stored_value(simple, write):
    import_and_commit(simple / "schools.csv", simple / "classrooms.csv")
    # A classrooms file without teacher or programs columns: names change, the rest stays.
    path = write("renamed.csv", "classroom_id,school_code,name\nLIN-ALG1-4,LIN-HS,Algebra I\n")
    summary = import_and_commit(path)
    algebra = classroom("LIN-ALG1-4")
    assert summary.classrooms_updated == 1
    assert algebra.name == "Algebra I"
    assert algebra.teacher.external_id == "T102"
    assert algebra.program_names == ["English learners", "Special education inclusion"]
    assert algebra.grade == "9"
    # A file that has the column but leaves it blank does clear the value.
    path = write(
        "cleared.csv", "classroom_id,school_code,name,grade\nLIN-ALG1-4,LIN-HS,Algebra I,\n"
    )
    import_and_commit(path, accept_blanks=True)
    assert classroom("LIN-ALG1-4").grade is None


def test_a_bad_row_anywhere_writes_nothing(simple, write, create_school):
    create_school("OLD-ES", "Old Mill Elementary")
    bad = write(
        "more-classrooms.csv",
        "classroom_id,school_code,name\n"
        "X-1,OLD-ES,Room 1\nX-2,ZZZ,Room 2\nLIN-ENG9-01,LIN-HS,Dup\n",
    )
    with pytest.raises(RosterImportError) as caught:
        import_roster([simple / "schools.csv", simple / "classrooms.csv", bad])

    assert caught.value.problems == [
        'more-classrooms.csv line 3: unknown school code "ZZZ" '
        "(known: LIN-HS, OAK-ES, OLD-ES, RIV-MS)",
        'more-classrooms.csv line 4: duplicate classroom_id "LIN-ENG9-01" '
        "(also at classrooms.csv line 2)",
    ]
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.details == {"problems": caught.value.problems}
    db.session.rollback()
    assert [count(m) for m in (School, Teacher, Classroom, ClassroomProgram)] == [1, 0, 0, 0]


def test_oneroster_folder_import(oneroster):
    summary = import_and_commit(oneroster)

    assert summary == ImportSummary(
        schools_created=2,
        teachers_created=4,
        classrooms_created=7,
        course_levels_inferred=6,
        sessions=SessionsWritten(created=2),  # the school year and its fall term
    )
    washington = school("org-wash-hs")
    assert (washington.name, washington.level, washington.title_i) == (
        "Washington High School",
        "high",
        True,
    )
    eng = classroom("cls-eng10-2")
    assert (eng.teacher.name, eng.students, eng.course_level) == ("Ravi Patel", 1, "general")
    assert eng.program_names == ["Special education inclusion"]
    assert classroom("cls-eng10-6").active is False
    assert classroom("cls-apush-4").course_level == "AP"
    # Privacy: students are counted, never stored; aides are not teachers.
    assert sorted(db.session.scalars(select(Teacher.external_id))) == ["t-1", "t-2", "t-3", "t-4"]

    again = import_and_commit(oneroster)
    assert again == ImportSummary(
        schools_unchanged=2,
        teachers_unchanged=4,
        classrooms_unchanged=7,
        course_levels_inferred=6,
        sessions=SessionsWritten(unchanged=2),
    )


def test_oneroster_zip_import_and_a_class_deleted_later(oneroster, zip_bundle, edit):
    import_and_commit(zip_bundle(oneroster))
    edit(oneroster / "classes.csv", "cls-apush-4,active", "cls-apush-4,tobedeleted")
    edit(oneroster / "enrollments.csv", "e-12,active", "e-12,tobedeleted")

    summary = import_and_commit(zip_bundle(oneroster, "second.zip"))

    assert (summary.classrooms_updated, summary.classrooms_unchanged) == (1, 6)
    apush = classroom("cls-apush-4")
    assert (apush.active, apush.students, apush.teacher.external_id) == (False, 0, "t-2")


def test_a_simple_schools_file_beside_a_bundle_keeps_what_the_sis_lacks(oneroster, write):
    # Region is not in the bundle's orgs.csv: a district sets it with its own schools file.
    import_and_commit(oneroster)
    regions = write(
        "regions.csv", "school_code,name,region\norg-wash-hs,Washington High School,East\n"
    )
    import_and_commit(regions)
    summary = import_and_commit(oneroster)
    assert summary.schools_unchanged == 2
    assert school("org-wash-hs").region == "East"


def test_import_uses_a_query_per_table_not_per_row(write, app):
    rows = ["school_code,name", *(f"S{n},School {n}" for n in range(20))]
    schools = write("schools.csv", "\n".join(rows) + "\n")
    rows = ["classroom_id,school_code,name,teacher_id,teacher_name,programs,period"]
    rows += [f"C{n},S{n % 20},Section {n},T{n % 300},Teacher {n % 300},EL;SPED,{n % 8}"
             for n in range(1500)]  # fmt: skip
    classrooms = write("classrooms.csv", "\n".join(rows) + "\n")
    import_and_commit(schools, classrooms)

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        summary = import_and_commit(schools, classrooms)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert summary.classrooms_unchanged == 1500
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The import reads each table once; the classroom-profile refresh after it (history as it
    # was) reads the classrooms with their programs and attributes once more. Neither grows
    # with the number of rows: 1,500 classrooms and 300 teachers still make ten.
    assert len(selects) <= 10, "\n".join(s[:160] for s in selects)
    assert count(ClassroomAttribute) == 1500


# --- the command line ------------------------------------------------------------------------


def test_cli_import_prints_a_summary(run, simple):
    result = run("roster", "import", str(simple / "schools.csv"), str(simple / "classrooms.csv"))
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Roster imported.\n"
        "Schools: 3 created, 0 updated, 0 unchanged\n"
        "Teachers: 5 created, 0 updated, 0 unchanged\n"
        "Classrooms: 6 created, 0 updated, 0 unchanged\n"
    )
    assert count(Classroom) == 6


def test_cli_import_of_a_bundle_mentions_inferred_levels(run, oneroster, zip_bundle):
    result = run("roster", "import", str(zip_bundle(oneroster)))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "Course level inferred from the course title for 6 classroom(s); "
        "give metadata.course_level to set it."
    )


def test_cli_import_lists_every_problem_and_imports_nothing(run, simple, write):
    bad = write("bad.csv", "classroom_id,school_code,name\nB-1,NOPE,Room\nB-2,LIN-HS,\n")
    result = run("roster", "import", str(simple / "schools.csv"), str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        'bad.csv line 2: unknown school code "NOPE" (known: LIN-HS, OAK-ES, RIV-MS)\n'
        "bad.csv line 3: name is empty\n"
        "Nothing was imported: 2 problems. Fix the files and run the import again.\n"
    )
    assert count(School) == 0


def test_cli_refuses_a_path_that_does_not_exist(run, tmp_path):
    result = run("roster", "import", str(tmp_path / "nowhere.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_cli_list(run, simple, oneroster):
    assert run("roster", "list").output == (
        "No schools yet. Import a roster with: observe roster import PATH…\n"
    )
    import_and_commit(simple / "schools.csv", simple / "classrooms.csv", oneroster)
    result = run("roster", "list")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "org-elm-es\tElm Elementary\telementary\t1 classroom\n"
        "LIN-HS\tLincoln High School\thigh\t4 classrooms\n"
        "OAK-ES\tOak Street Elementary\telementary\t1 classroom\n"
        "RIV-MS\tRiverside Middle School\tmiddle\t1 classroom\n"
        "org-wash-hs\tWashington High School\thigh\t5 classrooms (1 inactive)\n"
    )


def test_a_blank_cell_does_not_silently_clear_what_reports_split_by(simple, edit, run):
    """Issue 13: a blank cell turned 14 AP visits into "Not recorded". Now the import names
    what it would clear and imports nothing unless told to."""
    import_and_commit(simple / "schools.csv", simple / "classrooms.csv")
    edit(simple / "classrooms.csv", "11-12,Science,ap,", "11-12,Science,,")
    files = [str(simple / "schools.csv"), str(simple / "classrooms.csv")]
    refused = run("roster", "import", *files)
    assert refused.exit_code == 1
    assert (
        "course_level: 1 classroom that has a value would be left blank (LIN-APBIO-3); import "
        "with --accept-blanks if that is what you mean"
    ) in refused.output
    db.session.expire_all()
    assert classroom("LIN-APBIO-3").course_level == "AP"
    accepted = run("roster", "import", "--accept-blanks", *files)
    assert accepted.exit_code == 0, accepted.output
    db.session.expire_all()
    assert classroom("LIN-APBIO-3").course_level is None


def test_a_guessed_course_level_does_not_replace_a_recorded_one(oneroster, write):
    """Issue 13: a OneRoster bundle without metadata.course_level made levels be guessed from
    course titles, and a school's honors group vanished with a one-line note."""
    import_and_commit(oneroster)
    recorded = classroom("cls-eng10-1")
    assert recorded.course_level == "general"  # guessed from "English 10" at the first import
    recorded.course_level = "honors"  # as an export with metadata.course_level recorded it
    recorded.course_level_inferred = False
    db.session.commit()
    with pytest.raises(RosterImportError) as refused:
        import_roster([oneroster])
    db.session.rollback()
    assert refused.value.problems == [
        "course_level: 1 classroom would have their recorded course level replaced by one "
        "guessed from the course title (cls-eng10-1); give metadata.course_level in the files, "
        "or import with --accept-blanks to take the guesses"
    ]
    assert classroom("cls-eng10-1").course_level == "honors"


def test_retiring_a_classroom_with_blank_cells_is_not_a_loss(simple, edit):
    import_and_commit(simple / "schools.csv", simple / "classrooms.csv")
    path = simple / "classrooms.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    lines[0] = lines[0] + ",active"
    for i in range(1, len(lines)):
        lines[i] += ",yes"
    apbio = next(i for i, line in enumerate(lines) if line.startswith("LIN-APBIO-3,"))
    cells = lines[apbio].split(",")
    cells[header.index("course_level")] = ""
    cells[-1] = "no"
    lines[apbio] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    import_and_commit(simple / "schools.csv", path)
    retired = classroom("LIN-APBIO-3")
    assert (retired.active, retired.course_level) == (False, None)


def test_a_course_renamed_in_the_sis_may_change_a_guessed_level(oneroster):
    """A guess may replace a guess: only a recorded level is protected from one."""
    import_and_commit(oneroster)
    assert classroom("cls-eng10-1").course_level_inferred
    classes = oneroster / "classes.csv"
    classes.write_text(classes.read_text().replace("English 10 - P1", "Honors English 10 - P1"))
    courses = oneroster / "courses.csv"
    courses.write_text(courses.read_text().replace("English 10,", "Honors English 10,", 1))
    import_and_commit(oneroster)
    assert classroom("cls-eng10-1").course_level == "honors"
