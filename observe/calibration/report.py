"""The calibration report: where, how much and why a team's scores of one lesson differ.

Built from the revealed scores only (see ``sessions.scored_observations``). The statistics come
from the agreement engine; their conventions are in docs/agreement.md and, in plain words, in
``explanations()`` below, which the page and the API both show.

One lesson is one unit. Exact and within-one agreement are defined for it (the share of
agreeing pairs of observers); chance-corrected statistics are not, because chance agreement is
estimated from how scores vary across units. So, per criterion, alpha and AC1 are computed
across the team's revealed sessions of the same rubric version up to this one, each session a
unit; for the session as a whole, each criterion is a unit.
"""

from __future__ import annotations

import math
import statistics as stats
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from observe.accounts.models import User
from observe.calibration import access
from observe.calibration.agreement import alpha_interval, compute
from observe.calibration.models import CalibrationSession, SessionState
from observe.calibration.schemas import session_json
from observe.calibration.sessions import scored_observations
from observe.core.distributions import t_quantile, t_sf
from observe.core.permissions import Principal, allowed
from observe.extensions import db
from observe.observations.models import Rating
from observe.rubrics.models import Criterion
from observe.rubrics.queries import wording

NOT_OBSERVED = "not observed"
LEANING = 0.25  # a mean difference beyond this many levels counts as lenient or severe
OVERALL = ["percent_exact", "percent_within_one", "krippendorff_alpha_ordinal", "gwet_ac1"]
OVERALL += ["fleiss_kappa_gwet"]
PER_CRITERION_TEAM = ["krippendorff_alpha_ordinal", "gwet_ac1"]
PAIRWISE = ["percent_exact", "percent_within_one"]
# A bootstrap over fewer units than this mostly redraws the same few, and its percentiles
# mean little; no interval is shown rather than a misleading one.
MIN_INTERVAL_UNITS = 5


@dataclass(frozen=True)
class Thresholds:
    alpha_reliable: float = 0.80
    alpha_tentative: float = 0.667
    within_one: float = 0.80

    @classmethod
    def from_config(cls) -> Thresholds:
        config = current_app.config
        return cls(
            config["OBSERVE_ALPHA_RELIABLE"],
            config["OBSERVE_ALPHA_TENTATIVE"],
            config["OBSERVE_WITHIN_ONE_TARGET"],
        )

    def flag(self, alpha_label: str | None, within_one: float | None) -> str | None:
        """reliable, tentative or discuss, from within-one and alpha's label (``alpha_label``):
        tentative at best while alpha's interval cannot say (none yet, or "uncertain")."""
        if within_one is None:
            return None
        if within_one < self.within_one or alpha_label == "not reliable":
            return "discuss"
        if alpha_label == "reliable":
            return "reliable"
        return "tentative"  # agreement seen; reliability not (yet) established

    def alpha_label(self, alpha: float | None, interval: list[float] | None) -> str | None:
        """What alpha says, only as far as its interval allows: "reliable" or "tentative" when
        the whole interval is at or above that threshold, "not reliable" when alpha is below 0
        (disagreement beyond chance) or the whole interval is below the tentative threshold,
        else "uncertain" (also with no interval: too few units). None when alpha is undefined."""
        if alpha is None:
            return None
        if alpha < 0:
            return "not reliable"
        if interval is None:
            return "uncertain"
        if interval[0] >= self.alpha_reliable:
            return "reliable"
        if interval[0] >= self.alpha_tentative:
            return "tentative"
        if interval[1] < self.alpha_tentative:
            return "not reliable"
        return "uncertain"


