"""Load test: simulated tablets sign in, save drafts and pull, against real gunicorn servers.

Run on demand (never part of the test suite):

    .venv/bin/python scripts/load_tablets.py --database postgres --tablets 200 --minutes 5
    .venv/bin/python scripts/load_tablets.py --database sqlite --tablets 50 --minutes 5

On PostgreSQL (a throwaway cluster, scripts/benchlib.py) two gunicorn servers on different
ports share the database, and every tablet sends each request to the other server than its
last: it signs in on one and pushes on the other, so a session, a CSRF token or anything cached
that lived in one server process would fail. Sign-in throttling is checked the same way: the
number of wrong passwords that locks an email is the same on one server as spread over two. On
SQLite, one server. Each tablet (several per observer) signs in with its password, bootstraps,
then every few seconds saves a draft (a new walkthrough, or an edit of one of its own) and pushes
its outbox, and pulls now and then. At the end every tablet sends what it still holds, and the
database is read: every version a server acknowledged is stored once and each walkthrough's head
is the last version its tablet saved. Prints latency percentiles and throughput; exits 1 on any
error or loss. Only 127.0.0.1 is contacted; requests are bounded in number and in time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import postgres

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
TIMEOUT = 60  # seconds, per request
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(url: str, observers: int, password: str) -> list[str]:
    """A fresh schema, the sample rubric, one school of ten classrooms, the observers."""
    from flask_migrate import upgrade

    from observe import create_app, paths
    from observe.accounts import operations as accounts
    from observe.core.permissions import Role
    from observe.extensions import db
    from observe.roster.models import Classroom, School
    from observe.rubrics.operations import load_rubric_file

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load"})
    with app.app_context():
        upgrade()
        load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml")
        school = School(code="LOAD", name="Load High")
        rooms = [
            Classroom(external_id=f"L-{i}", school=school, name=f"Room {i}") for i in range(10)
        ]
        db.session.add_all([school, *rooms])
        db.session.flush()
        emails = [f"observer{i}@load.example.org" for i in range(observers)]
        for email in emails:
            accounts.create_user(email, email.split("@")[0], Role.OBSERVER, password, ["LOAD"])
        db.session.commit()
        db.engine.dispose()
    return emails


class Stats:
    """Latencies by kind of request, errors, and counts, shared by the tablets' threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] += n


class Budget(Exception):
    """A tablet reached its bound on requests."""


