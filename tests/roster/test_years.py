"""School years and terms: from OneRoster academicSessions.csv (all or nothing, every problem
named by file, line and column), by command, and as the API lists them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from observe.core.models import utcnow
from observe.extensions import db
from observe.roster.models import AcademicSession, School
from observe.roster.operations import RosterImportError, import_roster
from observe.roster.years import current_year, period_for

HEADER = (
    "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n"
)
GOOD = HEADER + (
    "sy-2026,active,,2025-26,schoolYear,2025-08-18,2026-06-15,,2026\n"
    "sy-2027,active,,2026-27,schoolYear,2026-08-17,2027-06-11,,2027\n"
    "fall-26,active,,Fall 2026,semester,2026-08-17,2026-12-18,sy-2027,2027\n"
    "gp-1,active,,Quarter 1,gradingPeriod,2026-08-17,2026-10-16,fall-26,2027\n"
    # No parent given: the year that holds it is its parent.
    "spring-27,active,,Spring 2027,semester,2027-01-05,2027-06-11,,2027\n"
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_academic_sessions_are_imported_with_the_roster(oneroster):
    (oneroster / "academicSessions.csv").write_text(GOOD, encoding="utf-8")
    summary = import_roster([oneroster])
    db.session.commit()
    assert (summary.sessions.created, summary.sessions.updated) == (5, 0)
    assert "School years and terms: 5 created, 0 updated, 0 unchanged" in summary.lines()
    spring = db.session.scalar(
        select(AcademicSession).where(AcademicSession.title == "Spring 2027")
    )
    assert spring.parent.title == "2026-27" and spring.kind == "semester"
    quarter = db.session.scalar(select(AcademicSession).where(AcademicSession.sourced_id == "gp-1"))
    assert quarter.parent.sourced_id == "fall-26"
    assert current_year(date(2026, 9, 1)).title == "2026-27"
    assert current_year(date(2026, 7, 1)).title == "2025-26"  # the summer: the year just ended
    assert current_year(date(2020, 1, 1)).title == "2025-26"  # before any: the first
    problems: dict[str, str] = {}
    term = period_for("2026-27", str(quarter.id), problems)
    assert problems == {} and term.dates == (date(2026, 8, 17), date(2026, 10, 16))
    assert period_for("all", None, problems).dates == (None, None)

    # Again: nothing changes; a changed end date is an update.
    again = import_roster([oneroster])
    assert (again.sessions.created, again.sessions.unchanged) == (0, 5)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "bad,active,,Bad,schoolYear,2027-13-01,2028-06-01,,",
            'academicSessions.csv line 7: startDate "2027-13-01" is not a date (YYYY-MM-DD)',
        ),
        (
            "bad,active,,Bad,term,2026-09-01,2026-08-01,sy-2027,",
            "academicSessions.csv line 7: endDate 2026-08-01 is before startDate 2026-09-01",
        ),
        (
            "bad,active,,Bad,quarter,2026-09-01,2026-10-01,sy-2027,",
            'academicSessions.csv line 7: type "quarter" is not one of schoolYear, term, '
            "semester, gradingPeriod",
        ),
        (
            "bad,active,,Bad,term,2026-09-01,2026-10-01,sy-1999,",
            'academicSessions.csv line 7: parentSourcedId "sy-1999" is not a session',
        ),
        (
            "bad,active,,Bad,term,2026-06-01,2026-10-01,sy-2027,",
            "academicSessions.csv line 7: Bad (2026-06-01 to 2026-10-01) is not within its "
            "parent 2026-27",
        ),
        (
            "bad,active,,Overlapping,schoolYear,2027-06-01,2028-06-01,,",
            "academicSessions.csv line 7: the school year Overlapping (2027-06-01 to "
            "2028-06-01) overlaps 2026-27",
        ),
        (
            "bad,active,,Fall again,semester,2026-12-01,2027-01-20,sy-2027,",
            "academicSessions.csv line 7: the semester Fall again (2026-12-01 to 2027-01-20) "
            "overlaps Fall 2026",
        ),
        (
            ",active,,,schoolYear,2030-08-01,2031-06-01,,",
            "academicSessions.csv line 7: sourcedId is empty",
        ),
    ],
)
def test_a_bad_session_row_is_named_and_nothing_is_imported(oneroster, row, problem):
    (oneroster / "academicSessions.csv").write_text(GOOD + row + "\n", encoding="utf-8")
    with pytest.raises(RosterImportError) as caught:
        import_roster([oneroster])
    db.session.rollback()
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert (count(School), count(AcademicSession)) == (0, 0)  # nothing of the bundle either


def test_a_missing_column_is_named(oneroster):
    (oneroster / "academicSessions.csv").write_text(
        "sourcedId,title,type,startDate\nsy,2026-27,schoolYear,2026-08-17\n", encoding="utf-8"
    )
    with pytest.raises(RosterImportError) as caught:
        import_roster([oneroster])
    assert caught.value.problems == [
        "oneroster/academicSessions.csv line 1: missing required column endDate"
    ]


def test_a_closed_year_cannot_change_and_a_year_added_by_command_is_adopted(oneroster, app, edit):
    run = app.test_cli_runner().invoke
    result = run(args=["years", "add", "2026-27", "--start", "2026-08-17", "--end", "2027-06-11",
                       "--term", "Fall 2026:2026-08-17:2026-12-18"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "term Fall 2026: 2026-08-17 to 2026-12-18" in result.output
    refused = run(args=["years", "add", "Overlap", "--start", "2027-06-01", "--end", "2027-07-01"])
    assert refused.exit_code == 1 and "overlaps 2026-27" in refused.output
    bad = run(args=["years", "add", "X", "--start", "2030-02-30", "--end", "2031-01-01"])
    assert "'2030-02-30' is not a date" in bad.output
    assert count(AcademicSession) == 2

    # The district's file then names the same year: it takes the file's sourced id.
    (oneroster / "academicSessions.csv").write_text(
        HEADER + "sy-2027,active,,2026-27,schoolYear,2026-08-17,2027-06-11,,2027\n",
        encoding="utf-8",
    )
    summary = import_roster([oneroster])
    db.session.commit()
    assert (summary.sessions.created, summary.sessions.unchanged) == (0, 1)
    year = db.session.scalar(select(AcademicSession).where(AcademicSession.title == "2026-27"))
    assert year.sourced_id == "sy-2027"
    listed = run(args=["years", "list"])
    assert "2026-27\t2026-08-17 to 2027-06-11" in listed.output
    assert "  term Fall 2026\t2026-08-17 to 2026-12-18" in listed.output

    # Closed, its dates hold.
    year.closed_at = utcnow()
    db.session.commit()
    edit(oneroster / "academicSessions.csv", "2027-06-11", "2027-06-18")
    with pytest.raises(RosterImportError) as caught:
        import_roster([oneroster])
    assert caught.value.problems == [
        "oneroster/academicSessions.csv line 2: 2026-27 is a closed year; its dates, title "
        "and type cannot change"
    ]


def test_the_api_lists_the_years(client, bearer, create_user, app):
    from observe.core.permissions import Role

    add = ["years", "add", "2026-27", "--start", "2026-08-17", "--end", "2027-06-11",
           "--term", "Fall:2026-08-17:2026-12-18"]  # fmt: skip
    app.test_cli_runner().invoke(args=add)
    observer = create_user(Role.OBSERVER)
    body = client.get("/api/v1/years", headers=bearer(observer)).get_json()
    [year] = body["years"]
    assert (year["title"], year["type"], year["start_date"], year["closed"]) == (
        "2026-27", "schoolYear", "2026-08-17", False
    )  # fmt: skip
    assert [t["title"] for t in year["terms"]] == ["Fall"]
    assert body["current"] == year["id"]  # the suite runs on 2026-12-03 or later
