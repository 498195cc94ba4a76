"""Writers on SQLite take turns: each hands the write lock on once its write is committed,
and a batch the server already has is answered without taking a turn."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from observe.core import database
from observe.core.database import begin_write
from observe.extensions import db
from observe.roster.models import School
from tests.conftest import is_postgres


@pytest.fixture
def sqlite_file(app) -> str:
    if is_postgres(app):
        pytest.skip("SQLite's write lock and WAL")
    return db.engine.url.database


LOCK = "observe.write_lock_fd"


@contextmanager
def handovers(ending: str) -> Iterator[list[tuple[bool, bool]]]:
    """For each write transaction that ends by ``ending`` ("commit" or "rollback"): whether the
    write lock was still held, and whether SQLite was still in the transaction, once the
    engine's own handler had run."""
    seen: list[tuple[bool, bool]] = []

    def begun(connection):
        connection.info["test.writing"] = connection.info.get(LOCK) is not None

    def ended(connection):  # after the engine's own handler
        if connection.info.pop("test.writing", False):
            still_locked = connection.info.get(LOCK) is not None
            seen.append((still_locked, connection.connection.driver_connection.in_transaction))

    event.listen(db.engine, "begin", begun)
    event.listen(db.engine, ending, ended)
    try:
        yield seen
    finally:
        event.remove(db.engine, "begin", begun)
        event.remove(db.engine, ending, ended)


def test_the_write_lock_is_handed_on_only_once_the_write_is_committed(
    sqlite_file, push, make_version
):
    """The next writer in line must find the last one's rows committed, not SQLite still
    locked: it would then sleep in SQLite's busy handler instead of starting at once."""
    with handovers("commit") as handed_on:
        push(make_version())
    # The token's first use writes too; each write: lock released, nothing left to commit.
    assert handed_on and set(handed_on) == {(False, False)}


def test_a_write_reaches_the_database_file_not_only_the_wal(
    sqlite_file, tmp_path, push, make_version, monkeypatch
):
    """Writers copy their pages from the WAL into the database file themselves, out of the
    lock; SQLite's automatic checkpoint would do it inside, every thousand pages."""
    version = make_version()
    push(version)  # perhaps within the interval of the token's first-use write
    time.sleep(database.COPY_INTERVAL_S)
    push(make_version())  # the next writer after the interval copies what came before it
    copy = tmp_path / "file-alone.sqlite3"
    shutil.copyfile(sqlite_file, copy)  # without its -wal file
    reader = sqlite3.connect(copy)
    stored = reader.execute(
        "SELECT count(*) FROM observation WHERE id = ?", (version["observation_id"],)
    ).fetchone()[0]
    reader.close()
    assert stored == 1


def test_writers_in_quick_succession_copy_the_wal_once_between_them(
    sqlite_file, push, make_version, monkeypatch
):
    """Each copy writes the pages every batch touches; one copy for many writes writes them
    once. (Durability does not wait for the copy: each commit syncs the WAL itself.)"""
    push(make_version())  # the token's first use is a write of its own; that is done now
    os.utime(f"{sqlite_file}.write-lock", (0, 0))  # the last copy: long ago
    monkeypatch.setattr(database, "COPY_INTERVAL_S", 60.0)
    sent = statements_of(lambda: [push(make_version()) for _ in range(4)])
    assert sent.count("PRAGMA wal_checkpoint(PASSIVE)") == 1
    assert sent.count("COMMIT") == 4


def test_a_wal_grown_past_the_limit_is_started_over(sqlite_file, push, make_version, monkeypatch):
    """Writers that follow each other without pause never let SQLite start the WAL over (the
    next one has begun before the last one's pages are copied), and the file only grows. Past
    a size, the writer that committed has it started over before handing the lock on."""
    wal = f"{sqlite_file}-wal"
    push(make_version())  # the token's first use is a write of its own; that is done now
    db.session.rollback()
    emptier = sqlite3.connect(sqlite_file)
    assert emptier.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # earlier tests'
    emptier.close()
    # As under that load: pages are never all copied by the time the next writer begins.
    monkeypatch.setattr(database, "copy_wal", lambda connection: None)

    def sizes() -> list[int]:
        grown = []
        for _ in range(4):
            push(*[make_version() for _ in range(20)])
            grown.append(os.path.getsize(wal))
        return grown

    growing = sizes()
    assert growing == sorted(growing) and growing[-1] > growing[0]  # it only grows
    monkeypatch.setattr(database, "WAL_LIMIT", 1)
    bounded = sizes()
    assert len(set(bounded)) == 1  # started over at each commit: written over, not grown


