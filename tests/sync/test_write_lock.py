"""Writers on SQLite take turns: each hands the write lock on once its write is committed,
and a batch the server already has is answered without taking a turn."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from sqlalchemy import event

from observe.extensions import db
from tests.conftest import is_postgres


@pytest.fixture
def sqlite_file(app) -> str:
    if is_postgres(app):
        pytest.skip("SQLite's write lock and WAL")
    return db.engine.url.database


LOCK = "observe.write_lock_fd"


def test_the_write_lock_is_handed_on_only_once_the_write_is_committed(
    sqlite_file, push, make_version
):
    """The next writer in line must find the last one's rows committed, not SQLite still
    locked: it would then sleep in SQLite's busy handler instead of starting at once."""
    handed_on: list[tuple[bool, bool]] = []

    def begun(connection):
        connection.info["test.writing"] = connection.info.get(LOCK) is not None

    def committed(connection):  # after the engine's own commit handler
        if connection.info.pop("test.writing", False):
            still_locked = connection.info.get(LOCK) is not None
            handed_on.append((still_locked, connection.connection.driver_connection.in_transaction))

    event.listen(db.engine, "begin", begun)
    event.listen(db.engine, "commit", committed)
    try:
        push(make_version())
    finally:
        event.remove(db.engine, "begin", begun)
        event.remove(db.engine, "commit", committed)
    # The token's first use writes too; each write: lock released, nothing left to commit.
    assert handed_on and set(handed_on) == {(False, False)}


def test_a_write_reaches_the_database_file_not_only_the_wal(
    sqlite_file, tmp_path, push, make_version
):
    """Writers copy their pages from the WAL into the database file themselves, out of the
    lock; SQLite's automatic checkpoint would do it inside, every thousand pages."""
    version = make_version()
    push(version)
    copy = tmp_path / "file-alone.sqlite3"
    shutil.copyfile(sqlite_file, copy)  # without its -wal file
    reader = sqlite3.connect(copy)
    stored = reader.execute(
        "SELECT count(*) FROM observation WHERE id = ?", (version["observation_id"],)
    ).fetchone()[0]
    reader.close()
    assert stored == 1


def test_a_retried_batch_is_answered_without_writing(push, make_version):
    batch = [make_version(), make_version(), make_version()]
    first = push(*batch)["results"]
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        again = push(*batch)["results"]
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert [(r["observation_id"], r["head_version_id"]) for r in again] == [
        (r["observation_id"], r["head_version_id"]) for r in first
    ]
    assert [r["original_status"] for r in again] == ["applied"] * 3
    writes = [s for s in statements if s.split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == [] and "BEGIN IMMEDIATE" not in statements


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
