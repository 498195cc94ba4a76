"""Observer-adjusted comparisons: the rater-effects model (``calibration/raters.py``) fitted
over the district's walkthroughs, stored, kept current, and read by the summary report.

The fit is stored per rubric version and level (``calibration.models.StoredRaterFit``) and
refitted when stale — a day old, or ``REFIT_WALKTHROUGHS`` (or ``REFIT_SHARE`` of the fit's
count, whichever is more) walkthroughs more or fewer than it rests on — by
``observe reports fit-raters``, or by the first summary that needs it: inline when there is no
fit yet, otherwise after that summary's response has gone (the reader gets the stored fit and
is not kept waiting). Never on a push. docs/reports.md explains the model and how to read it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from flask import Flask, after_this_request, current_app, has_request_context
from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from observe.calibration import raters as model
from observe.calibration.models import ObserverLean, StoredRaterFit
from observe.core.database import begin_write
from observe.core.models import utcnow
from observe.extensions import db
from observe.observations.models import Observation, ObservationState, Rating
from observe.reports import rollups
from observe.reports.models import NOT_OBSERVED, SCHOOL_VISITS_ONLY, VISITS, RollupSchool

REFIT_AFTER = timedelta(days=1)
REFIT_WALKTHROUGHS = 500
REFIT_SHARE = 0.05
# A group's adjusted figure is shown only when observers with an estimate made at least this
# share of its walkthroughs; the rest are taken as leaning neither way.
MIN_COVERED = 0.5
Z = 1.959964

_log = logging.getLogger(__name__)
_refitting: set[tuple[int, int]] = set()  # fits this process is refitting after a response


# ---- gathering and fitting -------------------------------------------------------------------


def _ensure_rollups(session: Session) -> None:
    if not rollups.is_built(session):
        rollups.rebuild(session)


def counted_walkthroughs(session: Session, version_id: int) -> int:
    """Walkthroughs of a rubric version that count in reports, from the rollups."""
    _ensure_rollups(session)
    total = session.scalar(
        select(func.sum(RollupSchool.count)).where(
            RollupSchool.rubric_version_id == version_id, SCHOOL_VISITS_ONLY
        )
    )
    return int(total or 0)


def look_for_shares(session: Session, version_id: int, at_least: int) -> dict[int, float]:
    """Each look-for's district share at or above ``at_least`` (the look-for effect)."""
    _ensure_rollups(session)
    hits = func.sum(case((RollupSchool.level >= at_least, RollupSchool.count), else_=0))
    rows = session.execute(
        select(RollupSchool.criterion_id, hits, func.sum(RollupSchool.count))
        .where(
            RollupSchool.rubric_version_id == version_id,
            RollupSchool.criterion_id != VISITS,
            RollupSchool.level != NOT_OBSERVED,
        )
        .group_by(RollupSchool.criterion_id)
    ).all()
    return {criterion: float(h) / float(n) for criterion, h, n in rows if n}


