"""Database engine set-up that differs between SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

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
        cursor.execute("PRAGMA synchronous = NORMAL")
        # A writer waits up to 10 s for another instead of failing at once with "locked".
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # Writers take the write lock at BEGIN: a transaction that read first and then tries to
        # write can otherwise fail at once with SQLITE_BUSY when another writer went first.
        if connection.get_execution_options().get("sqlite_immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
