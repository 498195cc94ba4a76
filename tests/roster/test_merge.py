"""Merging two schools (issue 13): `observe roster merge OLD INTO` moves everything that was
OLD's to INTO and removes OLD; tablets learn it through pull, and what they still hold for OLD
is accepted into INTO."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from observe.accounts.models import User
from observe.audit.models import AuditEvent
from observe.calibration.models import CalibrationSession
from observe.core.changes import Change
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation
from observe.reports import rollups
from observe.reports.models import Goal, RollupSchool
from observe.roster.models import Classroom, School, SchoolMerge
from tests.conftest import edit_of


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def codes() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(School.code)))


def visits_by_school() -> dict[str, int]:
    """The rollups' walkthrough counts, by school code (what the summary reads)."""
    rows = db.session.execute(
        select(School.code, func.sum(RollupSchool.count))
        .join(School, School.id == RollupSchool.school_id)
        .where(RollupSchool.criterion_id == 0)
        .group_by(School.code)
    )
    return {code: int(n) for code, n in rows}


def goal(setting, school: School, title: str, key: str = "ct-explain-reasoning") -> Goal:
    made = Goal(
        title=title,
        rubric_version_id=setting.version.id,
        target_kind="criterion",
        target_key=key,
        at_least=3,
        target_share=0.5,
        school_id=school.id,
        starts_on=date(2026, 8, 1),
        deadline=date(2027, 6, 15),
        created_by_id=setting.observer.id,
    )
    db.session.add(made)
    db.session.commit()
    return made


@pytest.fixture
def district(setting, create_user, push, make_version):
    """RVE with a walkthrough, a goal, a calibration session, a leader of both schools; SHS with
    a walkthrough and the same goal."""
    leader = create_user(
        Role.SCHOOL_LEADER, email="lead@example.org", schools=[setting.school, setting.other_school]
    )
    admin = create_user(Role.DISTRICT_ADMIN, email="admin@example.org")
    walkthrough = make_version()
    assert push(walkthrough)["results"][0]["status"] == "applied"
    other = make_version(school_id=setting.other_school.id, classroom_id=setting.elsewhere.id)
    setting.observer.schools.append(setting.other_school)
    db.session.commit()
    assert push(other)["results"][0]["status"] == "applied"
    setting.observer.schools.remove(setting.other_school)
    db.session.add(
        CalibrationSession(
            title="October norming",
            rubric_version_id=setting.version.id,
            school_id=setting.school.id,
            classroom_id=setting.classroom.id,
            held_on=date(2026, 10, 20),
            facilitator_id=leader.id,
        )
    )
    db.session.commit()
    goal(setting, setting.school, "RVE reasoning")
    goal(setting, setting.other_school, "SHS reasoning")
    goal(setting, setting.school, "RVE rigour", key="ct-rigorous-task")
    rollups.rebuild(db.session)
    db.session.commit()
    return {"walkthrough": walkthrough, "leader": leader, "admin": admin}


def test_a_merge_shows_what_would_move_and_changes_nothing_without_yes(run, setting, district):
    before = visits_by_school()
    result = run("roster", "merge", "RVE", "SHS")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Merging Riverside Elementary (RVE) into Southfield High (SHS) would move:",
        "  classrooms: 1",
        "  people's school assignments: 2",
        "  walkthroughs: 1",
        "  calibration sessions: 1",
        "  goals: 2",
        "  report rollup rows: 3",
        f"  Goal {_goal_id('RVE reasoning')} 'RVE reasoning' (from RVE) and goal "
        f"{_goal_id('SHS reasoning')} 'SHS reasoning' of SHS have the same target (criterion "
        "ct-explain-reasoning): both are kept; remove one on the goals page if they say the same.",
        "and remove RVE. Nothing has changed: run again with --yes.",
    ]
    assert codes() == ["RVE", "SHS"]
    assert db.session.scalar(select(func.count()).select_from(SchoolMerge)) == 0
    assert visits_by_school() == before
    assert db.session.get(Classroom, setting.classroom.id).school.code == "RVE"
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "roster.merged")
    ).all()


def _goal_id(title: str) -> int:
    return db.session.scalar(select(Goal.id).where(Goal.title == title))


