"""The calibration report's chart (see observe/core/charts.py for how charts are drawn)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from observe.core import charts, formatting


def agreement(report: dict[str, Any]) -> Markup | None:
    """A calibration report's agreement per look-for: within one and exact, least first."""
    rows = [r for r in report["criteria"] if r["percent_within_one"] is not None]
    if not rows:
        return None
    rows.sort(key=lambda r: (r["percent_within_one"], r["percent_exact"] or 0))
    target = report["thresholds"]["within_one"]
    # Each look-for whole, on as many lines as it needs (Spanish runs ~25 % longer): the
    # chart grows with its lines rather than cutting the district's words short.
    labels = [charts.wrap(r["text"], 58) for r in rows]
    lines = sum(label.count("\n") + 1 for label in labels)
    plt = charts.pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 0.3 * len(rows) + 0.12 * (lines - len(rows)) + 1.4))
    within = [r["percent_within_one"] for r in rows]
    exact = [r["percent_exact"] or 0 for r in rows]
    positions = list(range(len(rows)))
    for discuss, colour, hatch, label in (
        (False, charts.LEVEL_COLOURS[3], "", _("Within one level")),
        (True, charts.LEVEL_COLOURS[0], "//", _("Within one, to discuss")),
    ):
        chosen = [i for i, r in enumerate(rows) if (r["flag"] == "discuss") == discuss]
        if chosen:
            axes.barh([positions[i] for i in chosen], [within[i] for i in chosen],
                      color=colour, hatch=hatch, edgecolor="white", label=label)  # fmt: skip
    axes.barh(positions, exact, height=0.35, color="#111111", label=_("Exact"))
    axes.set_yticks(positions, labels)
    axes.axvline(target, color="#444444", linestyle="--", linewidth=1,
                 label=_("Target %(share)s within one", share=charts.percent(target)))  # fmt: skip
    for y, value in enumerate(within):
        axes.text(min(value, 1) + 0.01, y, charts.percent(value), va="center", fontsize=7)
    axes.set_xlim(0, 1.12)
    axes.invert_yaxis()
    axes.tick_params(axis="y", labelsize=7)
    charts.percent_axis(axes.xaxis)
    axes.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.06), frameon=False,
                fontsize=7)  # fmt: skip
    axes.set_title(_("Agreement per look-for, least first (hatched: to discuss)"), loc="left",
                   fontsize=10)  # fmt: skip
    description = "; ".join(
        (
            _("%(look_for)s: %(within)s within one, %(exact)s exact (discuss)",
              look_for=r["text"], within=charts.percent(r["percent_within_one"]),
              exact=charts.percent(r["percent_exact"]))
            if r["flag"] == "discuss"
            else _("%(look_for)s: %(within)s within one, %(exact)s exact",
                   look_for=r["text"], within=charts.percent(r["percent_within_one"]),
                   exact=charts.percent(r["percent_exact"]))
        )
        for r in rows
    )  # fmt: skip
    return charts.svg_markup(figure, "chart-agreement", _("Agreement per look-for"), description)


# ---- trends: a team's agreement and its observers' drift, session by session -------------------


def _session_axis(axes: Any, sessions: list[dict[str, Any]]) -> None:
    """Sessions in the order held, named by their date (the table below names them in full);
    dates lean when there are many, so none is cut or run into its neighbour."""
    many = len(sessions) > 7
    axes.set_xticks(range(len(sessions)), [s["held_on"] for s in sessions],
                    rotation=35 if many else 0, ha="right" if many else "center")  # fmt: skip
    axes.set_xlim(-0.5, len(sessions) - 0.5)
    axes.set_ylim(0, 1.05)
    charts.percent_axis(axes.yaxis)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)


def _shares(values: list[float | None]) -> list[float]:
    """None as a gap in the line (matplotlib breaks a line at NaN), never as 0."""
    return [float("nan") if v is None else v for v in values]


