"""Benchmark the rater-effects fit (observer-adjusted comparisons) on a generated district-year.

Run on demand:  .venv/bin/python scripts/bench_raters.py [--database sqlite|postgres|both]
                [--observations 250000] [--keep DIR]

Generates 200 schools, 5,000 classrooms, 400 observers and N walkthroughs of 25 ratings
(scripts/generate_district.py) with a lean planted in each observer (spread 0.3 levels), then
times in process: the whole fit as ``observe reports fit-raters`` runs it (gathering each
walkthrough's figures in the database, the model, storing it; median of 3), the model alone,
and — the floor — the bare aggregate the fit rests on (ratings counted per walkthrough), timed
alone; then how well the planted leans are recovered (correlation) and what the adjustment adds
to a summary split by school (which reads the stored fit).
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

GOAL_FIT = 10.0
LEAN_SPREAD = 0.3


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(url: str, leans: dict[int, float]) -> dict:
    import numpy as np
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from observe import create_app
    from observe.calibration import raters as model
    from observe.core.permissions import SYSTEM
    from observe.extensions import db
    from observe.observations.models import Observation, Rating
    from observe.reports import raters, rollups, summary

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    figures: dict = {}
    with app.app_context():
        upgrade()
        rollups.rebuild(db.session())  # the first report builds them; pushes keep them
        db.session.commit()
        version_id = db.session.scalar(select(Observation.rubric_version_id).limit(1))

        def floor():
            statement = (
                select(Observation.id, func.count(Rating.level))
                .select_from(Observation)
                .join(Rating, Rating.observation_id == Observation.id)
                .group_by(Observation.id)
            )
            return db.session.execute(statement).all()

        def whole_fit():
            fit = raters.refit(db.session(), version_id, 3)
            db.session.commit()
            return fit

        figures["floor"], _ = timed(floor)
        figures["fit"], fit = timed(whole_fit)
        observers, lessons, y = raters.walkthrough_rows(db.session(), version_id, 3)
        figures["model"], result = timed(lambda: model.fit(observers, lessons, y))
        figures["rounds"] = result.rounds
        found = {lean.user_id: lean.lean for lean in fit.leans}
        ids = sorted(found)
        figures["correlation"] = float(
            np.corrcoef([found[i] for i in ids], [leans[i] for i in ids])[0, 1]
        )
        figures["observers"], figures["walkthroughs"] = len(fit.leans), fit.walkthroughs_fitted
        figures["refused"] = fit.refused

        def school_report(by: str):
            with app.test_request_context():
                return summary.build(SYSTEM, summary.parse_query(SYSTEM, {"by": by}))

        figures["summary_school"], _ = timed(lambda: school_report("school"))
        started = time.perf_counter()
        with app.test_request_context():
            summary._observer_counts(SYSTEM, summary.parse_query(SYSTEM, {"by": "school"}))
        figures["adjustment_read"] = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return figures


def report(kind: str, f: dict) -> None:
    verdict = "PASS" if f["fit"] <= GOAL_FIT else "MISS"
    print(f"\n{kind}: {f['walkthroughs']:,} walkthroughs fitted, {f['observers']} observers"
          + (f" — REFUSED: {f['refused']}" if f["refused"] else ""))  # fmt: skip
    print(f"  floor: ratings per walkthrough    {f['floor']:6.2f} s")
    print(f"  the whole fit (fit-raters)        {f['fit']:6.2f} s   goal <= {GOAL_FIT:.0f} s: "
          f"{verdict}   {f['fit'] / f['floor']:.1f}x the floor")  # fmt: skip
    print(f"  of which the model alone          {f['model']:6.2f} s   ({f['rounds']} EM rounds)")
    print(f"  planted leans recovered           r = {f['correlation']:.3f}")
    print(f"  summary by school, adjusted       {f['summary_school']:6.2f} s   (of which the "
          f"observers per group {f['adjustment_read']:.2f} s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--observations", type=int, default=250_000)
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the SQLite file in DIR")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        with ExitStack() as stack:
            if kind == "sqlite":
                workdir = args.keep or Path(tempfile.mkdtemp(prefix="observe-bench-raters-"))
                workdir.mkdir(parents=True, exist_ok=True)
                path = workdir / "district.sqlite3"
                path.unlink(missing_ok=True)
                url = f"sqlite:///{path}"
            else:
                url = stack.enter_context(postgres(55457))
            made = generate(url, observations=args.observations, quiet=True,
                            observer_lean=LEAN_SPREAD)  # fmt: skip
            print(f"{kind}: generated {made['ratings']:,} ratings in {made['seconds']:.0f} s")
            report(kind, measure(url, made["leans"]))


if __name__ == "__main__":
    main()
