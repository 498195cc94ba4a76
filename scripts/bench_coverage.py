"""Benchmark the coverage report (/reports/coverage and its JSON) on a generated district-year.

Run on demand:  .venv/bin/python scripts/bench_coverage.py [--database sqlite|postgres|both]
                [--observations 250000] [--port 55451]

Generates a district (scripts/generate_district.py: 200 schools, 5,000 classrooms, 400
observers, N walkthroughs over 300 days from 2025-08-15). The report never reads ratings, so
each walkthrough gets one rating (``--ratings`` for more), which keeps generation quick: the
table the report reads is the same size either way. Then times, in the same process, each case
several times and reports the median: the page (HTML, signed in through the sign-in form), the
JSON API (bearer token), and their **floor** — the bare grouped count the report rests on
(visits per classroom, in SQL text, with the same conditions), timed alone. Cases: the district
for one month and for the school year, one school for one month, and a school leader's school
for the school year. The PDF is timed once, for scale (it is not held to the page's goal).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import postgres  # noqa: E402
from generate_district import generate  # noqa: E402

REPEAT = 9
GOAL_MS = 300  # the page, through the app
PASSWORD = "a long bench passphrase"
MONTH = ("2026-01-01", "2026-01-31")
YEAR = ("2025-08-01", "2026-06-30")


def median_ms(run: Callable[[], Any]) -> float:
    return timings(run)[0]


def timings(run: Callable[[], Any]) -> tuple[float, float]:
    """The median wall time and the median CPU time of this process, in ms. On a shared
    machine the wall time includes waiting for a core; the CPU time does not (on SQLite it
    includes the database's work, which runs in this process; on PostgreSQL it does not)."""
    run()  # warm: the first run reads pages into the cache
    walls, cpus = [], []
    for _ in range(REPEAT):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def measure(url: str) -> tuple[list[tuple[str, float, float, float, float, int]], float]:
    from flask.testing import FlaskClient
    from sqlalchemy import select, text

    from observe import create_app
    from observe.accounts import operations as account_ops
    from observe.core import clock
    from observe.core.permissions import Role
    from observe.extensions import db
    from observe.roster.models import School

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False}
    )

    class Browser(FlaskClient):
        """Each request in an app context of its own, as in production (no ``g`` shared)."""

        def open(self, *args: Any, **kwargs: Any) -> Any:
            with self.application.app_context():
                return super().open(*args, **kwargs)

    app.test_client_class = Browser
    results = []
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Fresh tables have no statistics and no visibility map until autovacuum's next
            # round, which a district's database has long had (without the map an index-only
            # scan still reads every row it counts).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.execute(text("VACUUM ANALYZE"))
        school = db.session.scalar(select(School).order_by(School.id))
        admin = account_ops.create_user("admin@bench.example", "Ada", Role.DISTRICT_ADMIN, PASSWORD)
        leader = account_ops.create_user(
            "leader@bench.example", "Lea", Role.SCHOOL_LEADER, PASSWORD, [school.code]
        )
        db.session.commit()
        tokens = {
            "admin": account_ops.create_token(admin, "bench")[1],
            "leader": account_ops.create_token(leader, "bench")[1],
        }
        db.session.commit()
        browsers = {}
        for who, user in (("admin", admin), ("leader", leader)):
            browser = app.test_client()
            form = browser.get("/sign-in").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token, "no CSRF token on the sign-in page"
            signed = browser.post(
                "/sign-in",
                data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)},
            )
            assert signed.status_code == 302, signed.get_data(as_text=True)[:500]
            browsers[who] = browser
        db.session.commit()

        def page(who: str, query: str) -> str:
            response = browsers[who].get(f"/reports/coverage?{query}")
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            return response.get_data(as_text=True)

        def api(who: str, query: str) -> dict[str, Any]:
            response = app.test_client().get(
                f"/api/v1/reports/coverage?{query}",
                headers={"Authorization": f"Bearer {tokens[who]}"},
            )
            assert response.status_code == 200, response.get_json()
            return response.get_json()

        def period(days: tuple[str, str]) -> tuple[str, dict[str, Any]]:
            first, last = (date.fromisoformat(d) for d in days)
            after = clock.day_start(date.fromordinal(last.toordinal() + 1))
            return f"from={days[0]}&to={days[1]}", {
                "a": clock.day_start(first).replace(tzinfo=None),
                "b": after.replace(tzinfo=None),
            }

        # The report's one query over the walkthroughs, bare: visits per classroom.
        # The app's own conditions, as it writes them for each database (coverage.py).
        calibration = (
            "coalesce(calibration_session_id, 0) = 0"
            if db.engine.dialect.name == "sqlite"
            else "calibration_session_id IS NULL"
        )
        counted = (
            f"state = 'submitted' AND deleted_at IS NULL AND {calibration} "
            "AND observed_at >= :a AND observed_at < :b"
        )
        cases = []
        for label, who, days, one_school in (
            ("district, one month", "admin", MONTH, False),
            ("district, school year", "admin", YEAR, False),
            ("one school, one month", "admin", MONTH, True),
            ("leader's school, school year", "leader", YEAR, True),
        ):
            query, params = period(days)
            where = counted
            if one_school:
                where += " AND school_id = :s"
                params["s"] = school.id
                if who == "admin":
                    query += f"&school={school.code}"
            cases.append((label, who, query, where, params))
        for label, who, query, where, params in cases:
            sql = text(f"SELECT classroom_id, count(*) FROM observation WHERE {where} "
                       "GROUP BY classroom_id")  # fmt: skip
            floor = median_ms(lambda: db.session.execute(sql, params).all())  # noqa: B023
            db.session.rollback()
            html, cpu = timings(lambda: page(who, query))  # noqa: B023
            json = median_ms(lambda: api(who, query))  # noqa: B023
            visits = api(who, query)["overall"]["visits"]
            results.append((label, html, cpu, json, floor, visits))
        started = time.perf_counter()
        pdf = browsers["admin"].get(f"/reports/coverage.pdf?{cases[1][2]}")
        assert pdf.status_code == 200
        pdf_ms = (time.perf_counter() - started) * 1000
        db.session.remove()
        db.engine.dispose()
    return results, pdf_ms


