"""History as it was (issue 13, item 1): each walkthrough keeps its classroom's profile and
teacher from the day of the visit, so a roster import changes the future and never the past;
``observe roster relabel`` corrects the past on purpose (observe/roster/profiles.py,
observe/observations/relabel.py)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from observe.audit.models import AuditEvent
from observe.core.permissions import SYSTEM
from observe.extensions import db
from observe.observations.models import Observation
from observe.reports import summary, uncertainty
from observe.roster import profiles
from observe.roster.models import Classroom, Teacher
from observe.roster.operations import RosterImportError, import_roster
from tests.reports.test_pdf import pdf_text
from tests.reports.test_rollups import assert_rollups_agree

HEADER = "classroom_id,school_code,name,teacher_id,teacher_name,course_level,grade,subject\n"
FALL = {"from": "2026-09-01", "to": "2026-12-31"}


@pytest.fixture
def built_rollups(app):
    """The rollups built before anything happens, so every change is kept in them."""
    summary._ensure_rollups()


@pytest.fixture
def room(team, create_classroom):
    """Riverside's "Biology" section, general, taught by Ada Lovelace."""
    teacher = Teacher(external_id="T-ADA", name="Ada Lovelace")
    return create_classroom("RVE-BIO", school=team.school, name="Biology", course_level="general",
                            grade="10", subject="Science", teacher=teacher)  # fmt: skip


@pytest.fixture
def visits(push_as, team, room):
    """Three fall visits to the section: what it was then is what the reports must keep."""

    def push(day: str, classroom: Classroom | None = None, school=None, user=None) -> str:
        classroom = classroom or room
        return push_as(user or team.observers[0], {
            "classroom_id": classroom.id,
            "school_id": (school or classroom.school).id,
            "observed_at": f"{day}T15:00:00+00:00",
        })  # fmt: skip

    push.fall = [push(f"2026-10-0{d}") for d in (1, 2, 3)]  # type: ignore[attr-defined]
    return push


def reimport(tmp_path, row: str, **flags) -> None:
    path = tmp_path / "classrooms.csv"
    path.write_text(HEADER + row + "\n")
    import_roster([path], **flags)
    db.session.commit()


def walkthroughs(by: str | None, **args) -> dict:
    """Walkthroughs per group, from the rollups (when they can answer) and counted afresh:
    the two must agree."""
    args = {k: [v] for k, v in args.items()}  # as a request's repeated parameters
    query = summary.parse_query(SYSTEM, {**({"by": by} if by else {}), **FALL, **args})
    fresh = dict(summary._counts(SYSTEM, query)["walkthroughs"])
    rolled = summary._rollup_counts(SYSTEM, query)
    if rolled is not None:
        assert dict(rolled["walkthroughs"]) == fresh
    db.session.rollback()
    return fresh


def test_a_new_course_level_moves_no_fall_visit_and_counts_the_new_ones(
    visits, room, tmp_path, team, built_rollups
):
    assert walkthroughs("course_level") == {"general": 3}
    reimport(tmp_path, "RVE-BIO,RVE,Biology,T-ADA,Ada Lovelace,honors,10,Science")
    assert db.session.get(Classroom, room.id).course_level == "honors"
    # The district's fall and the school's fall did not move.
    assert walkthroughs("course_level") == {"general": 3}
    assert walkthroughs("course_level", school="RVE") == {"general": 3}
    assert walkthroughs("school") == {"RVE": 3}
    assert_rollups_agree()
    visits("2026-11-02")
    assert walkthroughs("course_level") == {"general": 3, "honors": 1}
    assert walkthroughs("course_level", school="RVE") == {"general": 3, "honors": 1}
    assert_rollups_agree()