def walkthrough_rows(
    session: Session, version_id: int, at_least: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per walkthrough of a classroom or a calibration lesson: its observer, its lesson (a
    classroom's id, or minus a calibration session's) and ``y`` — its share of ratings at or
    above the level, less the share its look-fors reach across the district."""
    shares = look_for_shares(session, version_id, at_least)
    expected = case(
        *[(Rating.criterion_id == criterion, share) for criterion, share in shares.items()],
        else_=0.0,
    )
    rated = Rating.level.is_not(None)
    lesson = case(
        (Observation.calibration_session_id.is_not(None), -Observation.calibration_session_id),
        else_=Observation.classroom_id,
    )
    statement = (
        select(
            Observation.author_id,
            lesson,
            func.sum(case((Rating.level >= at_least, 1), else_=0)),
            func.count(Rating.level),
            func.sum(case((rated, expected), else_=0.0)),
        )
        .select_from(Observation)
        .join(Rating, Rating.observation_id == Observation.id)
        .where(
            # "+ 0": no index on the version, so that the walkthroughs are read in the order
            # of their ids and each one's ratings summed as it goes. Through that index (a
            # district's year is nearly all one version anyway) SQLite sorted every group
            # afresh: 13 s instead of 7 s at 250,000 walkthroughs.
            Observation.rubric_version_id + 0 == version_id,
            Observation.state == ObservationState.SUBMITTED,
            Observation.deleted_at.is_(None),
            Observation.classroom_id.is_not(None) | Observation.calibration_session_id.is_not(None),
        )
        # The observer and lesson are the walkthrough's own: grouped by its id alone.
        .group_by(Observation.id)
    )
    rows = session.execute(statement).all()
    observers = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    lessons = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    hits = np.fromiter((r[2] or 0 for r in rows), dtype=np.float64, count=len(rows))
    given = np.fromiter((r[3] or 0 for r in rows), dtype=np.float64, count=len(rows))
    baseline = np.fromiter((r[4] or 0 for r in rows), dtype=np.float64, count=len(rows))
    keep = given > 0
    y = (hits[keep] - baseline[keep]) / given[keep]
    return observers[keep], lessons[keep], y


def refit(session: Session, version_id: int, at_least: int) -> StoredRaterFit:
    """Fit afresh and store the fit in place of the previous one (flushed, not committed)."""
    started = time.perf_counter()
    counted = counted_walkthroughs(session, version_id)
    observers, lessons, y = walkthrough_rows(session, version_id, at_least)
    result = model.fit(observers, lessons, y)
    session.execute(
        delete(StoredRaterFit).where(
            StoredRaterFit.rubric_version_id == version_id, StoredRaterFit.at_least == at_least
        )
    )
    stored = StoredRaterFit(
        rubric_version_id=version_id,
        at_least=at_least,
        fitted_at=utcnow(),
        walkthroughs_counted=counted,
        walkthroughs_fitted=result.walkthroughs,
        lessons=result.lessons,
        refused=result.refused,
        sigma=result.sigma,
        tau_observer=result.tau_observer,
        tau_lesson=result.tau_lesson,
        left_out=[
            {
                "user_id": left.observer,
                "walkthroughs": left.walkthroughs,
                "shared": left.shared,
                "reason": left.reason,
            }
            for left in result.left_out
        ],
        leans=[
            ObserverLean(
                user_id=lean.observer,
                lean=lean.lean,
                standard_error=lean.standard_error,
                walkthroughs=lean.walkthroughs,
                lessons=lean.lessons,
                shared=lean.shared,
            )
            for lean in result.observers
        ],
    )
    session.add(stored)
    stored.seconds = round(time.perf_counter() - started, 3)
    session.flush()
    return stored


def stored_fit(session: Session, version_id: int, at_least: int) -> StoredRaterFit | None:
    return session.scalar(
        select(StoredRaterFit)
        .where(StoredRaterFit.rubric_version_id == version_id, StoredRaterFit.at_least == at_least)
        .order_by(StoredRaterFit.fitted_at.desc(), StoredRaterFit.id.desc())
        .limit(1)
    )


def is_stale(fit: StoredRaterFit, counted: int, now: datetime) -> bool:
    """A day old, or the walkthroughs counted have moved by more than the allowance."""
    allowance = max(REFIT_WALKTHROUGHS, REFIT_SHARE * fit.walkthroughs_counted)
    return (
        now - fit.fitted_at >= REFIT_AFTER or abs(counted - fit.walkthroughs_counted) >= allowance
    )


def current_fit(version_id: int, at_least: int) -> StoredRaterFit:
    """The stored fit, made now if there is none; when stale, refitted after this request's
    response (outside a request, now)."""
    session = db.session()
    fit = stored_fit(session, version_id, at_least)
    if fit is None or (
        not has_request_context()
        and is_stale(fit, counted_walkthroughs(session, version_id), utcnow())
    ):
        begin_write()
        fit = refit(session, version_id, at_least)
        session.commit()
        return fit
    if has_request_context() and is_stale(fit, counted_walkthroughs(session, version_id), utcnow()):
        key = (version_id, at_least)
        if key not in _refitting:
            _refitting.add(key)
            # The app behind the proxy: the job runs after this request's context is gone.
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            later = partial(refit_later, app, version_id, at_least)
            after_this_request(_on_close(later))
    return fit


def _on_close(job: Callable[[], None]) -> Callable[[Response], Response]:
    def attach(response: Response) -> Response:
        response.call_on_close(job)
        return response

    return attach


def refit_later(app: Flask, version_id: int, at_least: int) -> None:
    """Refit once the response has gone, in an app context of its own; a failure is logged,
    and the stored fit stays as it was."""
    try:
        with app.app_context():
            begin_write()
            try:
                refit(db.session(), version_id, at_least)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
    except Exception:
        _log.exception("refitting the rater-effects model failed")
    finally:
        _refitting.discard((version_id, at_least))


# ---- the summary's adjusted figures ----------------------------------------------------------


def adjust_groups(
    groups: dict[str, Any], counts: dict[str, dict[int, int]], version_id: int, at_least: int
) -> dict[str, Any]:
    """The summary's groups "adjusted for who observed": to each shown group's dimension shares,
    minus the mean lean of the observers of its walkthroughs (``counts``: per group key,
    walkthroughs per observer). Its interval is widened by that mean's standard error. Returns
    what the fit rests on, or why there is none."""
    fit = current_fit(version_id, at_least)
    about: dict[str, Any] = {
        "fitted_at": fit.fitted_at.isoformat(),
        "at_least": at_least,
        "walkthroughs": fit.walkthroughs_fitted,
        "observers": len(fit.leans),
        "left_out": len(fit.left_out),
        "refused": fit.refused,
    }
    if fit.refused:
        return about
    leans = {lean.user_id: lean for lean in fit.leans}
    for row in groups["rows"]:
        if row["suppressed"]:
            continue
        mine = counts.get(row["key"], {})
        total = sum(mine.values())
        estimated = {o: n for o, n in mine.items() if o in leans}
        covered = sum(estimated.values()) / total if total else 0.0
        if covered < MIN_COVERED:
            row["adjusted"] = {"covered": round(covered, 4), "lean": None, "dimensions": None}
            continue
        lean = sum(n * leans[o].lean for o, n in estimated.items()) / total
        error = math.sqrt(sum((n * leans[o].standard_error) ** 2 for o, n in estimated.items()))
        error /= total
        row["adjusted"] = {
            "covered": round(covered, 4),
            "lean": round(lean, 4),
            "lean_standard_error": round(error, 4),
            "dimensions": {
                name: _shifted(figures, lean, error) for name, figures in row["dimensions"].items()
            },
        }
    return about


def adjust_scope(
    groups: dict[str, Any],
    dimensions: list[dict[str, Any]],
    counts: dict[int, int],
    version_id: int,
    at_least: int,
) -> None:
    """The scope's dimension shares adjusted as its groups' are (review B1: an adjusted group
    is compared with an adjusted scope, like with like): less the mean lean of the observers
    of all its walkthroughs (``counts``: walkthroughs per observer), into
    ``groups["adjustment"]["scope"]``. None when the model refused, when under half of the
    walkthroughs are by observers with an estimate, or when a group of the split is hidden —
    the scope's lean beside the shown groups' would then say which observers made the hidden
    groups' walkthroughs, and with them how many each group has."""
    about = groups.get("adjustment") or {}
    about["scope"] = None
    if about.get("refused") or any(row["suppressed"] for row in groups["rows"]):
        return
    leans = {lean.user_id: lean for lean in current_fit(version_id, at_least).leans}
    total = sum(counts.values())
    estimated = {o: n for o, n in counts.items() if o in leans}
    if not total or sum(estimated.values()) / total < MIN_COVERED:
        return
    lean = sum(n * leans[o].lean for o, n in estimated.items()) / total
    error = math.sqrt(sum((n * leans[o].standard_error) ** 2 for o, n in estimated.items()))
    error /= total
    about["scope"] = {
        "covered": round(sum(estimated.values()) / total, 4),
        "lean": round(lean, 4),
        "lean_standard_error": round(error, 4),
        "dimensions": {d["name"]: _shifted(d, lean, error) for d in dimensions},
    }


def _shifted(figures: dict[str, Any], lean: float, error: float) -> dict[str, Any]:
    share = figures.get("share")
    if share is None:
        return {"share": None, "interval": None}
    adjusted = min(1.0, max(0.0, share - lean))
    interval = figures.get("interval")
    if not interval:
        return {"share": round(adjusted, 4), "interval": None}
    below = math.hypot(share - interval[0], Z * error)
    above = math.hypot(interval[1] - share, Z * error)
    return {
        "share": round(adjusted, 4),
        "interval": [round(max(0.0, adjusted - below), 4), round(min(1.0, adjusted + above), 4)],
    }
