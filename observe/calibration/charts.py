"""The calibration report's chart (see observe/core/charts.py for how charts are drawn)."""

from __future__ import annotations

import textwrap
from typing import Any

from markupsafe import Markup

from observe.core import charts


def agreement(report: dict[str, Any]) -> Markup | None:
    """A calibration report's agreement per look-for: within one and exact, least first."""
    rows = [r for r in report["criteria"] if r["percent_within_one"] is not None]
    if not rows:
        return None
    rows.sort(key=lambda r: (r["percent_within_one"], r["percent_exact"] or 0))
    target = report["thresholds"]["within_one"]
    plt = charts.pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 0.3 * len(rows) + 1.4))
    labels = [textwrap.shorten(r["text"], 58) for r in rows]
    within = [r["percent_within_one"] for r in rows]
    exact = [r["percent_exact"] or 0 for r in rows]
    positions = list(range(len(rows)))
    for discuss, colour, hatch, label in (
        (False, charts.LEVEL_COLOURS[3], "", "Within one level"),
        (True, charts.LEVEL_COLOURS[0], "//", "Within one, to discuss"),
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
        axes.text(min(value, 1) + 0.01, y, charts.percent(value), va="center", fontsize=7)
    axes.set_xlim(0, 1.12)
    axes.invert_yaxis()
    axes.tick_params(axis="y", labelsize=7)
    charts.percent_axis(axes.xaxis)
    axes.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.06), frameon=False,
                fontsize=7)  # fmt: skip
    axes.set_title("Agreement per look-for, least first (hatched: to discuss)", loc="left",
                   fontsize=10)  # fmt: skip
    description = "; ".join(
        f"{r['text']}: {charts.percent(r['percent_within_one'])} within one, "
        f"{charts.percent(r['percent_exact'])} exact"
        + (" (discuss)" if r["flag"] == "discuss" else "")
        for r in rows
    )
    return charts.svg_markup(figure, "chart-agreement", "Agreement per look-for", description)