def test_a_classroom_re_profiled_mid_year_counts_whole_in_the_scope_s_intervals(
    visits, room, tmp_path, team, push_as, create_classroom, built_rollups
):
    """Split by course level, the section is in two groups (general in the fall, honors
    after); the look-for's interval over the whole scope takes each classroom's totals whole,
    never one group's part of them (review of the per-month reads)."""
    reimport(tmp_path, "RVE-BIO,RVE,Biology,T-ADA,Ada Lovelace,honors,10,Science")

    def visit(classroom: Classroom, day: str, level: int) -> None:
        rating = {"criterion": "ct-explain-reasoning", "level": level}
        push_as(team.observers[0], {"classroom_id": classroom.id, "ratings": [rating],
                                    "observed_at": f"{day}T15:00:00+00:00"})  # fmt: skip

    for day in ("2026-11-02", "2026-11-03", "2026-11-04"):
        visit(room, day, 1)
    chem = create_classroom("RVE-CHEM", school=team.school, name="Chemistry",
                            course_level="general", grade="10", subject="Science")  # fmt: skip
    for day, level in (("05", 4), ("06", 1), ("07", 1), ("08", 2)):
        visit(chem, f"2026-10-{day}", level)
    for split in ("course_level", "school", None):
        query = summary.parse_query(SYSTEM, {**({"by": split} if split else {}), **FALL})
        report = summary.build(SYSTEM, query)
        cell = next(c for c in report["criteria"] if c["key"] == "ct-explain-reasoning")
        # The fall's three visits at level 3 and November's three at 1; Chemistry's four.
        section = (3 if query.at_least <= 3 else 0, 6)
        chemistry = (sum(level >= query.at_least for level in (4, 1, 1, 2)), 4)
        whole = uncertainty.estimate([section, chemistry])
        assert cell["rated"] == 10 and cell["classrooms"] == 2, split
        assert cell["se"] == round(whole.se, 4), split
        assert cell["interval"] == [round(v, 4) for v in whole.interval], split
        db.session.rollback()


def test_a_blank_course_level_accepted_leaves_past_ap_visits_ap(
    push_as, team, create_classroom, tmp_path, built_rollups
):
    ap = create_classroom("RVE-AP", school=team.school, name="AP Bio", course_level="AP",
                          grade="11", subject="Science")  # fmt: skip
    for day in ("2026-10-05", "2026-10-06"):
        push_as(team.observers[0], {"classroom_id": ap.id,
                                    "observed_at": f"{day}T15:00:00+00:00"})  # fmt: skip
    with pytest.raises(RosterImportError):
        reimport(tmp_path, "RVE-AP,RVE,AP Bio,,,,11,Science")
    db.session.rollback()
    reimport(tmp_path, "RVE-AP,RVE,AP Bio,,,,11,Science", accept_blanks=True)
    assert db.session.get(Classroom, ap.id).course_level is None
    assert walkthroughs("course_level") == {"AP": 2}
    assert_rollups_agree()


def test_a_new_teacher_leaves_old_feedback_and_exports_with_the_old_one(
    client, sign_in, admin, visits, room, tmp_path
):
    old = visits.fall[0]
    reimport(tmp_path, "RVE-BIO,RVE,Biology,T-NEW,Jordan New,general,10,Science")
    assert db.session.get(Classroom, room.id).teacher.name == "Jordan New"
    new = visits("2026-11-02")
    sign_in(admin)

    page = client.get(f"/walkthroughs/{old}/feedback").get_data(as_text=True)
    assert "For Ada Lovelace" in page and "Jordan New" not in page
    assert "For Jordan New" in client.get(f"/walkthroughs/{new}/feedback").get_data(as_text=True)
    pdf = client.get(f"/walkthroughs/{old}/feedback.pdf")
    assert pdf.status_code == 200
    text = " ".join(pdf_text(pdf.data, tmp_path).split())
    assert "Ada Lovelace" in text and "Jordan New" not in text

    exported = client.get("/reports/export/download?format=csv").get_data(as_text=True)
    teachers = {r["observation_id"]: r["teacher"] for r in csv.DictReader(io.StringIO(exported))}
    assert teachers[old] == "Ada Lovelace" and teachers[new] == "Jordan New"

    # The walkthrough list names the teacher observed, and finds the visit by that teacher.
    listed = client.get("/api/v1/observations").get_json()
    named = {row["id"]: row["teacher"]["name"] for row in listed["observations"]}
    assert named[old] == "Ada Lovelace" and named[new] == "Jordan New"
    ada = db.session.scalar(select(Teacher.id).where(Teacher.external_id == "T-ADA"))
    found = client.get(f"/api/v1/observations?teacher={ada}").get_json()["observations"]
    assert {row["id"] for row in found} == set(visits.fall)