def lean(
    per_lookfor: list[tuple[float, int]], margin: float = LEANING, level: float = 0.95
) -> dict[str, Any]:
    """An observer's mean difference from the reference, in steps, with its interval and label.

    ``per_lookfor``: for each look-for compared, the sum of the differences and how many there
    were (one against an anchor or consensus, one per other observer against the team). The
    mean is their ratio; its variance is the cluster-robust one with look-fors as clusters,
    K / (K - 1) * sum_k (s_k - mean m_k)^2 / (sum m)^2 (with one difference per look-for, the
    usual s^2 / K), and the interval uses Student's t on K - 1 degrees of freedom. Lenient or
    severe only when the interval excludes zero and the mean is beyond ``margin``; in line when
    the whole interval lies within ±``margin``; otherwise no clear lean (also under 2 look-fors).
    """
    used = [(total, m) for total, m in per_lookfor if m > 0]
    count = sum(m for _, m in used)
    if not count:
        return {"mean": None, "interval": None, "p": None, "label": None, "lookfors": 0}
    mean = sum(total for total, _ in used) / count
    k = len(used)
    result: dict[str, Any] = {"mean": mean, "interval": None, "p": None, "lookfors": k}
    if k < 2:
        return {**result, "label": "no clear lean"}
    residual = sum((total - mean * m) ** 2 for total, m in used)
    se = math.sqrt(k / (k - 1) * residual) / count
    if se == 0:
        interval = (mean, mean)
        p = 0.0 if mean else 1.0
    else:
        half = t_quantile((1 + level) / 2, k - 1) * se
        interval = (mean - half, mean + half)
        p = 2 * t_sf(abs(mean) / se, k - 1)
    if interval[0] > 0 and mean > margin:
        label = "lenient"
    elif interval[1] < 0 and mean < -margin:
        label = "severe"
    elif -margin <= interval[0] and interval[1] <= margin:
        label = "in line"
    else:
        label = "no clear lean"
    return {**result, "interval": interval, "p": p, "label": label}


Score = tuple[int | None, bool, str]  # level, not observed, evidence


def _scores(observation_ids: list[str]) -> dict[str, dict[int, Score]]:
    """Ratings of the given observations, by observation and criterion id, in one query."""
    found: dict[str, dict[int, Score]] = {i: {} for i in observation_ids}
    if not observation_ids:
        return found
    rows = db.session.execute(
        select(
            Rating.observation_id,
            Rating.criterion_id,
            Rating.level,
            Rating.not_observed,
            Rating.evidence,
        ).where(Rating.observation_id.in_(observation_ids))
    )
    for observation_id, criterion_id, level, not_observed, evidence in rows:
        found[observation_id][criterion_id] = (level, not_observed, evidence)
    return found


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def build(
    user: Principal, session: CalibrationSession, thresholds: Thresholds, history: bool = True
) -> dict[str, Any]:
    """The report. ``history=False`` skips the per-criterion figures across the team's
    sessions (the trends page builds many reports and does not show them)."""
    scored = scored_observations(user, session)  # refuses before the reveal
    raters = sorted(
        (observation.author for observation in scored.values()),
        key=lambda person: (person.id != session.anchor_id, person.name.lower(), person.id),
    )
    observation_of = {author_id: o.id for author_id, o in scored.items()}
    ratings = _scores(list(observation_of.values()))
    criteria = list(
        db.session.scalars(
            select(Criterion)
            .where(Criterion.rubric_version_id == session.rubric_version_id)
            .order_by(Criterion.position)
        )
    )
    consensus = {c.criterion_id: c for c in session.consensus}
    team_history = _team_history(user, session) if history else {"count": None, "by_criterion": {}}
    values = sorted({level["value"] for c in criteria for level in c.levels})

    rows = []
    grid: list[list[float | None]] = []  # criteria x raters, levels only, for the overall
    for criterion in criteria:
        levels = [level["value"] for level in criterion.levels]
        cells = [ratings[observation_of[r.id]].get(criterion.id) for r in raters]
        row = _criterion_row(criterion, levels, raters, cells, thresholds, team_history)
        agreed = consensus.get(criterion.id)
        row["consensus"] = (
            {
                "level": agreed.level,
                "not_observed": agreed.not_observed,
                "rationale": agreed.rationale,
            }
            if agreed
            else None
        )
        rows.append(row)
        grid.append([cell[0] if cell and not cell[1] else None for cell in cells])

    reference = _reference(session, raters, rows)
    overall = _overall(grid, values)
    overall["alpha_label"] = thresholds.alpha_label(
        overall["krippendorff_alpha_ordinal"], overall["alpha_interval"]
    )
    return {
        "session": session_json(session),
        "thresholds": {
            "alpha_reliable": thresholds.alpha_reliable,
            "alpha_tentative": thresholds.alpha_tentative,
            "within_one": thresholds.within_one,
        },
        "raters": [
            {
                "id": r.id,
                "name": r.name,
                "anchor": r.id == session.anchor_id,
                "observation_id": observation_of[r.id],
            }
            for r in raters
        ],
        "reference": reference["label"],
        "overall": overall,
        "team_sessions": team_history["count"],
        "criteria": rows,
        "observers": [_observer(r, i, rows, reference, values) for i, r in enumerate(raters)],
        "agenda": [row["key"] for row in sorted(rows, key=_agenda_order) if row["divergent"]],
        "explanations": explanations(),
    }


