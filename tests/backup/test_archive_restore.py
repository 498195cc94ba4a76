"""The review's findings on backup and restore: a restore ends every session and names the
tokens that work; every archived value is checked against its column before anything is
written; backups and restores are in the audit log; the archive reaches the disk."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, select

from observe.accounts import operations as accounts
from observe.audit.models import AuditEvent
from observe.backup import archive
from observe.extensions import db
from tests.backup.test_archive import _backup, _invoke, _restore
from tests.conftest import PASSWORD, is_postgres


def _kind(app: Flask) -> str:
    return "postgresql" if is_postgres(app) else "sqlite"


# ---- 1. sessions and tokens ended after the backup -----------------------------------------


def test_a_restore_ends_sessions_signed_out_after_the_backup(
    app, make_app, databases, stamped, create_user, sign_in, client, tmp_path
):
    person = create_user(email="copied@example.org")
    sign_in(person)
    cookie = client.get_cookie("observe_session").value
    assert client.get("/api/v1/me").status_code == 200
    kept, _ = accounts.create_token(person, "nightly export")
    revoked_later, _ = accounts.create_token(person, "stolen laptop")
    db.session.commit()
    kept_prefix, revoked_prefix = kept.prefix, revoked_later.prefix

    path = tmp_path / "before.zip"
    _backup(app, path)
    result = _invoke(app, "users", "sign-out-everywhere", person.email, "--revoke-tokens")
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/me").status_code == 401

    # Same secret key: the cookie's signature holds in the restored database.
    target = make_app(
        SQLALCHEMY_DATABASE_URI=databases(_kind(app)),
        SECRET_KEY=app.config["SECRET_KEY"],
        SESSION_COOKIE_SECURE=False,
    )
    output = _restore(target, path)
    assert "Every session has ended: everyone signs in once more" in output
    # The tokens revoked after the backup work again: named, so they can be revoked once more.
    assert "2 API tokens work as when the backup was made" in output
    assert "revoke it once more" in output
    assert f'copied@example.org  "stolen laptop"  {revoked_prefix}…' in output
    assert f'copied@example.org  "nightly export"  {kept_prefix}…' in output

    target.test_client_class = type(client)  # the tests' client, with post_form
    copied = target.test_client()
    copied.set_cookie("observe_session", cookie)
    assert copied.get("/api/v1/me").status_code == 401
    # Signing in once more works: the account itself came back whole.
    response = copied.post_form("/sign-in", {"email": person.email, "password": PASSWORD})
    assert response.status_code == 302
    assert copied.get("/api/v1/me").status_code == 200


def test_a_restore_says_when_no_token_works(
    app, make_app, databases, stamped, create_user, tmp_path
):
    person = create_user()
    token, _ = accounts.create_token(person, "old")
    accounts.revoke_tokens(person)
    db.session.commit()
    path = tmp_path / "b.zip"
    _backup(app, path)
    output = _restore(make_app(SQLALCHEMY_DATABASE_URI=databases(_kind(app))), path)
    assert "No API token works in the restored database." in output
    assert token.prefix not in output


# ---- 2. every value checked against its column -----------------------------------------------


def _forge(good: Path, target: Path, table: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """``good`` with the first row of ``table`` changed, and checksums that agree."""
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(target, "w") as new:
        manifest = json.loads(old.read("manifest.json"))
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == f"tables/{table}.jsonl":
                first, rest = data.split(b"\n", 1)
                row = json.loads(first)
                change(row)
                data = json.dumps(row).encode() + b"\n" + rest
                entry = next(t for t in manifest["tables"] if t["name"] == table)
                entry["sha256"] = hashlib.sha256(data).hexdigest()
            if info.filename != "manifest.json":
                new.writestr(info.filename, data)
        new.writestr("manifest.json", json.dumps(manifest))
    return target


def _set(column: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(row: dict[str, Any]) -> None:
        assert column in row
        row[column] = value

    return change


FORGERIES = [
    ("rating", _set("level", "high"), "column level: holds text where a whole number belongs"),
    ("rating", _set("level", True), "column level: holds a true/false value where a whole"),
    ("school", _set("id", 2**70), "column id: is out of range for a 32-bit integer column"),
    ("school", _set("id", 2**31), "column id: is out of range for a 32-bit integer column"),
    ("audit_event", _set("id", 2**63), "column id: is out of range for a 64-bit integer column"),
    ("audit_event", _set("at", "2026-12-03T10:00:00"), "column at: is a time without a UTC"),
    ("audit_event", _set("at", "yesterday"), "column at: is not an ISO 8601 time"),
    ("audit_event", _set("at", "0001-01-01T00:00:00+01:00"), "column at: is a time out of range"),
    ("audit_event", _set("detail", {"a": "\x00"}), "column detail: holds a JSON string that"),
    ("audit_event", _set("detail", [float("nan")]), "column detail: holds a JSON number that"),
    ("school", _set("title_i", "maybe"), "column title_i: holds text where true or false"),
    ("school", _set("name", "x" * 201), "column name: holds 201 characters; the column holds"),
    ("school", _set("name", "a\x00b"), "column name: contains a NUL character"),
    ("school", _set("name", "\ud800"), "column name: contains an unpaired surrogate"),
    ("school", _set("name", None), "column name: is empty, but the column requires a value"),
    ("school", _set("name", 7), "column name: holds a number where text belongs"),
    ("user", _set("role", "emperor"), "column role: is not one of the column's values"),
    ("user", _set("active", 1), "column active: holds a number where true or false belongs"),
    ("calibration_session", _set("held_on", "2026-13-01"), "column held_on: is not a date"),
]


@pytest.mark.parametrize(("table", "change", "message"), FORGERIES)
def test_a_value_its_column_cannot_hold_is_named_and_nothing_is_restored(
    app, make_app, databases, district, tmp_path, table, change, message
):
    good = tmp_path / "good.zip"
    _backup(app, good)
    forged = _forge(good, tmp_path / "forged.zip", table, change)
    target = make_app(SQLALCHEMY_DATABASE_URI=databases(_kind(app)))
    output = _restore(target, forged, expect=1)
    assert "Nothing was restored" in output and "Traceback" not in output, output
    assert f"tables/{table}.jsonl, line 1, {message}" in output, output
    with target.app_context():
        assert inspect(db.engine).get_table_names() == []  # not even the schema
        db.session.remove()


def test_a_deeply_nested_line_is_named(app, make_app, databases, district, tmp_path):
    good = tmp_path / "good.zip"
    _backup(app, good)
    nested = "[" * 100_000 + "]" * 100_000

    def change(row: dict[str, Any]) -> None:
        row["detail"] = "NESTED"

    forged = _forge(good, tmp_path / "f.zip", "audit_event", change)
    # Put the nesting in as raw text (json.dumps would recurse too).
    with zipfile.ZipFile(forged) as old:
        members = {i.filename: old.read(i.filename) for i in old.infolist()}
    data = members["tables/audit_event.jsonl"].replace(b'"NESTED"', nested.encode())
    members["tables/audit_event.jsonl"] = data
    manifest = json.loads(members["manifest.json"])
    entry = next(t for t in manifest["tables"] if t["name"] == "audit_event")
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    deep = tmp_path / "deep.zip"
    with zipfile.ZipFile(deep, "w") as new:
        for name, content in members.items():
            new.writestr(name, content)
    output = _restore(make_app(SQLALCHEMY_DATABASE_URI=databases(_kind(app))), deep, expect=1)
    assert "tables/audit_event.jsonl, line 1: not a JSON object" in output, output


def _with_header(source: Path, target: Path, member: str, field: str, value: int) -> Path:
    """A copy whose ``member``'s headers (local and central) say ``field`` (the general-purpose
    flags or the compression method) is ``value``."""
    local, central_at = {"flags": (6, 8), "method": (8, 10)}[field]
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as opened:
        info = opened.getinfo(member)
    data[info.header_offset + local : info.header_offset + local + 2] = value.to_bytes(2, "little")
    central = data.find(b"PK\x01\x02")
    while central != -1:
        length = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + length] == member.encode():
            data[central + central_at : central + central_at + 2] = value.to_bytes(2, "little")
        central = data.find(b"PK\x01\x02", central + 46)
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("method", 99, "compression method"), ("flags", 1, "encrypted")],
)
@pytest.mark.parametrize("member", ["tables/school.jsonl", "manifest.json"])
def test_a_member_zipfile_cannot_read_is_named(
    app, make_app, databases, district, tmp_path, member, field, value, message
):
    good = tmp_path / "good.zip"
    _backup(app, good)
    odd = _with_header(good, tmp_path / "odd.zip", member, field, value)
    target = make_app(SQLALCHEMY_DATABASE_URI=databases(_kind(app)))
    output = _restore(target, odd, expect=1)
    assert "Nothing was restored" in output and "Traceback" not in output, output
    assert member in output and message in output, output


def test_every_archived_column_has_a_check(app):
    for table in archive.archived_tables():
        for column in table.columns:
            assert callable(archive.checker(column)), f"{table.name}.{column.name}"


# ---- 3. the audit log ----------------------------------------------------------------------


def test_backup_and_restore_are_in_the_audit_log(app, make_app, databases, district, tmp_path):
    path = tmp_path / "audited.zip"
    result = _invoke(app, "backup", "-o", str(path))
    assert result.exit_code == 0, result.output
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"SHA-256 {sha256}; recorded in the audit log (backup.made)" in result.output
    with zipfile.ZipFile(path) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        archived_events = opened.read("tables/audit_event.jsonl")
    rows = sum(t["rows"] for t in manifest["tables"])
    made = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "backup.made")).one()
    assert made.actor_email.startswith("command line (")
    assert made.detail == {
        "file": "audited.zip",
        "sha256": sha256,
        "created_at": manifest["created_at"],
        "alembic_revision": manifest["alembic_revision"],
        "rows": rows,
    }
    assert b"backup.made" not in archived_events  # recorded after the archive was written

    target = make_app(SQLALCHEMY_DATABASE_URI=databases(_kind(app)))
    _restore(target, path)
    with target.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert events[-1].action == "backup.restored"
        assert events[-1].id == max(e.id for e in events)
        assert events[-1].detail == {
            "file": "audited.zip",
            "sha256": sha256,
            "created_at": manifest["created_at"],
            "alembic_revision": manifest["alembic_revision"],
            "rows": rows,
        }
        assert [e.action for e in events].count("backup.restored") == 1
        db.session.remove()


def test_a_refused_restore_records_nothing(app, make_app, databases, district, tmp_path):
    good = tmp_path / "good.zip"
    _backup(app, good)
    forged = _forge(good, tmp_path / "forged.zip", "rating", _set("level", "high"))
    target = make_app(SQLALCHEMY_DATABASE_URI=databases(_kind(app)))
    _restore(target, good)  # the schema and data, then a second restore is refused
    before = _count_events(target)
    _restore(target, forged, expect=1)
    assert _count_events(target) == before


def _count_events(target: Flask) -> int:
    with target.app_context():
        count = len(db.session.scalars(select(AuditEvent.id)).all())
        db.session.remove()
    return count


# ---- 4. the archive reaches the disk before "Wrote …" ---------------------------------------


def test_the_archive_and_its_name_are_flushed_to_disk(app, stamped, monkeypatch, tmp_path):
    events: list[tuple[str, Any]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def replace(source: Any, target: Any) -> None:
        events.append(("replace", str(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    path = tmp_path / "durable.zip"
    _backup(app, path)
    at = events.index(("replace", str(path)))
    before, after = events[:at], events[at + 1 :]
    assert any(
        kind == "fsync" and Path(name).parent == tmp_path and ".observe-backup-" in name
        for kind, name in before
    ), events
    assert ("fsync", str(tmp_path)) in after, events