def team_agreement(team: dict[str, Any], target: float, name: str) -> Markup | None:
    """One team's agreement session by session: within one level and exact, against the
    within-one target. An undefined figure is a gap, and says so in the description."""
    sessions = team["sessions"]
    if not sessions:
        return None
    plt = charts.pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 2.9))
    positions = list(range(len(sessions)))
    within = [s["percent_within_one"] for s in sessions]
    exact = [s["percent_exact"] for s in sessions]
    axes.plot(positions, _shares(within), marker="o", color=charts.LEVEL_COLOURS[3],
              linewidth=2, label=_("Within one level"))  # fmt: skip
    axes.plot(positions, _shares(exact), marker="s", linestyle=":", color=charts.LEVEL_COLOURS[0],
              linewidth=1.6, label=_("Exact"))  # fmt: skip
    for x, value in enumerate(within):
        if value is not None:
            axes.annotate(charts.percent(value), (x, value), textcoords="offset points",
                          xytext=(0, 6), ha="center", fontsize=7, zorder=3,
                          bbox=charts.LABEL_BOX)  # fmt: skip
    axes.axhline(target, color="#444444", linestyle="--", linewidth=1,
                 label=_("Target %(share)s within one", share=charts.percent(target)))  # fmt: skip
    _session_axis(axes, sessions)
    axes.legend(ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.2 - 0.1 * (len(sessions) > 7)),
                frameon=False, fontsize=8)  # fmt: skip
    axes.set_title(_wrap(_("%(team)s: agreement session by session", team=team["team"])),
                   loc="left", fontsize=10)  # fmt: skip
    description = (
        _("Target %(share)s within one level.", share=charts.percent(target)) + " "
        + "; ".join(
            _("%(day)s %(title)s: %(within)s within one, %(exact)s exact", day=s["held_on"],
              title=s["title"], within=_figure(s["percent_within_one"]),
              exact=_figure(s["percent_exact"]))
            for s in sessions
        )
    )  # fmt: skip
    return charts.svg_markup(
        figure, name, _("Agreement over time, %(team)s", team=team["team"]), description
    )


def observer_drift(
    team: dict[str, Any], drift: dict[str, Any], target: float, name: str
) -> Markup | None:
    """Each observer's agreement with the reference (within one level), session by session:
    a line that falls is an observer drifting away from the team."""
    sessions = team["sessions"]
    observers = drift["observers"]
    if not sessions or not observers:
        return None
    order = {s["session_id"]: i for i, s in enumerate(sessions)}
    plt = charts.pyplot()
    figure, axes = plt.subplots(figsize=(7.2, 3.1))
    lines = []
    for i, person in enumerate(observers):
        values: list[float | None] = [None] * len(sessions)
        for entry in person["sessions"]:
            if entry["session_id"] in order:
                values[order[entry["session_id"]]] = entry["within_one"]
        style = ["-", "--", ":", "-."][i // 6 % 4]  # a seventh observer differs by line too
        axes.plot(range(len(sessions)), _shares(values), marker=charts.MARKERS[i % 6],
                  color=charts.LEVEL_COLOURS[(i + 3) % 6], linestyle=style, linewidth=1.5,
                  label=_wrap(person["name"], 24))  # fmt: skip
        lines.append((person["name"], values))
    axes.axhline(target, color="#444444", linestyle="--", linewidth=1, alpha=0.6)
    _session_axis(axes, sessions)
    axes.legend(ncols=min(len(observers), 4), loc="upper center", frameon=False, fontsize=8,
                bbox_to_anchor=(0.5, -0.2 - 0.1 * (len(sessions) > 7)))  # fmt: skip
    axes.set_title(
        _wrap(_("%(team)s: each observer within one level of the reference", team=team["team"])),
        loc="left", fontsize=10,
    )  # fmt: skip
    dates = [s["held_on"] for s in sessions]
    description = "; ".join(
        f"{person}: "
        + ", ".join(f"{day} {_figure(v)}" for day, v in zip(dates, values, strict=True))
        for person, values in lines
    )
    return charts.svg_markup(
        figure,
        name,
        _("Each observer's agreement over time, %(team)s", team=team["team"]),
        description,
    )


def for_trends(trends: dict[str, Any], target: float) -> dict[str, dict[str, Markup]]:
    """The charts of the trends page, by team name: its agreement, and its observers' drift."""
    drift = {d["team"]: d for d in trends["drift"]}
    made: dict[str, dict[str, Markup]] = {}
    for i, team in enumerate(trends["teams"], start=1):
        pair = {
            "agreement": team_agreement(team, target, f"chart-team-{i}"),
            "drift": observer_drift(team, drift[team["team"]], target, f"chart-drift-{i}")
            if team["team"] in drift
            else None,
        }
        made[team["team"]] = {kind: svg for kind, svg in pair.items() if svg is not None}
    return made


def _figure(share: float | None) -> str:
    return formatting.undefined() if share is None else charts.percent(share)


def _wrap(text: str, width: int = 70) -> str:
    return charts.wrap(text, width)
