"""Benchmark the CSV export on a generated district, on SQLite and PostgreSQL.

Run on demand:  .venv/bin/python scripts/bench_export.py [--database sqlite|postgres|both]
                [--observations 40000]

Generates a district (scripts/generate_district.py) with N walkthroughs of 25 ratings, then
times, in the same run and process: the floor — the export's query with its rows fetched and
thrown away, no formatting — and the export itself, every row formatted and written as CSV to a
sink. Rows per second, the ratio, and the peak memory of the export (tracemalloc) over all rows
and over a quarter of them: flat memory means the two peaks are alike.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import postgres  # noqa: E402
from generate_district import generate  # noqa: E402

GOAL = 200_000


def measure(url: str) -> dict:
    from observe import create_app
    from observe.core.permissions import SYSTEM
    from observe.extensions import db
    from observe.reports import export

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        everything = export.Scope()

        def floor() -> int:
            # The export's own query, its rows fetched and dropped: no lookups, no text.
            statement = export.query(SYSTEM, everything).execution_options(yield_per=5_000)
            return sum(1 for _ in db.session.connection().execute(statement))

        def full(scope: export.Scope) -> int:
            count = 0
            for chunk in export.csv_chunks(export.parts(SYSTEM, scope)):
                count += chunk.count("\n")
            return count - 1  # the header

        started = time.perf_counter()
        floor_rows = floor()
        floor_s = time.perf_counter() - started
        started = time.perf_counter()
        rows = full(everything)
        export_s = time.perf_counter() - started

        peaks = {}
        quarter = export.Scope(end=date(2025, 8, 15) + timedelta(days=75))
        for name, scope in (("all", everything), ("quarter", quarter)):
            tracemalloc.start()
            counted = full(scope)
            peaks[name] = (counted, tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
        db.session.remove()
        db.engine.dispose()
    return {
        "rows": rows,
        "floor_rows": floor_rows,
        "floor_s": floor_s,
        "export_s": export_s,
        "peaks": peaks,
    }


def report(kind: str, r: dict) -> None:
    per_s = r["rows"] / r["export_s"]
    print(f"\n{kind}: {r['rows']:,} ratings")
    print(f"  floor   {r['floor_s']:6.2f} s  {r['floor_rows'] / r['floor_s']:10,.0f} rows/s "
          "(the query alone)")  # fmt: skip
    verdict = "PASS" if per_s >= GOAL else "MISS"
    print(f"  export  {r['export_s']:6.2f} s  {per_s:10,.0f} rows/s   goal >= {GOAL:,}: {verdict}")
    print(f"  export / floor: {r['export_s'] / r['floor_s']:.1f}x")
    for name, (count, peak) in r["peaks"].items():
        print(f"  peak memory, {name:>7} ({count:,} rows): {peak:6.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--observations", type=int, default=40_000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        workdir = Path(tempfile.mkdtemp(prefix="observe-bench-export-"))
        with ExitStack() as stack:
            if kind == "sqlite":
                url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            else:
                url = stack.enter_context(postgres(55461))
            generate(url, schools=50, classrooms=1_000, observers=100,
                     observations=args.observations, quiet=True)  # fmt: skip
            report(kind, measure(url))


if __name__ == "__main__":
    main()
