"""Reports across a rubric's versions: which walkthroughs count for a version's look-fors, how
their counts fold onto that version's look-fors, and what a report says where wording changed.

The rule of what is the same measure is ``observe.rubrics.lineage``'s; this module only applies
it to the summary's counts (``summary.counted``) and to goals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from observe.core import clock
from observe.core.permissions import Principal, visible_school_ids
from observe.extensions import db
from observe.observations.models import Observation, ObservationState
from observe.reports import rollups
from observe.reports.models import SCHOOL_VISITS_ONLY, RollupSchool
from observe.rubrics.lineage import Break, Lineage, rubric_lineage
from observe.rubrics.models import Rubric, RubricVersion
from observe.rubrics.queries import wording

ALL = "all"  # every version of the rubric, folded by lineage: the default
THIS = "this"  # the chosen version's walkthroughs only
CHOICES = {ALL: "This rubric, all versions", THIS: "This version only"}


@dataclass
class Following:
    """What a report of one version counts when it follows its look-fors' lineages."""

    version_ids: list[int]  # every version whose walkthroughs count
    fold: dict[int, int]  # criterion id (any of them) → the shown version's criterion id
    lineage: Lineage


def follow(version: RubricVersion) -> Following:
    lineage = rubric_lineage(version.rubric_id)
    return Following(lineage.version_ids, lineage.fold_map(version.id), lineage)


def _counted() -> list[Any]:
    return [
        Observation.state == ObservationState.SUBMITTED,
        Observation.deleted_at.is_(None),
        Observation.calibration_session_id.is_(None),
    ]


def default_version(user: Principal) -> int | None:
    """The version a summary opens on: the current version (the newest not retired) of the
    rubric with the most walkthroughs the reader may see; of the newest rubric when there are
    none yet."""
    visible = visible_school_ids(user)
    if rollups.is_built(db.session()):
        # The rollups' walkthrough counts say the same as counting every walkthrough (they
        # count the same ones), in a few thousand rows rather than a district's year.
        statement = (
            select(RubricVersion.rubric_id)
            .join(RollupSchool, RollupSchool.rubric_version_id == RubricVersion.id)
            .where(SCHOOL_VISITS_ONLY)
            .group_by(RubricVersion.rubric_id)
            .having(func.sum(RollupSchool.count) > 0)
            .order_by(func.sum(RollupSchool.count).desc(), RubricVersion.rubric_id)
            .limit(1)
        )
        if visible is not None:
            statement = statement.where(RollupSchool.school_id.in_(visible))
    else:
        statement = (
            select(RubricVersion.rubric_id)
            .join(Observation, Observation.rubric_version_id == RubricVersion.id)
            .where(*_counted())
            .group_by(RubricVersion.rubric_id)
            .order_by(func.count().desc(), RubricVersion.rubric_id)
            .limit(1)
        )
        if visible is not None:
            statement = statement.where(Observation.school_id.in_(visible))
    rubric_id = db.session.scalar(statement)
    if rubric_id is None:
        rubric_id = db.session.scalar(select(func.max(Rubric.id)))
    rubric = db.session.get(Rubric, rubric_id) if rubric_id is not None else None
    if rubric is None or not rubric.versions:
        return None
    return (rubric.current or rubric.latest).id


def fold_counts(counts: dict[str, Any], fold: dict[int, int]) -> dict[str, Any]:
    """``summary.counted``'s counts with every look-for's ratings moved onto the shown
    version's look-for of its lineage; ratings of look-fors with none there are left out
    (their walkthroughs still count as walkthroughs)."""
    ratings: dict[tuple[Any, ...], int] = defaultdict(int)
    for group, criterion_id, level, not_observed, count in counts["ratings"]:
        if criterion_id in fold:
            ratings[(group, fold[criterion_id], level, not_observed)] += int(count)
    trend: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for month, criterion_id, hits, rated in counts["trend"]:
        if criterion_id in fold:
            cell = trend[(month, fold[criterion_id])]
            cell[0] += int(hits or 0)
            cell[1] += int(rated or 0)
    return {
        **counts,
        "ratings": [(*key, count) for key, count in ratings.items()],
        "trend": [(m, c, hits, rated) for (m, c), (hits, rated) in trend.items()],
    }


