"""Benchmark the summary report on a generated district-year, on SQLite and PostgreSQL.

Run on demand:  .venv/bin/python scripts/bench_summary.py [--database sqlite|postgres|both]
                [--observations 250000] [--keep DIR]
           or:  .venv/bin/python scripts/bench_summary.py --url URL [--cache-mb N]
                (a database generated beforehand, measured as it is: the 2,000,000-walkthrough
                consortium, made by scripts/generate_district.py with --schools 1600 …)

Generates 200 schools, 5,000 classrooms, 400 observers and N walkthroughs of 25 ratings
(scripts/generate_district.py), builds the report's rollups (once, as the first report does;
pushes keep them current after that), then times in process: the district summary split by
course level and by school (the report's figures, median of 3), its PDF, and — the floor — the
bare SQL aggregate over the walkthroughs that a report without rollups would rest on (ratings
counted by group, look-for and level), timed alone.

The summary by course level is timed three ways (docs/reports.md, "What a server keeps between
requests"): cold (nothing kept in memory: a server's first look), asked again with nothing
changed (the median of 3), and after a push (one walkthrough's counts committed to its school-month
as a push commits them, then the report; the median of 3). Its PDF and WeasyPrint alone on the
same HTML are medians of 3, after the process's first print (which also loads the fonts) is
timed on its own.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import postgres  # noqa: E402
from generate_district import generate  # noqa: E402

GOAL_REPORT, GOAL_PDF = 1.0, 5.0


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(url: str, cache_mb: int | None = None, rebuild: bool = True) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from observe import create_app
    from observe.core.permissions import SYSTEM
    from observe.extensions import db
    from observe.observations.models import Observation, Rating
    from observe.reports import cache, rollups, summary
    from observe.reports.headline import what_stands_out
    from observe.reports.views import print_summary
    from observe.roster.models import Classroom, School

    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"}
    if cache_mb is not None:
        config["OBSERVE_REPORT_CACHE_MB"] = cache_mb
    app = create_app(config)
    figures = {}
    with app.test_request_context():
        upgrade()
        console = SYSTEM
        # Built once (the first report does it); kept current by every push after that.
        figures["rebuild"] = None
        if rebuild or not rollups.is_built(db.session):
            started = time.perf_counter()
            rollups.rebuild(db.session)
            db.session.commit()
            figures["rebuild"] = time.perf_counter() - started

        def report(by: str, schools: list[str] | None = None):
            query = {"by": by} | ({"school": schools} if schools else {})
            built = summary.build(console, summary.parse_query(console, query))
            built["headline"] = what_stands_out(built)  # what the page and PDF open with
            return built

        def floor():
            # The one aggregate the figures rest on, bare: ratings by group, look-for, level.
            statement = (
                select(Classroom.course_level, Rating.criterion_id, Rating.level, func.count())
                .select_from(Observation)
                .join(Rating, Rating.observation_id == Observation.id)
                .outerjoin(Classroom, Classroom.id == Observation.classroom_id)
                .group_by(Classroom.course_level, Rating.criterion_id, Rating.level)
            )
            return db.session.execute(statement).all()

        def pushed() -> None:
            # One walkthrough's counts, committed as a push commits them (reports/rollups.py).
            seen = db.session.scalars(select(Observation).limit(1)).one()
            rollups.add(db.session, version_id=seen.rubric_version_id,
                        observed_at=seen.observed_at, school_id=seen.school_id,
                        profile_key=seen.profile or "", classroom_id=seen.classroom_id,
                        ratings=[(r.criterion_id, r.level, r.not_observed)
                                 for r in seen.ratings])  # fmt: skip
            db.session.commit()

        def after_push(by: str) -> float:
            times = []
            for _ in range(3):
                pushed()
                started = time.perf_counter()
                report(by)
                times.append(time.perf_counter() - started)
            return statistics.median(times)

        figures["floor"], _ = timed(floor)
        cache.clear()
        figures["course_level_cold"], _ = timed(lambda: report("course_level"), repeat=1)
        figures["course_level"], built = timed(lambda: report("course_level"))
        figures["course_level_push"] = after_push("course_level")
        figures["school"], by_school = timed(lambda: report("school"))
        figures["schools"] = len(by_school["groups"]["rows"])
        figures["overall"], _ = timed(lambda: report(""))
        # One district's share of a consortium (its first 200 schools), when there is more.
        codes = list(db.session.scalars(select(School.code).order_by(School.code)))
        figures["district"] = None
        if len(codes) > 200:
            part = codes[:200]
            figures["district_cold"], _ = timed(lambda: report("course_level", part), repeat=1)
            figures["district"], _ = timed(lambda: report("course_level", part))
        figures["kept_mb"] = cache.kept_bytes() / 2**20
        # The first WeasyPrint run of a process also loads its fonts: the first print is
        # timed on its own, then both the PDF and WeasyPrint alone as the median of three.
        figures["pdf_first"], _ = timed(lambda: print_summary(built, "letter"), repeat=1)
        figures["pdf"], pdf = timed(lambda: print_summary(built, "letter"))
        figures["pdf_bytes"] = len(pdf)
        figures["weasyprint"] = weasyprint_alone(built)
        figures["observations"] = built["observations"]
        db.session.remove()
        db.engine.dispose()
    return figures


def weasyprint_alone(built: dict) -> float:
    """WeasyPrint's own time on the same HTML the PDF is made from (the issue's yardstick: a
    PDF takes at most 1.2x this)."""
    from flask import render_template
    from weasyprint import CSS, HTML

    from observe.core.pdf import _print_css
    from observe.reports import charts

    html = render_template("reports/summary_print.html", printing=True, report=built,
                           charts=charts.for_summary(built), print_title="", print_scope="",
                           print_period="", printed_on="")  # fmt: skip
    page = CSS(string="@page { size: letter; } @page wide { size: letter landscape; }")
    seconds, _ = timed(lambda: HTML(string=html).write_pdf(stylesheets=[_print_css(), page]))
    return seconds


def report(kind: str, f: dict) -> None:
    def verdict(value: float, goal: float) -> str:
        return f"goal <= {goal:.0f} s: {'PASS' if value <= goal else 'MISS'}"

    print(f"\n{kind}: {f['observations']:,} walkthroughs")
    if f["rebuild"] is not None:
        print(f"  building the rollups (once)      {f['rebuild']:6.2f} s")
    print(f"  floor: the bare aggregate        {f['floor']:6.2f} s")
    ratio = f["course_level"] / f["floor"]
    print(f"  summary, by course level         {f['course_level']:6.2f} s   "
          f"{verdict(f['course_level'], GOAL_REPORT)}   {ratio:.1f}x the floor")  # fmt: skip
    print(f"    cold (nothing kept in memory)  {f['course_level_cold']:6.2f} s")
    print(f"    after a push                   {f['course_level_push']:6.2f} s")
    label = f"summary, by school ({f['schools']} groups)"
    print(f"  {label:<33}{f['school']:6.2f} s")
    print(f"  summary, no split                {f['overall']:6.2f} s")
    if f["district"] is not None:
        print(f"  {'200 of its schools, by level':<33}{f['district']:6.2f} s   "
              f"(cold {f['district_cold']:.2f} s)")  # fmt: skip
    print(f"  kept in memory after the three   {f['kept_mb']:6.1f} MB  (reports/cache.py)")
    print(f"  its PDF                          {f['pdf']:6.2f} s   {verdict(f['pdf'], GOAL_PDF)}"
          f"   ({f['pdf_bytes']:,} bytes)")  # fmt: skip
    print(f"    the process's first            {f['pdf_first']:6.2f} s")
    print(f"  WeasyPrint alone on its HTML     {f['weasyprint']:6.2f} s   "
          f"the PDF is {f['pdf'] / f['weasyprint']:.2f}x it (goal <= 1.2x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--observations", type=int, default=250_000)
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the SQLite file in DIR")
    parser.add_argument("--port", type=int, default=55462, help="the throwaway PostgreSQL's")
    parser.add_argument("--url", help="measure this database as it is (generated beforehand)")
    parser.add_argument("--cache-mb", type=int, help="OBSERVE_REPORT_CACHE_MB for the run")
    parser.add_argument("--keep-rollups", action="store_true",
                        help="with --url: use the rollups built by an earlier run")  # fmt: skip
    args = parser.parse_args()
    if args.url:
        kind = args.url.partition(":")[0]
        report(kind, measure(args.url, args.cache_mb, rebuild=not args.keep_rollups))
        return
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        with ExitStack() as stack:
            fresh = True
            if kind == "sqlite":
                workdir = args.keep or Path(tempfile.mkdtemp(prefix="observe-bench-summary-"))
                workdir.mkdir(parents=True, exist_ok=True)
                path = workdir / "district.sqlite3"
                fresh = not path.exists()
                url = f"sqlite:///{path}"
            else:
                url = stack.enter_context(postgres(args.port))
            if fresh:
                made = generate(url, observations=args.observations, quiet=True)
                print(f"{kind}: generated {made['ratings']:,} ratings in {made['seconds']:.0f} s")
            report(kind, measure(url, args.cache_mb))


if __name__ == "__main__":
    main()
