"""Database engine set-up that differs between SQLite and PostgreSQL, bulk inserts, and savepoints
that keep what a transaction noted for its commit."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from copy import deepcopy
from typing import Any, cast

from sqlalchemy import Insert, Table, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

_WRITE_LOCK_FD = "observe.write_lock_fd"
_CHANGES_AT_BEGIN = "observe.changes_at_begin"
_log = logging.getLogger(__name__)


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database
    on_disk = database and database != ":memory:"
    lock_path = f"{database}.write-lock" if on_disk else None
    wal_path = f"{database}-wal" if on_disk else None

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, record: Any) -> None:
        # Python's sqlite3 module opens and closes transactions behind SQLAlchemy's back, which
        # breaks SAVEPOINT (one bad item in a batch must roll back alone). Turn that off and
        # emit BEGIN ourselves below, as SQLAlchemy's documentation recommends for pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets readers work while one writer writes: several gunicorn workers on one file.
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit returns only once the WAL is synced to disk, so a version answered
        # `applied` survives a power cut or an OS crash. (NORMAL, SQLite's usual choice in WAL
        # mode, syncs only at checkpoints: a committed write may roll back after a power loss.)
        # See "Durability" in docs/security.md.
        cursor.execute(f"PRAGMA synchronous = {SQLITE_SYNCHRONOUS}")
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA wal_autocheckpoint = 0")  # see on_commit
        cursor.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT // 2}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("sqlite_immediate"):
            # SQLite's own wait for the write lock polls with growing sleeps, so under load one
            # writer can starve behind the others past any timeout. Writers first queue on an
            # OS file lock, which hands over as soon as it is released, in every process.
            if lock_path:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                connection.info[_WRITE_LOCK_FD] = fd
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
        connection.info[_CHANGES_AT_BEGIN] = _total_changes(connection)

    @event.listens_for(engine, "commit")
    def on_commit(connection: Connection) -> None:
        # SQLAlchemy announces a commit before the driver makes it. A transaction that wrote is
        # committed here instead, so the write lock passes to the next writer the moment SQLite
        # has let it go (released before, the next writer found SQLite still locked and slept in
        # its busy handler); then the WAL's pages are copied into the database file, out of the
        # lock (SQLite's automatic checkpoint, turned off above, ran inside the commit), by at
        # most one writer every COPY_INTERVAL_S. The driver's commit that follows finds nothing
        # left to do.
        fd = connection.info.pop(_WRITE_LOCK_FD, None)
        wrote = _total_changes(connection)
        if fd is None and wrote == connection.info.get(_CHANGES_AT_BEGIN):
            return  # nothing written: the driver's commit just ends the read
        try:
            try:
                connection.exec_driver_sql("COMMIT")
            except Exception:
                # Nothing may stay locked behind a failed commit (a deferred constraint): undo
                # it before the lock is handed on; SQLAlchemy then rolls back its side.
                _quietly(connection, "ROLLBACK")
                raise
            if fd is not None and wal_path and _size(wal_path) > WAL_LIMIT:
                _restart_wal(connection)
        finally:
            if fd is not None:
                os.close(fd)  # closing the descriptor releases the lock
        if _copy_due(lock_path):
            copy_wal(connection)

    @event.listens_for(engine, "rollback")
    def on_rollback(connection: Connection) -> None:
        fd = connection.info.pop(_WRITE_LOCK_FD, None)
        if fd is None:
            return
        try:
            _quietly(connection, "ROLLBACK")  # as for a commit: SQLite lets go, then the queue
        finally:
            os.close(fd)

    @event.listens_for(engine.pool, "checkin")
    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        # A connection returned to the pool without a commit or rollback event (an error
        # mid-transaction) must not keep other writers waiting.
        fd = record.info.pop(_WRITE_LOCK_FD, None)
        if fd is not None:
            os.close(fd)


# What every connection runs with, and what tests/core/test_durability.py asserts.
SQLITE_SYNCHRONOUS = "FULL"
# Values of PostgreSQL's synchronous_commit under which a commit returns only once its WAL
# record is flushed to the server's own disk (the remote_* ones wait for a standby as well).
DURABLE_COMMIT = frozenset({"on", "local", "remote_write", "remote_apply"})


def _total_changes(connection: Connection) -> int:
    """Rows the SQLite connection has written since it opened."""
    driver = connection.connection.driver_connection
    assert driver is not None  # an open connection has its driver's
    return int(driver.total_changes)


def _configure_postgresql(engine: Engine) -> None:
    warned: list[bool] = []

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        # A server (or database, or role) configured with synchronous_commit = off answers a
        # commit before its WAL record reaches the disk: the last moments of acknowledged
        # pushes could vanish in a power cut. Every connection of the app turns it back on for
        # itself; a stronger setting (one that also waits for a standby) is kept as it is.
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SHOW synchronous_commit")
            if cursor.fetchone()[0] not in DURABLE_COMMIT:
                cursor.execute("SET synchronous_commit = on")
            unsafe = []
            for setting in ("fsync", "full_page_writes"):
                cursor.execute(f"SHOW {setting}")
                if cursor.fetchone()[0] != "on":
                    unsafe.append(f"{setting} = off")
        finally:
            cursor.close()
        dbapi_connection.commit()  # a SET inside a transaction that rolled back would be undone
        if unsafe and not warned:
            warned.append(True)
            # Nothing a session can fix: only the server's owner can turn these back on.
            _log.error(
                "PostgreSQL at %s runs with %s: what it acknowledges may not survive a power "
                "cut or an OS crash. That is for throwaway test clusters only "
                "(scripts/pg-throwaway); turn it on before a district's data goes there.",
                engine.url.render_as_string(hide_password=True),
                " and ".join(unsafe),
            )


# Checkpoints copy the WAL into the database file, and SQLite starts the WAL over once all of it
# is copied — unless the next writer has already begun, as when writers follow each other
# without pause, and then the file only grows. Past this size, the writer that just committed
# has the WAL started over while it still holds the lock, if no reader is using the WAL at
# that moment (it does not wait for one; it tries again a second later). Started over, the file
# is cut back to half the size.
WAL_LIMIT = 64 * 1024 * 1024
_RESTART_PAUSE_S = 1.0
_NEXT_RESTART = "observe.next_wal_restart"
_BUSY_TIMEOUT_MS = 30_000


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _quietly(connection: Connection, sql: str) -> tuple[Any, ...] | None:
    """Run a statement whose failure must not fail the transaction that already ended (a
    checkpoint while a result on the connection is still open fails, harmlessly); its row."""
    try:
        result = connection.exec_driver_sql(sql)
        row = result.fetchone() if result.returns_rows else None
        result.close()
        return tuple(row) if row else None
    except DBAPIError as error:
        _log.info("%s failed: %s", sql, error.orig)
        return None


# Copying after every write copied the pages every batch touches (the indexes' upper levels,
# the change counter, the rollups) once per batch, and cost a push about a tenth of its time.
# With synchronous = FULL the WAL itself is on disk at each commit, so how soon pages reach the
# database file matters to no one's durability: writers copy at most this often, all of them
# together (the write-lock file's modification time says when it was last done).
COPY_INTERVAL_S = 0.25


def _copy_due(marker: str | None) -> bool:
    """Whether this writer copies the WAL now; if so, the time is noted for the others."""
    if marker is None:
        return True
    try:
        # (A clock set back makes the last copy look in the future: then it is due.)
        if 0 <= time.time() - os.stat(marker).st_mtime < COPY_INTERVAL_S:
            return False
        os.utime(marker)
    except OSError:
        pass  # copying anyway is always safe
    return True


def copy_wal(connection: Connection) -> None:
    """Copy committed pages from the WAL into the database file, without waiting for anyone."""
    _quietly(connection, "PRAGMA wal_checkpoint(PASSIVE)")


def _restart_wal(connection: Connection) -> None:
    now = time.monotonic()
    if now < connection.info.get(_NEXT_RESTART, 0.0):
        return
    connection.exec_driver_sql("PRAGMA busy_timeout = 0").close()
    try:
        outcome = _quietly(connection, "PRAGMA wal_checkpoint(RESTART)")
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}").close()
    if outcome is None or outcome[0]:  # a reader was in the way
        connection.info[_NEXT_RESTART] = now + _RESTART_PAUSE_S


def begin_write() -> None:
    """Start this request's writing transaction now.

    Ends the read transaction that authentication opened, then begins one that on SQLite holds
    the write lock from its first statement: in WAL mode a transaction that read, then tries to
    write after another writer committed, fails at once (SQLITE_BUSY_SNAPSHOT) instead of
    waiting its turn. PostgreSQL needs nothing special.
    """
    from observe.extensions import db

    db.session.commit()
    db.session.connection(execution_options={"sqlite_immediate": True})


_PLAIN: dict[tuple[str, str, Insert, tuple[str, ...]], tuple[str, list[int] | None]] = {}


def executemany_plain(
    connection: Connection,
    statement: Insert,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Run an insert for many rows straight through the driver's ``executemany``.

    For bulk rows whose values need nothing from a column type (whole numbers, text, booleans,
    None): SQLAlchemy's own executemany builds and converts a parameter set per row, which for a
    push's 1,250 ratings cost more than the database took to store them. The statement is still
    SQLAlchemy's, compiled once per database kind in that driver's parameter style; pass the
    same statement object each time (a module constant).
    """
    if not rows:
        return
    dialect = connection.dialect
    key = (dialect.name, dialect.driver, statement, tuple(columns))
    if key not in _PLAIN:
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        order = None
        if compiled.positional:
            order = [columns.index(name) for name in compiled.positiontup or []]
        _PLAIN[key] = (compiled.string, order)
    sql, order = _PLAIN[key]
    if order is None:
        parameters: list[Any] = [dict(zip(columns, row, strict=True)) for row in rows]
    elif order == list(range(len(columns))):
        parameters = list(rows)
    else:
        parameters = [tuple(row[i] for i in order) for row in rows]
    connection.exec_driver_sql(sql, parameters)


# A session as features hold it: Flask-SQLAlchemy's ``db.session`` (scoped) or a plain one.
AnySession = Session | scoped_session[Any]

# Keys of ``Session.info`` where listeners keep what a transaction noted for its commit (changes
# for the feed, counts for the rollups). A savepoint rolled back must take its notes with it.
_BUFFERS: set[str] = set()


def pending_buffer(key: str) -> str:
    """Name ``key`` as a buffer of notes that :func:`savepoint` keeps in step with the rows."""
    _BUFFERS.add(key)
    return key


@contextmanager
def savepoint(session: AnySession) -> Iterator[None]:
    """``session.begin_nested()``, and if it is rolled back, every pending buffer is put back as
    it was before it: what the savepoint noted is gone with what it wrote."""
    saved = {key: deepcopy(session.info[key]) for key in _BUFFERS if key in session.info}
    try:
        with session.begin_nested():
            yield
    except BaseException:
        for key in _BUFFERS:
            session.info.pop(key, None)
        session.info.update(saved)
        raise


def table_of(model: type[Any]) -> Table:
    """A mapped class's table, for Core statements that skip the ORM's bookkeeping per row."""
    return cast(Table, model.__table__)
