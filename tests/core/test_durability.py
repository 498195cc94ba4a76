"""Acknowledged means on disk: every connection the app opens commits durably.

A version answered ``applied`` must survive a power cut. On SQLite that takes
``synchronous = FULL`` in WAL mode (NORMAL syncs only at checkpoints); on PostgreSQL a
``synchronous_commit`` that waits for the local flush. The settings are per connection, so the
tests look at every connection: several open at once, those of a fresh app, and each one that
served a push. See "Durability" in docs/security.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from observe.core.database import DURABLE_COMMIT
from observe.extensions import db
from tests.conftest import is_postgres

FULL = 2  # what PRAGMA synchronous answers for FULL


def settings_of(dbapi_connection: Any, postgres: bool) -> tuple[str, ...]:
    """What a raw connection runs with, as the database itself reports it."""
    cursor = dbapi_connection.cursor()
    try:
        if postgres:
            cursor.execute("SHOW synchronous_commit")
            setting = (cursor.fetchone()[0],)
        else:
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
            cursor.execute("PRAGMA journal_mode")
            setting = (synchronous, cursor.fetchone()[0])
    finally:
        cursor.close()
    if postgres:
        dbapi_connection.rollback()  # SHOW began a transaction; leave none open
    return setting


def assert_durable(setting: tuple[str, ...], postgres: bool) -> None:
    if postgres:
        assert setting[0] in DURABLE_COMMIT, setting
    else:
        assert setting == (FULL, "wal"), setting


@contextmanager
def checkouts(engine: Engine, postgres: bool) -> Iterator[list[tuple[str, ...]]]:
    """The settings of every connection handed out by the engine's pool meanwhile."""
    seen: list[tuple[str, ...]] = []

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        seen.append(settings_of(dbapi_connection, postgres))

    event.listen(engine, "checkout", checked_out)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checked_out)


def test_every_connection_open_at_once_commits_durably(app):
    postgres = is_postgres(app)
    connections = [db.engine.connect() for _ in range(4)]  # beyond the one the test holds
    try:
        for connection in connections:
            assert_durable(settings_of(connection.connection.driver_connection, postgres), postgres)
    finally:
        for connection in connections:
            connection.close()


def test_a_fresh_app_and_a_recycled_connection_commit_durably(app, make_app):
    postgres = is_postgres(app)
    other = make_app()
    with other.app_context():
        engine = db.engine
        with checkouts(engine, postgres) as seen:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()  # a new connection, as after a database restart
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        assert len(seen) == 2
        for setting in seen:
            assert_durable(setting, postgres)


@pytest.fixture
def postgres_url(app) -> str:
    if not is_postgres(app):
        pytest.skip("PostgreSQL's synchronous_commit")
    return app.config["SQLALCHEMY_DATABASE_URI"]


def server_setting(url: str, options: str = "") -> str:
    """What a connection that the app did not configure runs with."""
    engine = create_engine(url, connect_args={"options": options} if options else {})
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW synchronous_commit")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("server_default", "expected"),
    [
        ("off", "on"),  # turned on for the app's connections
        ("local", "local"),  # already waits for the local flush
        ("remote_apply", "remote_apply"),  # stronger (a standby as well): kept
    ],
)
def test_the_app_turns_synchronous_commit_on_and_keeps_a_stronger_setting(
    postgres_url, make_app, server_default, expected
):
    # As if the server, the database or the role were configured so (a connection option is
    # where the server takes its default from, for that connection).
    options = f"-c synchronous_commit={server_default}"
    assert server_setting(postgres_url, options) == server_default
    other = make_app(SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": options}})
    with other.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SHOW synchronous_commit")).scalar_one() == expected
        connection.rollback()  # the setting is the session's, not the transaction's
        assert connection.execute(text("SHOW synchronous_commit")).scalar_one() == expected


def test_a_server_that_does_not_sync_is_named_loudly_once(postgres_url, make_app, caplog):
    """The test cluster runs with fsync and full_page_writes off (scripts/pg-throwaway); a server
    configured so cannot be made durable by a session, so the app says so, once per engine."""
    probe = create_engine(postgres_url)
    with probe.connect() as connection:
        unsafe = [
            f"{name} = off"
            for name in ("fsync", "full_page_writes")
            if connection.execute(text(f"SHOW {name}")).scalar_one() != "on"
        ]
    probe.dispose()
    if not unsafe:
        pytest.skip("this cluster syncs: nothing to warn about")
    caplog.set_level(logging.ERROR, logger="observe.core.database")
    other = make_app()
    with other.app_context():
        connections = [db.engine.connect() for _ in range(3)]
        for connection in connections:
            connection.close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "observe.core.database"]
    assert len(warnings) == 1
    assert all(setting in warnings[0] for setting in unsafe)
    assert "test clusters only" in warnings[0]