def first_used(version_ids: set[int]) -> dict[int, date]:
    """The day (district time) of the first walkthrough that counts of each of ``version_ids``.
    Asked only for versions where wording changed, so a report of a rubric without breaks
    reads nothing more."""
    if not version_ids:
        return {}
    rows = db.session.execute(
        select(Observation.rubric_version_id, func.min(Observation.observed_at))
        .where(*_counted(), Observation.rubric_version_id.in_(version_ids))
        .group_by(Observation.rubric_version_id)
    ).all()
    return {version_id: clock.local(when).date() for version_id, when in rows if when}


def describe(item: Break, used: dict[int, date]) -> dict[str, Any]:
    """A break as reports show it: "wording changed in v2 from 2026-12-01"."""
    since = used.get(item.version_id) or clock.local(item.loaded_at).date()
    return {
        "version": item.number,
        "from": since.isoformat(),
        "month": since.strftime("%Y-%m"),
        "previous_text": item.previous_text,
        "text": item.text,
        "note": (
            _(
                "wording changed in v%(number)s from %(date)s (was %(key)s)",
                number=item.number,
                date=since.isoformat(),
                key=item.previous_key,
            )
            if item.previous_key != item.key
            else _(
                "wording changed in v%(number)s from %(date)s",
                number=item.number,
                date=since.isoformat(),
            )
        ),
    }


def annotate(report: dict[str, Any], version: RubricVersion, following: Following | None) -> None:
    """Say in a built summary which versions it counts and where wording changed: on each
    look-for (``wording_changed``), in the scope (``breaks``), and on the trend's month."""
    scope = report["scope"]
    scope["versions"] = THIS if following is None else ALL
    scope["versions_label"] = CHOICES[scope["versions"]]
    if following is None:
        scope["counted_versions"] = [version.number]
        scope["breaks"] = []
        return
    numbers = {v.id: v.number for v in version.rubric.versions}
    scope["counted_versions"] = [numbers[i] for i in following.version_ids if i in numbers]
    keys = {c.id: c.key for c in version.criteria}
    breaks: list[dict[str, Any]] = []
    found = following.lineage.breaks_for(version.id)
    used = first_used({one.version_id for items in found.values() for one in items})
    for criterion_id, items in found.items():
        for one in items:
            breaks.append({"key": keys[criterion_id], **describe(one, used)})
    # A break after the report's last day is not in its figures (none of them is on the new
    # wording): a report of the fall reads the same before and after a revision in January.
    until = scope.get("to")
    breaks = [b for b in breaks if until is None or b["from"] <= until]
    breaks.sort(key=lambda b: (b["from"], b["key"]))
    scope["breaks"] = breaks
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in breaks:
        by_key[item["key"]].append(item)
    # Only where there is a break, so a report of an unrevised rubric reads as it always did.
    for row in report.get("criteria", []):
        if row["key"] in by_key:
            row["wording_changed"] = by_key[row["key"]]
    said = wording(version)
    for row in report.get("trend", []):
        notes = [
            _(
                "“%(look_for)s”: %(note)s",
                look_for=said.criterion(b["text"], b["key"]),
                note=b["note"],
            )
            for b in breaks
            if b["month"] == row["month"]
        ]
        if notes:
            row["breaks"] = notes


def goal_scope(goal_version: RubricVersion) -> Following:
    """What a goal counts: the walkthroughs of every version of its rubric, folded onto the
    look-fors of the version it was set on."""
    return follow(goal_version)


def removal_note(goal_version: RubricVersion, criterion_ids: set[int]) -> str | None:
    """For a goal on look-fors none of which has a successor in a later version: where they
    stopped being rated. None when the goal's target lives on."""
    lineage = rubric_lineage(goal_version.rubric_id)
    later = [v for v in goal_version.rubric.versions if v.number > goal_version.number]
    if not later or not criterion_ids:
        return None
    roots = {lineage.root[c] for c in criterion_ids if c in lineage.root}
    for version in later:
        alive = {lineage.root[c] for c, v in lineage.version_of.items() if v == version.id}
        if not roots & alive:
            since = first_used({version.id}).get(version.id)
            since = since or clock.local(version.loaded_at).date()
            return _(
                "Removed in v%(number)s (from %(date)s): walkthroughs on v%(number)s and later "
                "do not rate it, so they do not count toward this goal.",
                number=version.number,
                date=since.isoformat(),
            )
    return None
