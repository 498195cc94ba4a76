"""The summary report's headline: the few findings that matter, in plain sentences, each
citing figures the report shows below it (and saying where).

A pure function of the report's computed figures (no database): it reads only figures the
report shows — a group, cell, month, goal or comparison that is suppressed is never cited, so
the headline can reveal nothing the rest of the response hides (reports/suppression.py decides
once per response; this only reads its outcome). Four kinds of finding, in this order:

- **gap**: a look-for on which a group differs from the rest of the scope beyond chance — the
  flags of the clustered gap tests with Benjamini-Hochberg (``summary._group_uncertainty``),
  cited against the rest's share as the test compares them, largest difference first;
- **goal**: goals whose status says they are behind (or, past the deadline, not met), furthest
  from the target first;
- **change**: an equity dimension that moved since the previous period — the same span of last
  school year (``years.compare_with_last_year``) or, without one, the month before the latest
  shown — only where the change is beyond chance (a z-test on the two clustered standard
  errors, Benjamini-Hochberg across the changes tested);
- **bright spot**: the group furthest ahead of the scope on a dimension, adjusted for who
  observed where the rater model gives the group and the scope adjusted figures
  (reports/raters.py) — an adjusted group against the adjusted scope, else both as observed —
  and only when its lead is beyond chance (Benjamini-Hochberg across groups and dimensions).

docs/reports.md ("The headline") explains the choices and their conventions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from observe.core import formatting
from observe.core.distributions import t_sf
from observe.reports import dimensions

# At most this many findings, and this many of one kind: a headline is read in a minute.
MOST = 5
MOST_OF_A_KIND = 2
FALSE_DISCOVERY = 0.05
# The order the kinds take turns in, and the sections their figures are in (ids on the page).
KINDS = ("gap", "goal", "change", "bright_spot")
BEHIND = ("behind", "not met")


@dataclass
class Finding:
    kind: str
    text: str
    section: str  # the id of the element holding the cited figure
    section_label: str
    figure: dict[str, Any]  # the figure the sentence rests on, as shown
    compared_with: float | None = None  # the other share the sentence cites, as shown
    weight: float = 0.0  # how far it stands out: larger first within its kind
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "section": self.section,
            "section_label": self.section_label,
            "figure": self.figure,
            "compared_with": self.compared_with,
            **self.extra,
        }


def what_stands_out(report: dict[str, Any]) -> dict[str, Any]:
    """The headline of a summary report: ``findings`` (at most ``MOST``) and a ``note`` when
    there is nothing, or little, to say — never an invented finding."""
    if report.get("suppressed"):
        return {
            "findings": [],
            "note": _(
                "Too few walkthroughs match to say what stands out: nothing is shown, so that "
                "no classroom or teacher can be singled out."
            ),
        }
    at = report["scope"]["at_least_label"]
    found = {
        "gap": gaps(report, at),
        "goal": goals_behind(report, at),
        "change": changes(report, at),
        "bright_spot": bright_spots(report, at),
    }
    chosen: list[Finding] = []
    for turn in range(MOST_OF_A_KIND):
        for kind in KINDS:
            ranked = sorted(found[kind], key=lambda f: -f.weight)
            if turn < len(ranked) and len(chosen) < MOST:
                chosen.append(ranked[turn])
    chosen.sort(key=lambda f: KINDS.index(f.kind))
    split = bool(report.get("groups"))
    note = None
    if not chosen and split:
        note = _(
            "Nothing stands out beyond chance in these walkthroughs: no gap between groups "
            "survives the correction for many comparisons, no goal is behind, no change since "
            "the previous period is clear, and no group is clearly ahead. The figures below "
            "still describe what was seen."
        )
    elif not chosen:
        note = _(
            "Nothing stands out beyond chance in these walkthroughs: no goal is behind and no "
            "change since the previous period is clear. Split the report by school, course "
            "level or program to look for gaps between groups and for bright spots."
        )
    elif not split:
        note = _(
            "Split the report by school, course level or program to look for gaps between "
            "groups and for bright spots."
        )
    return {"findings": [f.json() for f in chosen], "note": note}


# ---- each kind ---------------------------------------------------------------------------------


def gaps(report: dict[str, Any], at: str) -> list[Finding]:
    """Look-fors on which a shown group differs from the rest beyond chance (flagged cells):
    the widest ``MOST_OF_A_KIND``, all the headline can take (a district split by its 200
    schools flags thousands, and writing each one's sentence cost a second)."""
    groups = report.get("groups")
    if not groups:
        return []
    overall = {c["key"]: c for c in report.get("criteria", [])}
    candidates = []
    for row in groups["rows"]:
        if row.get("suppressed"):
            continue
        for key, cell in row["criteria"].items():
            if not shown(cell) or cell.get("gap") not in ("above", "below"):
                continue
            criterion = overall.get(key)
            if criterion is None:
                continue
            # The test compares the group with the rest of the scope: so does the sentence
            # (review minor c).
            scope = cell.get("rest_share") if shown(criterion) else None
            weight = abs(cell["share"] - scope) if scope is not None else 0.0
            candidates.append((weight, row, key, cell, criterion, scope))
    # Widest first, ties in the report's order (what_stands_out's sort is stable too).
    candidates.sort(key=lambda found: -found[0])
    found = []
    for weight, row, key, cell, criterion, scope in candidates[:MOST_OF_A_KIND]:
        words = {
            "group": row["label"],
            "share": percent(cell["share"]),
            "level": at,
            "criterion": quoted(criterion["text"]),
        }
        if cell["gap"] == "above":
            text = (
                _(
                    "%(group)s: %(share)s of ratings at %(level)s or above on %(criterion)s, "
                    "against %(scope)s in the rest of the scope — above it beyond chance.",
                    scope=percent(scope),
                    **words,
                )
                if scope is not None
                else _(
                    "%(group)s: %(share)s of ratings at %(level)s or above on %(criterion)s "
                    "— above the rest beyond chance.",
                    **words,
                )
            )
        else:
            text = (
                _(
                    "%(group)s: %(share)s of ratings at %(level)s or above on %(criterion)s, "
                    "against %(scope)s in the rest of the scope — below it beyond chance.",
                    scope=percent(scope),
                    **words,
                )
                if scope is not None
                else _(
                    "%(group)s: %(share)s of ratings at %(level)s or above on %(criterion)s "
                    "— below the rest beyond chance.",
                    **words,
                )
            )
        found.append(
            Finding(
                kind="gap",
                text=text,
                section="groups-criteria",
                section_label=_("Look-fors by %(by)s", by=groups["label"]),
                figure=cited(cell, group=row["label"], criterion=key),
                compared_with=scope,
                weight=weight,
                extra={"direction": cell["gap"]},
            )
        )
    return found


def goals_behind(report: dict[str, Any], at: str) -> list[Finding]:
    """Goals behind (or not met), with the shown month that says so; furthest first."""
    found = []
    for goal in report.get("goals") or []:
        if goal.get("status") not in BEHIND:
            continue
        latest = goal.get("latest") if goal.get("status") == "behind" else None
        decided = goal.get("decided_by") if goal.get("status") == "not met" else None
        share = month = None
        if latest and latest.get("share") is not None:
            share, month = latest["share"], latest["month"]
        if share is None and decided and decided.get("share") is not None:
            share, month = decided["share"], decided["to_month"]
        if share is None:
            continue  # no month shown: nothing to cite
        where = goal["school"]["name"] if goal.get("school") else _("the district")
        words = {
            "goal": quoted(goal["title"]),
            "where": where,
            "share": percent(share),
            "level": goal.get("at_least_label") or at,
            "month": month,
            "target": percent(goal["target_share"]),
        }
        text = (
            _(
                "Goal %(goal)s (%(where)s) is behind: %(share)s at %(level)s or above in "
                "%(month)s, against a target of %(target)s.",
                **words,
            )
            if goal["status"] == "behind"
            else _(
                "Goal %(goal)s (%(where)s) was not met: %(share)s at %(level)s or above in "
                "%(month)s, against a target of %(target)s.",
                **words,
            )
        )
        found.append(
            Finding(
                kind="goal",
                text=text,
                section=f"goal-{goal['id']}",
                section_label=_("Equity goals"),
                figure={
                    "goal": goal["id"],
                    "month": month,
                    "share": share,
                    "interval": (latest or {}).get("interval"),
                },
                compared_with=goal["target_share"],
                weight=goal["target_share"] - share,
                extra={"status": goal["status"]},
            )
        )
    return found


def changes(report: dict[str, Any], at: str) -> list[Finding]:
    """Equity dimensions that changed beyond chance since the previous period: last year's same
    span when the report compares with it, else the month before the latest shown."""
    tests: list[tuple[Finding, float]] = []
    compare = report.get("compare") or {}
    if compare.get("last_year") and compare.get("rows"):
        for row in compare["rows"]:
            if row.get("kind") != "dimension":
                continue
            this, last = row.get("this"), row.get("last")
            p = change_p(this, last)
            if p is None:
                continue
            assert this is not None and last is not None
            words = {
                "dimension": dimensions.label(report, row["name"]),
                "share": percent(this["share"]),
                "level": at,
                "year": compare["year"],
                "before": percent(last["share"]),
                "last_year": compare["last_year"],
            }
            rose = this["share"] > last["share"]
            if compare.get("same_span", True):
                text = (
                    _(
                        "%(dimension)s rose to %(share)s at %(level)s or above in %(year)s, from "
                        "%(before)s over the same span of %(last_year)s.",
                        **words,
                    )
                    if rose
                    else _(
                        "%(dimension)s fell to %(share)s at %(level)s or above in %(year)s, from "
                        "%(before)s over the same span of %(last_year)s.",
                        **words,
                    )
                )
            else:  # this year so far against a longer span of last year's: say which days
                span = {
                    "start": compare["this"]["from"],
                    "end": compare["this"].get("through", compare["this"]["to"]),
                    "last_start": compare["last"]["from"],
                    "last_end": compare["last"]["to"],
                }
                text = (
                    _(
                        "%(dimension)s rose to %(share)s at %(level)s or above from %(start)s to "
                        "%(end)s, against %(before)s from %(last_start)s to %(last_end)s.",
                        **words,
                        **span,
                    )
                    if rose
                    else _(
                        "%(dimension)s fell to %(share)s at %(level)s or above from %(start)s to "
                        "%(end)s, against %(before)s from %(last_start)s to %(last_end)s.",
                        **words,
                        **span,
                    )
                )
            tests.append(
                (
                    Finding(
                        kind="change",
                        text=text,
                        section="compare-heading",
                        section_label=_("This year and last"),
                        figure=cited(this, dimension=row["name"], period=compare["year"]),
                        compared_with=last["share"],
                        weight=abs(this["share"] - last["share"]),
                    ),
                    p,
                )
            )
    else:
        months = [m for m in report.get("trend", []) if not m.get("suppressed")]
        if len(months) >= 2:
            latest, before = months[-1], months[-2]
            for name, this in (latest.get("dimension_figures") or {}).items():
                last = (before.get("dimension_figures") or {}).get(name)
                p = change_p(this, last)
                if p is None:
                    continue
                assert last is not None
                words = {
                    "dimension": dimensions.label(report, name),
                    "share": percent(this["share"]),
                    "level": at,
                    "month": latest["month"],
                    "before": percent(last["share"]),
                    "previous": before["month"],
                }
                text = (
                    _(
                        "%(dimension)s rose to %(share)s at %(level)s or above in %(month)s, "
                        "from %(before)s in %(previous)s.",
                        **words,
                    )
                    if this["share"] > last["share"]
                    else _(
                        "%(dimension)s fell to %(share)s at %(level)s or above in %(month)s, "
                        "from %(before)s in %(previous)s.",
                        **words,
                    )
                )
                tests.append(
                    (
                        Finding(
                            kind="change",
                            text=text,
                            section="trend-heading",
                            section_label=_("Month by month"),
                            figure=cited(this, dimension=name, period=latest["month"]),
                            compared_with=last["share"],
                            weight=abs(this["share"] - last["share"]),
                        ),
                        p,
                    )
                )
    return _beyond_chance(tests)


def bright_spots(report: dict[str, Any], at: str) -> list[Finding]:
    """Per dimension, the shown group furthest ahead of the scope's share, when its lead is
    beyond chance: on its figure adjusted for who observed where there is one, else as
    observed."""
    groups = report.get("groups")
    if not groups:
        return []
    scope = {d["name"]: d for d in report.get("dimensions", [])}
    adjustment = groups.get("adjustment") or {}
    tests: list[tuple[Finding, float]] = []
    for row in groups["rows"]:
        if row.get("suppressed"):
            continue
        adjusted = row.get("adjusted") or {}
        for name, figures in row.get("dimensions", {}).items():
            whole = scope.get(name)
            if not shown(figures) or whole is None or not shown(whole):
                continue
            share, se, observed_only = figures["share"], figures.get("se"), True
            against = whole["share"]
            moved = (adjusted.get("dimensions") or {}).get(name)
            # Like with like (review B1): an adjusted group against the scope adjusted the same
            # way; with no adjusted scope, both as observed.
            scope_moved = ((adjustment.get("scope") or {}).get("dimensions") or {}).get(name)
            if (
                not adjustment.get("refused")
                and moved
                and moved.get("share") is not None
                and scope_moved
                and scope_moved.get("share") is not None
                and adjusted.get("lean_standard_error") is not None
                and se is not None
            ):
                share, against = moved["share"], scope_moved["share"]
                se = math.hypot(se, adjusted["lean_standard_error"])
                observed_only = False
            if se is None or se <= 0 or share <= against:
                continue
            # Two-sided, on Student's t with the group's classrooms - 1 degrees of freedom, as
            # the page's intervals and gap tests are (reports/uncertainty.py).
            p = _two_sided((share - against) / se, _df(figures))
            words = {
                "group": row["label"],
                "dimension": dimensions.label(report, name).lower(),
                "share": percent(share),
                "level": at,
                "scope": percent(against),
            }
            text = (
                _(
                    "%(group)s is ahead on %(dimension)s: %(share)s at %(level)s or above, "
                    "against %(scope)s across the scope.",
                    **words,
                )
                if observed_only
                else _(
                    "%(group)s is ahead on %(dimension)s: %(share)s at %(level)s or above "
                    "adjusted for who observed, against %(scope)s across the scope adjusted "
                    "the same way.",
                    **words,
                )
            )
            tests.append(
                (
                    Finding(
                        kind="bright_spot",
                        text=text,
                        section="groups-heading" if observed_only else "adjusted-heading",
                        section_label=_("By %(by)s", by=groups["label"])
                        if observed_only
                        else _("Adjusted for who observed"),
                        figure=cited(
                            moved if not observed_only and moved else figures,
                            group=row["label"],
                            dimension=name,
                            adjusted=not observed_only,
                        ),
                        compared_with=against,
                        weight=share - against,
                        extra={"adjusted": not observed_only},
                    ),
                    p,
                )
            )
    kept = _beyond_chance(tests)
    # One per dimension: the group furthest ahead on it.
    best: dict[str, Finding] = {}
    for finding in kept:
        dimension = finding.figure["dimension"]
        if dimension not in best or finding.weight > best[dimension].weight:
            best[dimension] = finding
    return list(best.values())


# ---- helpers -----------------------------------------------------------------------------------


def shown(figures: dict[str, Any] | None) -> bool:
    """Whether a figure is shown: not suppressed, with a share."""
    return (
        figures is not None and not figures.get("suppressed") and figures.get("share") is not None
    )


def change_p(this: dict[str, Any] | None, last: dict[str, Any] | None) -> float | None:
    """Two-sided p of the change between two shown shares with clustered standard errors,
    taken as independent (two periods' visits share classrooms, and a positive covariance
    makes this conservative); None when either has no standard error."""
    if not shown(this) or not shown(last):
        return None
    assert this is not None and last is not None
    a, b = this.get("se"), last.get("se")
    if a is None or b is None:
        return None
    spread = math.hypot(a, b)
    if spread <= 0:
        return None
    # Welch-Satterthwaite degrees of freedom from each period's classrooms, as the page's gap
    # tests use; the normal distribution only when a period does not say its classrooms.
    df = None
    da, db = _df(this), _df(last)
    if da is not None and db is not None:
        df = spread**4 / (a**4 / da + b**4 / db) if a > 0 and b > 0 else float(min(da, db))
    return _two_sided(abs(this["share"] - last["share"]) / spread, df)


def _df(figures: dict[str, Any]) -> int | None:
    """A clustered figure's degrees of freedom: its classrooms - 1 (None: not known)."""
    classrooms = figures.get("classrooms")
    return classrooms - 1 if isinstance(classrooms, int) and classrooms >= 2 else None


def _two_sided(statistic: float, df: float | None) -> float:
    """The two-sided p-value of a t statistic on ``df`` degrees of freedom (None: normal)."""
    if df is None:
        return math.erfc(abs(statistic) / math.sqrt(2))
    return min(1.0, 2 * t_sf(abs(statistic), df))


def benjamini_hochberg(p_values: list[float], q: float = FALSE_DISCOVERY) -> list[bool]:
    """Which of the p-values to reject at false discovery rate ``q`` (Benjamini & Hochberg)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    cutoff = 0
    for rank, i in enumerate(order, 1):
        if p_values[i] <= q * rank / len(p_values):
            cutoff = rank
    rejected = [False] * len(p_values)
    for i in order[:cutoff]:
        rejected[i] = True
    return rejected


def _beyond_chance(tests: list[tuple[Finding, float]]) -> list[Finding]:
    flags = benjamini_hochberg([p for _, p in tests]) if tests else []
    return [finding for (finding, _), flagged in zip(tests, flags, strict=True) if flagged]


def cited(figures: dict[str, Any], **about: Any) -> dict[str, Any]:
    """The cited figure as the report shows it: its share, interval and n."""
    return {
        **about,
        "share": figures["share"],
        "interval": figures.get("interval"),
        "rated": figures.get("rated"),
    }


def percent(share: float | None) -> str:
    """As the report's tables print it, in the reader's language (core.formatting.percent)."""
    return "—" if share is None else formatting.percent(share)


def quoted(text: str) -> str:
    return f"“{text.rstrip('.')}”"