def test_a_merge_moves_everything_and_tablets_finish_what_they_hold(
    run, client, bearer, setting, district, push, make_version
):
    observer_headers = bearer(setting.observer)
    cursor = client.get("/api/v1/bootstrap", headers=observer_headers).get_json()["cursor"]
    # Held on the tablet, not pushed yet: a new walkthrough and an amendment, both naming RVE.
    draft = make_version(state="draft")
    amendment = edit_of(district["walkthrough"], notes="Added after the merge")
    before = visits_by_school()
    rve_id, shs_id = setting.school.id, setting.other_school.id

    result = run("roster", "merge", "RVE", "SHS", "--yes")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "Riverside Elementary (RVE) is merged into Southfield High (SHS); moved:\n  classrooms: 1\n"
    )
    assert codes() == ["SHS"]
    # History follows: it is the same school now, and its fall is the sum of both.
    assert visits_by_school() == {"SHS": before["RVE"] + before["SHS"]}
    stored = db.session.get(Observation, district["walkthrough"]["observation_id"])
    assert stored.school_id == shs_id and stored.classroom.school_id == shs_id
    assert db.session.scalar(select(CalibrationSession.school_id)) == shs_id
    assert sorted(db.session.scalars(select(Goal.title).where(Goal.school_id == shs_id))) == [
        "RVE reasoning",
        "RVE rigour",
        "SHS reasoning",
    ]
    observer = db.session.get(User, setting.observer.id)
    leader = db.session.get(User, district["leader"].id)
    assert [s.code for s in observer.schools] == ["SHS"]
    assert [s.code for s in leader.schools] == ["SHS"]  # once, though they had both
    merge = db.session.get(SchoolMerge, rve_id)
    assert (merge.old_code, merge.old_name, merge.school_id) == (
        "RVE",
        "Riverside Elementary",
        shs_id,
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "roster.merged")).one()
    assert event.object_id == str(shs_id)
    assert event.detail["from"] == "RVE" and event.detail["into"] == "SHS"
    assert event.detail["moved"]["walkthroughs"] == 1

    # The observer's tablet: one pull brings the schools they hold now, the walkthrough in its
    # new school, and no change that names the old school.
    changes = client.get(f"/api/v1/sync/pull?cursor={cursor}", headers=observer_headers)
    kinds = {c["kind"]: c for c in changes.get_json()["changes"]}
    assert [s["code"] for s in kinds["access"]["schools"]] == ["SHS"]
    assert kinds["observation"]["observation"]["version"]["school_id"] == shs_id
    # A district admin's tablet holds every school: it is told too, and its feed still reads.
    admin_feed = client.get("/api/v1/sync/pull?cursor=0", headers=bearer(district["admin"]))
    assert admin_feed.status_code == 200
    admin_changes = admin_feed.get_json()["changes"]
    assert [s["code"] for c in admin_changes if c["kind"] == "access" for s in c["schools"]] == [
        "SHS"
    ]
    assert all(c["school"]["id"] == shs_id for c in admin_changes if c["kind"] == "school")

    # What the tablet held for RVE is accepted, into SHS; a retry of a version sent before the
    # merge is still recognised.
    results = push(draft, amendment, district["walkthrough"])["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "duplicate"], results
    db.session.expire_all()
    assert db.session.get(Observation, draft["observation_id"]).school_id == shs_id
    amended = db.session.get(Observation, amendment["observation_id"])
    assert (amended.school_id, amended.notes) == (shs_id, "Added after the merge")
    assert push(edit_of(draft, state="submitted"))["results"][0]["status"] == "applied"
    assert visits_by_school() == {"SHS": before["RVE"] + before["SHS"] + 1}
    # A new walkthrough on the tablet's new roster.
    fresh = make_version(school_id=shs_id)
    assert push(fresh)["results"][0]["status"] == "applied"


def test_a_school_merged_twice_still_takes_what_tablets_held_for_the_first(
    run, create_school, setting, push, make_version
):
    third = create_school("NEW", "Northside")
    draft = make_version(state="draft")
    assert run("roster", "merge", "RVE", "SHS", "--yes").exit_code == 0
    assert run("roster", "merge", "SHS", "NEW", "--yes").exit_code == 0
    assert codes() == ["NEW"]
    assert [m.school_id for m in db.session.scalars(select(SchoolMerge))] == [third.id] * 2
    assert push(draft)["results"][0]["status"] == "applied"
    assert db.session.get(Observation, draft["observation_id"]).school_id == third.id


def test_an_old_school_id_a_tablet_never_held_is_still_unknown(setting, push, make_version):
    result = push(make_version(school_id=999_999))["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["message"] == "unknown school 999999"


@pytest.mark.parametrize(
    ("old", "into", "message"),
    [
        ("NOPE", "SHS", "there is no school with code 'NOPE'"),
        ("RVE", "NOPE", "there is no school with code 'NOPE'"),
        (
            "NOPE",
            "ALSO",
            "there is no school with code 'NOPE'; there is no school with code 'ALSO'",
        ),
        ("RVE", "RVE", "RVE cannot be merged into itself"),
        (" ", "SHS", "the code of the school to close is empty"),
        ("RVE", "", "the code of the school is empty"),
    ],
)
def test_a_merge_that_cannot_be_done_names_why_and_changes_nothing(
    run, setting, old, into, message
):
    feed = changes_count()
    result = run("roster", "merge", old, into, "--yes")
    assert result.exit_code == 1 and f"Error: {message}\n" in result.output, result.output
    assert codes() == ["RVE", "SHS"]
    assert db.session.scalar(select(func.count()).select_from(SchoolMerge)) == 0
    assert changes_count() == feed


def test_a_recode_onto_an_existing_code_points_to_merge(run, setting):
    result = run("roster", "recode", "RVE", "SHS")
    assert result.exit_code == 1
    assert "(if RVE is closing into Southfield High, run `observe roster merge RVE SHS`)" in (
        result.output
    )
    assert codes() == ["RVE", "SHS"]


def test_the_preview_leaves_no_change_for_tablets(run, setting):
    feed = changes_count()
    assert run("roster", "merge", "RVE", "SHS").exit_code == 0
    assert changes_count() == feed


def changes_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Change))
