"""Reading roster files into a normalised roster, and the problems reported for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from observe.roster.importers import (
    infer_course_level,
    normalise_course_level,
    oneroster_grades,
    parse_yes_no,
    read_roster,
    split_programs,
)

SCHOOLS_HEADER = "school_code,name,level,region,title_i\n"
CLASSROOMS_HEADER = (
    "classroom_id,school_code,name,teacher_id,teacher_name,teacher_email,grade,subject,"
    "course_level,programs\n"
)


def problems_of(*paths: Path, known: tuple[str, ...] = ()) -> list[str]:
    return read_roster(paths, known).problems


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True), ("Y", True), ("TRUE", True), ("1", True), (" true ", True),
        ("no", False), ("N", False), ("False", False), ("0", False),
        ("", None), ("  ", None),
    ],
)  # fmt: skip
def test_yes_no_values(text, expected):
    assert parse_yes_no(text) is expected


def test_yes_no_refuses_anything_else():
    with pytest.raises(ValueError):
        parse_yes_no("maybe")


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("AP U.S. History", "AP"),
        ("Advanced Placement Biology", "AP"),
        ("IB Mathematics: Analysis", "IB"),
        ("English 10 Honors", "honors"),
        ("Hon Chemistry", "honors"),
        ("Pre-AP English 8", "honors"),
        ("English 10", "general"),
        ("Apprenticeship Skills", "general"),  # "ap" inside a word is not AP
        ("Grade 2", "general"),
    ],
)
def test_course_level_inferred_from_title(title, level):
    assert infer_course_level(title) == level


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("  Honors ", "honors"),
        ("ap", "AP"),
        ("Advanced  Placement", "AP"),
        ("General", "general"),
        (" Dual   Enrollment ", "Dual Enrollment"),  # a district's own level is kept
        ("", None),
    ],
)
def test_course_level_keeps_the_districts_words(text, level):
    assert normalise_course_level(text) == level


@pytest.mark.parametrize(
    ("grades", "label"),
    [
        ("09,10,11,12", "9-12"),
        ("KG", "K"),
        ("KG,01,02", "K-2"),
        ("10", "10"),
        ("07,09", "7, 9"),
        ("", None),
    ],
)
def test_oneroster_grades_become_one_label(grades, label):
    assert oneroster_grades(grades) == label


def test_programs_are_split_trimmed_and_deduplicated():
    assert split_programs(" English learners ;Special  education inclusion;; english LEARNERS") == [
        "English learners",
        "Special education inclusion",
    ]


# --- the simple layout -----------------------------------------------------------------------


def test_reads_the_simple_sample(simple):
    roster = read_roster([simple / "schools.csv", simple / "classrooms.csv"])

    assert roster.problems == []
    lincoln = roster.schools["LIN-HS"]
    assert (lincoln.name, lincoln.level, lincoln.region, lincoln.title_i) == (
        "Lincoln High School",
        "high",
        "North",
        False,
    )
    # "Feeder Pattern" as a header becomes the attribute name feeder_pattern.
    assert lincoln.attributes == {"feeder_pattern": "Lincoln", "grade_band": "9-12"}
    assert roster.schools["RIV-MS"].attributes == {"feeder_pattern": "Riverside"}

    algebra = roster.classrooms["LIN-ALG1-4"]
    assert algebra.course_level == "general"
    assert algebra.programs == ["Special education inclusion", "English learners"]
    assert algebra.attributes == {"period": "4", "co_taught": "yes"}
    assert roster.classrooms["LIN-APBIO-3"].course_level == "AP"
    assert roster.classrooms["OAK-3A"].course_level is None
    # The same teacher on two rows, the email once in capitals: one teacher.
    assert roster.teachers["T100"].email == "mlopez@lincoln.example"
    assert sorted(roster.teachers) == ["T100", "T101", "T102", "T200", "T300"]


def test_headers_are_case_insensitive_and_excel_quirks_are_accepted(write):
    # Excel writes a byte-order mark, CRLF line ends, and rows of empty cells at the end.
    content = (
        "\ufeff School_Code , NAME ,Level,Region,Title I,,\r\n"
        "LIN-HS,Lincoln High School,high,North,yes,,\r\n"
        ",,,,,,\r\n"
    )
    roster = read_roster([write("schools.csv", content.encode("utf-8"))])
    assert roster.problems == []
    school = roster.schools["LIN-HS"]
    assert (school.code, school.name, school.title_i, school.attributes) == (
        "LIN-HS",
        "Lincoln High School",
        True,
        {},
    )


def test_a_classrooms_file_may_name_a_stored_school(write):
    path = write("classrooms.csv", CLASSROOMS_HEADER + "S1,OLD-ES,Room 1,,,,K,,,\n")
    roster = read_roster([path], known_school_codes={"OLD-ES"})
    assert roster.problems == []
    assert roster.classrooms["S1"].teacher_id is None


# --- problems --------------------------------------------------------------------------------


def test_unknown_school_code_names_the_known_ones(write):
    schools = write("schools.csv", SCHOOLS_HEADER + "LIN-HS,Lincoln High,high,North,no\n")
    classrooms = write(
        "classrooms.csv",
        CLASSROOMS_HEADER
        + "S1,LIN-HS,English 9,,,,9,English,,\n"
        + "S2,ZZZ,English 10,,,,10,English,,\n"
        + "S3,lin-hs,English 11,,,,11,English,,\n",
    )
    assert problems_of(schools, classrooms, known=("OAK-ES",)) == [
        'classrooms.csv line 3: unknown school code "ZZZ" (known: LIN-HS, OAK-ES)',
        'classrooms.csv line 4: unknown school code "lin-hs" (did you mean "LIN-HS"? '
        "Codes must match exactly)",
    ]


def test_long_lists_of_known_codes_are_shortened(write):
    known = tuple(f"S{n:02}" for n in range(10))
    classrooms = write("classrooms.csv", CLASSROOMS_HEADER + "C1,ZZZ,Room,,,,,,,\n")
    assert problems_of(classrooms, known=known) == [
        'classrooms.csv line 2: unknown school code "ZZZ" (known: S00, S01, S02, S03, S04, S05, …)'
    ]


def test_missing_required_columns_are_named(write):
    classrooms = write("classrooms.csv", "classroom_id,name,grade\nS1,Room 1,3\n")
    schools = write("schools.csv", "school_code,level\nLIN-HS,high\n")
    assert problems_of(classrooms, schools) == [
        "classrooms.csv line 1: missing required column school_code "
        "(a classrooms file needs classroom_id, school_code, name)",
        "schools.csv line 1: missing required column name (a schools file needs school_code, name)",
    ]


def test_a_header_matching_no_layout(write):
    path = write("teachers.csv", "id,full name,email\n1,Ann,ann@example.org\n")
    assert problems_of(path) == [
        "teachers.csv line 1: the header matches no known layout; a schools file needs the "
        "columns school_code, name, a classrooms file classroom_id, school_code, name "
        "(see docs/roster-format.md)"
    ]


def test_latin_1_is_refused_with_the_line(write):
    text = SCHOOLS_HEADER + "A,Alpha,high,North,no\nB,Beta,high,North,no\nC,Ecole Jos\xe9,high,,\n"
    path = write("schools.csv", text.encode("latin-1"))
    assert problems_of(path) == [
        "schools.csv: not UTF-8 text (byte 0xe9 at line 4); save it as UTF-8 CSV"
    ]


def test_every_bad_row_is_reported(write):
    schools = write(
        "schools.csv",
        SCHOOLS_HEADER
        + "LIN-HS,Lincoln High,high,North,maybe\n"
        + ",Nameless Code,high,North,no\n"
        + "OAK-ES,,elementary,North,yes\n"
        + "LIN-HS,Lincoln Again,high,North,no\n"
        + "RIV-MS,Riverside Middle,middle\n",
    )
    classrooms = write(
        "classrooms.csv",
        CLASSROOMS_HEADER
        + "S1,LIN-HS,English 9,T1,Ann Lee,ann@example.org,9,English,,\n"
        + "S1,LIN-HS,English 9 again,T1,Ann Lee,ann@example.org,9,English,,\n"
        + "S2,LIN-HS,Biology,T2,Bo Diaz,ANN@example.org,10,Science,,\n"
        + "S3,LIN-HS,Chemistry,T1,Ann Leigh,,11,Science,,\n"
        + "S4,LIN-HS,Physics,,Cy Young,,12,Science,,\n"
        + "S5,LIN-HS,Art,T5,,not-an-email,9,Art,,\n",
    )
    assert problems_of(schools, classrooms) == [
        'schools.csv line 2: title_i "maybe" is not yes, no, true, false, 1 or 0 (or blank)',
        "schools.csv line 3: school_code is empty",
        "schools.csv line 4: name is empty",
        'schools.csv line 5: duplicate school_code "LIN-HS" (also at schools.csv line 2)',
        "schools.csv line 6: 3 values but the header has 5 columns",
        'classrooms.csv line 3: duplicate classroom_id "S1" (also at classrooms.csv line 2)',
        'classrooms.csv line 4: teacher email "ann@example.org" is already used by teacher "T1" '
        "(classrooms.csv line 2)",
        'classrooms.csv line 5: teacher "T1" is named "Ann Leigh" here but "Ann Lee" at '
        "classrooms.csv line 2",
        "classrooms.csv line 6: teacher_name or teacher_email is given but teacher_id is empty",
        'classrooms.csv line 7: teacher_email "not-an-email" is not an email address',
        'classrooms.csv line 7: teacher_name is empty for teacher_id "T5"',
    ]


def test_duplicates_across_files_are_reported(write):
    first = write("north/schools.csv", SCHOOLS_HEADER + "LIN-HS,Lincoln High,high,North,no\n")
    second = write("south/schools.csv", SCHOOLS_HEADER + "LIN-HS,Lincoln High,high,South,no\n")
    classrooms = write("classrooms.csv", CLASSROOMS_HEADER + "S1,LIN-HS,Room,,,,,,,\n")
    zipped = write("more.zip", b"")
    # Two files of one name: the second is named by its whole path.
    assert problems_of(first, second, classrooms, zipped) == [
        f'{second} line 2: duplicate school_code "LIN-HS" (also at schools.csv line 2)',
        "more.zip: not a readable zip file",
    ]


def test_values_longer_than_the_database_holds(write):
    path = write("schools.csv", SCHOOLS_HEADER + f"{'X' * 65},Long Code,,,\n")
    assert problems_of(path) == ["schools.csv line 2: school_code is longer than 64 characters"]


def test_empty_file_and_repeated_columns(write):
    empty = write("empty.csv", "")
    repeated = write("schools.csv", "school_code,name,Name\nA,B,C\n")
    assert problems_of(empty, repeated) == [
        "empty.csv: the file is empty; the first line must name the columns",
        "schools.csv line 1: column name appears more than once",
    ]


def test_a_lone_oneroster_file_is_explained(oneroster):
    assert problems_of(oneroster / "orgs.csv") == [
        "orgs.csv line 1: this looks like one file of a OneRoster bundle; import the folder or "
        ".zip that holds the whole bundle"
    ]


# --- OneRoster bundles -----------------------------------------------------------------------


def test_reads_a_oneroster_bundle_folder(oneroster):
    roster = read_roster([oneroster])

    assert roster.problems == []
    assert sorted(roster.schools) == ["org-elm-es", "org-wash-hs"]  # the district org is not
    washington = roster.schools["org-wash-hs"]
    assert (washington.level, washington.title_i) == ("high", True)
    assert washington.attributes == {"feeder_pattern": "Washington"}
    # Only teachers are read from users.csv: students and aides are never kept.
    assert sorted(roster.teachers) == ["t-1", "t-2", "t-3", "t-4"]
    assert roster.teachers["t-1"].name == "Ravi Patel"

    eng2 = roster.classrooms["cls-eng10-2"]
    assert eng2.teacher_id == "t-1"  # the primary teacher, though t-3 is listed first
    assert eng2.students == 1
    assert (eng2.course_level, eng2.course_level_inferred) == ("general", False)
    assert eng2.programs == ["Special education inclusion"]
    assert eng2.attributes == {"co_taught": "yes"}

    assert roster.classrooms["cls-eng10h-3"].course_level == "honors"
    assert roster.classrooms["cls-eng10h-3"].students == 1  # a tobedeleted enrollment is gone
    assert roster.classrooms["cls-apush-4"].course_level == "AP"
    assert roster.classrooms["cls-apush-4"].grade == "11-12"
    # Programs and grades come from the course when the class has none.
    eld = roster.classrooms["cls-eld2-5"]
    assert (eld.programs, eld.grade) == (["English learners"], "9-12")
    assert roster.classrooms["cls-g2-rm5"].subject == "Reading, Mathematics"
    assert roster.classrooms["cls-eng10-6"].active is False
    assert roster.course_levels_inferred == 6


def test_reads_a_zipped_bundle(oneroster, zip_bundle):
    from_zip = read_roster([zip_bundle(oneroster)])
    from_folder = read_roster([oneroster])
    assert from_zip.problems == []
    assert from_zip.classrooms.keys() == from_folder.classrooms.keys()
    assert from_zip.classrooms["cls-eng10-1"].where == "sis-export.zip/classes.csv line 2"


def test_bundle_problems(oneroster, edit):
    edit(
        oneroster / "classes.csv",
        "English 10 - P1,10,crs-eng10,ENG10-1,scheduled,Room 204,org-wash-hs",
        "English 10 - P1,10,crs-gone,ENG10-1,scheduled,Room 204,org-wash-hs",
    )
    edit(
        oneroster / "classes.csv",
        "ELD 2 - P5,,crs-eld2,ELD2-5,scheduled,Room 101,org-wash-hs",
        "ELD 2 - P5,,crs-eld2,ELD2-5,scheduled,Room 101,org-closed",
    )
    edit(
        oneroster / "classes.csv",
        "Grade 2 - Room 5,02,crs-g2,G2-5,homeroom,Room 5,org-elm-es",
        "Grade 2 - Room 5,02,crs-g2,G2-5,homeroom,Room 5,district-1",
    )
    edit(
        oneroster / "enrollments.csv",
        "cls-apush-4,org-wash-hs,t-2,",
        "cls-apush-4,org-wash-hs,t-9,",
    )
    edit(oneroster / "enrollments.csv", "e-16,active", "e-16,active,extra")
    assert problems_of(oneroster) == [
        'oneroster/classes.csv line 2: course "crs-gone" is not in courses.csv',
        'oneroster/classes.csv line 6: school "org-closed" is not in orgs.csv',
        'oneroster/classes.csv line 7: org "district-1" is a district in orgs.csv, not a school',
        'oneroster/enrollments.csv line 12: teacher "t-9" is not a teacher in users.csv',
        "oneroster/enrollments.csv line 17: 11 values but the header has 10 columns",
    ]


def test_a_bundle_without_its_classes(oneroster):
    (oneroster / "classes.csv").unlink()
    assert problems_of(oneroster) == [
        "oneroster: missing classes.csv (a OneRoster bundle needs orgs.csv, courses.csv, "
        "classes.csv; users.csv and enrollments.csv add teachers and student counts)"
    ]


def test_bundle_file_missing_a_column(oneroster, edit):
    edit(oneroster / "classes.csv", "courseSourcedId", "course")
    assert problems_of(oneroster) == [
        "oneroster/classes.csv line 1: missing required column coursesourcedid"
    ]


def test_teacher_email_shared_between_a_bundle_and_a_simple_file(oneroster, write):
    classrooms = write(
        "classrooms.csv",
        CLASSROOMS_HEADER + "S1,org-wash-hs,Room 1,T-99,Ravi P,rpatel@washington.example,,,,\n",
    )
    assert problems_of(oneroster, classrooms) == [
        'classrooms.csv line 2: teacher email "rpatel@washington.example" is already used by '
        'teacher "t-1" (oneroster/users.csv line 2)'
    ]


def test_a_folder_of_simple_files(simple):
    roster = read_roster([simple])
    assert roster.problems == []
    assert len(roster.schools) == 3
    assert len(roster.classrooms) == 6


def test_students_and_active_columns(write):
    path = write(
        "classrooms.csv",
        "classroom_id,school_code,name,students,active\n"
        "S1,LIN-HS,Room 1,28,yes\nS2,LIN-HS,Room 2,,no\nS3,LIN-HS,Room 3,about 20,\n",
    )
    roster = read_roster([path], known_school_codes={"LIN-HS"})
    assert roster.problems == ['classrooms.csv line 4: students "about 20" is not a whole number']
    assert (roster.classrooms["S1"].students, roster.classrooms["S1"].active) == (28, True)
    assert (roster.classrooms["S2"].students, roster.classrooms["S2"].active) == (None, False)


def test_a_class_in_a_bundle_and_a_simple_file(oneroster, write):
    classrooms = write(
        "classrooms.csv", CLASSROOMS_HEADER + "cls-eng10-1,org-wash-hs,Copy,,,,,,,\n"
    )
    assert problems_of(oneroster, classrooms) == [
        'classrooms.csv line 2: duplicate classroom_id "cls-eng10-1" '
        "(also at oneroster/classes.csv line 2)"
    ]


def test_an_enrollment_in_a_class_that_is_not_there(oneroster, edit):
    edit(oneroster / "enrollments.csv", "e-16,active,2024-08-01T00:00:00.000Z,cls-g2-rm5",
         "e-16,active,2024-08-01T00:00:00.000Z,cls-g3-rm5")  # fmt: skip
    assert problems_of(oneroster) == [
        'oneroster/enrollments.csv line 17: class "cls-g3-rm5" is not in classes.csv'
    ]


def test_a_zip_member_that_expands_too_far_is_refused_by_name(tmp_path, monkeypatch):
    # Issue 11: members were read whole, whatever they expanded to.
    import zipfile

    from observe.roster import importers

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/orgs.csv", b"sourcedId," + b"0" * (8 * 1024 * 1024))
    assert problems_of(bomb) == [
        "bomb.zip: export/orgs.csv: expands more than 200 times its compressed size, as no "
        "roster file does; not read"
    ]
    monkeypatch.setattr(importers, "MAX_MEMBER_BYTES", 1024 * 1024)
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w") as archive:  # stored: no compression, no ratio
        archive.writestr("orgs.csv", b"x" * (2 * 1024 * 1024))
    assert problems_of(big) == [
        "big.zip: orgs.csv: the zip's CSV files expand to more than 1 MiB together; not read"
    ]
    # Each member under the limit, together over it: the limit is the zip's, not a member's.
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for name in ("orgs.csv", "users.csv", "classes.csv"):
            archive.writestr(name, b"x" * (400 * 1024))
    assert problems_of(many) == [
        "many.zip: classes.csv: the zip's CSV files expand to more than 1 MiB together; not read"
    ]


def test_a_nul_or_an_oversized_file_is_refused_by_name(write, tmp_path, monkeypatch):
    from observe.roster import importers

    nul = write("schools.csv", b"code,name\nRVE,River\x00side\n")
    assert problems_of(nul) == [
        "schools.csv line 2: holds a NUL character, which no CSV file has (is it a spreadsheet "
        "saved in its own format?); save it as UTF-8 CSV"
    ]
    monkeypatch.setattr(importers, "MAX_MEMBER_BYTES", 1024 * 1024)
    big = write("big.csv", b"code,name\n" + b"x" * (2 * 1024 * 1024))
    assert problems_of(big) == [
        "big.csv: 2,097,162 bytes is more than a roster file can be (1 MiB)"
    ]
