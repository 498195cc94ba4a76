"""Eviction is noticed: the server keeps, per browser (an HttpOnly cookie) and user, the tablet
database it acknowledged versions to, and tells the app when that database was replaced.
See docs/sync.md "Eviction"; the browser side is tests/browser/test_tablet_eviction.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select

from observe.core.permissions import Role
from observe.extensions import db
from observe.sync.devices import COOKIE_NAME
from observe.sync.models import TabletDevice
from tests.conftest import PASSWORD, edit_of


@pytest.fixture
def tablet(client, sign_in, setting):
    """The observer signed in on a tablet's browser: register and push as its app does."""
    sign_in(setting.observer)

    def csrf() -> str:  # a sign-in makes a new session, with a new token
        return client.get("/api/v1/session").get_json()["csrf_token"]

    class Tablet:
        def register(self, database_id: str, persisted: str | None = "no", expect: int = 200):
            response = client.post(
                "/api/v1/device",
                json={"database_id": database_id, "persisted": persisted},
                headers={"X-CSRFToken": csrf()},
            )
            assert response.status_code == expect, response.get_json()
            return response

        def evicted(self, database_id: str, persisted: str | None = "no") -> Any:
            return self.register(database_id, persisted).get_json()["evicted"]

        def push(self, database_id: str, *versions: dict[str, Any]) -> list[dict[str, Any]]:
            response = client.post(
                "/api/v1/sync/push",
                json={"device_id": database_id, "app_version": "t", "versions": list(versions)},
                headers={"X-CSRFToken": csrf()},
            )
            assert response.status_code == 200, response.get_json()
            return response.get_json()["results"]

        def sign_out(self, cleared: str | None) -> None:
            data = {"cleared_database": cleared} if cleared else {}
            response = client.post_form("/sign-out", data, token_from="/settings")
            assert response.status_code == 302

    return Tablet()


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(TabletDevice))


def test_a_tablet_that_lost_its_database_is_told_what_was_safe_once(client, tablet, make_version):
    response = tablet.register("db-a")
    assert response.get_json() == {"database_id": "db-a", "evicted": None}
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE_NAME))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Max-Age=34560000" in cookie  # 400 days: it outlives any seven-day rule
    first, second = make_version(), make_version()
    edit = edit_of(first, notes="Edited.")
    assert [r["status"] for r in tablet.push("db-a", first, second)] == ["applied", "applied"]
    assert [r["status"] for r in tablet.push("db-a", edit)] == ["applied"]

    # The browser deleted the database; the app made a new one and reports it.
    lost = tablet.evicted("db-b", persisted="yes")
    assert lost["acknowledged_count"] == 3
    assert lost["last_version_id"] == edit["version_id"]
    assert lost["last_acknowledged_at"] and lost["last_seen_at"]
    assert lost["persisted"] == "no"  # what the browser had answered, kept on the server
    # Told once: the new database is the one known now.
    assert tablet.evicted("db-b") is None
    assert rows() == 1


def test_only_acknowledged_versions_count_and_a_retried_batch_counts_once(tablet, make_version):
    tablet.register("db-a")
    good, bad = make_version(), make_version(school_id=999_999)
    statuses = [r["status"] for r in tablet.push("db-a", good, bad)]
    assert statuses == ["applied", "rejected"]
    # The response was lost; the app sends the same batch again: duplicates, counted before.
    assert [r["status"] for r in tablet.push("db-a", good)] == ["duplicate"]
    # A conflict is acknowledged too: the server keeps it.
    a, b = edit_of(good, notes="one"), edit_of(good, notes="two")
    assert [r["status"] for r in tablet.push("db-a", a, b)] == ["applied", "conflict"]
    assert tablet.evicted("db-b")["acknowledged_count"] == 3


def test_a_database_that_acknowledged_nothing_is_not_reported(tablet, make_version):
    tablet.register("db-a")
    assert tablet.push("db-a", make_version(school_id=999_999))[0]["status"] == "rejected"
    assert tablet.evicted("db-b") is None


