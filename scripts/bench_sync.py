"""Benchmark the sync protocol against gunicorn, on SQLite and PostgreSQL.

Run on demand (never part of the test suite):

    .venv/bin/python scripts/bench_sync.py [--database sqlite|postgres|both] [--observations N]

One observer, 20 tablets: N walkthroughs of 25 ratings pushed in batches of 50 by 20 concurrent
simulated devices, each sending its next batch as soon as the last is answered; the same
batches replayed (every result must be a duplicate); a new device pulling everything; then
10,000 more pushed by the same devices at a steady 1,000 walkthroughs/s, for the latency of a
server that is busy but not saturated. The floor, timed in the same run, inserts the same rows
straight through SQLAlchemy Core into a fresh database of the same kind. Only 127.0.0.1 is
contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import postgres

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
RATINGS = 25
EVIDENCE = ["Students argued from the text.", "Pairs compared strategies.", ""]


def prepare(url: str, devices: int) -> dict:
    """A fresh schema, the sample rubric, one school, one observer with a token per device."""
    from flask_migrate import upgrade

    from observe import create_app, paths
    from observe.accounts import operations as accounts
    from observe.core.permissions import Role
    from observe.extensions import db
    from observe.reports import rollups
    from observe.roster.models import Classroom, School
    from observe.rubrics.operations import load_rubric_file

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
        school = School(code="BENCH", name="Bench High")
        classrooms = [
            Classroom(external_id=f"B-{i}", school=school, name=f"Room {i}") for i in range(10)
        ]
        db.session.add_all([school, *classrooms])
        db.session.flush()
        user = accounts.create_user("bench@example.org", "Bench", Role.OBSERVER, None, ["BENCH"])
        tokens = [accounts.create_token(user, f"tablet {i}")[1] for i in range(devices + 1)]
        facts = {
            "rubric_version_id": version.id,
            "criteria": [c.key for c in version.criteria][:RATINGS],
            "school_id": school.id,
            "classrooms": [c.id for c in classrooms],
            "tokens": tokens,
        }
        # As in a district that has opened a report once: pushes keep its rollups current.
        rollups.rebuild(db.session)
        db.session.commit()
        db.engine.dispose()
    return facts


def batches(
    facts: dict, observations: int, batch: int, devices: int
) -> tuple[list[bytes], list[dict]]:
    now = datetime.now(UTC)
    bodies, versions = [], []
    for i in range(observations):
        observed = now - timedelta(minutes=10 + i)
        versions.append({
            "observation_id": str(uuid.uuid4()),
            "version_id": str(uuid.uuid4()),
            "base_version_id": None,
            "rubric_version_id": facts["rubric_version_id"],
            "school_id": facts["school_id"],
            "classroom_id": facts["classrooms"][i % len(facts["classrooms"])],
            "observed_at": observed.isoformat(),
            "saved_at": (observed + timedelta(minutes=5)).isoformat(),
            "duration_seconds": 600,
            "state": "submitted",
            "context": {},
            "ratings": [
                {"criterion": key, "level": 1 + (i + j) % 4, "evidence": EVIDENCE[(i + j) % 3]}
                for j, key in enumerate(facts["criteria"])
            ],
            "notes": "Benchmark walkthrough.",
        })  # fmt: skip
    for start in range(0, observations, batch):
        body = {
            # Batch k is sent by device k % devices (push_all), from that device's database.
            "device_id": f"tablet-{(start // batch) % devices}",
            "versions": versions[start : start + batch],
        }
        bodies.append(json.dumps(body).encode())
    return bodies, versions


def push_all(
    port: int, tokens: list[str], bodies: list[bytes], expect: str, interval: float | None = None
) -> tuple[float, list[float]]:
    """Each device sends its share of batches in order; returns wall time and batch latencies.

    Without ``interval`` each device sends its next batch as soon as the last is answered (the
    server is kept as busy as it can be). With it, each device sends one batch per ``interval``
    seconds, the devices staggered, as tablets syncing at a steady rate would."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    # Each device registers its database as the tablet app does and sends its device cookie
    # with every push, so each batch also updates what the server acknowledged to it.
    cookies = [register(port, token, f"tablet-{i}") for i, token in enumerate(tokens)]

    def device(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {
            "Authorization": f"Bearer {tokens[index]}",
            "Content-Type": "application/json",
            "Cookie": cookies[index],
        }
        due = begun + (interval or 0) * index / len(tokens)
        for body in bodies[index :: len(tokens)]:
            if interval:
                time.sleep(max(0.0, due - time.perf_counter()))
                due += interval
            started = time.perf_counter()
            connection.request("POST", "/api/v1/sync/push", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - started
            statuses = (
                {r["status"] for r in json.loads(data)["results"]}
                if response.status == 200
                else {response.status}
            )
            with lock:
                latencies.append(elapsed)
                if statuses != {expect}:
                    errors.append(f"{response.status}: {data[:300]!r}")
        connection.close()

    threads = [threading.Thread(target=device, args=(i,)) for i in range(len(tokens))]
    begun = started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} batches did not come back {expect}: {errors[0]}")
    return wall, latencies


def register(port: int, token: str, database_id: str) -> str:
    """POST /api/v1/device: the device cookie (name=value) the server sets for this device."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = json.dumps({"database_id": database_id}).encode()
    connection.request(
        "POST",
        "/api/v1/device",
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    response.read()
    cookie = next(
        value.split(";", 1)[0]
        for name, value in response.getheaders()
        if name.lower() == "set-cookie" and value.startswith("observe_tablet=")
    )
    connection.close()
    return cookie


def server_cpu(master: int) -> float:
    """CPU seconds used so far by gunicorn's master and its workers (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in [master, *children]:
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def pull_all(port: int, token: str) -> tuple[float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    cursor, seen, started = "0", 0, time.perf_counter()
    while True:
        connection.request("GET", f"/api/v1/sync/pull?cursor={cursor}&limit=1000",
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        page = json.loads(connection.getresponse().read())
        seen += sum(1 for c in page["changes"] if c["kind"] == "observation")
        cursor = page["cursor"]
        if not page["has_more"]:
            return time.perf_counter() - started, seen


def fresh_database(url: str, workdir: Path) -> str:
    """A second, empty database of the same kind for the floor."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        return f"sqlite:///{workdir / 'floor.sqlite3'}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE observe_floor"))
    admin.dispose()
    return make_url(url).set(database="observe_floor").render_as_string(hide_password=False)


def floor(url: str, facts: dict, versions: list[dict]) -> float:
    """The same rows inserted straight through SQLAlchemy Core into a database that holds
    only the rubric, the school and the user: no HTTP, no checks, one transaction."""
    from sqlalchemy import create_engine, insert

    from observe import create_app
    from observe.extensions import db
    from observe.models import Change, Criterion, Observation, ObservationVersion, Rating

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        criterion_ids = {
            c.key: c.id for c in db.session.query(Criterion).filter(
                Criterion.rubric_version_id == facts["rubric_version_id"])
        }  # fmt: skip
        author = db.session.execute(db.text('SELECT id FROM "user" LIMIT 1')).scalar()
        engine = create_engine(url)
        now = datetime.now(UTC)
        started, cpu = time.perf_counter(), time.process_time()
        with engine.begin() as connection:
            for chunk in range(0, len(versions), 1000):
                part = versions[chunk : chunk + 1000]
                connection.execute(insert(Observation), [{
                    "id": v["observation_id"], "author_id": author,
                    "rubric_version_id": v["rubric_version_id"], "school_id": v["school_id"],
                    "classroom_id": v["classroom_id"], "observed_at": now, "duration_seconds": 600,
                    "context": {}, "notes": v["notes"], "state": "submitted", "submitted_at": now,
                    "created_at": now, "updated_at": now, "head_version_id": v["version_id"],
                    "has_conflict": False} for v in part])  # fmt: skip
                connection.execute(insert(ObservationVersion), [{
                    "id": v["version_id"], "observation_id": v["observation_id"],
                    "pushed_by_id": author, "device_id": "floor", "app_version": "",
                    "user_agent": "",
                    "saved_at": now, "payload": v, "content_hash": "0" * 64, "outcome": "applied",
                    "received_at": now} for v in part])  # fmt: skip
                connection.execute(insert(Rating), [{
                    "observation_id": v["observation_id"],
                    "criterion_id": criterion_ids[r["criterion"]], "level": r["level"],
                    "not_observed": False, "evidence": r["evidence"]}
                    for v in part for r in v["ratings"]])  # fmt: skip
                connection.execute(insert(Change), [{
                    "seq": 100 + chunk + i, "kind": "observation",
                    "observation_id": v["observation_id"], "author_id": author,
                    "created_at": now} for i, v in enumerate(part)])  # fmt: skip
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        engine.dispose()
        db.engine.dispose()
    return elapsed, cpu


def run(kind: str, args: argparse.Namespace, workdir: Path) -> dict:
    if kind == "sqlite":
        return measure(kind, f"sqlite:///{workdir / 'bench.sqlite3'}", args, workdir)
    with postgres(55460, durable=args.durable_postgres) as url:
        return measure(kind, url, args, workdir)


class WalWatch(threading.Thread):
    """The largest size an SQLite database's WAL file reaches while the benchmark runs."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.path = Path(url.removeprefix("sqlite:///") + "-wal")
        self.largest = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            with contextlib.suppress(FileNotFoundError):
                self.largest = max(self.largest, self.path.stat().st_size)


def measure(kind: str, url: str, args: argparse.Namespace, workdir: Path) -> dict:
    server = None
    wal = WalWatch(url) if kind == "sqlite" else None
    try:
        facts = prepare(url, args.devices)
        bodies, versions = batches(facts, args.observations, args.batch, args.devices)
        env = {**os.environ, "DATABASE_URL": url, "OBSERVE_SECRET_KEY": "bench",
               "OBSERVE_SECURE_COOKIES": "0"}  # fmt: skip
        server = subprocess.Popen(
            [VENV / "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{args.port}",
             "--keep-alive", "30", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        device_tokens = facts["tokens"][: args.devices]
        if wal:
            wal.start()
        cpu_before = server_cpu(server.pid)
        push_wall, latencies = push_all(args.port, device_tokens, bodies, "applied")
        push_cpu = server_cpu(server.pid) - cpu_before
        replay_wall, _ = push_all(args.port, device_tokens, bodies, "duplicate")
        pull_wall, pulled = pull_all(args.port, facts["tokens"][-1])
        # The same devices at the goal's rate: what a batch waits when the server is busy but
        # not saturated. Fresh walkthroughs, so they are stored, not recognised.
        paced_bodies, _ = batches(facts, args.paced_observations, args.batch, args.devices)
        interval = args.devices * args.batch / args.paced_rate
        _, paced = push_all(args.port, device_tokens, paced_bodies, "applied", interval)
        if wal:
            wal.done.set()
        floor_url = fresh_database(url, workdir)
        floor_time, floor_cpu = floor(floor_url, prepare(floor_url, 0), versions)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=20)
    latencies.sort()
    paced.sort()
    return {
        "paced_rate": args.paced_rate,
        "paced_p50_ms": statistics.median(paced) * 1000,
        "paced_p95_ms": paced[int(len(paced) * 0.95) - 1] * 1000,
        "database": kind,
        "observations": args.observations,
        "push_s": push_wall,
        "per_s": args.observations / push_wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "replay_s": replay_wall,
        "replay_ratio": replay_wall / push_wall,
        "pull_s": pull_wall,
        "pulled": pulled,
        "floor_s": floor_time,
        "floor_ratio": push_wall / floor_time,
        "push_cpu_s": push_cpu,
        "floor_cpu_s": floor_cpu,
        "wal_mib": wal.largest / 2**20 if wal else None,
    }


def report(r: dict) -> None:
    def goal(ok: bool, text: str) -> str:
        return f"   goal {text}: {'PASS' if ok else 'MISS'}"

    speed_goal = goal(r["per_s"] >= 1000, ">= 1,000/s") if r["database"] == "sqlite" else ""
    print(f"\n{r['database']}: {r['observations']:,} walkthroughs x {RATINGS} ratings")
    print(f"  push    {r['push_s']:7.2f} s  {r['per_s']:8,.0f} walkthroughs/s{speed_goal}")
    print(
        f"  batch latency p50 {r['p50_ms']:6.0f} ms, p95 {r['p95_ms']:6.0f} ms"
        + "   (as fast as the devices can send: mostly waiting in line)"
    )
    print(
        f"  at a steady {r['paced_rate']:,} walkthroughs/s: batch latency p50 "
        f"{r['paced_p50_ms']:4.0f} ms, p95 {r['paced_p95_ms']:4.0f} ms"
        + goal(r["paced_p95_ms"] <= 250, "p95 <= 250 ms")
    )
    print(
        f"  replay  {r['replay_s']:7.2f} s  {r['replay_ratio']:.2f}x the push"
        + goal(r["replay_ratio"] <= 0.5, "<= 0.5x")
    )
    print(f"  pull    {r['pull_s']:7.2f} s  {r['pulled']:,} walkthroughs on a new device")
    print(
        f"  floor   {r['floor_s']:7.2f} s  (SQLAlchemy Core inserts); "
        f"push is {r['floor_ratio']:.1f}x" + goal(r["floor_ratio"] <= 3, "<= 3x")
    )
    # CPU seconds barely move when other programs share the machine; wall-clock times do.
    print(
        f"  CPU     push {r['push_cpu_s']:.2f} s in the gunicorn workers, floor "
        f"{r['floor_cpu_s']:.2f} s: {r['push_cpu_s'] / r['floor_cpu_s']:.1f}x"
        + ("  (PostgreSQL's own CPU not counted)" if r["database"] == "postgres" else "")
    )
    if r["wal_mib"] is not None:
        print(f"  largest WAL file during the run: {r['wal_mib']:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--observations", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=5095)
    parser.add_argument("--paced-rate", type=int, default=1000, help="walkthroughs/s offered")
    parser.add_argument("--paced-observations", type=int, default=10_000)
    parser.add_argument(
        "--durable-postgres",
        action="store_true",
        help="a cluster with fsync and full_page_writes on, as in production",
    )
    args = parser.parse_args()
    print(f"gunicorn: {args.workers} sync workers on {os.cpu_count()} cores; "
          f"{args.devices} devices, batches of {args.batch}")  # fmt: skip
    from observe.core.database import SQLITE_SYNCHRONOUS

    fsync = "on" if args.durable_postgres else "off (as the tests' cluster)"
    print(f"durability: SQLite synchronous = {SQLITE_SYNCHRONOUS}; PostgreSQL "
          f"synchronous_commit = on, fsync {fsync}")  # fmt: skip
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    workdir = Path(tempfile.mkdtemp(prefix="observe-bench-sync-"))
    try:
        for kind in kinds:
            report(run(kind, args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
