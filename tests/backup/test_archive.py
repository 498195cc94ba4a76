"""Backup and restore: every table survives SQLite → PostgreSQL → SQLite; bad archives change
nothing."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from observe.accounts import operations as accounts
from observe.accounts.models import User
from observe.audit.models import AuditEvent
from observe.backup import archive
from observe.core.changes import Change
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import ObservationVersion, RejectedVersion
from observe.reports import rollups
from observe.reports.models import RollupClassroom, RollupProfile, RollupSchool
from tests.calibration.test_sessions import _scored_and_revealed
from tests.conftest import is_postgres


@pytest.fixture
def databases(app: Flask, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Make brand-new empty databases: ``make("sqlite")`` or ``make("postgresql")``."""
    made: list[str] = []
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    admin = create_engine(url, isolation_level="AUTOCOMMIT") if is_postgres(app) else None

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:8]}.sqlite3'}"
        assert admin is not None
        name = f"observe_restore_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def stamped(app: Flask) -> Iterator[None]:
    """The test database (made by create_all) marked as at the newest migration."""
    flask_migrate.stamp()
    yield
    db.session.rollback()
    db.session.execute(text("DROP TABLE alembic_version"))
    db.session.commit()


@pytest.fixture
def district(client, bearer, new_session, score, team, push_as, stamped):
    """Something in every kind of table: walkthroughs with versions and a conflict, a rejected
    push, a deleted walkthrough, a revealed calibration session, tokens, audit events."""
    _scored_and_revealed(client, bearer, new_session, score, team)
    kept = push_as(team.observers[0], {"notes": 'Ünïcode — ✓ and "quotes"'})
    gone = push_as(team.observers[1], {})
    client.delete(f"/api/v1/observations/{gone}", headers=bearer(team.observers[1]))
    now = datetime.now(UTC)
    base = {
        "observation_id": kept,
        "rubric_version_id": team.version.id,
        "school_id": team.school.id,
        "classroom_id": team.classroom.id,
        "observed_at": (now - timedelta(hours=1)).isoformat(),
        "base_version_id": None,
        "ratings": [{"criterion": "ct-explain-reasoning", "level": 2}],
    }
    first = db.session.scalar(
        select(ObservationVersion.id).where(ObservationVersion.observation_id == kept)
    )
    edits = [
        {**base, "version_id": str(uuid.uuid4()), "base_version_id": first,
         "saved_at": (now + timedelta(seconds=n)).isoformat(), "notes": f"edit {n}"}
        for n in (1, 2)
    ]  # fmt: skip
    junk = {"version_id": "not-a-uuid", "payload": {"deep": [1, 2.5, None, True]}}
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": "t", "versions": [*edits, junk]},
        headers=bearer(team.observers[0]),
    )
    assert [r["status"] for r in response.get_json()["results"]] == [
        "applied",
        "conflict",
        "rejected",
    ]
    rollups.rebuild(db.session)  # classroom profiles worked out, as a restore does
    db.session.commit()
    return team


def _tables(path: Path) -> dict[str, list[bytes]]:
    with zipfile.ZipFile(path) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        return {
            t["name"]: opened.read(f"tables/{t['name']}.jsonl").splitlines()
            for t in manifest["tables"]
        }


def _rollups() -> list[tuple]:
    rows = []
    for model in (RollupSchool, RollupProfile, RollupClassroom):
        table = model.__table__
        rows += [(table.name, *row) for row in db.session.execute(select(table)).all()]
    return sorted(rows, key=repr)


def _invoke(app: Flask, *args: str):
    # Flask's commands use the app whose context is current: the test holds the test app's.
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def _backup(app: Flask, path: Path) -> None:
    result = _invoke(app, "backup", "-o", str(path))
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in result.output and "backup format 1" in result.output


def _restore(app: Flask, path: Path, expect: int = 0) -> str:
    result = _invoke(app, "restore", str(path))
    assert result.exit_code == expect, result.output
    return result.output


def _round_trip(app, make_app, databases, tmp_path, kinds: list[str]) -> None:
    """Back the test database up, restore into a new database of each kind in turn, back that
    up; every archive holds the same rows, and each copy's rollups are the source's."""
    counts = {
        model: db.session.scalar(select(func.count()).select_from(model))
        for model in (ObservationVersion, RejectedVersion, Change, AuditEvent)
    }
    assert all(counts.values()), counts
    source_rollups = _rollups()
    assert source_rollups
    archives = [tmp_path / "0.zip"]
    _backup(app, archives[0])
    restored_apps = []
    for n, kind in enumerate(kinds, start=1):
        target = make_app(SQLALCHEMY_DATABASE_URI=databases(kind))
        output = _restore(target, archives[-1])
        assert "creating the schema first" in output and "rollups counted afresh" in output
        archives.append(tmp_path / f"{n}.zip")
        _backup(target, archives[-1])
        restored_apps.append(target)

    tables = [_tables(path) for path in archives]
    assert set(tables[0]) == {t.name for t in archive.archived_tables()}
    for hops, copy in enumerate(tables[1:], start=1):
        # Each restore adds its own audit event and ends every session (one generation more).
        events = copy["audit_event"]
        added = [json.loads(line) for line in events[len(tables[0]["audit_event"]) :]]
        assert [event["action"] for event in added] == ["backup.restored"] * hops
        copy["audit_event"] = events[: len(tables[0]["audit_event"])]
        users = [json.loads(line) for line in copy["user"]]
        for user in users:
            user["session_generation"] -= hops
        copy["user"] = [archive.row_line(User.__table__, user).rstrip(b"\n") for user in users]
        for name in tables[0]:
            # Row order by primary key may differ for text keys between the databases'
            # collations; the change feed's (an integer) may not.
            assert sorted(copy[name]) == sorted(tables[0][name]), name
        assert copy["change"] == tables[0]["change"]
        assert copy["audit_event"] == tables[0]["audit_event"]
    assert len(tables[0]["observation_version"]) == counts[ObservationVersion]

    for target in restored_apps:
        with target.app_context():
            assert _rollups() == source_rollups
            # Sequences continue after the restored ids (PostgreSQL would collide otherwise).
            user = accounts.create_user("new@example.org", "New", Role.OBSERVER, "long password 1")
            db.session.commit()
            assert user.id > max(u.id for u in db.session.scalars(select(User)) if u is not user)
            db.session.remove()


