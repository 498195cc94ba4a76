"""Batches: new walkthroughs are written together, everything else one by one, and the
order of a batch is the order of its effects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event, func, select

from observe.core.changes import Change
from observe.extensions import db
from observe.observations.models import (
    Observation,
    ObservationVersion,
    Rating,
    RejectedVersion,
)
from observe.sync import push as operations
from tests.conftest import edit_of, new_id


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_walkthrough_and_its_edit_in_one_batch(push, make_version):
    first = make_version()
    edit = edit_of(first, notes="Amended after the visit.")
    results = push(first, edit)["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert results[1]["head_version_id"] == edit["version_id"]
    observation = db.session.get(Observation, first["observation_id"])
    assert observation.head_version_id == edit["version_id"]
    assert observation.notes == "Amended after the visit."
    assert count(ObservationVersion) == 2


def test_the_same_version_twice_in_one_batch_is_stored_once(push, make_version):
    version = make_version()
    results = push(version, version)["results"]
    assert [r["status"] for r in results] == ["applied", "duplicate"]
    assert count(ObservationVersion) == 1
    assert count(Rating) == 2


def test_a_mixed_batch_answers_each_item_in_order(push, make_version, setting):
    earlier = make_version()
    push(earlier)
    reused = {**make_version(), "version_id": earlier["version_id"]}
    fresh = [make_version(), make_version()]
    bad = make_version(classroom_id=setting.elsewhere.id)
    batch = [fresh[0], earlier, reused, bad, edit_of(earlier), "not an object", fresh[1]]
    results = push(*batch)["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("applied", None),
        ("duplicate", None),
        ("rejected", "version_id_reused"),
        ("rejected", "invalid"),
        ("applied", None),
        ("rejected", "invalid"),
        ("applied", None),
    ]
    assert count(Observation) == 3
    assert count(ObservationVersion) == 4
    assert count(RejectedVersion) == 3
    # The feed: the earlier push, then the first fresh one, the edit and the second fresh one.
    kinds = db.session.scalars(select(Change.kind).order_by(Change.seq)).all()
    assert kinds == ["rubric_version"] + ["observation"] * 4


def test_new_walkthroughs_go_in_three_statements_however_many(push, make_version):
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT"):
            statements.append(statement.split("(")[0].strip())

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        results = push(*[make_version() for _ in range(30)])["results"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert {r["status"] for r in results} == {"applied"}
    # A classroom profile met for the first time is remembered once (observe/roster/profiles.py),
    # not once per walkthrough.
    assert sum("classroom_profile" in s for s in statements) <= 1
    inserts = [s for s in statements if "change" not in s and "classroom_profile" not in s]
    assert inserts == [
        "INSERT INTO observation",
        "INSERT INTO observation_version",
        "INSERT INTO rating",
    ], statements
    assert count(Observation) == 30 and count(Rating) == 60


def test_a_batch_that_loses_a_race_falls_back_and_answers_duplicate(
    make_version, setting, monkeypatch
):
    """Another request stored the same walkthrough after this batch looked (PostgreSQL lets
    that happen): the multi-row insert fails, and each item takes the careful path."""
    version = make_version()
    device = operations.Device(setting.observer, "tablet-1")
    assert operations.push(device, [version])[0]["status"] == "applied"
    db.session.commit()

    looked = operations.Lookup.__init__

    def stale(self, user, items):
        looked(self, user, items)
        self.known, self.observations = {}, {}  # as if read before the other commit

    monkeypatch.setattr(operations.Lookup, "__init__", stale)
    other = make_version()
    results = operations.push(device, [other, version])
    db.session.commit()
    assert [r["status"] for r in results] == ["applied", "duplicate"]
    assert count(Observation) == 2
    assert count(ObservationVersion) == 2


def test_the_mirror_of_a_batch_written_walkthrough_matches_the_careful_path(push, make_version):
    """The same walkthrough stored alone in a batch and as an edit has the same row."""
    first = make_version(state="draft", notes="Draft.")
    push(first)
    edit = edit_of(
        first,
        state="submitted",
        notes="Done.",
        strengths="Pairs.",
        next_step="Wait.",
        language="es",
    )
    push(edit)
    careful = db.session.get(Observation, first["observation_id"])
    batch_version = {**edit, "observation_id": new_id(), "version_id": new_id(),
                     "base_version_id": None}  # fmt: skip
    push(batch_version)
    batch = db.session.get(Observation, batch_version["observation_id"])
    columns = ["rubric_version_id", "school_id", "classroom_id", "observed_at"]
    columns += ["duration_seconds", "context", "notes", "strengths", "next_step", "state"]
    columns += ["calibration_session_id", "language"]
    assert careful.language == "es"
    assert {c: getattr(careful, c) for c in columns} == {c: getattr(batch, c) for c in columns}
    assert batch.submitted_at == datetime.fromisoformat(edit["saved_at"])
    assert batch.head_version_id == batch_version["version_id"]


def test_keeping_the_rollups_reads_each_batch_s_classrooms_once(push, make_version, app):
    """The rollups need each walkthrough's classroom (its profile); the batch's lookup has read
    them already, so neither a batch of new walkthroughs nor one of edits reads a classroom
    again per walkthrough (each read also loads its programs and attributes)."""
    from observe.reports import summary

    summary._ensure_rollups()
    reads: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT") and "FROM classroom" in statement:
            reads.append(statement)

    first = [make_version() for _ in range(10)]
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert {r["status"] for r in push(*first)["results"]} == {"applied"}
        new_batch = len(reads)
        reads.clear()
        edits = [edit_of(v, notes="Amended.") for v in first]
        assert {r["status"] for r in push(*edits)["results"]} == {"applied"}
        edit_batch = len(reads)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert (new_batch, edit_batch) == (1, 1)
