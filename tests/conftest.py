"""Test fixtures: one app and one schema per run, emptied after every test.

``OBSERVE_TEST_DATABASE_URL`` points the suite at PostgreSQL (``.ci/run`` sets it); without it
every run uses a fresh SQLite file.
"""

from __future__ import annotations

import copy
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from observe import create_app, paths
from observe.accounts import operations as account_ops
from observe.accounts.models import User
from observe.audit.models import PURGE_SETTING
from observe.core.permissions import Role
from observe.extensions import db
from observe.roster.models import Classroom, School
from observe.rubrics import operations as rubric_ops
from observe.rubrics.format import ParsedRubric
from observe.rubrics.models import RubricVersion
from observe.rubrics.operations import load_rubric_file
from tests.mailbox import mailbox  # noqa: F401 (a fixture: a real SMTP server on 127.0.0.1)

# The suite's property tests (hypothesis, schemathesis) draw the same examples on every run, so a
# run fails only for a change, never for a new draw; `--hypothesis-profile=explore` draws new
# examples each run, to look for what the fixed ones miss (docs/development.md).
settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PASSWORD = "correct horse battery"

# Cheap hashes: the suite makes and checks thousands, and what it tests is who signs in, not how
# hard a stolen hash is to crack (observe/accounts/operations.py keeps scrypt for everyone else).
account_ops.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

# Most tests store the same sample rubric, and reading its YAML (with every node's line, for
# messages) takes a quarter of a second. A valid file's reading is kept, keyed by its text, and
# each test gets its own copy; a file with problems is read afresh every time.
_parsed_rubrics: dict[tuple[str, str], ParsedRubric] = {}
_parse_rubric = rubric_ops.parse_rubric


def _parse_rubric_once(text: str, source_name: str) -> ParsedRubric:
    key = (text, source_name)
    if key not in _parsed_rubrics:
        _parsed_rubrics[key] = _parse_rubric(text, source_name)
    return copy.deepcopy(_parsed_rubrics[key])


rubric_ops.parse_rubric = _parse_rubric_once  # type: ignore[assignment]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser-share",
        metavar="K/N",
        help="run the K-th of N shares of the browser tests (dealt round in collection "
        "order); .ci/run runs half of them against each database",
    )


def test_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("OBSERVE_TEST_DATABASE_URL", "").strip()
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def is_postgres(app: Flask) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


class Client(FlaskClient):
    """A test client whose every request runs in an app context of its own.

    The test holds an app context, and Flask would reuse it for requests, sharing ``g`` (the
    signed-in user, the CSRF token) and the database session between requests. A fresh
    context per request gives each its own session, as in production: a view that forgot to
    commit loses its work here too. The test's own session is rolled back around the request
    so it holds no lock and then sees what the request committed.
    """

    def open(self, *args: Any, **kwargs: Any):
        db.session.rollback()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            db.session.rollback()

    def csrf_token(self, path: str = "/sign-in") -> str:
        page = self.get(path).get_data(as_text=True)
        match = _CSRF.search(page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, Any], token_from: str | None = None, **kw):
        """POST a form the way a browser does: with the CSRF token from a page."""
        data = {"csrf_token": self.csrf_token(token_from or path), **data}
        return self.post(path, data=data, **kw)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": test_database_url(tmp_path_factory),
            "SECRET_KEY": "test-secret-key",
            "SESSION_COOKIE_SECURE": False,
            "OBSERVE_DISTRICT_NAME": "Test District",
            "OBSERVE_PHOTO_DIR": str(tmp_path_factory.mktemp("photos")),
        }
    )
    app.test_client_class = Client
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Another app (production settings, another database); its connections closed after."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        config.setdefault("SQLALCHEMY_DATABASE_URI", app.config["SQLALCHEMY_DATABASE_URI"])
        config.setdefault("SECRET_KEY", "another-test-secret")
        other = create_app(config)
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.rollback()
        _empty_every_table(app)
        db.session.remove()


def _empty_every_table(app: Flask) -> None:
    """DELETE every row, children first; on PostgreSQL, in one transaction that a straggling
    live-server request may deadlock with (then again), and every sequence a test moved starts
    from 1 again. (A test writes a few rows: DELETE takes a tenth of the time TRUNCATE's file
    swaps of some forty tables take.)"""
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    for attempt in range(3):
        try:
            if is_postgres(app):  # the audit log's guard lets its purge, and this, delete
                db.session.execute(text(f"SET LOCAL {PURGE_SETTING} = 'on'"))
            for name in tables:
                db.session.execute(text(f'DELETE FROM "{name}"'))
            if is_postgres(app):
                db.session.execute(
                    text(
                        "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1,"
                        " false) FROM pg_sequences WHERE last_value IS NOT NULL"
                    )
                )
            db.session.commit()
            return
        except OperationalError:  # a deadlock with a straggling live-server request
            db.session.rollback()
            if attempt == 2:
                raise


