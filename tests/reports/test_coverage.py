"""The coverage report: visits per classroom by school, course level, program and grade band,
checked by hand on a small district; small groups that never show; each role's scope; the
not-visited lists; filters and bad input — on the page, in the API and in the PDF."""

from __future__ import annotations

import statistics
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from scipy import stats

from observe.core import clock
from observe.core.permissions import Role
from observe.extensions import db
from observe.reports import coverage
from observe.reports.coverage import Moments, spread, welch_p
from observe.roster.models import ClassroomAttribute, ClassroomProgram, Teacher
from tests.reports.test_pdf import pdf_text

OCTOBER = "?from=2026-10-01&to=2026-10-31"


@pytest.fixture
def visit(client, bearer, admin, team):
    """Push one walkthrough as the district admin; returns its id."""

    def push(classroom=None, *, day="2026-10-06", school=None, **fields):
        school = school or (classroom.school if classroom is not None else team.school)
        now = datetime.now(UTC)
        version = {
            "observation_id": str(uuid.uuid4()),
            "version_id": str(uuid.uuid4()),
            "rubric_version_id": team.version.id,
            "school_id": school.id,
            "classroom_id": classroom.id if classroom is not None else None,
            "observed_at": f"{day}T15:00:00+00:00",
            "saved_at": now.isoformat(),
            "state": "submitted",
            "ratings": [{"criterion": "ct-explain-reasoning", "level": 3}],
            **fields,
        }
        response = client.post(
            "/api/v1/sync/push",
            json={"device_id": "coverage-tablet", "versions": [version]},
            headers=bearer(admin),
        )
        assert response.get_json()["results"][0]["status"] == "applied", response.get_json()
        return version["observation_id"]

    return push


@pytest.fixture
def small(app, monkeypatch):
    """A minimum group of 3 classrooms, so that a dozen classrooms make a report."""
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 3)


@pytest.fixture
def district(team, create_classroom, visit, score, new_session, client, bearer, admin, small):
    """Riverside (RVE): 3 AP, 4 general (3 of them English learners), 2 honors classrooms, the
    team's "Grade 3" (no grade or course level recorded) and a retired one; Southfield (SHS):
    grades 3 and 4. October's counted visits: AP Bio 4, AP Chem 2, Bio 1, Lit 1, Bio H 1,
    SHS Grade 3 1 — and, not counted as classroom visits, 1 of the whole school and 2 to the
    retired room. Not counted at all: a calibration score, a deleted walkthrough, a draft and a
    September visit."""
    rve, shs = team.school, team.other_school

    def room(code, name, level, grade, school=rve, programs=(), **fields):
        return create_classroom(
            code, school=school, name=name, course_level=level, grade=grade,
            programs=[ClassroomProgram(program=p) for p in programs], **fields,
        )  # fmt: skip

    rooms = {
        "a1": room("RVE-A1", "AP Bio", "AP", "10"),
        "a2": room("RVE-A2", "AP Chem", "AP", "11"),
        "a3": room("RVE-A3", "AP Lit", "AP", "12"),
        "g1": room("RVE-G1", "Bio", "general", "9", programs=["English learners"]),
        "g2": room("RVE-G2", "Chem", "general", "10", programs=["English learners"]),
        "g3": room("RVE-G3", "Lit", "general", "11"),
        "g4": room("RVE-G4", "Art", "general", "9", programs=["English learners"]),
        "h1": room("RVE-H1", "Bio H", "honors", "10"),
        "h2": room("RVE-H2", "Chem H", "honors", "11"),
        "old": room("RVE-X", "Old room", "general", "9"),
        "s1": room("SHS-3", "Grade 3", "general", "3", school=shs),
        "s2": room("SHS-4", "Grade 4", "general", "4", school=shs),
    }
    for key, times in (("a1", 4), ("a2", 2), ("g1", 1), ("g3", 1), ("h1", 1), ("s1", 1)):
        for i in range(times):
            visit(rooms[key], day=f"2026-10-{6 + i:02d}")
    visit(None)  # the whole school
    visit(rooms["old"])
    visit(rooms["old"])
    rooms["old"].active = False
    db.session.commit()
    visit(rooms["a3"], day="2026-09-15")  # before the period
    visit(rooms["g4"], state="draft")
    gone = visit(rooms["g2"])
    response = client.delete(f"/api/v1/observations/{gone}", headers=bearer(admin))
    assert response.status_code == 200
    session = new_session(classroom_id=rooms["a3"].id)
    score(team.observers[0], session, {"ct-explain-reasoning": 3},
          observed_at="2026-10-07T15:00:00+00:00")  # fmt: skip
    return rooms