def test_a_moved_classroom_keeps_its_old_visits_under_the_old_school(
    app, client, sign_in, admin, visits, room, team, tmp_path, built_rollups, monkeypatch
):
    reimport(tmp_path, "RVE-BIO,SHS,Biology,T-ADA,Ada Lovelace,general,10,Science")
    assert db.session.get(Classroom, room.id).school_id == team.other_school.id
    moved = visits("2026-11-02", user=team.observers[2])  # Cy works at Southfield
    assert walkthroughs("school") == {"RVE": 3, "SHS": 1}
    assert walkthroughs("course_level", school="RVE") == {"general": 3}
    assert walkthroughs("course_level", school="SHS") == {"general": 1}
    assert_rollups_agree()

    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 1)
    sign_in(admin)
    exported = client.get("/reports/export/download?format=csv").get_data(as_text=True)
    schools = {r["observation_id"]: r["school_code"] for r in csv.DictReader(io.StringIO(exported))}
    assert [schools[o] for o in visits.fall] == ["RVE"] * 3 and schools[moved] == "SHS"

    coverage = client.get("/api/v1/reports/coverage?from=2026-09-01&to=2026-12-31").get_json()
    assert coverage["overall"]["visits"] == 4
    by_school = next(g for g in coverage["groups"] if g["dimension"] == "school")
    visited = {r["label"]: r.get("visits") for r in by_school["rows"]}
    assert visited["Riverside Elementary"] == 3 and visited["Southfield High"] == 1


def test_coverage_groups_visits_by_their_profile_and_the_unvisited_by_today(
    app, client, bearer, admin, visits, room, team, create_classroom, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 1)
    create_classroom("RVE-CHEM", school=team.school, name="Chemistry", course_level="AP")
    reimport(tmp_path, "RVE-BIO,RVE,Biology,T-ADA,Ada Lovelace,honors,10,Science")
    coverage = client.get("/api/v1/reports/coverage?from=2026-09-01&to=2026-12-31",
                          headers=bearer(admin)).get_json()  # fmt: skip
    levels = next(g for g in coverage["groups"] if g["dimension"] == "course_level")
    rows = {r["label"]: (r["classrooms"], r["visits"]) for r in levels["rows"]}
    # Biology was visited as general; Chemistry (unvisited) is AP as the roster has it now.
    assert rows["general"] == (1, 3) and rows["AP"] == (1, 0) and "honors" not in rows


def test_an_amendment_keeps_the_visit_s_profile_unless_it_changes_classroom(
    client, bearer, team, visits, room, tmp_path, create_classroom
):
    from tests.conftest import edit_of

    reimport(tmp_path, "RVE-BIO,RVE,Biology,T-NEW,Jordan New,honors,10,Science")
    ann = team.observers[0]
    first = visits.fall[0]
    kept = db.session.get(Observation, first)
    before = (kept.profile, kept.teacher_id)
    version = client.get(f"/api/v1/observations/{first}", headers=bearer(ann)).get_json()
    amended = edit_of(version["version"], notes="more evidence")
    result = client.post("/api/v1/sync/push", headers=bearer(ann),
                         json={"device_id": "t", "versions": [amended]}).get_json()  # fmt: skip
    assert result["results"][0]["status"] == "applied"
    db.session.expire_all()
    kept = db.session.get(Observation, first)
    assert (kept.profile, kept.teacher_id) == before
    assert profiles.lookup(db.session, [kept.profile])[kept.profile].course_level == "general"

    other = create_classroom("RVE-ART", school=team.school, name="Art", course_level="general")
    moved = edit_of(amended, classroom_id=other.id)
    result = client.post("/api/v1/sync/push", headers=bearer(ann),
                         json={"device_id": "t", "versions": [moved]}).get_json()  # fmt: skip
    assert result["results"][0]["status"] == "applied"
    db.session.expire_all()
    kept = db.session.get(Observation, first)
    assert kept.profile == profiles.profile_of(db.session.get(Classroom, other.id))
    assert kept.teacher_id is None


