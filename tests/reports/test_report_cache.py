"""What the summary keeps in memory between requests (observe/reports/cache.py): asked again,
it reads only the school-months a walkthrough reached since, and says what reading everything
afresh says."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from observe.core.permissions import SYSTEM
from observe.extensions import db
from observe.reports import cache, rollups, summary
from observe.reports.models import RollupStamp, RollupState
from tests.conftest import edit_of

OCTOBER = "2026-10-{:02d}T15:00:00+00:00"


@pytest.fixture
def stale_reads(monkeypatch):
    """Every (rubric version, school) a summary reads of rollup_classroom, per month read."""
    seen: list[set[tuple[int, int]]] = []
    real = summary._read_chunks

    def spy(connection, statement, stale):
        seen.append(set(stale))
        return real(connection, statement, stale)

    monkeypatch.setattr(summary, "_read_chunks", spy)
    return seen


@pytest.fixture
def two_schools(app, team, push_as, create_classroom, monkeypatch):
    # Two schools of one classroom each: small enough to read, so shown in full here.
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 1)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CLASSROOMS", 1)
    summary._ensure_rollups()
    db.session.commit()
    english = create_classroom("SHS-9", school=team.other_school, name="English 9", grade="9",
                               course_level="general")  # fmt: skip
    ann, cy = team.observers[0], team.observers[2]
    for day in range(1, 4):
        push_as(ann, {"observed_at": f"2026-09-{day:02d}T15:00:00+00:00"})
        push_as(cy, {"school_id": team.other_school.id, "classroom_id": english.id,
                     "observed_at": OCTOBER.format(day)})  # fmt: skip
    return english


def report(by: str | None = "school") -> dict:
    query = summary.parse_query(SYSTEM, {"by": by} if by else {})
    built = summary.build(SYSTEM, query)
    db.session.commit()
    return built


def test_asked_again_it_reads_nothing_and_after_a_push_only_that_school_month(
    team, push_as, two_schools, stale_reads
):
    first = report()
    assert first["observations"] == 6
    assert stale_reads, "the first report reads the rollups"
    stale_reads.clear()
    assert report() == first
    assert stale_reads == [], "nothing changed: nothing is read again"

    low = [{"criterion": "ct-explain-reasoning", "level": 1}]
    push_as(team.observers[2], {"school_id": team.other_school.id, "ratings": low,
                                "classroom_id": two_schools.id,
                                "observed_at": OCTOBER.format(9)})  # fmt: skip
    after = report()
    assert stale_reads == [{(team.version.id, team.other_school.id)}], "only October at SHS"
    assert after["observations"] == 7
    query = summary.parse_query(SYSTEM, {"by": "school"})
    observers = summary._observer_counts(SYSTEM, query)
    assert observers["SHS"] == {team.observers[2].id: 4}
    cache.clear()
    assert report() == after, "what was kept says what reading everything afresh says"
    assert summary._observer_counts(SYSTEM, query) == observers


def test_a_walkthrough_moved_to_another_classroom_of_its_school_is_read_again(
    client, bearer, team, push_as, two_schools, create_classroom, stale_reads
):
    """Per school nothing changes, per classroom it does: the stamp still moves."""
    query = summary.parse_query(SYSTEM, {"by": "school"})
    before = summary.clustered(SYSTEM, query).groups["SHS"]
    assert len(before.clusters) == 1
    drama = create_classroom("SHS-D", school=team.other_school, name="Drama", grade="9")
    cy = team.observers[2]
    moved = push_as(cy, {"school_id": team.other_school.id, "classroom_id": two_schools.id,
                         "observed_at": OCTOBER.format(12)})  # fmt: skip
    summary.clustered(SYSTEM, query)
    stale_reads.clear()
    headers = bearer(cy)
    head = client.get(f"/api/v1/observations/{moved}", headers=headers).get_json()["version"]
    edited = client.post("/api/v1/sync/push", headers=headers, json={"device_id": "t",
                         "versions": [edit_of(head, classroom_id=drama.id)]})  # fmt: skip
    assert edited.get_json()["results"][0]["status"] == "applied"
    after = summary.clustered(SYSTEM, query).groups["SHS"]
    assert stale_reads == [{(team.version.id, team.other_school.id)}]
    assert len(after.clusters) == 2, "the walkthrough now counts in Drama"


def test_a_rebuild_or_a_school_s_new_region_is_read_at_once(team, two_schools, stale_reads):
    team.school.region, team.other_school.region = "North", "South"
    db.session.commit()
    query = summary.parse_query(SYSTEM, {"by": "region"})
    assert set(summary.clustered(SYSTEM, query).groups) == {"North", "South"}
    counted = summary.counted(SYSTEM, query)
    assert dict(counted["walkthroughs"]) == {"North": 3, "South": 3}

    # No walkthrough changed, so no stamp did: the groups are still made afresh.
    team.other_school.region = "North"
    db.session.commit()
    stale_reads.clear()
    assert set(summary.clustered(SYSTEM, query).groups) == {"North"}
    assert dict(summary.counted(SYSTEM, query)["walkthroughs"]) == {"North": 6}
    assert stale_reads == []

    # A build draws a new token: nothing kept from before it passes for current.
    rollups.rebuild(db.session)
    db.session.commit()
    summary.clustered(SYSTEM, query)
    read = set().union(*stale_reads)
    assert read == {(team.version.id, team.school.id), (team.version.id, team.other_school.id)}


def test_nothing_is_kept_when_the_setting_says_none(
    app, team, two_schools, stale_reads, monkeypatch
):
    monkeypatch.setitem(app.config, "OBSERVE_REPORT_CACHE_MB", 0)
    cache.clear()  # what earlier tests' reports kept
    first = report()
    stale_reads.clear()
    assert report() == first
    assert stale_reads, "read again, as nothing was kept"
    assert cache.kept_bytes() == 0


def test_a_leader_s_or_a_named_school_s_report_is_kept_apart_from_the_district_s(team, two_schools):
    """What is kept for one scope never answers another: a leader of Riverside sees only it,
    whatever an admin asked before; so does a report naming SHS."""
    district = summary.build(SYSTEM, summary.parse_query(SYSTEM, {"by": "school"}))
    assert district["observations"] == 6
    leader = team.facilitator  # a leader of Riverside only
    mine = summary.build(leader, summary.parse_query(leader, {"by": "school"}))
    assert mine["observations"] == 3
    assert {row["label"] for row in mine["groups"]["rows"]} == {"RVE"}
    named = summary.build(SYSTEM, summary.parse_query(SYSTEM, {"by": "school", "school": ["SHS"]}))
    assert named["observations"] == 3
    assert {row["label"] for row in named["groups"]["rows"]} == {"SHS"}


def test_rollups_built_before_the_stamps_are_counted_afresh(team, two_schools, stale_reads):
    """A build with no token (made by a server of the release before, while the new one was
    being installed) has no stamps to say what changed: the next report counts afresh."""
    first = report()
    state = db.session.get(RollupState, 1)
    state.token = ""
    db.session.execute(delete(RollupStamp))
    db.session.commit()
    assert not rollups.is_built(db.session())
    stale_reads.clear()
    assert report() == first
    assert stale_reads, "counted afresh, every school-month read"
    assert db.session.get(RollupState, 1).token


def test_observe_reports_recount_draws_a_new_token(app, team, two_schools, stale_reads):
    """After a restore by other means than `observe restore`, one command makes every server
    read afresh (the restored token and stamps could pass for current)."""
    first = report()
    token = db.session.get(RollupState, 1).token
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["reports", "recount"])
    assert result.exit_code == 0, result.output
    assert "Counted afresh:" in result.output and "2 school-months" in result.output
    db.session.rollback()
    assert db.session.get(RollupState, 1).token not in ("", token)
    stale_reads.clear()
    assert report() == first
    assert set().union(*stale_reads) == {
        (team.version.id, team.school.id),
        (team.version.id, team.other_school.id),
    }


def test_a_report_reads_its_stamps_once_and_a_push_in_its_transaction_reads_them_again(
    team, two_schools, push_as
):
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "FROM rollup_stamp" in statement:
            statements.append(statement.split("WHERE")[-1])

    report()  # the first also fits the rater model, and commits it
    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        report()  # counts, cells, observers: one read of the stamps between them
        assert len(statements) == 1
        first = report()
        assert len(statements) == 2  # the next report, in a new transaction, reads afresh
        # A push in the same transaction as the reports after it: they read the stamps again.
        summary.build(SYSTEM, summary.parse_query(SYSTEM, {"by": "school"}))
        push_as(team.observers[0], {"observed_at": "2026-09-20T15:00:00+00:00"})
        again = summary.build(SYSTEM, summary.parse_query(SYSTEM, {"by": "school"}))
        db.session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert again["observations"] == first["observations"] + 1


def test_a_rollup_write_in_the_transaction_makes_its_report_read_the_stamps_again(
    team, two_schools
):
    query = summary.parse_query(SYSTEM, {"by": "school"})
    month, version, school, serial = summary._kept(SYSTEM, query).stamps[0]
    rollups.stamp(db.session, [(version, month, school)])  # no commit: the same transaction
    assert (month, version, school, serial + 1) in summary._kept(SYSTEM, query).stamps
    db.session.rollback()


@pytest.mark.parametrize("by", ["course_level", None])
def test_a_walkthrough_committed_while_a_report_reads_is_kept_for_no_other_scope(
    team, two_schools, push_as, create_user, by
):
    """On PostgreSQL a report's reads see what other requests commit after it read its stamps
    (READ COMMITTED): a school's first walkthrough of a month, committed in between, must not
    be kept under the stamps of the schools that had one — where a leader of those alone
    would read it."""
    from observe.core.permissions import Role

    leader = create_user(Role.SCHOOL_LEADER, name="Lee", schools=[team.school])
    db.session.commit()
    push_as(team.observers[0], {"observed_at": "2026-11-05T15:00:00+00:00"})
    cache.clear()
    november = {"from": "2026-11-01", "to": "2026-11-30", **({"by": by} if by else {})}
    codes = [team.school.code, team.other_school.code]
    both = summary.parse_query(SYSTEM, {**november, "school": codes})
    kept = summary._kept(SYSTEM, both)
    assert {school for _, _, school, _ in kept.stamps} == {team.school.id}
    push_as(team.observers[2], {"school_id": team.other_school.id, "classroom_id": None,
                                "observed_at": "2026-11-06T15:00:00+00:00"})  # fmt: skip
    summary._counted_from(kept)  # the rest of the first report, reading what is committed
    mine = summary.parse_query(leader, november)
    from_rollups = summary._rollup_counts(leader, mine)
    assert from_rollups is not None
    assert from_rollups["total"] == summary._counts(leader, mine)["total"] == 1
