"""Faults in the middle of a push, against a real gunicorn on 127.0.0.1 and the suite's database.

A worker killed (SIGKILL) while its batch's transaction is open, and on PostgreSQL the
database connection ended under it (``pg_terminate_backend``): the batch is stored whole or not
at all, and the device, sending it again as it does when it got no answer, gets every version
stored exactly once.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from observe.core.changes import Change
from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion, Rating
from tests.conftest import is_postgres

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
BATCH = 200  # the most a push may carry
ATTEMPTS = 4  # a fault can land just after the commit; then the scenario runs again


@dataclass
class Server:
    port: int
    process: subprocess.Popen

    def worker(self) -> int:
        """The pid of the (one) worker the master runs now."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = children.read_text().split()
        assert len(pids) == 1, pids
        return int(pids[0])

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + 60
        while not self.healthy():
            assert time.monotonic() < deadline, "gunicorn does not answer"
            time.sleep(0.05)

    def healthy(self) -> bool:
        try:
            return self.request("GET", "/health")[0] == 200
        except OSError:
            return False

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            data = json.dumps(body).encode() if body is not None else None
            connection.request(
                method,
                path,
                body=data,
                headers={"Content-Type": "application/json", **(headers or {})},
            )
            response = connection.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw
        finally:
            connection.close()


@pytest.fixture
def gunicorn(app) -> Iterator[Server]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "OBSERVE_SECRET_KEY": "fault-tests",
        "OBSERVE_SECURE_COOKIES": "0",
    }
    process = subprocess.Popen(
        [GUNICORN, "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(port, process)
    try:
        server.wait_until_serving()
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def big_batch(setting, make_version) -> Callable[[], list[dict[str, Any]]]:
    """200 new walkthroughs of every look-for: a batch that holds the write lock a while."""
    ratings = [
        {"criterion": c.key, "level": c.levels[0]["value"], "evidence": "Pairs argued."}
        for c in setting.version.criteria
    ]
    return lambda: [make_version(ratings=ratings, context={}) for _ in range(BATCH)]


def stored(batch: list[dict[str, Any]]) -> dict[str, int]:
    """How many of each kind of row the batch left behind (after a fault: all or nothing)."""
    db.session.rollback()
    observation_ids = [v["observation_id"] for v in batch]
    version_ids = [v["version_id"] for v in batch]

    def count(model: Any, column: Any, ids: list[str]) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(column.in_(ids)))

    counts = {
        "walkthroughs": count(Observation, Observation.id, observation_ids),
        "versions": count(ObservationVersion, ObservationVersion.id, version_ids),
        "ratings": count(Rating, Rating.observation_id, observation_ids),
        "changes": count(Change, Change.observation_id, observation_ids),
    }
    db.session.rollback()
    return counts


def expect_all_once(batch: list[dict[str, Any]]) -> dict[str, int]:
    ratings = sum(len(v["ratings"]) for v in batch)
    return {"walkthroughs": len(batch), "versions": len(batch), "ratings": ratings}


def push_in_flight(server: Server, headers: dict[str, str], batch: list[dict[str, Any]]):
    """Send the batch on a thread; what came back (a status, or the connection's error)."""
    outcome: dict[str, Any] = {}

    def send() -> None:
        try:
            outcome["answer"] = server.request(
                "POST", "/api/v1/sync/push", {"device_id": "tablet-1", "versions": batch}, headers
            )
        except (OSError, http.client.HTTPException) as error:
            outcome["error"] = error

    thread = threading.Thread(target=send)
    thread.start()
    return thread, outcome


def writing_now(app) -> Callable[[], int | None]:
    """Something that says whether a push's transaction is open and writing right now: on
    SQLite someone holds the write lock; on PostgreSQL, the backend pid of a transaction that
    has written (it has a transaction id)."""
    if is_postgres(app):

        def backend() -> int | None:
            with db.engine.connect() as connection:
                return connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                    )
                ).scalar()

        return backend

    lock_path = f"{db.engine.url.database}.write-lock"

    def locked() -> int | None:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 1
        finally:
            os.close(fd)  # releases it at once if it was ours
        return None

    return locked


def wait_for(found: Callable[[], int | None], thread: threading.Thread) -> int | None:
    while thread.is_alive():
        value = found()
        if value is not None:
            return value
        time.sleep(0.002)
    return None


def resend_until_all_stored_once(server, headers, batch) -> None:
    status, answer = server.request(
        "POST", "/api/v1/sync/push", {"device_id": "tablet-1", "versions": batch}, headers
    )
    assert status == 200, answer
    assert {r["status"] for r in answer["results"]} <= {"applied", "duplicate"}
    counts = stored(batch)
    assert counts["changes"] >= len(batch)
    del counts["changes"]  # a retry answered as duplicates records no change
    assert counts == expect_all_once(batch)
    status, answer = server.request(
        "POST", "/api/v1/sync/push", {"device_id": "tablet-1", "versions": batch}, headers
    )
    assert [r["status"] for r in answer["results"]] == ["duplicate"] * len(batch)
    assert stored(batch)["versions"] == len(batch)


def run_fault(app, server, bearer, setting, big_batch, strike: Callable[[int], None]) -> dict:
    headers = bearer(setting.observer)
    assert server.request("GET", "/api/v1/bootstrap", headers=headers)[0] == 200  # token used
    found = writing_now(app)
    for _ in range(ATTEMPTS):
        batch = big_batch()
        thread, outcome = push_in_flight(server, headers, batch)
        target = wait_for(found, thread)
        if target is not None:
            strike(target)
        thread.join(timeout=120)
        server.wait_until_serving()
        counts = stored(batch)
        assert counts["versions"] in (0, len(batch)), f"part of a batch was stored: {counts}"
        resend_until_all_stored_once(server, headers, batch)
        if target is not None and counts["versions"] == 0:
            return outcome  # struck mid-transaction, and nothing of it was kept
    pytest.fail(f"no fault landed inside a push's transaction in {ATTEMPTS} tries")


def test_a_worker_killed_mid_batch_loses_nothing_on_resend(
    app, gunicorn, bearer, setting, big_batch
):
    killed: list[int] = []

    def kill_worker(_: int) -> None:
        killed.append(gunicorn.worker())
        os.kill(killed[-1], signal.SIGKILL)

    outcome = run_fault(app, gunicorn, bearer, setting, big_batch, kill_worker)
    assert "error" in outcome  # the device heard nothing: the connection just closed
    assert gunicorn.worker() not in killed  # the master started a new one for the resends


def test_a_database_connection_dropped_mid_transaction_loses_nothing_on_resend(
    app, gunicorn, bearer, setting, big_batch
):
    if not is_postgres(app):
        pytest.skip("pg_terminate_backend is PostgreSQL's")

    def terminate(backend: int) -> None:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

    outcome = run_fault(app, gunicorn, bearer, setting, big_batch, terminate)
    status, answer = outcome["answer"]
    assert status == 500, answer
    assert answer["error"]["code"] == "server_error"
    assert "nothing was saved" in answer["error"]["message"]
