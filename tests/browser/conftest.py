"""Real-browser tests: the system Chromium driven by Playwright against a live server.

Never `playwright install`: it downloads a browser of its own. scripts/test installs Debian's
chromium and this file points Playwright at it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TABLET_VIEWPORTS = {"landscape": (1024, 768), "portrait": (768, 1024)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
    if share := config.getoption("--browser-share"):
        _keep_share(config, items, share)


def _keep_share(config: pytest.Config, items: list[pytest.Item], share: str) -> None:
    """Deselect the browser tests outside share K of N: the tests, in collection order, are
    dealt round to the N shares, so the two sizes of a test that runs at both tablet sizes go
    to different shares. (What a browser test checks is the browser's side; the server's side
    of each is tested on both databases by the API tests, so CI runs each browser test once,
    half of them against each database, rather than every one twice.)"""
    try:
        k, n = (int(part) for part in share.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        raise pytest.UsageError(f"--browser-share {share}: give K/N with 1 <= K <= N") from None
    kept, dropped = [], []
    dealt = 0
    for item in items:
        if item.get_closest_marker("browser"):
            (kept if dealt % n == k - 1 else dropped).append(item)
            dealt += 1
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args() -> dict:
    return {"viewport": {"width": 1024, "height": 768}, "locale": "en-US"}


class CountingRequests:
    """Knows how many requests the live server is still answering."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.active = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.active += 1
        try:
            body = self.app(environ, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            with self.lock:
                self.active -= 1

    def wait_until_idle(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.active and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture(scope="session")
def counting_server(app: Flask) -> Iterator[tuple[str, CountingRequests]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    counter = CountingRequests(app)
    server = make_server("127.0.0.1", 0, counter, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", counter
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def live_server(counting_server) -> str:
    return counting_server[0]


@pytest.fixture(autouse=True)
def _drain_live_server(counting_server) -> Iterator[None]:
    """Autouse, so it is torn down after the browser closes and before the tables are emptied:
    a request the browser sent may still be running, and must not have them emptied under it."""
    yield
    counting_server[1].wait_until_idle()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def riverbend(create_school, create_classroom, create_user):
    """The tablet tests' district, built on demand: Riverbend High with AP Calculus (and,
    unless told otherwise, English 9), the quick look-fors rubric, and its observers
    (email → name). ``northside=True`` adds a second school for a classroom to move to."""
    from observe import paths
    from observe.core.permissions import Role
    from observe.extensions import db
    from observe.rubrics.operations import load_rubric_file

    def build(
        observers: dict[str, str] | None = None, *, english: bool = True, northside: bool = False
    ) -> None:
        school = create_school("RHS", "Riverbend High")
        if northside:
            create_school("NHS", "Northside High")
        create_classroom("RHS-01", school=school, name="AP Calculus", course_level="AP")
        if english:
            create_classroom("RHS-02", school=school, name="English 9", course_level="general")
        for email, name in (observers or {"coach@example.org": "Aisha Grant"}).items():
            create_user(Role.OBSERVER, email=email, name=name, schools=[school])
        load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml")
        db.session.commit()

    return build