# ---- observe roster relabel ---------------------------------------------------------------------


def relabel(app, *args: str):
    return app.test_cli_runner().invoke(args=["roster", "relabel", *args])


def test_relabel_shows_the_move_changes_nothing_then_moves_with_yes(
    app, visits, room, tmp_path, team, built_rollups
):
    reimport(tmp_path, "RVE-BIO,RVE,Biology,T-NEW,Jordan New,honors,10,Science")
    visits("2026-11-02")  # already honors, with Jordan New: nothing to move
    kept = {o.id: (o.profile, o.teacher_id) for o in db.session.scalars(select(Observation))}
    db.session.rollback()

    shown = relabel(app, "--classroom", "RVE-BIO")
    assert shown.exit_code == 0, shown.output
    assert (
        "3 walkthroughs: course level general → honors; teacher Ada Lovelace → Jordan New"
        in shown.output
    )
    assert "Nothing was changed" in shown.output and "--yes" in shown.output
    db.session.expire_all()
    assert {
        o.id: (o.profile, o.teacher_id) for o in db.session.scalars(select(Observation))
    } == kept
    assert walkthroughs("course_level") == {"general": 3, "honors": 1}

    # Only October's first two, by dates.
    done = relabel(app, "--school", "RVE", "--from", "2026-10-01", "--to", "2026-10-02", "--yes")
    assert done.exit_code == 0, done.output
    assert "2 walkthroughs: course level general → honors" in done.output
    assert "Relabelled 2 walkthroughs." in done.output
    db.session.expire_all()
    assert walkthroughs("course_level") == {"general": 1, "honors": 3}
    assert_rollups_agree()
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "roster.relabelled")
    ).one()
    detail = event.detail if isinstance(event.detail, dict) else json.loads(event.detail)
    assert detail["walkthroughs"] == 2 and detail["schools"] == ["RVE"]

    again = relabel(app, "--classroom", "RVE-BIO", "--yes")
    assert "Relabelled 1 walkthrough." in again.output
    assert relabel(app, "--classroom", "RVE-BIO").output.strip().endswith("none would change.")
    assert walkthroughs("course_level") == {"honors": 4}
    assert_rollups_agree()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "choose walkthroughs with --classroom EXTERNAL_ID or --school CODE"),
        (("--classroom", "NOPE"), "no classroom with the id NOPE"),
        (("--school", "XYZ", "--yes"), "no school with the code XYZ"),
        (("--school", "RVE", "--from", "2026-10-05", "--to", "2026-10-01", "--yes"),
         "the end date 2026-10-01 is before the start date 2026-10-05"),
        (("--school", "RVE", "--from", "5 October"), "'5 October' does not match the format"),
    ],
)  # fmt: skip
def test_relabel_refuses_bad_choices_and_changes_nothing(app, visits, room, tmp_path, args,
                                                         message):  # fmt: skip
    reimport(tmp_path, "RVE-BIO,RVE,Biology,T-NEW,Jordan New,honors,10,Science")
    kept = {o.id: (o.profile, o.teacher_id) for o in db.session.scalars(select(Observation))}
    db.session.rollback()
    result = relabel(app, *args)
    assert result.exit_code != 0
    assert message in result.output
    db.session.expire_all()
    assert {
        o.id: (o.profile, o.teacher_id) for o in db.session.scalars(select(Observation))
    } == kept
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.relabelled"))
        is None
    )
