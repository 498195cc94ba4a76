"""Calibration over time: each team's agreement per session, each observer's drift, and the
criteria that are hardest to calibrate across the district. Revealed sessions only.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from observe.accounts.models import User, user_school
from observe.calibration import access, report
from observe.calibration.models import CalibrationSession, ObserverLean, StoredRaterFit
from observe.calibration.sessions import visible_sessions
from observe.core.permissions import allowed, visible_school_ids
from observe.extensions import db
from observe.roster.years import Period
from observe.rubrics.lineage import lineage_keys
from observe.rubrics.models import RubricVersion

Z = 1.959964


def build(
    user: User, thresholds: report.Thresholds, period: Period | None = None
) -> dict[str, Any]:
    """The trends over the revealed sessions held in ``period`` (by default every one)."""
    start, end = period.dates if period else (None, None)
    revealed = [
        s
        for s in visible_sessions(user)
        if s.is_revealed
        and (start is None or s.held_on >= start)
        and (end is None or s.held_on <= end)
    ]
    revealed.sort(key=lambda s: (s.held_on, s.id))
    teams: dict[str, list[dict[str, Any]]] = defaultdict(list)
    drift: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    # One entry per look-for across rubric versions: a look-for and the ones it continues
    # (observe.rubrics.lineage) are one measure, listed once with its newest wording.
    hardest: dict[int | tuple[int, str], dict[str, Any]] = {}
    lineages = lineage_keys({s.rubric_version_id for s in revealed})

    for session in revealed:
        figures = report.build(user, session, thresholds, history=False)
        # A session without a team has no trend to be part of; its look-fors still count below.
        if session.team:
            _add_to_trend(session, figures, teams[session.team], drift[session.team])
        for row in figures["criteria"]:
            key = lineages.get((session.rubric_version_id, row["key"])) or (
                session.rubric_version_id,
                row["key"],
            )
            entry = hardest.setdefault(
                key,
                {
                    "rubric_version_id": session.rubric_version_id,
                    "criterion": row["key"],
                    "text": row["text"],
                    "sessions": 0,
                    "below_target": 0,
                    "_within": [],
                },
            )
            # The newest wording names it (sessions come oldest first).
            entry.update(rubric_version_id=session.rubric_version_id, criterion=row["key"],
                         text=row["text"])  # fmt: skip
            if row["percent_within_one"] is None:
                continue
            entry["sessions"] += 1
            entry["below_target"] += row["percent_within_one"] < thresholds.within_one
            entry["_within"].append(row["percent_within_one"])

    criteria = []
    for entry in hardest.values():
        within = entry.pop("_within")
        if not within:
            continue
        entry["mean_within_one"] = round(sum(within) / len(within), 4)
        criteria.append(entry)
    criteria.sort(key=lambda e: (e["mean_within_one"], -e["below_target"], e["criterion"]))
    return {
        "period": {
            "label": period.label if period else "every year",
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        },
        "teams": [{"team": name, "sessions": rows} for name, rows in sorted(teams.items())],
        "drift": [
            {"team": name, "observers": sorted(people.values(), key=lambda p: p["name"])}
            for name, people in sorted(drift.items())
        ],
        "hardest_criteria": criteria,
        "observer_leans": observer_leans(user) if allowed(user, access.OBSERVER_LEANS) else None,
    }


def observer_leans(user: User) -> list[dict[str, Any]]:
    """Each stored rater-effects fit (reports/raters.py) with the leans of the observers the
    reader may see — those who work in the reader's schools — most lenient first."""
    fits = db.session.scalars(
        select(StoredRaterFit).order_by(StoredRaterFit.rubric_version_id, StoredRaterFit.at_least)
    ).all()
    visible = visible_school_ids(user)
    statement = select(ObserverLean, User.name).join(User, User.id == ObserverLean.user_id)
    if visible is not None:
        mine = select(user_school.c.user_id).where(user_school.c.school_id.in_(visible))
        statement = statement.where(ObserverLean.user_id.in_(mine))
    listed = []
    for fit in fits:
        version = db.session.get_one(RubricVersion, fit.rubric_version_id)
        rows = db.session.execute(
            statement.where(ObserverLean.fit_id == fit.id).order_by(ObserverLean.lean.desc())
        ).all()
        listed.append(
            {
                "rubric_version_id": fit.rubric_version_id,
                "rubric": version.label,
                "at_least": fit.at_least,
                "fitted_at": fit.fitted_at.isoformat(),
                "walkthroughs": fit.walkthroughs_fitted,
                "refused": fit.refused,
                "left_out": len(fit.left_out),
                "observers": [
                    {
                        "user_id": lean.user_id,
                        "name": name,
                        "lean": round(lean.lean, 4),
                        "standard_error": round(lean.standard_error, 4),
                        "interval": [
                            round(lean.lean - Z * lean.standard_error, 4),
                            round(lean.lean + Z * lean.standard_error, 4),
                        ],
                        "clear": abs(lean.lean) > Z * lean.standard_error,
                        "walkthroughs": lean.walkthroughs,
                        "classrooms": lean.lessons,
                        "shared": lean.shared,
                    }
                    for lean, name in rows
                ],
            }
        )
    return listed


def _add_to_trend(
    session: CalibrationSession,
    figures: dict[str, Any],
    sessions: list[dict[str, Any]],
    people: dict[int, dict[str, Any]],
) -> None:
    overall = figures["overall"]
    sessions.append(
        {
            "session_id": session.id,
            "title": session.title,
            "held_on": session.held_on.isoformat(),
            "observers": len(figures["raters"]),
            "percent_exact": overall["percent_exact"],
            "percent_within_one": overall["percent_within_one"],
            "krippendorff_alpha_ordinal": overall["krippendorff_alpha_ordinal"],
            "alpha_interval": overall["alpha_interval"],
            "alpha_label": overall["alpha_label"],
            "units": overall["units"],
            "gwet_ac1": overall["gwet_ac1"],
            "reference": figures["reference"],
        }
    )
    for observer in figures["observers"]:
        if observer["is_reference"]:
            continue
        person = people.setdefault(
            observer["user_id"], {"user_id": observer["user_id"], "name": observer["name"]}
        )
        person.setdefault("sessions", []).append(
            {
                "session_id": session.id,
                "held_on": session.held_on.isoformat(),
                "within_one": observer["within_one"],
                "exact": observer["exact"],
                "mean_difference": observer["mean_difference"],
                "mean_difference_interval": observer["mean_difference_interval"],
                "leaning": observer["leaning"],
                "lookfors": observer["lookfors"],
            }
        )
