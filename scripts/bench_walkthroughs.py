"""Benchmark the walkthrough list (GET /api/v1/observations) on a generated district-year.

Run on demand:  .venv/bin/python scripts/bench_walkthroughs.py [--database sqlite|postgres|both]
                [--observations 40000] [--port 55453]

Generates a district (scripts/generate_district.py: 50 schools, 1,000 classrooms, 100
observers, N walkthroughs of 25 ratings over 300 days), then times, in the same process, each
page several times and reports the median: the whole request through the app (bearer token,
filters checked, the page's names and rated counts looked up, JSON), and its **floor** — the
bare keyset query in SQL text (the page's ids, nothing else) with the same conditions. Pages:
an admin's first page, a page 20 pages deep (followed by cursor), one school and one month,
one teacher, one observer's own first page, and a school leader's first page. For scale, the
last line times the cheapest signed-in API request (GET /api/v1/me): what every request costs
before any listing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import postgres  # noqa: E402
from generate_district import generate  # noqa: E402

REPEAT = 15
GOAL_MS = 150  # a page of 50, through the app


def median_ms(run: Callable[[], Any]) -> float:
    run()  # warm: the first run reads pages into the cache
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(url: str) -> list[tuple[str, float, float, int]]:
    from sqlalchemy import select, text

    from observe import create_app
    from observe.accounts import operations as account_ops
    from observe.accounts.models import User
    from observe.core import clock
    from observe.core.permissions import Role
    from observe.extensions import db
    from observe.observations.models import Observation
    from observe.roster.models import Classroom, School, Teacher

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    results = []
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Fresh tables have no statistics until autovacuum's next round, which a district's
            # database has long had: without them PostgreSQL reads every rating to count 50.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        school = db.session.scalar(select(School).order_by(School.id))
        admin = account_ops.create_user("admin@bench.example", "Ada", Role.DISTRICT_ADMIN, None)
        leader = account_ops.create_user(
            "leader@bench.example", "Lea", Role.SCHOOL_LEADER, None, [school.code]
        )
        db.session.commit()
        observer_id = db.session.scalar(
            select(Observation.author_id).order_by(Observation.observed_at.desc()).limit(1)
        )
        room = db.session.scalar(select(Classroom).where(Classroom.school_id == school.id))
        # The generator leaves classrooms without teachers: give one room a teacher.
        teacher = Teacher(external_id="BENCH-T", name="Tess Teacher")
        db.session.add(teacher)
        db.session.flush()
        room.teacher_id = teacher.id
        observer = db.session.get(User, observer_id)
        tokens = {
            who: account_ops.create_token(user, "bench")[1]
            for who, user in (("admin", admin), ("leader", leader), ("observer", observer))
        }
        start, end = clock.day_start(_date("2026-01-01")), clock.day_start(_date("2026-02-01"))
        db.session.commit()
        client = app.test_client()

        def get(who: str, query: str) -> dict[str, Any]:
            response = client.get(
                f"/api/v1/observations?{query}",
                headers={"Authorization": f"Bearer {tokens[who]}"},
            )
            assert response.status_code == 200, response.get_json()
            return response.get_json()

        # Page 21, by following cursors (keyset pages cost the same however deep).
        cursor = None
        for _ in range(20):
            cursor = get("admin", "limit=50" + (f"&cursor={cursor}" if cursor else ""))[
                "next_cursor"
            ]
        deep = db.session.get(
            Observation, get("admin", f"cursor={cursor}&limit=1")["observations"][0]["id"]
        )

        # The app's own conditions, as it writes them for each database (listing.scope).
        calibration = (
            "coalesce(calibration_session_id, 0) = 0"
            if db.engine.dialect.name == "sqlite"
            else "calibration_session_id IS NULL"
        )
        base = f"deleted_at IS NULL AND {calibration}"
        order = "ORDER BY observed_at DESC, id DESC LIMIT 51"
        cases = [
            ("admin, first page", "admin", "", f"{base}", {}),
            (
                "admin, page 21 (cursor)",
                "admin",
                f"cursor={cursor}",
                f"{base} AND (observed_at < :t OR (observed_at = :t AND id <= :i))",
                {"t": deep.observed_at.replace(tzinfo=None), "i": deep.id},
            ),
            (
                "admin, one school, one month",
                "admin",
                f"school={school.id}&from=2026-01-01&to=2026-01-31",
                f"{base} AND school_id = :s AND observed_at >= :a AND observed_at < :b",
                {"s": school.id, "a": start.replace(tzinfo=None), "b": end.replace(tzinfo=None)},
            ),
            (
                "admin, one teacher",
                "admin",
                f"teacher={teacher.id}",
                f"{base} AND classroom_id IN (SELECT id FROM classroom WHERE teacher_id = :t)",
                {"t": teacher.id},
            ),
            ("observer, own", "observer", "", f"{base} AND author_id = :a", {"a": observer_id}),
            (
                "leader, one school",
                "leader",
                "",
                f"{base} AND (school_id IN (:s) OR author_id = :a)",
                {"s": school.id, "a": leader.id},
            ),
        ]
        for label, who, query, where, params in cases:
            sql = text(f"SELECT id FROM observation WHERE {where} {order}")
            floor = median_ms(lambda: db.session.execute(sql, params).all())  # noqa: B023
            db.session.rollback()
            full = median_ms(lambda: get(who, query))  # noqa: B023
            rows = len(get(who, query)["observations"])
            results.append((label, full, floor, rows))
        # What any signed-in API request costs here (token check, JSON): GET /api/v1/me.
        me = median_ms(
            lambda: client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['admin']}"})
        )
        results.append(("(any request: GET /api/v1/me)", me, me, 0))
        db.session.remove()
        db.engine.dispose()
    return results


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def report(kind: str, observations: int, results: list[tuple[str, float, float, int]]) -> None:
    print(f"\n{kind}: {observations:,} walkthroughs; median of {REPEAT} runs")
    print(f"  {'page':32} {'rows':>5} {'app':>9} {'floor':>9} {'ratio':>7}")
    for label, full, floor, rows in results:
        verdict = "" if full <= GOAL_MS else f"  (over the {GOAL_MS} ms goal)"
        print(f"  {label:32} {rows:5d} {full:7.1f}ms {floor:7.2f}ms {full / floor:6.1f}x{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--observations", type=int, default=40_000)
    parser.add_argument("--port", type=int, default=55453, help="for the throwaway PostgreSQL")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        workdir = Path(tempfile.mkdtemp(prefix="observe-bench-list-"))
        with ExitStack() as stack:
            if kind == "sqlite":
                url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            else:
                url = stack.enter_context(postgres(args.port))
            generate(url, schools=50, classrooms=1_000, observers=100,
                     observations=args.observations, quiet=True)  # fmt: skip
            report(kind, args.observations, measure(url))


if __name__ == "__main__":
    main()
