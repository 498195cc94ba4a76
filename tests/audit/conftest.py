"""A team with a walkthrough, for the reads the audit log records."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from observe.audit.models import AuditEvent
from observe.extensions import db
from tests.reports.conftest import new_session, push_as, score, team  # noqa: F401 (fixtures)


@pytest.fixture
def events():
    """The audit events stored, oldest first, optionally only those with ``action``."""

    def read(action: str | None = None) -> list[AuditEvent]:
        db.session.rollback()
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(db.session.scalars(query))

    return read