def _criterion_row(
    criterion: Criterion,
    levels: list[int],
    raters: list[User],
    cells: list[Score | None],
    thresholds: Thresholds,
    history: dict[str, Any],
) -> dict[str, Any]:
    given = [c[0] for c in cells if c is not None and not c[1] and c[0] is not None]
    not_observed = sum(1 for c in cells if c is not None and c[1])
    pairwise = compute([_levels(cells)], levels, "ordinal", PAIRWISE)
    team = history["by_criterion"].get(criterion.id, {})
    within = pairwise["percent_within_one"]
    step = {value: i for i, value in enumerate(levels)}
    middle = stats.median(step[v] for v in given) if given else None
    scores = []
    for rater, cell in zip(raters, cells, strict=True):
        level, no, evidence = cell if cell is not None else (None, False, "")
        if level is not None and not_observed > len(given):
            off = True  # a level, while most of the team saw nothing to rate
        elif level is not None and middle is not None:
            off = abs(step[level] - middle) > 1  # more than a step from the team's middle
        else:
            off = no and len(given) > not_observed  # not observed, while most rated it
        scores.append(
            {
                "user_id": rater.id,
                "level": level,
                "not_observed": no,
                "evidence": evidence,
                "divergent": off,
                # Position on the look-for's scale: levels may be numbered with gaps, and
                # differences are counted in steps.
                "step": step[level] if level is not None else None,
            }
        )
    spread = (step[max(given)] - step[min(given)]) if given else None
    divergent = bool((spread is not None and spread > 1) or (not_observed and given))
    said = wording(criterion.rubric_version)  # the rubric's text in the reader's language
    return {
        "key": criterion.key,
        "text": said.criterion(criterion.text, criterion.key),
        "competency": said.competency(criterion.competency.name, criterion.competency.key),
        "levels": [
            {"value": lv["value"], "label": said.level(lv["label"], lv["value"], criterion.key)}
            for lv in criterion.levels
        ],
        "scores": scores,
        "rated": len(given),
        "not_observed": not_observed,
        "distribution": {str(v): given.count(v) for v in levels},
        "lowest": min(given) if given else None,
        "highest": max(given) if given else None,
        "median": stats.median(given) if given else None,
        "spread": spread,
        "percent_exact": _share(pairwise["percent_exact"]),
        "percent_within_one": _share(within),
        "team_alpha": _share(team.get("alpha")),
        "team_alpha_interval": team.get("interval"),
        "team_ac1": _share(team.get("ac1")),
        "team_lessons": team.get("lessons", 0),
        "team_alpha_label": thresholds.alpha_label(team.get("alpha"), team.get("interval")),
        # Alpha over a handful of lessons swings wildly: it has no interval under
        # MIN_INTERVAL_UNITS lessons, and so says "uncertain" (tentative at best) until then.
        "flag": thresholds.flag(
            thresholds.alpha_label(team.get("alpha"), team.get("interval")), within
        ),
        "divergent": divergent,
    }


def _levels(cells: list[Score | None]) -> list[int | None]:
    return [c[0] if c is not None and not c[1] else None for c in cells]


def _agenda_order(row: dict[str, Any]) -> tuple[float, str]:
    return (row["percent_within_one"] if row["percent_within_one"] is not None else 2.0, row["key"])