def test_a_brand_new_browser_is_told_nothing(app, tablet, make_version, setting):
    tablet.register("db-a")
    tablet.push("db-a", make_version())
    # Another tablet of the same observer: no cookie, its own database, nothing lost.
    other = app.test_client()
    other.post_form("/sign-in", {"email": setting.observer.email, "password": PASSWORD})
    assert other.get("/api/v1/session").status_code == 200
    csrf = other.get("/api/v1/session").get_json()["csrf_token"]
    response = other.post(
        "/api/v1/device", json={"database_id": "db-z"}, headers={"X-CSRFToken": csrf}
    )
    assert response.get_json() == {"database_id": "db-z", "evicted": None}
    assert rows() == 2


def test_clearing_the_database_at_sign_out_is_no_eviction(tablet, sign_in, setting, make_version):
    tablet.register("db-a")
    tablet.push("db-a", make_version())
    tablet.sign_out(cleared="db-a")
    sign_in(setting.observer)
    assert tablet.evicted("db-b") is None


def test_a_sign_out_naming_another_database_clears_nothing(tablet, sign_in, setting, make_version):
    tablet.register("db-a")
    tablet.push("db-a", make_version())
    # A stale page names a database this browser no longer holds, or none at all.
    tablet.sign_out(cleared="db-old")
    sign_in(setting.observer)
    assert tablet.evicted("db-b")["acknowledged_count"] == 1


def test_each_observer_on_a_shared_tablet_has_their_own_record(
    tablet, sign_in, create_user, setting, make_version
):
    tablet.register("db-coach")
    tablet.push("db-coach", make_version())
    colleague = create_user(Role.OBSERVER, email="second@example.org", schools=[setting.school])
    db.session.commit()
    tablet.sign_out(cleared=None)  # work left on the tablet: its database stays
    sign_in(colleague)  # the same browser, so the same device cookie
    # The colleague's database is new on this browser, and is theirs: nothing lost.
    assert tablet.evicted("db-second") is None
    assert rows() == 2
    tablet.sign_out(cleared="db-second")  # clears the colleague's record, not the coach's
    sign_in(setting.observer)
    # The coach's record is untouched: losing that database would still be noticed.
    assert tablet.evicted("db-coach-2")["acknowledged_count"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "database_id"),
        ({"database_id": ""}, "database_id"),
        ({"database_id": "x" * 101}, "database_id"),
        ({"database_id": 7}, "database_id"),
        ({"database_id": "db", "persisted": "maybe"}, "persisted"),
        ({"database_id": "db", "wiped": True}, "wiped"),
    ],
)
def test_a_bad_report_is_refused_by_name_and_writes_nothing(client, tablet, body, field):
    csrf = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post("/api/v1/device", json=body, headers={"X-CSRFToken": csrf})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["message"]
    assert not any(c.startswith(COOKIE_NAME) for c in response.headers.getlist("Set-Cookie"))
    assert rows() == 0


def test_without_credentials_the_report_is_refused(client):
    response = client.post("/api/v1/device", json={"database_id": "db"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"]
    assert rows() == 0


def test_a_program_pushing_without_the_cookie_leaves_no_record(push, make_version):
    assert push(make_version())["results"][0]["status"] == "applied"
    assert rows() == 0


def test_a_forged_cookie_is_replaced_and_names_nobody_elses_record(client, tablet):
    client.set_cookie(COOKIE_NAME, "not-a-key", path="/")
    response = tablet.register("db-a")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE_NAME))
    assert "not-a-key" not in cookie
    assert len(cookie.split(";")[0].split("=", 1)[1]) == 43


def test_a_push_batch_costs_one_small_statement_on_the_device_record(app, tablet, make_version):
    tablet.register("db-a")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        if "tablet_device" in statement:
            statements.append(statement.split()[0].upper())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        tablet.push("db-a", *[make_version() for _ in range(20)])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements == ["UPDATE"]
    assert tablet.evicted("db-b")["acknowledged_count"] == 20


def test_two_tabs_registering_at_once_share_one_record(tablet, make_version, monkeypatch):
    """On PostgreSQL two first reports of one browser can both find no row and both insert:
    the second goes on with the row the first made (here: the look-up is made to miss once)."""
    from observe.sync import devices

    tablet.register("db-a")
    tablet.push("db-a", make_version())
    real, missed = devices._row, []

    def miss_once(user, key):
        if not missed:
            missed.append(True)
            return None
        return real(user, key)

    monkeypatch.setattr(devices, "_row", miss_once)
    assert tablet.evicted("db-b")["acknowledged_count"] == 1
    assert missed and rows() == 1
