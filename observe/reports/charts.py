"""The summary report's and the equity goals' charts (see observe/core/charts.py for how charts
are drawn)."""

from __future__ import annotations

import textwrap
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from observe.core import charts
from observe.reports import dimensions as dimension_names
from observe.reports.suppression import reason_words


def dimensions(report: dict[str, Any]) -> Markup | None:
    rows = [d for d in report.get("dimensions", []) if d["rated"] and d["distribution"] is not None]
    if not rows:
        return None
    levels = report["levels"]
    plt = charts.pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 0.55 * len(rows) + 1.3))
    names = [dimension_names.label(report, d["name"]) for d in rows]
    left = [0.0] * len(rows)
    for i, level in enumerate(levels):
        shares = [d["distribution"][str(level["value"])] / d["rated"] for d in rows]
        axes.barh(
            names, shares, left=left, color=charts.LEVEL_COLOURS[i % 6],
            hatch=charts.HATCHES[i % 6], edgecolor="white", linewidth=0.6,
            label=f"{level['value']} · {level['label']}",
        )  # fmt: skip
        left = [a + b for a, b in zip(left, shares, strict=True)]
    for y, d in enumerate(rows):
        axes.text(1.01, y, charts.percent(d["share"]), va="center", fontsize=9)
    axes.set_xlim(0, 1)
    axes.invert_yaxis()
    charts.percent_axis(axes.xaxis)
    axes.legend(ncols=len(levels), loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    at_least = report["scope"]["at_least_label"]
    axes.set_title(
        _("Levels seen, by equity dimension (right: share at %(level)s or above)", level=at_least),
        loc="left", fontsize=10,
    )  # fmt: skip
    description = "; ".join(
        _("%(name)s: %(share)s at %(level)s or above of %(n)s ratings",
          name=dimension_names.label(report, d["name"]).lower(),
          share=charts.percent(d["share"]), level=at_least, n=d["rated"])
        for d in rows
    )  # fmt: skip
    return charts.svg_markup(
        figure, "chart-dimensions", _("Levels seen by equity dimension"), description
    )


def trend(report: dict[str, Any]) -> Markup | None:
    months = [m for m in report.get("trend", []) if not m["suppressed"]]
    if len(months) < 2:
        return None
    plt = charts.pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 2.8))
    labels = [m["month"] for m in months]
    names = list(months[0]["dimensions"])
    for i, name in enumerate(names):
        axes.plot(labels, [m["dimensions"].get(name) for m in months], marker=charts.MARKERS[i % 6],
                  color=charts.LEVEL_COLOURS[(i + 3) % 6],
                  label=dimension_names.label(report, name))  # fmt: skip
    axes.plot(labels, [m["share"] for m in months], color="#111111", linewidth=2.2,
              linestyle="--", label=_("All look-fors"))  # fmt: skip
    axes.set_ylim(0, 1)
    charts.percent_axis(axes.yaxis)
    axes.legend(ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    at_least = report["scope"]["at_least_label"]
    axes.set_title(
        _("Share at %(level)s or above, month by month", level=at_least), loc="left", fontsize=10
    )
    description = "; ".join(f"{m['month']}: {charts.percent(m['share'])}" for m in months)
    title = _("Share at %(level)s or above by month", level=at_least)
    return charts.svg_markup(figure, "chart-trend", title, description)


def heatmap(report: dict[str, Any]) -> Markup | None:
    """Each look-for's share by group, a cell each, shaded by the share and marked where a gap
    is flagged. Drawn element by element (no matplotlib layout: the printed summary's slowest
    chart took half a second that way), on the other charts' width and in their font."""
    groups = [g for g in report.get("groups", {}).get("rows", []) if not g["suppressed"]]
    if not groups:
        return None
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    criteria = report["criteria"]
    # Every label whole, wrapped (never cut to "[...]"): rows as tall as the longest label's
    # lines, the group names under the columns on as many lines as they take.
    rows = [charts.fit(c["text"], SMALL, LABEL_POINTS) for c in criteria]
    at_least = report["scope"]["at_least_label"]
    by = report["scope"]["by_label"]
    left = max(charts.text_width(line, SMALL) for lines in rows for line in lines) + 8
    # Columns share the other charts' width, and widen the chart when they must to hold their
    # figures; past WIDEST the page would shrink its text below reading: the table has them.
    cell = max(
        (WIDTH - left) / len(groups), charts.text_width(charts.percent(1.0) + " ▼", SMALL) + 6
    )
    width = left + cell * len(groups)
    if width > WIDEST:
        return None
    columns = [charts.fit(g["label"], SMALL, cell - 3) for g in groups]
    title = charts.fit(
        _("Share at %(level)s or above, look-for by %(by)s (▲▼ a gap beyond chance)",
          level=at_least, by=by),
        TITLE, width - left,
    )  # fmt: skip
    top = TITLE * 1.3 * len(title) + 6
    tall = LINE * max(len(lines) for lines in rows) + 4.5
    bottom = top + tall * len(criteria)
    body = [charts.text(left, TITLE * (1 + 1.3 * i), line, TITLE) for i, line in enumerate(title)]
    blues = colormaps["Blues"]
    for y, (c, lines) in enumerate(zip(criteria, rows, strict=True)):
        middle = top + tall * (y + 0.5)
        body += _lines(left - 5, middle, lines, anchor="end")
        for x, g in enumerate(groups):
            share, gap = g["criteria"][c["key"]]["share"], g["criteria"][c["key"]]["gap"]
            if share is not None:  # half a point over the next, so no hairline shows
                body.append(
                    f'<rect x="{left + cell * x:.1f}" y="{top + tall * y:.1f}" '
                    f'width="{cell + 0.5:.1f}" height="{tall + 0.5:.1f}" '
                    f'fill="{to_hex(blues(share))}"/>'
                )
            mark = {"above": " ▲", "below": " ▼"}.get(gap or "", "")
            ink = "white" if share is not None and share > 0.7 else "#111111"
            body.append(charts.text(left + cell * (x + 0.5), middle + SMALL * 0.35,
                                    charts.percent(share) + mark, SMALL, text_anchor="middle",
                                    fill=ink))  # fmt: skip
    under = max(len(lines) for lines in columns)
    for x, lines in enumerate(columns):
        body += _lines(left + cell * (x + 0.5), bottom + 3 + LINE * len(lines) / 2, lines,
                       anchor="middle")  # fmt: skip
    flagged = [
        (
            _("%(look_for)s — %(group)s: %(share)s, above the rest", look_for=c["text"],
              group=g["label"], share=charts.percent(g["criteria"][c["key"]]["share"]))
            if g["criteria"][c["key"]]["gap"] == "above"
            else _("%(look_for)s — %(group)s: %(share)s, below the rest", look_for=c["text"],
                   group=g["label"], share=charts.percent(g["criteria"][c["key"]]["share"]))
        )
        for c in criteria
        for g in groups
        if g["criteria"][c["key"]]["gap"]
    ]  # fmt: skip
    description = _(
        "%(look_fors)s look-fors by %(groups)s groups. Gaps beyond chance: %(gaps)s",
        look_fors=len(criteria),
        groups=len(groups),
        gaps="; ".join(flagged) if flagged else _("none"),
    )
    size = (width + 1, bottom + 6 + LINE * under)
    return charts.svg_drawn("chart-heatmap", _("Look-fors by %(by)s", by=by), description, size,
                            body)  # fmt: skip


# The heatmap's measures, in points: the other charts' width (7.2 in) and the widest it grows
# to (10 in, printed at about seven tenths), the look-fors' line, the look-fors' and cells'
# text, the title's, and a label line's height.
WIDTH, WIDEST, LABEL_POINTS, SMALL, TITLE, LINE = 518.4, 720.0, 235.0, 7.0, 10.0, 8.3


def _lines(x: float, middle: float, lines: list[str], anchor: str) -> list[str]:
    """A wrapped label's lines, centred as a block on ``middle``."""
    first = middle - LINE * len(lines) / 2 + LINE / 2 + SMALL * 0.35
    return [
        charts.text(x, first + LINE * i, line, SMALL, text_anchor=anchor)
        for i, line in enumerate(lines)
    ]


def for_summary(report: dict[str, Any]) -> dict[str, Markup]:
    """The summary's charts by name; each goal's as ``goal-<id>``, so the printed report (the
    goals page has no PDF) carries their months too."""
    made = {"dimensions": dimensions(report), "trend": trend(report), "heatmap": heatmap(report)}
    made |= {f"goal-{g['id']}": goal(g) for g in report.get("goals", [])}
    return {name: svg for name, svg in made.items() if svg is not None}


def goal(progress: dict[str, Any]) -> Markup | None:
    """One equity goal's share month by month, as bars against its target line. A month the
    table hides (too few walkthroughs) is left out, figure and name alike, as from the summary's
    trend: the chart shows nothing the table does not."""
    months = [m for m in progress["months"] if m["share"] is not None]
    if not months:
        return None
    target = progress["target_share"]
    plt = charts.pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 2.7))
    positions = list(range(len(months)))
    shares = [m["share"] for m in months]
    met = [share >= target for share in shares]
    for reached, colour, hatch, label in (
        (True, charts.LEVEL_COLOURS[3], "", _("At or above the target")),
        (False, charts.LEVEL_COLOURS[1], "//", _("Below the target")),
    ):
        chosen = [i for i in positions if met[i] is reached]
        if chosen:
            axes.bar(chosen, [shares[i] for i in chosen], width=0.6, color=colour, hatch=hatch,
                     edgecolor="white", label=label)  # fmt: skip
    for x, share in enumerate(shares):
        axes.text(x, share + 0.02, charts.percent(share), ha="center", fontsize=8, zorder=3,
                  bbox=charts.LABEL_BOX)  # fmt: skip
    axes.axhline(target, color="#111111", linestyle="--", linewidth=1.2,
                 label=_("Target %(share)s", share=charts.percent(target)))  # fmt: skip
    many = len(months) > 9
    axes.set_xticks(positions, [m["month"] for m in months], rotation=35 if many else 0,
                    ha="right" if many else "center")  # fmt: skip
    axes.set_xlim(-0.6, len(months) - 0.4)
    axes.set_ylim(0, 1.08)
    charts.percent_axis(axes.yaxis)
    axes.legend(ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.2 - 0.1 * many),
                frameon=False, fontsize=8)  # fmt: skip
    at_least = progress["at_least_label"]
    axes.set_title(
        textwrap.fill(_("Share at %(level)s or above, month by month", level=at_least), 70),
        loc="left", fontsize=10,
    )  # fmt: skip
    hidden = [m for m in progress["months"] if m["share"] is None]
    shown = "; ".join(
        _("%(month)s: %(share)s of ratings, %(n)s walkthroughs, met", month=m["month"],
          share=charts.percent(m["share"]), n=m["observations"])
        if m["share"] >= target
        else _("%(month)s: %(share)s of ratings, %(n)s walkthroughs, below the target",
               month=m["month"], share=charts.percent(m["share"]), n=m["observations"])
        for m in months
    )  # fmt: skip
    description = (
        _("Target %(share)s at %(level)s or above.", share=charts.percent(target), level=at_least)
        + " "
        + shown
        + "."
    )
    if hidden:
        reasons = sorted(
            {
                reason_words(m["reason"])
                if m.get("reason")
                else _("fewer than %(n)s walkthroughs", n=progress["min_group"])
                if m["observations"] is None
                else _("not rated")
                for m in hidden
            }
        )
        description += " " + ngettext(
            "%(num)d month not shown: %(reasons)s.",
            "%(num)d months not shown: %(reasons)s.",
            len(hidden),
            reasons="; ".join(reasons),
        )
    return charts.svg_markup(
        figure,
        f"chart-goal-{progress['id']}",
        _("%(goal)s: share by month", goal=progress["title"]),
        description,
    )