def _team_history(user: Principal, session: CalibrationSession) -> dict[str, Any]:
    """Per criterion, alpha and AC1 across the team's revealed sessions up to this one.

    A team is the sessions with the same team name and rubric version that ``user`` may see:
    a session someone else names after a team the user cannot see into changes nothing here.
    "Up to this one" orders by date, then by creation, so a later session of the same day is
    not counted.
    """
    if not session.team:
        return {"count": 1, "by_criterion": {}}
    candidates = db.session.scalars(
        select(CalibrationSession)
        .where(
            CalibrationSession.team == session.team,
            CalibrationSession.rubric_version_id == session.rubric_version_id,
            CalibrationSession.state == SessionState.REVEALED,
            or_(
                CalibrationSession.held_on < session.held_on,
                and_(
                    CalibrationSession.held_on == session.held_on,
                    CalibrationSession.id <= session.id,
                ),
            ),
        )
        .order_by(CalibrationSession.held_on, CalibrationSession.id)
    )
    sessions = [s for s in candidates if allowed(user, access.VIEW, s)]
    if len(sessions) < 2:
        return {"count": len(sessions), "by_criterion": {}}
    people = sorted({r["user_id"] for s in sessions for r in s.reveal_record})
    column = {person: i for i, person in enumerate(people)}
    ratings = _scores([r["observation_id"] for s in sessions for r in s.reveal_record])
    criteria = db.session.scalars(
        select(Criterion).where(Criterion.rubric_version_id == session.rubric_version_id)
    )
    by_criterion = {}
    for criterion in criteria:
        levels = [level["value"] for level in criterion.levels]
        table = []
        for s in sessions:
            row: list[int | None] = [None] * len(people)
            for record in s.reveal_record:
                cell = ratings[record["observation_id"]].get(criterion.id)
                if cell is not None and not cell[1]:
                    row[column[record["user_id"]]] = cell[0]
            table.append(row)
        # Lessons where two or more observers gave this look-for a level: the units that count.
        lessons = sum(1 for row in table if sum(v is not None for v in row) >= 2)
        found = compute(table, levels, "ordinal", PER_CRITERION_TEAM)
        interval = (
            alpha_interval(table, levels)
            if found["krippendorff_alpha_ordinal"] is not None and lessons >= MIN_INTERVAL_UNITS
            else None
        )
        by_criterion[criterion.id] = {
            "alpha": found["krippendorff_alpha_ordinal"],
            "interval": [round(interval[0], 4), round(interval[1], 4)] if interval else None,
            "ac1": found["gwet_ac1"],
            "lessons": lessons,
        }
    return {"count": len(sessions), "by_criterion": by_criterion}


def _overall(grid: list[list[float | None]], values: list[int]) -> dict[str, Any]:
    found = compute(grid, values, "ordinal", OVERALL) if grid and values else {}
    alpha = found.get("krippendorff_alpha_ordinal")
    interval = (
        alpha_interval(grid, values)
        if alpha is not None and len(grid) >= MIN_INTERVAL_UNITS
        else None
    )
    return {
        **{key: _share(found.get(key)) for key in OVERALL},
        "alpha_interval": [round(interval[0], 4), round(interval[1], 4)] if interval else None,
        "units": len(grid),
    }


