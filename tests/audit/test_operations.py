"""Recording events: in the action's transaction, append-only, purged only past retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from observe.accounts import operations as accounts
from observe.audit import operations
from observe.audit.models import AuditEvent, AuditLogIsAppendOnly
from observe.core.models import utcnow
from observe.core.permissions import Role
from observe.extensions import db
from tests.conftest import is_postgres


def test_an_event_rides_with_its_action(events):
    accounts.create_user("kept@example.org", "Kept", Role.OBSERVER, "long enough password")
    db.session.commit()
    accounts.create_user("undone@example.org", "Undone", Role.OBSERVER, "long enough password")
    db.session.rollback()  # the action fails later: its event goes with it
    [created] = events("user.created")
    assert created.detail == {"email": "kept@example.org", "role": "observer"}
    assert created.actor_id is None and created.actor_email.startswith("command line (")
    assert created.object_type == "user" and created.object_id


def test_unknown_action_codes_are_refused():
    with pytest.raises(ValueError, match=r"unknown audit action 'user\.hacked'"):
        operations.record("user.hacked")


def test_the_log_is_append_only_in_the_app(app, create_user, events):
    user = create_user()
    event = events("user.created")[0]
    event.action = "sign_in"
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be changed"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be deleted"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be changed"):
        db.session.execute(update(AuditEvent).values(actor_email="someone@else.org"))
    db.session.rollback()
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be deleted"):
        db.session.execute(delete(AuditEvent.__table__))
    db.session.rollback()
    assert [e.actor_email for e in events()] == [event.actor_email]
    assert user.email in events()[0].detail["email"]


def test_the_database_refuses_changes_too(app, create_user, events):
    create_user()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("UPDATE audit_event SET actor_email = 'x'"))
    db.session.rollback()
    if is_postgres(app):  # SQLite has no transaction-local setting to let the purge through
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text("DELETE FROM audit_event"))
        db.session.rollback()
    assert len(events()) == 1 and events()[0].actor_email != "x"


def test_the_purge_removes_only_events_past_retention(app, events):
    operations.record("sign_in", actor_email="old@example.org")
    operations.record("sign_in", actor_email="recent@example.org")
    db.session.commit()
    removed = operations.purge(30, now=utcnow() + timedelta(days=30, minutes=1))
    db.session.commit()
    assert removed == 2  # both are "old" seen from 30 days ahead
    [purged] = events()
    assert purged.action == "audit.purged" and purged.detail["removed"] == 2
    assert purged.detail["retention_days"] == 30
    assert operations.purge(30) == 0  # the purge's own event is recent
    db.session.commit()
    assert [e.action for e in events()] == ["audit.purged", "audit.purged"]


def test_the_purge_command_uses_the_retention_setting(app, events):
    operations.record("sign_in", actor_email="kept@example.org")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "purge"])
    assert result.exit_code == 0, result.output
    assert "Removed 0 audit events older than 730 days." in result.output
    assert [e.action for e in events()] == ["sign_in", "audit.purged"]


def test_the_retention_setting_is_checked(monkeypatch, tmp_path):
    from observe.config import build_config

    monkeypatch.setenv("OBSERVE_AUDIT_RETENTION_DAYS", "²")
    with pytest.raises(RuntimeError, match="OBSERVE_AUDIT_RETENTION_DAYS must be a whole number"):
        build_config(str(tmp_path), {"SECRET_KEY": "x"})
    monkeypatch.setenv("OBSERVE_AUDIT_RETENTION_DAYS", "90")
    assert build_config(str(tmp_path), {"SECRET_KEY": "x"})["OBSERVE_AUDIT_RETENTION_DAYS"] == 90


def test_any_text_is_stored(events):
    """An email typed at the sign-in form is anyone's: NUL and lone surrogates are replaced,
    not a reason to lose the event (or to answer 500)."""
    operations.record(
        "sign_in.failed", actor_email="a\x00b\ud800@x", detail={"k\x00": ["v\ud800", 1]}
    )
    db.session.commit()
    [event] = events()
    assert event.actor_email == "a\ufffdb?@x"
    assert event.detail == {"k\ufffd": ["v?", 1]}
