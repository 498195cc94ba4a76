"""The rollups say exactly what counting the walkthroughs afresh says, whatever happened to
them: new, edited, drafted then submitted, deleted, reconciled, practice, re-rostered."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from sqlalchemy import func, select

from observe.core.permissions import SYSTEM
from observe.extensions import db
from observe.observations.models import Observation
from observe.reports import rollups, summary
from observe.reports.models import RollupClassroom, RollupSchool, RollupState
from observe.roster.models import Classroom, School
from observe.roster.operations import import_roster
from tests.calibration.test_sessions import SCORES
from tests.conftest import edit_of

SPLITS = [None, "school", "title_i", "course_level", "grade_band", "program", "classroom:period"]


def normalised(counts: dict) -> dict:
    def key(raw):
        return summary._group_key(None, raw) if raw is not None else None

    ratings: Counter = Counter()
    for raw, criterion_id, level, not_observed, count in counts["ratings"]:
        ratings[(key(raw), criterion_id, level, not_observed)] += count
    walkthroughs: Counter = Counter()
    for raw, count in counts["walkthroughs"]:
        walkthroughs[key(raw)] += count
    return {
        "ratings": +ratings,
        "walkthroughs": +walkthroughs,
        "total": counts["total"],
        "trend": sorted((m, c, int(h), int(n)) for m, c, h, n in counts["trend"] if n),
        "months": {m: n for m, n in counts["months"].items() if n},
    }


def assert_rollups_agree():
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RollupClassroom)), "nothing counted"
    # The whole district, and one named school: a classroom split of some schools is counted
    # from rollup_classroom by profile, the district's from rollup_profile.
    first_school = db.session.scalar(select(School.code).order_by(School.id))
    scopes = ({}, {"school": [first_school]})
    dated = ({}, {"from": "2026-10-01", "to": "2026-10-31"}, {"to": "2026-09-30"})
    for by in SPLITS:
        for dates, scope in itertools.product(dated, scopes):
            args = {"by": by, **dates, **scope} if by else {**dates, **scope}
            query = summary.parse_query(SYSTEM, args)
            from_rollups = summary._rollup_counts(SYSTEM, query)
            assert from_rollups is not None, args
            fresh = summary._counts(SYSTEM, query)
            assert normalised(from_rollups) == normalised(fresh), args
            assert_clustered_agree(query, args)


def assert_clustered_agree(query: summary.Query, args: dict) -> None:
    """Per classroom, the rollups' totals are the walkthroughs' (what the intervals rest on)."""

    def tidy(rows: list[tuple]) -> list[tuple]:
        return sorted((summary._group_key(query.by, r[0]), *r[1:]) for r in rows if r[4])

    kept = summary._kept(SYSTEM, query)
    assert kept is not None, args
    found = summary._rollup_clustered(kept, True)
    assert found is not None, args
    fresh = summary._clustered_direct(SYSTEM, query, True)
    assert tidy(found.group_rows()) == tidy(fresh.group_rows()), args
    assert tidy(found.months.rows()) == tidy(fresh.months.rows()), args


@pytest.fixture
def built(app):
    summary._ensure_rollups()
    assert db.session.get(RollupState, 1) is not None


def test_every_change_keeps_the_rollups_true(
    client, bearer, push_as, team, create_classroom, new_session, score, built, tmp_path
):
    ap = create_classroom("RVE-AP", school=team.school, name="AP Bio", course_level="AP",
                          grade="10")  # fmt: skip
    ann = team.observers[0]
    visits = [
        push_as(ann, {"classroom_id": ap.id, "observed_at": f"2026-10-0{d}T15:00:00+00:00",
                      "ratings": [{"criterion": "ct-explain-reasoning", "level": d % 4 + 1},
                                  {"criterion": "ct-rigorous-task", "not_observed": True}]})
        for d in range(1, 6)
    ]  # fmt: skip
    whole_school = push_as(ann, {"classroom_id": None, "ratings": [
        {"criterion": "ct-explain-reasoning", "level": 3}]})  # fmt: skip
    assert_rollups_agree()

    headers = bearer(ann)
    # An edit (the careful path): the old ratings leave, the new ones come.
    history = client.get(f"/api/v1/observations/{visits[0]}", headers=headers).get_json()
    first = history["version"]
    edited = client.post("/api/v1/sync/push", headers=headers, json={"device_id": "t", "versions": [
        edit_of(first, ratings=[{"criterion": "ct-explain-reasoning", "level": 1}])]})  # fmt: skip
    assert edited.get_json()["results"][0]["status"] == "applied"
    # A draft counts once submitted.
    draft = push_as(ann, {"state": "draft", "ratings": [
        {"criterion": "ct-explain-reasoning", "level": 4}]})  # fmt: skip
    assert_rollups_agree()
    draft_version = client.get(f"/api/v1/observations/{draft}", headers=headers).get_json()
    submitted = client.post("/api/v1/sync/push", headers=headers, json={"device_id": "t",
        "versions": [edit_of(draft_version["version"], state="submitted")]})  # fmt: skip
    assert submitted.get_json()["results"][0]["status"] == "applied"
    # A deletion, a conflict reconciled, a calibration score (never counted).
    assert client.delete(f"/api/v1/observations/{visits[1]}", headers=headers).status_code == 200
    base = client.get(f"/api/v1/observations/{visits[2]}", headers=headers).get_json()["version"]
    mine = edit_of(base, ratings=[{"criterion": "ct-explain-reasoning", "level": 2}])
    theirs = edit_of(base, ratings=[{"criterion": "ct-explain-reasoning", "level": 4}])
    both = client.post("/api/v1/sync/push", headers=headers,
                       json={"device_id": "t", "versions": [mine, theirs]})  # fmt: skip
    assert [r["status"] for r in both.get_json()["results"]] == ["applied", "conflict"]
    reconciled = client.post(f"/api/v1/observations/{visits[2]}/reconcile", headers=headers,
                             json={"version_id": mine["version_id"]})  # fmt: skip
    assert reconciled.status_code == 200
    score(ann, new_session(), SCORES["Ann Ames"])
    assert_rollups_agree()
    assert db.session.get(Observation, whole_school).classroom_id is None

    # A roster import that changes a classroom's course level: counted afresh.
    roster = tmp_path / "classrooms.csv"
    roster.write_text(
        "classroom_id,school_code,name,course_level,grade,period\nRVE-AP,RVE,AP Bio,honors,10,3\n"
    )
    import_roster([roster])
    db.session.commit()
    assert (
        db.session.scalar(select(Classroom.course_level).where(Classroom.external_id == "RVE-AP"))
        == "honors"
    )
    assert_rollups_agree()
    assert db.session.scalar(select(func.count()).select_from(RollupSchool)) > 0


def test_a_rolled_back_request_counts_nothing(app, built, team, push_as):
    before = db.session.scalar(select(func.sum(RollupSchool.count))) or 0
    rollups.add(db.session, version_id=team.version.id, observed_at=team.version.loaded_at,
                school_id=team.school.id, profile_key="", ratings=[(1, 3, False)])  # fmt: skip
    db.session.rollback()
    db.session.commit()
    assert (db.session.scalar(select(func.sum(RollupSchool.count))) or 0) == before