def _reference(
    session: CalibrationSession, raters: list[User], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """What each observer is compared with: the anchor, else the consensus, else the team."""
    anchor = next((i for i, r in enumerate(raters) if r.id == session.anchor_id), None)
    if anchor is not None:
        label = _("the anchor rater, %(name)s", name=raters[anchor].name)
        return {"label": label, "kind": "anchor", "i": anchor}
    # A consensus of "not observed" everywhere leaves nothing to compare levels with.
    if any(row["consensus"] and row["consensus"]["level"] is not None for row in rows):
        return {"label": _("the team's consensus scores"), "kind": "consensus", "i": None}
    return {"label": _("the rest of the team"), "kind": "team", "i": None}


def _observer(
    rater: User, i: int, rows: list[dict[str, Any]], reference: dict[str, Any], values: list[int]
) -> dict[str, Any]:
    """One observer against the reference, in steps of each look-for's scale."""
    differences: list[int] = []
    per_lookfor: list[tuple[float, int]] = []
    used = dict.fromkeys(values, 0)
    not_observed = extremes = 0
    for row in rows:
        mine = row["scores"][i]
        not_observed += mine["not_observed"]
        if mine["level"] is None:
            continue
        used[mine["level"]] = used.get(mine["level"], 0) + 1
        extremes += mine["step"] in (0, len(row["levels"]) - 1)
        these = [mine["step"] - other for other in _reference_steps(row, i, reference)]
        differences += these
        per_lookfor.append((sum(these), len(these)))
    rated = sum(used.values())
    compared = len(differences)
    mean = sum(differences) / compared if compared else None
    is_reference = reference["kind"] == "anchor" and i == reference["i"]
    found = lean(per_lookfor)
    leaning = None if mean is None or is_reference else found["label"]
    interval = found["interval"] if not is_reference else None
    return {
        "user_id": rater.id,
        "name": rater.name,
        "is_reference": is_reference,
        "compared": compared,
        "exact": _share(sum(d == 0 for d in differences) / compared) if compared else None,
        "within_one": _share(sum(abs(d) <= 1 for d in differences) / compared)
        if compared
        else None,
        "mean_difference": _share(mean),
        "mean_difference_interval": [round(interval[0], 4), round(interval[1], 4)]
        if interval
        else None,
        "leaning_p": _share(found["p"]) if not is_reference else None,
        "lookfors": found["lookfors"],
        "leaning": leaning,
        "rated": rated,
        "not_observed": not_observed,
        "levels_used": {str(k): v for k, v in used.items()},
        "extremes_share": _share(extremes / rated) if rated else None,
        # Never the lowest or highest level of a look-for's scale, over enough ratings to tell.
        "avoids_extremes": bool(rated >= 5 and extremes == 0),
    }


def _reference_steps(row: dict[str, Any], i: int, reference: dict[str, Any]) -> list[int]:
    if reference["kind"] == "anchor":
        if i == reference["i"]:
            return []
        step = row["scores"][reference["i"]]["step"]
        return [step] if step is not None else []
    if reference["kind"] == "consensus":
        agreed = row["consensus"]
        if not agreed or agreed["level"] is None:
            return []
        return [next(j for j, lv in enumerate(row["levels"]) if lv["value"] == agreed["level"])]
    return [s["step"] for j, s in enumerate(row["scores"]) if j != i and s["step"] is not None]


def explanations() -> dict[str, str]:
    """What each figure means, in the request's language (the keys are stable)."""
    return {
        "percent_exact": _(
            "Exact agreement: of every pair of observers, the share who gave the same level. "
            "Easy to read, but it does not allow for agreement that happens by chance."
        ),
        "percent_within_one": _(
            "Within one: the share of pairs at most one level apart. Certification programs in "
            "the field commonly ask for about 80%."
        ),
        "krippendorff_alpha_ordinal": _(
            "Krippendorff's alpha (ordinal) compares the disagreement observed with the "
            "disagreement expected if scores were handed out at random in the proportions the "
            "team used them; ordinal means a 1 against a 4 counts as a bigger disagreement than a "
            "3 against a 4. 1 is perfect agreement, 0 is no better than chance. 0.80 or more is "
            "conventionally reliable; 0.667 to 0.80 is enough only for tentative conclusions. "
            "The interval shows how much the figure could move with different lessons or "
            "look-fors (a bootstrap over units)."
        ),
        "gwet_ac1": _(
            "Gwet's AC1 also corrects for chance, but estimates chance agreement in a way that "
            "stays stable when nearly everyone uses one level. It counts exact matches only, so "
            "it is lower than ordinal alpha when observers often land one level apart."
        ),
        "fleiss_kappa_gwet": _(
            "Fleiss' kappa (with missing scores allowed) is the classic chance-corrected "
            "statistic for many observers."
        ),
        "paradox": _(
            "Why can agreement be high while kappa or alpha is low? When one level dominates "
            "(say, nearly every look-for is scored 3), two observers agree most of the time even "
            "by chance, so kappa and alpha credit them with little beyond chance, and a single "
            "disagreement weighs heavily. AC1 estimates chance differently and stays high in "
            "that case. Read them together: high agreement with low alpha means the team agrees "
            "mostly because it uses a narrow part of the scale."
        ),
        "per_criterion": _(
            "One lesson is one unit: for a single look-for in a single session, chance-corrected "
            "statistics are undefined. Per look-for, alpha and AC1 are therefore computed across "
            "the team's revealed sessions with this rubric version that you may see (each "
            "session a unit). Over a handful of lessons alpha swings widely, so until "
            "%(units)s of them have two or more levels for the look-for, the flag "
            "rests on within-one agreement alone and says tentative at best, and no interval is "
            "shown.",
            units=MIN_INTERVAL_UNITS,
        ),
        "flags": _(
            "Reliable: alpha's whole interval at or above the reliable threshold, and within-one "
            "at or above its target. Tentative: within-one on target while alpha's interval is "
            "between the thresholds, straddles them, or cannot be computed yet. Discuss: "
            "within-one below target, or alpha not reliable (below zero, or its whole interval "
            "under the tentative threshold)."
        ),
        "alpha_labels": _(
            "Alpha's label follows its 95%% interval, never the figure alone: reliable or "
            "tentative only when the whole interval is at or above that threshold; not reliable "
            "when alpha is below zero (the observers disagree more than chance would) or the "
            "whole interval is below the tentative threshold; uncertain when the interval spans "
            "a threshold or there are too few units for one (fewer than %(units)s).",
            units=MIN_INTERVAL_UNITS,
        ),
        "leaning": _(
            "Leniency or severity is the mean signed difference, in steps of the scale, between an "
            "observer's scores and the reference, with a 95%% interval over the look-fors compared "
            "(Student's t). Lenient (higher) or severe (lower) only when the interval excludes "
            "zero and the mean is beyond ±%(margin)s; in line when the whole interval lies within "
            "±%(margin)s; otherwise no clear lean — a handful of look-fors rarely tells.",
            margin=LEANING,
        ),
    }