class Tablet(threading.Thread):
    def __init__(self, index: int, email: str, password: str, ports: list[int], args, stats):
        super().__init__(daemon=True)
        self.index, self.email, self.password = index, email, password
        self.ports, self.args, self.stats = ports, args, stats
        self.rng = random.Random(index)
        self.turn = index  # which server the next request goes to: they alternate
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.requests_left = int(args.minutes * 60 / args.every) * 3 + 30
        self.outbox: list[dict[str, Any]] = []
        self.walkthroughs: dict[str, dict[str, Any]] = {}  # id -> last version acknowledged
        self.acknowledged: dict[str, str] = {}  # version id -> walkthrough id
        self.signed_in_on: int | None = None
        self.cursor = "0"
        self.last_seq = 0

    # -- HTTP --------------------------------------------------------------------------------

    def request(
        self, kind: str, method: str, path: str, body: Any = None, form: dict | None = None
    ) -> tuple[int, Any, int]:
        if self.requests_left <= 0:
            raise Budget
        self.requests_left -= 1
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers |= {"Content-Type": "application/json", "X-CSRFToken": self.csrf}
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        self.stats.add(kind, time.perf_counter() - started)
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if self.signed_in_on is not None and port != self.signed_in_on:
            self.stats.count("requests on the other server than the sign-in")
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(raw) if is_json else raw.decode(), port

    # -- what a tablet does ------------------------------------------------------------------

    def run(self) -> None:
        try:
            # Tablets are switched on over the first minute, not all in the same instant.
            time.sleep(self.rng.uniform(0, self.args.ramp))
            self.patiently(self.sign_in)
            self.patiently(self.bootstrap)
            self.work()
        except Budget:
            self.stats.error(f"tablet {self.index}: gave up (request budget or failed start)")
        except Exception as error:
            self.stats.error(f"tablet {self.index}: {type(error).__name__}: {error}")

    def patiently(self, step) -> None:
        """A step tried again after a failure, as a person would tap again; each failure is
        still counted as an error."""
        for attempt in range(3):
            try:
                return step()
            except (OSError, http.client.HTTPException, RuntimeError) as error:
                self.stats.error(f"tablet {self.index}: {step.__name__}: {error}")
                if attempt == 2:
                    raise Budget from error
                time.sleep(self.args.every)

    def sign_in(self) -> None:
        status, page, _ = self.request("sign-in", "GET", "/sign-in")
        token = CSRF_FIELD.search(page)
        if status != 200 or not token:
            raise RuntimeError(f"sign-in page: {status}")
        form = {"csrf_token": token.group(1), "email": self.email, "password": self.password}
        status, _, port = self.request("sign-in", "POST", "/sign-in", form=form)
        if status != 302:
            raise RuntimeError(f"sign-in answered {status}")
        self.signed_in_on = port
        status, session, _ = self.request("session", "GET", "/api/v1/session")
        if status != 200:
            raise RuntimeError(f"session answered {status}")
        self.csrf = session["csrf_token"]

    def bootstrap(self) -> None:
        status, data, _ = self.request("bootstrap", "GET", "/api/v1/bootstrap")
        if status != 200:
            raise RuntimeError(f"bootstrap answered {status}")
        self.cursor = data["cursor"]
        version = data["rubric_versions"][0]
        self.rubric_version_id = version["id"]
        self.criteria = [
            (c["key"], [lv["value"] for lv in c["levels"]]) for c in version["criteria"]
        ]
        school = data["schools"][0]
        self.school_id = school["id"]
        self.classrooms = [c["id"] for c in school["classrooms"]]

    def work(self) -> None:
        deadline = self.args.started + self.args.minutes * 60
        cycle = 0
        while time.monotonic() < deadline:
            self.save_draft()
            self.push()
            cycle += 1
            if cycle % self.args.pull_every == 0:
                self.pull()
            time.sleep(max(0.0, min(self.args.every * self.rng.uniform(0.8, 1.2),
                                    deadline - time.monotonic())))  # fmt: skip
        for _ in range(5):  # what is left in the outbox, as a tablet does before it sleeps
            if not self.outbox:
                break
            self.push()
        if self.outbox:
            self.stats.error(f"tablet {self.index}: {len(self.outbox)} versions never sent")

    def save_draft(self) -> None:
        now = datetime.now(UTC)
        mine = [
            w for w in self.walkthroughs if not any(v["observation_id"] == w for v in self.outbox)
        ]
        if mine and self.rng.random() < 0.6:
            base = self.walkthroughs[self.rng.choice(mine)]
            version = {
                **base,
                "version_id": str(uuid.uuid4()),
                "base_version_id": base["version_id"],
                "saved_at": now.isoformat(),
                "state": "submitted" if self.rng.random() < 0.3 else "draft",
                "ratings": self.ratings(),
                "notes": f"edited {now:%H:%M:%S} on tablet {self.index}",
            }
        else:
            version = {
                "observation_id": str(uuid.uuid4()),
                "version_id": str(uuid.uuid4()),
                "base_version_id": None,
                "rubric_version_id": self.rubric_version_id,
                "school_id": self.school_id,
                "classroom_id": self.rng.choice(self.classrooms),
                "observed_at": (now - timedelta(minutes=5)).isoformat(),
                "saved_at": now.isoformat(),
                "duration_seconds": 300,
                "state": "draft",
                "context": {},
                "ratings": self.ratings(),
                "notes": f"started on tablet {self.index}",
            }
        self.outbox.append(version)

    def ratings(self) -> list[dict[str, Any]]:
        chosen = self.rng.sample(self.criteria, self.rng.randint(5, min(25, len(self.criteria))))
        return [{"criterion": key, "level": self.rng.choice(levels), "evidence": "Seen."}
                for key, levels in chosen]  # fmt: skip

    def push(self) -> None:
        batch = list(self.outbox)
        body = {"device_id": f"load-tablet-{self.index}", "app_version": "load", "versions": batch}
        try:
            status, data, port = self.request("push", "POST", "/api/v1/sync/push", body=body)
        except (OSError, http.client.HTTPException) as error:
            self.stats.error(f"tablet {self.index}: push: {error}")  # kept; sent again next time
            return
        if status != 200:
            self.stats.error(
                f"tablet {self.index}: push answered {status} on {port}: {data!r:.200}"
            )
            return
        for version, result in zip(batch, data["results"], strict=True):
            if result["status"] in ("applied", "duplicate"):
                if version["version_id"] not in self.acknowledged:
                    self.stats.count("versions acknowledged")
                self.acknowledged[version["version_id"]] = version["observation_id"]
                self.walkthroughs[version["observation_id"]] = version
            else:
                self.stats.error(f"tablet {self.index}: {result['status']}: {result}")
        self.outbox = self.outbox[len(batch) :]

    def pull(self) -> None:
        while True:
            status, page, _ = self.request("pull", "GET", f"/api/v1/sync/pull?cursor={self.cursor}")
            if status != 200:
                self.stats.error(f"tablet {self.index}: pull answered {status}")
                return
            for change in page["changes"]:
                if change["seq"] <= self.last_seq:
                    self.stats.error(f"tablet {self.index}: change {change['seq']} came twice")
                self.last_seq = change["seq"]
            self.stats.count("changes pulled", len(page["changes"]))
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return


