"""One district for a whole module of tests, put back only after a request changed it.

Building the district and signing six people in for each of the table's hundreds of cells
would take minutes; the cells only read, or are refused, nearly always. So the district is
built once (and everyone signed in) and every table's rows are kept; every unsafe request is
checked to have changed nothing unless it was allowed to, and after one that did change
something the kept rows are written back, sessions and tokens included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from observe.extensions import db
from tests.authz import district
from tests.conftest import _empty_every_table

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Written by requests that change nothing anyone sees: when a token was last used, failed
# sign-ins (the throttle), and the report rollups, a cache that reading a report fills.
_VOLATILE = {
    "api_token": {"last_used_at"},
    "sign_in_failure": None,
    "classroom": {"profile", "updated_at"},
    "rollup_profile": None,
    "rollup_classroom": None,
    "rollup_school": None,
    "rollup_state": None,
    # Append-only: what requests record about themselves (tests/audit checks it). Neither
    # compared nor put back, so it grows through the module.
    "audit_event": None,
}


@pytest.fixture(autouse=True)
def app_context(app: Flask) -> Iterator[None]:
    """Replaces the suite's per-test emptying of every table: the district outlives a test."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()


class World:
    """The district and, for each requester, a signed-in session cookie and its CSRF token."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.district: district.District | None = None
        self.cookies: dict[str, str] = {}
        self.csrf: dict[str, str] = {}
        self.saved: list[tuple[Any, list[dict[str, Any]]]] = []
        self.dirty = False

    def current(self) -> district.District:
        if self.district is None:
            _empty_every_table(self.app)
            self.district = district.build()
            self._sign_everyone_in()
            db.session.rollback()
            self.saved = [
                (table, [dict(row._mapping) for row in db.session.execute(select(table))])
                for table in db.metadata.sorted_tables
                if table.name != "audit_event"
            ]
            db.session.rollback()
        elif self.dirty:
            for table, _ in reversed(self.saved):
                db.session.execute(table.delete())
            for table, rows in self.saved:
                if rows:
                    db.session.execute(table.insert(), rows)
            db.session.commit()
        self.dirty = False
        return self.district

    def changed(self) -> None:
        self.dirty = True

    def _sign_everyone_in(self) -> None:
        for role in district.ROLES:
            client = self.app.test_client()
            page = client.get("/sign-in")
            if role != "anonymous":
                token = _CSRF.search(page.get_data(as_text=True)).group(1)
                response = client.post(
                    "/sign-in",
                    data={
                        "csrf_token": token,
                        "email": self.district.emails[role],
                        "password": district.PASSWORD,
                    },
                )
                assert response.status_code == 302, response.get_data(as_text=True)
                self.csrf[role] = client.get("/api/v1/session").get_json()["csrf_token"]
            else:
                self.csrf[role] = _CSRF.search(page.get_data(as_text=True)).group(1)
            self.cookies[role] = client.get_cookie(self.app.config["SESSION_COOKIE_NAME"]).value

    def fingerprint(self) -> list[Any]:
        """Every row of every table, but for the volatile columns above."""
        db.session.rollback()
        rows = []
        for table in db.metadata.sorted_tables:
            skip = _VOLATILE.get(table.name, set())
            if skip is None:
                continue
            columns = [c for c in table.columns if c.name not in skip]
            found = db.session.execute(select(*columns)).all()
            rows.append((table.name, sorted(map(repr, found))))
        db.session.rollback()
        return rows


@pytest.fixture(scope="module")
def world(app: Flask) -> Iterator[World]:
    original = app.config["OBSERVE_MIN_GROUP_SIZE"]
    # Small groups for a small district: the summary's tiny group (1 walkthrough) is hidden,
    # and so is the next smallest, so the hidden one cannot be worked out from the total.
    app.config["OBSERVE_MIN_GROUP_SIZE"] = 3
    made = World(app)
    yield made
    app.config["OBSERVE_MIN_GROUP_SIZE"] = original
    with app.app_context():
        _empty_every_table(app)
        db.session.remove()


class _PrintedHTML:
    """Stands in for WeasyPrint: the "PDF" is the HTML it would print, so that what a printed
    report holds is searched like any page, without seconds of layout per request."""

    def __init__(self, string: str, **kwargs: Any) -> None:
        self.html = string

    def write_pdf(self, **kwargs: Any) -> bytes:
        return self.html.encode()


@pytest.fixture(autouse=True)
def quick_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint

    monkeypatch.setattr(weasyprint, "HTML", _PrintedHTML)