def report(client, bearer, user, query=OCTOBER, expect=200):
    response = client.get(f"/api/v1/reports/coverage{query}", headers=bearer(user))
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def rows(result, dimension):
    group = next(g for g in result["groups"] if g["dimension"] == dimension)
    return {row["label"]: row for row in group["rows"]}, group["note"]


def test_the_figures_by_hand(client, bearer, admin, district):
    result = report(client, bearer, admin)
    assert result["scope"]["from"] == "2026-10-01" and result["scope"]["to"] == "2026-10-31"
    assert not result["suppressed"]
    # 12 active classrooms (the retired one is not among them); visits 4, 2, 1, 1, 1, 1.
    assert result["overall"] == {
        "classrooms": 12, "visited": 6, "share_visited": 0.5, "visits": 10,
        "mean": round(10 / 12, 2), "median": 0.5, "most": 4,
    }  # fmt: skip
    assert result["other_visits"] == {"whole_school": 1, "retired": 2}

    levels, note = rows(result, "course_level")
    assert levels["AP"] == {
        "key": "AP", "label": "AP", "suppressed": False, "classrooms": 3, "visited": 2,
        "share_visited": 0.6667, "visits": 6, "mean": 2.0, "median": 2, "most": 4,
        "ratio": round(2.0 / (10 / 12), 2), "flag": None,
    }  # fmt: skip
    general = levels["general"]
    assert (general["classrooms"], general["visited"], general["visits"]) == (6, 3, 3)
    assert (general["mean"], general["median"], general["most"]) == (0.5, 0.5, 1)
    assert general["ratio"] == round(0.5 / (10 / 12), 2)
    # Honors (2 classrooms) and "Not recorded" (the team's Grade 3) are under 3: hidden, and
    # together they reach 3, so nothing more need be hidden.
    assert levels["honors"] == {"key": "honors", "label": "honors", "suppressed": True}
    assert levels["Not recorded"]["suppressed"] is True
    assert note == "2 groups with fewer than 3 active classrooms are not shown."

    programs, note = rows(result, "program")
    assert programs["English learners"]["classrooms"] == 3
    assert programs["English learners"]["visits"] == 1
    assert programs["English learners"]["median"] == 0
    assert programs["No program"]["classrooms"] == 9 and programs["No program"]["visits"] == 9
    assert note is None

    bands, _ = rows(result, "grade_band")
    assert list(bands) == ["3-5", "9-12", "Not recorded"]
    assert bands["9-12"]["classrooms"] == 9 and bands["9-12"]["visits"] == 9
    assert bands["3-5"]["suppressed"] and bands["Not recorded"]["suppressed"]

    # Southfield has 2 classrooms: hidden; Riverside would then give it away against the total,
    # so Riverside is hidden too.
    schools, note = rows(result, "school")
    assert all(row["suppressed"] for row in schools.values())
    assert "nor are others" in note

    equity = result["equity"]
    assert equity["reference"] == "AP" and equity["reference_mean"] == 2.0
    compared = {row["label"]: row for row in equity["rows"]}
    assert compared["general"]["ratio"] == 0.25
    assert compared["English learners"]["ratio"] == round(1 / 3 / 2, 2)
    assert compared["English learners"]["dimension"] == "program"
    assert "AP" not in compared and "No program" not in compared


def test_the_classrooms_nobody_visited(client, bearer, admin, district):
    lists = {s["school"]: s for s in report(client, bearer, admin)["not_visited"]}
    assert [r["name"] for r in lists["RVE"]["classrooms"]] == [
        "AP Lit", "Art", "Chem", "Chem H", "Grade 3",
    ]  # fmt: skip
    assert [r["name"] for r in lists["SHS"]["classrooms"]] == ["Grade 4"]
    lit = lists["RVE"]["classrooms"][0]
    assert lit["code"] == "RVE-A3" and lit["teacher"] is None and lit["room"] is None


def test_a_room_recorded_by_the_roster_is_listed(
    client, bearer, admin, team, create_classroom, small
):
    teacher = Teacher(external_id="T-1", name="Maria Lopez")
    create_classroom("RVE-R", school=team.school, name="English 9", teacher=teacher,
                     attributes=[ClassroomAttribute(name="room", value="B-204")])  # fmt: skip
    listed = report(client, bearer, admin)["not_visited"]
    room = next(r for s in listed for r in s["classrooms"] if r["code"] == "RVE-R")
    assert room == {"id": room["id"], "name": "English 9", "code": "RVE-R",
                    "teacher": "Maria Lopez", "room": "B-204"}  # fmt: skip


def test_one_program_too_small_hides_every_program(client, bearer, admin, district):
    district["h2"].programs.append(ClassroomProgram(program="Special education inclusion"))
    db.session.commit()
    programs, note = rows(report(client, bearer, admin), "program")
    assert set(programs) == {"English learners", "Special education inclusion", "No program"}
    assert all(row["suppressed"] for row in programs.values())
    assert "nor are others" in note


