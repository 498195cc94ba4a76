"""Every connection that serves a push commits durably (see tests/core/test_durability.py)."""

from __future__ import annotations

from observe.extensions import db
from tests.conftest import is_postgres
from tests.core.test_durability import assert_durable, checkouts


def test_every_connection_that_serves_a_push_commits_durably(app, push, make_version):
    """The write path: the request's own connections, looked at as the pool hands them out."""
    postgres = is_postgres(app)
    with checkouts(db.engine, postgres) as seen:
        results = push(make_version(), make_version())["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert seen
    for setting in seen:
        assert_durable(setting, postgres)