def test_a_commit_with_a_result_still_open_succeeds(sqlite_file, create_school):
    """The checkpoint after a commit fails while a result on the connection is unread; the
    commit it follows has succeeded and must say so."""
    create_school("A1")
    create_school("A2")
    begin_write()
    db.session.add(School(code="NEW", name="New School"))
    db.session.flush()
    unread = db.session.connection().exec_driver_sql("SELECT code FROM school")
    unread.fetchone()
    db.session.commit()
    unread.close()
    assert db.session.scalar(select(School.name).where(School.code == "NEW")) == "New School"


def test_a_rollback_hands_the_lock_on_only_once_sqlite_has_let_it_go(sqlite_file, create_school):
    create_school("B1")
    with handovers("rollback") as handed_on:
        begin_write()
        db.session.add(School(code="GONE", name="Gone"))
        db.session.flush()
        db.session.rollback()
    assert handed_on == [(False, False)]
    assert db.session.scalar(select(School.id).where(School.code == "GONE")) is None


def test_a_failed_commit_leaves_nothing_locked(sqlite_file):
    """A commit can fail (here a deferred foreign key); the next writer must find the database
    free, not SQLite still holding the failed transaction."""
    raw = sqlite3.connect(sqlite_file, isolation_level=None)
    raw.execute("CREATE TABLE test_parent (id INTEGER PRIMARY KEY)")
    raw.execute(
        "CREATE TABLE test_child (id INTEGER PRIMARY KEY, parent_id INTEGER "
        "REFERENCES test_parent(id) DEFERRABLE INITIALLY DEFERRED)"
    )
    try:
        begin_write()
        db.session.connection().exec_driver_sql("INSERT INTO test_child VALUES (1, 42)")
        with pytest.raises(IntegrityError):
            db.session.commit()
        other = sqlite3.connect(sqlite_file, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # would raise "database is locked"
        other.execute("ROLLBACK")
        other.close()
        db.session.rollback()
        assert raw.execute("SELECT count(*) FROM test_child").fetchone()[0] == 0
    finally:
        db.session.rollback()
        raw.execute("DROP TABLE test_child")
        raw.execute("DROP TABLE test_parent")
        raw.close()


def statements_of(action) -> list[str]:
    """The SQL an action sends to the database."""
    sent: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return sent


def writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.split()[0] in {"INSERT", "UPDATE", "DELETE"}
            or s == "BEGIN IMMEDIATE"]  # fmt: skip


def test_a_retried_batch_is_answered_without_writing(push, make_version):
    batch = [make_version(), make_version(), make_version()]
    first = push(*batch)["results"]
    again: list[dict] = []
    sent = statements_of(lambda: again.extend(push(*batch)["results"]))
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert [(r["observation_id"], r["head_version_id"]) for r in again] == [
        (r["observation_id"], r["head_version_id"]) for r in first
    ]
    assert [r["original_status"] for r in again] == ["applied"] * 3
    assert writes(sent) == []


def test_a_retry_with_anything_new_in_it_takes_the_write_path(push, make_version):
    stored = make_version()
    push(stored)
    reused = {**make_version(), "version_id": stored["version_id"]}
    results = push(stored, make_version(), stored, reused)["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("duplicate", None),
        ("applied", None),
        ("duplicate", None),
        ("rejected", "version_id_reused"),
    ]


def test_an_empty_batch_is_answered_without_writing(push, make_version):
    push(make_version())  # the token's first use is a write of its own; that is done now
    answered: list[dict] = []
    assert writes(statements_of(lambda: answered.append(push()))) == []
    assert answered == [{"results": []}]