def test_each_role_sees_its_own_scope(client, bearer, create_user, team, district):
    observer = team.observers[0]
    report(client, bearer, observer, expect=403)

    leader = team.facilitator  # a leader of Riverside
    mine = report(client, bearer, leader)
    assert mine["overall"]["classrooms"] == 10 and mine["overall"]["visits"] == 9
    assert [s["school"] for s in mine["not_visited"]] == ["RVE"]
    schools, _ = rows(mine, "school")
    assert list(schools) == ["Riverside Elementary"]
    assert schools["Riverside Elementary"]["visits"] == 9
    refused = report(client, bearer, leader, OCTOBER + "&school=SHS", expect=400)
    assert refused["error"]["details"] == {"school": "not one of your schools: SHS"}

    # Southfield's leader: 2 classrooms, too few for any figure; the list is theirs to read.
    south = create_user(Role.SCHOOL_LEADER, schools=[team.other_school])
    theirs = report(client, bearer, south)
    assert theirs["suppressed"] and theirs["overall"] is None and theirs["groups"] == []
    assert "Fewer than 3 active classrooms" in theirs["note"]
    assert [r["name"] for s in theirs["not_visited"] for r in s["classrooms"]] == ["Grade 4"]


def test_filters(client, bearer, admin, district):
    riverside = report(client, bearer, admin, OCTOBER + "&school=RVE")
    assert riverside["overall"]["classrooms"] == 10
    assert riverside["scope"]["school_names"] == ["Riverside Elementary"]
    assert [s["school"] for s in riverside["not_visited"]] == ["RVE"]
    # The 6th and 7th of October: 2 of AP Bio's 4 visits, both of AP Chem's, and the single
    # visits of Bio, Lit, Bio H and Southfield's Grade 3 (all on the 6th).
    two_days = report(client, bearer, admin, "?from=2026-10-06&to=2026-10-07")
    assert two_days["overall"]["visits"] == 2 + 2 + 1 + 1 + 1 + 1
    september = report(client, bearer, admin, "?from=2026-09-01&to=2026-09-30")
    assert september["overall"]["visits"] == 1 and september["overall"]["visited"] == 1


def test_the_period_defaults_to_this_month(client, bearer, admin, team, visit, create_classroom):
    rooms = [create_classroom(f"R{i}", school=team.school) for i in range(12)]
    today = clock.today()
    first_minute = clock.day_start(today) + timedelta(minutes=1)
    visit(rooms[0], day=today.isoformat(), observed_at=first_minute.isoformat())
    result = report(client, bearer, admin, "")
    assert result["scope"]["this_month"] is True
    assert result["scope"]["from"] == today.replace(day=1).isoformat()
    assert result["scope"]["to"] == today.isoformat()
    assert result["overall"]["visits"] == 1
    # Only a start: to today.
    start = (today - timedelta(days=40)).isoformat()
    result = report(client, bearer, admin, f"?from={start}")
    assert result["scope"]["to"] == today.isoformat() and not result["scope"]["this_month"]


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ("?from=2026-13-01", {"from": "Not a valid date."}),
        ("?from=2026-10-01&to=yesterday", {"to": "Not a valid date."}),
        ("?from=0001-01-01", {"from": "must be between 1900-01-01 and 2999-12-31"}),
        ("?from=2026-10-31&to=2026-10-01", {"to": "the end date is before the start date"}),
        ("?to=2026-10-31", {"from": "give the first day of the period too"}),
        (OCTOBER + "&school=NOPE", {"school": "not one of your schools: NOPE"}),
        ("?school=" + "X" * 65, {"school": "Length must be between 1 and 64."}),
    ],
)
def test_bad_filters_are_named(client, bearer, admin, district, query, details):
    error = report(client, bearer, admin, query, expect=400)["error"]
    assert error["code"] == "bad_filter" and error["details"] == details
    assert error["message"].startswith("The coverage report could not be made")