@pytest.fixture
def client(app: Flask) -> Client:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def create_school() -> Callable[..., School]:
    def create(code: str = "LIN-HS", name: str | None = None, **fields: Any) -> School:
        school = School(code=code, name=name or f"School {code}", **fields)
        db.session.add(school)
        db.session.commit()
        return school

    return create


@pytest.fixture
def create_classroom(create_school: Callable[..., School]) -> Callable[..., Classroom]:
    def create(external_id: str = "SEC-1", school: School | None = None, **fields: Any):
        school = school or create_school()
        fields.setdefault("name", f"Section {external_id}")
        classroom = Classroom(external_id=external_id, school=school, **fields)
        db.session.add(classroom)
        db.session.commit()
        return classroom

    return create


@pytest.fixture
def create_user() -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def create(
        role: Role | str = Role.OBSERVER,
        email: str | None = None,
        name: str = "Test Person",
        schools: list[School] = (),
        password: str = PASSWORD,
    ) -> User:
        user = account_ops.create_user(
            email or f"person{next(counter)}@example.org",
            name,
            Role(role),
            password,
            [school.code for school in schools],
        )
        db.session.commit()
        return user

    return create


@pytest.fixture
def sign_in(client: Client) -> Callable[[User], Client]:
    """Sign ``user`` in through the real sign-in form; returns the client."""

    def do_sign_in(user: User, password: str = PASSWORD) -> Client:
        response = client.post_form("/sign-in", {"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do_sign_in


@pytest.fixture
def admin(create_user: Callable[..., User]) -> User:
    return create_user(Role.DISTRICT_ADMIN, email="admin@example.org", name="Ada Admin")


@pytest.fixture
def bearer(app: Flask) -> Callable[[User], dict[str, str]]:
    """Headers carrying a fresh API token for ``user``."""

    def headers(user: User) -> dict[str, str]:
        _, secret = account_ops.create_token(user, "tests")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return headers


# ---- walkthroughs as devices push them: a school, an observer, the sample rubric -------------


@dataclass
class Setting:
    school: School
    other_school: School
    classroom: Classroom
    elsewhere: Classroom  # a classroom in a school the observer does not work in
    observer: User
    version: RubricVersion


@pytest.fixture
def setting(create_school, create_classroom, create_user) -> Setting:
    school = create_school("RVE", "Riverside Elementary")
    other = create_school("SHS", "Southfield High")
    classroom = create_classroom("RVE-03", school=school, name="Grade 3")
    elsewhere = create_classroom("SHS-11", school=other, name="AP US History")
    observer = create_user(Role.OBSERVER, email="coach@example.org", schools=[school])
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    db.session.commit()
    return Setting(school, other, classroom, elsewhere, observer, version)


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def make_version(setting: Setting):
    """A valid version of a new observation; keyword arguments replace fields."""

    def make(**fields: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        version = {
            "observation_id": new_id(),
            "version_id": new_id(),
            "base_version_id": None,
            "rubric_version_id": setting.version.id,
            "school_id": setting.school.id,
            "classroom_id": setting.classroom.id,
            "observed_at": (now - timedelta(minutes=30)).isoformat(),
            "saved_at": (now - timedelta(minutes=10)).isoformat(),
            "duration_seconds": 600,
            "state": "submitted",
            "context": {"grouping": ["Small groups"]},
            "ratings": [
                {"criterion": "ct-explain-reasoning", "level": 3, "evidence": "Pairs argued."},
                {"criterion": "ct-rigorous-task", "level": None, "not_observed": True},
            ],
            "notes": "Strong opening.",
        }
        version.update(fields)
        return version

    return make


def edit_of(version: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The next version of the same observation, made from ``version``."""
    saved = datetime.fromisoformat(version["saved_at"]) + timedelta(minutes=1)
    return {
        **version,
        "version_id": new_id(),
        "base_version_id": version["version_id"],
        "saved_at": saved.isoformat(),
        **fields,
    }


@pytest.fixture
def push(client, bearer, setting: Setting):
    """POST versions as the observer (by token); returns the parsed JSON response."""
    headers = bearer(setting.observer)

    def do_push(*versions: dict[str, Any], device_id: str = "tablet-1", expect: int = 200):
        response = client.post(
            "/api/v1/sync/push",
            json={"device_id": device_id, "app_version": "1.0.0", "versions": list(versions)},
            headers={**headers, "User-Agent": "TestTablet/1.0"},
        )
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    return do_push