def report(kind: str, observations: int, measured: tuple[list, float]) -> None:
    results, pdf_ms = measured
    load = os.getloadavg()[0]
    print(f"\n{kind}: {observations:,} walkthroughs; median of {REPEAT} runs; load {load:.1f}")
    print(f"  {'case':30} {'visits':>7} {'page':>9} {'page cpu':>9} {'json':>9} {'floor':>9}"
          f" {'page/floor':>10}")  # fmt: skip
    for label, html, cpu, json, floor, visits in results:
        verdict = "" if html <= GOAL_MS else f"  (over the {GOAL_MS} ms goal)"
        print(f"  {label:30} {visits:7d} {html:7.1f}ms {cpu:7.1f}ms {json:7.1f}ms {floor:7.1f}ms "
              f"{html / floor:9.1f}x{verdict}")  # fmt: skip
    print(f"  PDF of the district's school year (once): {pdf_ms:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--observations", type=int, default=250_000)
    parser.add_argument("--ratings", type=int, default=1, help="per walkthrough (not read)")
    parser.add_argument("--port", type=int, default=55451, help="for the throwaway PostgreSQL")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        workdir = Path(tempfile.mkdtemp(prefix="observe-bench-coverage-"))
        with ExitStack() as stack:
            if kind == "sqlite":
                url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            else:
                url = stack.enter_context(postgres(args.port))
            made = generate(url, observations=args.observations, ratings=args.ratings, quiet=True)
            print(f"{kind}: generated {made['observations']:,} walkthroughs in "
                  f"{made['seconds']:.0f} s")  # fmt: skip
            report(kind, args.observations, measure(url))


if __name__ == "__main__":
    main()