def test_the_page_and_its_pdf(client, sign_in, admin, district, tmp_path):
    sign_in(admin)
    page = client.get(f"/reports/coverage{OCTOBER}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'aria-current="page">Coverage</a>' in html
    assert "Equity of attention" in html and "Not visited from 2026-10-01 to 2026-10-31" in html
    assert "not shown: too few classrooms" in html
    assert "Chem H" in html  # in Riverside's not-visited list
    assert "/reports/coverage.pdf?from=2026-10-01&amp;to=2026-10-31" in html

    bad = client.get("/reports/coverage?from=2026-10-31&to=2026-10-01")
    assert bad.status_code == 400
    assert "the end date is before the start date" in bad.get_data(as_text=True)

    pdf = client.get(f"/reports/coverage.pdf{OCTOBER}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data, tmp_path)
    assert "Walkthrough coverage" in text and "Equity of attention" in text
    assert "By course level" in text and "0.25\u00d7 as often" in text
    # The not-visited lists name teachers' classrooms: they stay on the page.
    assert "Not visited" not in text and "Chem H" not in text
    assert client.get("/reports/coverage.pdf?school=NOPE").status_code == 400


def test_observers_have_no_coverage_and_no_link(client, sign_in, team):
    sign_in(team.observers[0])
    assert client.get("/reports/coverage").status_code == 403
    assert "/reports/coverage" not in client.get("/").get_data(as_text=True)


def test_a_clear_difference_is_flagged(client, bearer, admin, team, visit, create_classroom, small):
    """Six AP classrooms visited 5 or 6 times each, six general ones 0 or 1 times: far beyond
    chance, so the AP row says "more", general "fewer", and general against AP "fewer"."""
    team.classroom.course_level = "general"  # so that no group is too small
    ap = [create_classroom(f"AP{i}", school=team.school, course_level="AP") for i in range(6)]
    general = [create_classroom(f"G{i}", school=team.school, course_level="general")
               for i in range(6)]  # fmt: skip
    for i, room in enumerate(ap):
        for day in range(5 + i % 2):
            visit(room, day=f"2026-10-{day + 1:02d}")
    for i, room in enumerate(general):
        if i % 2:
            visit(room)
    result = report(client, bearer, admin)
    levels, _ = rows(result, "course_level")
    assert levels["AP"]["flag"] == "more" and levels["general"]["flag"] == "fewer"
    assert list(levels) == ["AP", "general"]
    assert result["equity"]["rows"][0]["label"] == "general"
    assert result["equity"]["rows"][0]["flag"] == "fewer"
    assert result["tests"] >= 3


def test_welch_matches_scipy_and_spread_by_hand():
    a, b = [4, 2, 0, 1, 3], [0, 0, 1, 0, 2, 1]
    # Student's t with Welch-Satterthwaite degrees of freedom, not the normal curve, which
    # gave 0.088 here against scipy's 0.141.
    assert welch_p(Moments.of(a), Moments.of(b)) == pytest.approx(
        stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9
    )
    # Ten classrooms (the default minimum group) against 400: the normal curve said 0.025
    # (flagged at 5%), Student's t with 9.3 degrees of freedom says 0.051.
    ten, rest = [0, 0, 0, 0, 0, 0, 0, 1, 1, 4], [1, 2] * 200
    p = welch_p(Moments.of(ten), Moments.of(rest))
    assert p == pytest.approx(stats.ttest_ind(ten, rest, equal_var=False).pvalue, rel=1e-9)
    assert p > 0.05
    assert welch_p(Moments.of([1, 1, 1]), Moments.of([2, 2, 2])) is None  # no spread at all
    assert (Moments.of(a) - Moments.of([4, 2])).mean == pytest.approx(statistics.fmean([0, 1, 3]))
    assert spread([0, 3, 1, 0]) == {"classrooms": 4, "visited": 2, "share_visited": 0.5,
                                    "visits": 4, "mean": 1.0, "median": 0.5, "most": 3}  # fmt: skip


def test_the_classroom_attributes_come_from_one_function(monkeypatch, client, bearer, admin,
                                                         district):  # fmt: skip
    """What a classroom is grouped by is read in one place (a later change keeps each
    walkthrough's own profile): replacing it regroups the whole report."""
    real = coverage.classroom_profiles

    def everyone_ap(school_ids, visits):
        return {k: p._replace(course_level="AP") for k, p in real(school_ids, visits).items()}

    monkeypatch.setattr(coverage, "classroom_profiles", everyone_ap)
    levels, _ = rows(report(client, bearer, admin), "course_level")
    assert list(levels) == ["AP"] and levels["AP"]["classrooms"] == 12


def test_many_schools_link_to_each_list(client, sign_in, admin, district, monkeypatch):
    """Beyond a few schools the page links to each school's list instead of printing them all;
    the JSON keeps every list."""
    from observe.reports import views

    monkeypatch.setattr(views, "COVERAGE_LISTS_INLINE", 1)
    sign_in(admin)
    html = client.get(f"/reports/coverage{OCTOBER}").get_data(as_text=True)
    assert "Classrooms not visited, by school" in html
    assert "Chem H" not in html  # no list is printed inline
    link = "/reports/coverage?school=RVE&amp;from=2026-10-01&amp;to=2026-10-31#not-visited-heading"
    assert link in html
    one = client.get("/reports/coverage?school=RVE&from=2026-10-01&to=2026-10-31")
    assert "Chem H" in one.get_data(as_text=True)