def throttle_check(ports: list[int]) -> tuple[int, int]:
    """Wrong passwords until an email is locked, on one server, then spread over the servers:
    the same number if the failures are counted in the database, not in a server process."""

    def failures_until_locked(email: str, spread: list[int]) -> int:
        for attempt in range(1, 21):
            port = spread[attempt % len(spread)]
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
            connection.request("GET", "/sign-in")
            response = connection.getresponse()
            page = response.read().decode()
            cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
            form = {"csrf_token": CSRF_FIELD.search(page).group(1), "email": email,
                    "password": "wrong"}  # fmt: skip
            connection.request("POST", "/sign-in", body=urllib.parse.urlencode(form), headers={
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
            status = connection.getresponse().status
            connection.close()
            if status == 429:
                return attempt
        return 0

    alone = failures_until_locked("nobody-1@load.example.org", ports[:1])
    spread = failures_until_locked("nobody-2@load.example.org", ports)
    return alone, spread


def verify(url: str, tablets: list[Tablet]) -> dict[str, int]:
    """Read the database: every acknowledged version stored once; each walkthrough's head the
    last version its tablet had acknowledged."""
    from sqlalchemy import bindparam, create_engine, text

    acknowledged = {v: o for t in tablets for v, o in t.acknowledged.items()}
    last = {o: v["version_id"] for t in tablets for o, v in t.walkthroughs.items()}
    engine = create_engine(url)
    stored: dict[str, int] = defaultdict(int)
    heads: dict[str, str] = {}
    versions = list(acknowledged)
    walkthroughs = list(last)
    with engine.connect() as connection:
        count = text("SELECT id FROM observation_version WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        head = text("SELECT id, head_version_id FROM observation WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        for start in range(0, len(versions), 500):
            for (version_id,) in connection.execute(count, {"ids": versions[start : start + 500]}):
                stored[version_id] += 1
        for start in range(0, len(walkthroughs), 500):
            rows = connection.execute(head, {"ids": walkthroughs[start : start + 500]})
            heads.update({row[0]: row[1] for row in rows})
        total = connection.execute(text("SELECT count(*) FROM observation_version")).scalar()
    engine.dispose()
    return {
        "acknowledged": len(acknowledged),
        "stored once": sum(1 for v in versions if stored.get(v) == 1),
        "lost": sum(1 for v in versions if not stored.get(v)),
        "walkthroughs": len(walkthroughs),
        "heads right": sum(1 for o, v in last.items() if heads.get(o) == v),
        "versions in the database": total,
    }


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "OBSERVE_SECRET_KEY": "load-test-shared-key",
           "OBSERVE_SECURE_COOKIES": "0"}  # fmt: skip
    return subprocess.Popen(
        [VENV / "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)] * 1000 if ordered else 0.0


def run(url: str, args: argparse.Namespace) -> int:
    password = "load-" + secrets.token_urlsafe(12)
    observers = max(1, args.tablets // args.tablets_per_observer)
    emails = prepare(url, observers, password)
    servers = 2 if args.database == "postgres" else 1
    ports = [args.port + i for i in range(servers)]
    stats = Stats()
    with ExitStack() as stack:
        for port in ports:
            process = start_server(url, port, args.workers)
            stack.callback(process.wait, 30)
            stack.callback(process.terminate)
        for port in ports:
            wait_until_serving(port)
        throttled = throttle_check(ports) if servers > 1 else None
        tablets = [Tablet(i, emails[i % observers], password, ports, args, stats)
                   for i in range(args.tablets)]  # fmt: skip
        args.started = time.monotonic()
        for tablet in tablets:
            tablet.start()
        limit = args.started + args.minutes * 60 + 120
        for tablet in tablets:
            tablet.join(timeout=max(0.0, limit - time.monotonic()))
        wall = time.monotonic() - args.started
        stuck = sum(1 for t in tablets if t.is_alive())
        if stuck:
            stats.error(f"{stuck} tablets still busy at the time limit")
    found = verify(url, tablets)

    cores = os.cpu_count()
    print(
        f"\n{args.database}: {args.tablets} tablets ({observers} observers), {servers} "
        f"server(s) x {args.workers} gunicorn workers, {cores} cores, {wall / 60:.1f} min"
    )
    requests = sum(len(v) for v in stats.latency.values())
    print(f"  requests {requests:,} ({requests / wall:.1f}/s), errors {len(stats.errors)}")
    for kind in ("sign-in", "session", "bootstrap", "push", "pull"):
        values = stats.latency.get(kind, [])
        if values:
            p50, p95, most = percentile(values, 0.5), percentile(values, 0.95), max(values)
            print(
                f"  {kind:9s} {len(values):6,}  p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  "
                f"max {most * 1000:6.0f} ms"
            )
    print(f"  versions acknowledged {stats.counts['versions acknowledged']:,} "
          f"({stats.counts['versions acknowledged'] / wall:.1f}/s); "
          f"changes pulled {stats.counts['changes pulled']:,}")  # fmt: skip
    if servers > 1:
        print(f"  requests answered by the other server than the tablet's sign-in: "
              f"{stats.counts['requests on the other server than the sign-in']:,}")  # fmt: skip
        print(f"  wrong passwords until an email is locked: {throttled[0]} on one server, "
              f"{throttled[1]} spread over both")  # fmt: skip
        if throttled[0] != throttled[1] or not throttled[0]:
            stats.error(f"sign-in throttling differs across servers: {throttled}")
    print("  database: " + ", ".join(f"{k} {v:,}" for k, v in found.items()))
    lost = found["lost"] + (found["acknowledged"] - found["stored once"] - found["lost"])
    wrong_heads = found["walkthroughs"] - found["heads right"]
    for text in stats.errors[:10]:
        print(f"  error: {text}")
    ok = not stats.errors and lost == 0 and wrong_heads == 0
    print(f"  {'PASS' if ok else 'FAIL'}: {len(stats.errors)} errors, {lost} lost or doubled, "
          f"{wrong_heads} wrong heads")  # fmt: skip
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--tablets", type=int, default=200)
    parser.add_argument("--tablets-per-observer", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between a tablet's saves")
    parser.add_argument("--pull-every", type=int, default=3, help="pull every N saves")
    parser.add_argument("--ramp", type=float, default=60.0, help="seconds over which tablets start")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per server")
    parser.add_argument("--port", type=int, default=5111)
    parser.add_argument("--pg-port", type=int, default=55470)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="observe-load-"))
    try:
        if args.database == "sqlite":
            status = run(f"sqlite:///{workdir / 'load.sqlite3'}", args)
        else:
            with postgres(args.pg_port) as url:
                status = run(url, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
