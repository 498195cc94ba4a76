"""Calibration over time: each team's agreement per session, each observer's drift, and the
criteria that are hardest to calibrate across the district. Revealed sessions only.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from observe.accounts.models import User
from observe.calibration import report
from observe.calibration.models import CalibrationSession
from observe.calibration.sessions import visible_sessions


def build(user: User, thresholds: report.Thresholds) -> dict[str, Any]:
    revealed = [s for s in visible_sessions(user) if s.is_revealed]
    revealed.sort(key=lambda s: (s.held_on, s.id))
    teams: dict[str, list[dict[str, Any]]] = defaultdict(list)
    drift: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    hardest: dict[tuple[int, str], dict[str, Any]] = {}

    for session in revealed:
        figures = report.build(user, session, thresholds, history=False)
        # A session without a team has no trend to be part of; its look-fors still count below.
        if session.team:
            _add_to_trend(session, figures, teams[session.team], drift[session.team])
        for row in figures["criteria"]:
            key = (session.rubric_version_id, row["key"])
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
        "teams": [{"team": name, "sessions": rows} for name, rows in sorted(teams.items())],
        "drift": [
            {"team": name, "observers": sorted(people.values(), key=lambda p: p["name"])}
            for name, people in sorted(drift.items())
        ],
        "hardest_criteria": criteria,
    }


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
