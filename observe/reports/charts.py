"""Charts for reports, drawn on the server as SVG by matplotlib, so the page and the PDF show
the same picture. Each has a title and a text alternative; patterns, markers and printed
values carry the meaning as well as colour.

The pages' Content-Security-Policy allows no inline styles, so matplotlib's ``style``
attributes are rewritten as SVG presentation attributes (the same properties, allowed) and its
stylesheet element is dropped; ids are prefixed so several charts can share a page.
"""

from __future__ import annotations

import html
import io
import re
import textwrap
from functools import cache
from typing import Any

from markupsafe import Markup


@cache
def _pyplot() -> Any:
    """matplotlib, set up once, on the first chart: not at start-up, where every worker and
    every ``observe`` command would pay for it."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: selectable, searchable, read aloud
            "svg.hashsalt": "observe",  # the same chart gives the same ids, run after run
            # Labels are the district's words (school names, attributes from the roster):
            # "$\\frac$" is a name, not TeX for mathtext to parse (and fail on).
            "text.parse_math": False,
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def _percent_axis(axis: Any) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0))


# Dark enough to read on white, told apart by pattern and marker too.
LEVEL_COLOURS = ["#a4161a", "#e09f3e", "#6c9a8b", "#1d4e89", "#5b3a8e", "#444444"]
HATCHES = ["xx", "//", "..", "", "\\\\", "++"]
MARKERS = ["o", "s", "^", "D", "v", "P"]


def _svg(figure: Any, name: str, title: str, description: str) -> Markup:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    _pyplot().close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)  # matplotlib repeats each label in one
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    # Inside tags only: a label's text (a school named 'style="x"') is left as it is.
    svg = re.sub(r"<[^<>]+>", lambda tag: _tag(tag.group(), name), svg)
    accessible = f'<svg role="img" aria-labelledby="{name}-title {name}-desc" class="chart" '
    svg = svg.replace("<svg ", accessible, 1)
    head = (
        f'<title id="{name}-title">{html.escape(title)}</title>'
        f'<desc id="{name}-desc">{html.escape(description)}</desc>'
    )
    svg = re.sub(r"(<svg[^>]*>)", r"\1" + head.replace("\\", "\\\\"), svg, count=1)
    return Markup(svg)  # built here from our own figures; text in it is escaped above


def _tag(tag: str, name: str) -> str:
    """One SVG tag with its styles as attributes and its ids prefixed by ``name``."""
    tag = re.sub(r'style="([^"]*)"', _attributes, tag)
    tag = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', tag)
    tag = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", tag)
    return re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{name}-\1"', tag)


def _attributes(match: re.Match[str]) -> str:
    pairs = [part.split(":", 1) for part in match.group(1).split(";") if ":" in part]
    return " ".join(f'{key.strip()}="{html.escape(value.strip())}"' for key, value in pairs)


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def dimensions(report: dict[str, Any]) -> Markup | None:
    rows = [d for d in report.get("dimensions", []) if d["rated"]]
    if not rows:
        return None
    levels = report["levels"]
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 0.55 * len(rows) + 1.3))
    names = [d["name"].capitalize() for d in rows]
    left = [0.0] * len(rows)
    for i, level in enumerate(levels):
        shares = [d["distribution"][str(level["value"])] / d["rated"] for d in rows]
        axes.barh(
            names, shares, left=left, color=LEVEL_COLOURS[i % 6], hatch=HATCHES[i % 6],
            edgecolor="white", linewidth=0.6, label=f"{level['value']} · {level['label']}",
        )  # fmt: skip
        left = [a + b for a, b in zip(left, shares, strict=True)]
    for y, d in enumerate(rows):
        axes.text(1.01, y, _percent(d["share"]), va="center", fontsize=9)
    axes.set_xlim(0, 1)
    axes.invert_yaxis()
    _percent_axis(axes.xaxis)
    axes.legend(ncols=len(levels), loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    at_least = report["scope"]["at_least_label"]
    axes.set_title(f"Levels seen, by equity dimension (right: share at {at_least} or above)",
                   loc="left", fontsize=10)  # fmt: skip
    description = "; ".join(
        f"{d['name']}: {_percent(d['share'])} at {at_least} or above of {d['rated']} ratings"
        for d in rows
    )
    return _svg(figure, "chart-dimensions", "Levels seen by equity dimension", description)


def trend(report: dict[str, Any]) -> Markup | None:
    months = [m for m in report.get("trend", []) if not m["suppressed"]]
    if len(months) < 2:
        return None
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 2.8))
    labels = [m["month"] for m in months]
    names = list(months[0]["dimensions"])
    for i, name in enumerate(names):
        axes.plot(labels, [m["dimensions"].get(name) for m in months], marker=MARKERS[i % 6],
                  color=LEVEL_COLOURS[(i + 3) % 6], label=name.capitalize())  # fmt: skip
    axes.plot(labels, [m["share"] for m in months], color="#111111", linewidth=2.2,
              linestyle="--", label="All look-fors")  # fmt: skip
    axes.set_ylim(0, 1)
    _percent_axis(axes.yaxis)
    axes.legend(ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    at_least = report["scope"]["at_least_label"]
    axes.set_title(f"Share at {at_least} or above, month by month", loc="left", fontsize=10)
    description = "; ".join(f"{m['month']}: {_percent(m['share'])}" for m in months)
    return _svg(figure, "chart-trend", f"Share at {at_least} or above by month", description)


def heatmap(report: dict[str, Any]) -> Markup | None:
    groups = [g for g in report.get("groups", {}).get("rows", []) if not g["suppressed"]]
    if not groups:
        return None
    criteria = report["criteria"]
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 0.32 * len(criteria) + 1.6))
    grid = [[g["criteria"][c["key"]]["share"] for g in groups] for c in criteria]
    shown = [[float("nan") if v is None else v for v in row] for row in grid]
    axes.imshow(shown, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for y, c in enumerate(criteria):
        for x, g in enumerate(groups):
            cell = g["criteria"][c["key"]]
            mark = {"above": " ▲", "below": " ▼"}.get(cell["gap"] or "", "")
            value = grid[y][x]
            ink = "white" if value is not None and value > 0.7 else "#111111"
            axes.text(x, y, _percent(value) + mark, ha="center", va="center", fontsize=7,
                      color=ink)  # fmt: skip
    axes.set_xticks(range(len(groups)), [textwrap.shorten(g["label"], 18) for g in groups],
                    rotation=30, ha="right")  # fmt: skip
    axes.set_yticks(range(len(criteria)), [textwrap.shorten(c["text"], 52) for c in criteria])
    axes.spines[:].set_visible(False)
    at_least = report["scope"]["at_least_label"]
    by = report["scope"]["by_label"]
    axes.set_title(f"Share at {at_least} or above, look-for by {by} (▲▼ a gap beyond chance)",
                   loc="left", fontsize=10)  # fmt: skip
    flagged = [
        f"{c['text']} — {g['label']}: {_percent(g['criteria'][c['key']]['share'])}, "
        f"{g['criteria'][c['key']]['gap']} the rest"
        for c in criteria
        for g in groups
        if g["criteria"][c["key"]]["gap"]
    ]
    description = f"{len(criteria)} look-fors by {len(groups)} groups. Gaps beyond chance: " + (
        "; ".join(flagged) if flagged else "none"
    )
    return _svg(figure, "chart-heatmap", f"Look-fors by {by}", description)


def agreement(report: dict[str, Any]) -> Markup | None:
    """A calibration report's agreement per look-for: within one and exact, least first."""
    rows = [r for r in report["criteria"] if r["percent_within_one"] is not None]
    if not rows:
        return None
    rows.sort(key=lambda r: (r["percent_within_one"], r["percent_exact"] or 0))
    target = report["thresholds"]["within_one"]
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 0.3 * len(rows) + 1.4))
    labels = [textwrap.shorten(r["text"], 58) for r in rows]
    within = [r["percent_within_one"] for r in rows]
    exact = [r["percent_exact"] or 0 for r in rows]
    positions = list(range(len(rows)))
    for discuss, colour, hatch, label in (
        (False, LEVEL_COLOURS[3], "", "Within one level"),
        (True, LEVEL_COLOURS[0], "//", "Within one, to discuss"),
    ):
        chosen = [i for i, r in enumerate(rows) if (r["flag"] == "discuss") == discuss]
        if chosen:
            axes.barh([positions[i] for i in chosen], [within[i] for i in chosen],
                      color=colour, hatch=hatch, edgecolor="white", label=label)  # fmt: skip
    axes.barh(positions, exact, height=0.35, color="#111111", label="Exact")
    axes.set_yticks(positions, labels)
    axes.axvline(target, color="#444444", linestyle="--", linewidth=1,
                 label=f"Target {target * 100:.0f}% within one")  # fmt: skip
    for y, value in enumerate(within):
        axes.text(min(value, 1) + 0.01, y, _percent(value), va="center", fontsize=7)
    axes.set_xlim(0, 1.12)
    axes.invert_yaxis()
    axes.tick_params(axis="y", labelsize=7)
    _percent_axis(axes.xaxis)
    axes.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.06), frameon=False,
                fontsize=7)  # fmt: skip
    axes.set_title("Agreement per look-for, least first (hatched: to discuss)", loc="left",
                   fontsize=10)  # fmt: skip
    description = "; ".join(
        f"{r['text']}: {_percent(r['percent_within_one'])} within one, "
        f"{_percent(r['percent_exact'])} exact" + (" (discuss)" if r["flag"] == "discuss" else "")
        for r in rows
    )
    return _svg(figure, "chart-agreement", "Agreement per look-for", description)


def for_summary(report: dict[str, Any]) -> dict[str, Markup]:
    made = {"dimensions": dimensions(report), "trend": trend(report), "heatmap": heatmap(report)}
    return {name: svg for name, svg in made.items() if svg is not None}