def test_every_table_survives_a_round_trip(app, make_app, databases, district, tmp_path):
    _round_trip(app, make_app, databases, tmp_path, ["sqlite", "sqlite"])


@pytest.mark.postgres_only
def test_sqlite_to_postgresql_and_back(app, make_app, databases, district, tmp_path):
    if not is_postgres(app):
        pytest.skip("needs PostgreSQL (OBSERVE_TEST_DATABASE_URL); CI's second run has it")
    # The test database is PostgreSQL: PostgreSQL → SQLite → PostgreSQL → SQLite.
    _round_trip(app, make_app, databases, tmp_path, ["sqlite", "postgresql", "sqlite"])


def _rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info.filename, change(info.filename, old.read(info.filename)))
    return target


def _manifest_with(**fields):
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), **fields}).encode()

    return change


def test_bad_archives_are_named_and_change_nothing(app, make_app, databases, district, tmp_path):
    good = tmp_path / "good.zip"
    _backup(app, good)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])

    def tamper(name: str, data: bytes) -> bytes:
        return data.replace(b"Ann Ames", b"Ann Evil") if name == "tables/user.jsonl" else data

    cases = {
        truncated: "not a readable backup archive",
        _rewrite(good, tmp_path / "tampered.zip", tamper): (
            "tables/user.jsonl does not match its checksum"
        ),
        _rewrite(good, tmp_path / "v2.zip", _manifest_with(format_version=2)): (
            "backup format version 2; this observe reads version 1"
        ),
        _rewrite(good, tmp_path / "rev.zip", _manifest_with(alembic_revision="0123abcd")): (
            "made at schema revision '0123abcd'"
        ),
    }
    # Consistent checksums around a row that is not the table's: named by file and line.
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(forged, "w") as new:
        manifest = json.loads(old.read("manifest.json"))
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "tables/school.jsonl":
                data += b'{"id": 99, "surprise": 1}\n'
                entry = next(t for t in manifest["tables"] if t["name"] == "school")
                entry["rows"] += 1
                entry["sha256"] = hashlib.sha256(data).hexdigest()
            if info.filename != "manifest.json":
                new.writestr(info.filename, data)
        new.writestr("manifest.json", json.dumps(manifest))
    cases[forged] = "tables/school.jsonl, line 3: not an object with the table's columns"
    target = make_app(SQLALCHEMY_DATABASE_URI=databases("sqlite"))
    for path, message in cases.items():
        output = _restore(target, path, expect=1)
        assert "Nothing was restored" in output and message in output, output
    with target.app_context():
        # Every row is checked before the schema is made: the database is as it was, empty.
        assert inspect(db.engine).get_table_names() == []
        db.session.remove()

    # Into a database that holds data: refused, naming what is there.
    output = _restore(app, good, expect=1)
    assert "the database is not empty" in output and "user (" in output
    assert db.session.scalar(select(func.count()).select_from(User)) == 6


def test_backup_refuses_to_overwrite(app, stamped, tmp_path):
    existing = tmp_path / "exists.zip"
    existing.write_bytes(b"last night's backup")
    result = app.test_cli_runner().invoke(args=["backup", "-o", str(existing)])
    assert result.exit_code == 1 and "exists; choose another name" in result.output
    assert existing.read_bytes() == b"last night's backup"


def test_a_backup_is_one_snapshot_while_writers_write(
    app, stamped, create_user, monkeypatch, tmp_path
):
    """A write committed while the backup reads is in none of its tables: the archive is the
    database as it was when the backup began (its row counts, read first, agree)."""
    create_user(email="before@example.org")
    reads = archive._rows
    wrote = []

    def read_then_someone_writes(connection, table):
        if not wrote:  # once, after the snapshot began, before the first table is read
            with db.engine.connect() as other:
                other.execute(
                    AuditEvent.__table__.insert().values(
                        at=datetime.now(UTC), actor_email="during@example.org", action="sign_in",
                        object_type="", object_id="", address="", detail={},
                    )
                )  # fmt: skip
                other.commit()
            wrote.append(True)
        yield from reads(connection, table)

    monkeypatch.setattr(archive, "_rows", read_then_someone_writes)
    path = tmp_path / "during.zip"
    _backup(app, path)
    assert wrote
    events = _tables(path)["audit_event"]
    assert any(b"before@example.org" in line for line in events)
    assert not any(b"during@example.org" in line for line in events)
    assert db.session.scalar(
        select(func.count()).where(AuditEvent.actor_email == "during@example.org")
    )
