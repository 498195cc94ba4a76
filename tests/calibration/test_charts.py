"""The calibration charts: the report's agreement per look-for, and the trends page's team
agreement and observer drift over time — SVG with a title, and a description that says the
same figures as the tables beside them."""

from __future__ import annotations

import html
import re

from observe.calibration import charts
from tests.calibration.test_sessions import SCORES, _scored_and_revealed


def svgs(page: str) -> dict[str, str]:
    """Each chart on a page, by the id of its title."""
    found = re.findall(r'(<svg role="img" aria-labelledby="([\w-]+)-title .*?</svg>)', page, re.S)
    return {name: svg for svg, name in found}


def text_of(svg: str, part: str) -> str:
    match = re.search(rf"<{part} id=\"[\w-]+-{part}\">(.*?)</{part}>", svg, re.S)
    assert match, part
    return html.unescape(match.group(1))


TEAM = {
    "team": "Riverside instructional team",
    "sessions": [
        {"session_id": 1, "title": "Number talk", "held_on": "2026-09-01",
         "percent_within_one": 0.75, "percent_exact": 0.5},
        {"session_id": 2, "title": "Nobody rated", "held_on": "2026-10-01",
         "percent_within_one": None, "percent_exact": None},
        {"session_id": 3, "title": "Fractions", "held_on": "2026-11-01",
         "percent_within_one": 0.9167, "percent_exact": 0.6667},
    ],
}  # fmt: skip
DRIFT = {
    "team": "Riverside instructional team",
    "observers": [
        {"user_id": 7, "name": "Ann Ames", "sessions": [
            {"session_id": 1, "within_one": 1.0}, {"session_id": 3, "within_one": 0.6667}]},
        {"user_id": 8, "name": "Ben Boyd", "sessions": [{"session_id": 3, "within_one": 1.0}]},
    ],
}  # fmt: skip


def test_a_teams_agreement_over_time_says_its_figures_and_leaves_undefined_as_a_gap():
    svg = str(charts.team_agreement(TEAM, 0.8, "chart-team-1"))
    assert text_of(svg, "title") == "Agreement over time, Riverside instructional team"
    assert text_of(svg, "desc") == (
        "Target 80% within one level. 2026-09-01 Number talk: 75% within one, 50% exact; "
        "2026-10-01 Nobody rated: undefined within one, undefined exact; "
        "2026-11-01 Fractions: 92% within one, 67% exact"
    )
    # Printed beside its point, so the figure does not depend on reading the axis or colour.
    assert ">75%<" in svg and ">92%<" in svg and ">Target 80% within one<" in svg
    assert ">0%<" in svg  # the axis; the undefined session is a gap, not a 0% point
    assert svg.count(">2026-10-01<") == 1  # its place on the axis, and nothing else


def test_each_observers_drift_names_every_session_they_scored():
    svg = str(charts.observer_drift(TEAM, DRIFT, 0.8, "chart-drift-1"))
    assert (
        text_of(svg, "title") == "Each observer's agreement over time, Riverside instructional team"
    )
    assert text_of(svg, "desc") == (
        "Ann Ames: 2026-09-01 100%, 2026-10-01 undefined, 2026-11-01 67%; "
        "Ben Boyd: 2026-09-01 undefined, 2026-10-01 undefined, 2026-11-01 100%"
    )
    assert ">Ann Ames<" in svg and ">Ben Boyd<" in svg  # the legend


def test_no_session_no_chart():
    assert charts.team_agreement({**TEAM, "sessions": []}, 0.8, "c") is None
    assert charts.observer_drift(TEAM, {**DRIFT, "observers": []}, 0.8, "c") is None


def test_a_long_team_name_is_wrapped_not_cut():
    name = "The district equity and instructional leadership team of the northern schools"
    svg = str(charts.team_agreement({**TEAM, "team": name}, 0.8, "c"))
    lines = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    at = next(i for i, line in enumerate(lines) if line.startswith("The district"))
    assert " ".join(lines[at : at + 2]) == f"{name}: agreement session by session"
    assert all(len(line) <= 70 for line in lines)


def test_the_trends_page_draws_both_charts_beside_its_tables(
    client, bearer, sign_in, new_session, score, team
):
    first = _scored_and_revealed(client, bearer, new_session, score, team, held_on="2026-09-01")
    second = _scored_and_revealed(
        client, bearer, new_session, score, team, held_on="2026-10-01", title="Second look"
    )
    sign_in(team.facilitator)
    page = client.get("/calibration/trends").get_data(as_text=True)
    drawn = svgs(page)
    assert set(drawn) == {"chart-team-1", "chart-drift-1"}
    trends = client.get("/api/v1/calibration/trends", headers=bearer(team.facilitator)).get_json()
    [sessions] = [t["sessions"] for t in trends["teams"]]
    assert [s["session_id"] for s in sessions] == [first["id"], second["id"]]
    desc = text_of(drawn["chart-team-1"], "desc")
    for s in sessions:  # the same figures as the table and the API
        assert (
            f"{s['held_on']} {s['title']}: {round(s['percent_within_one'] * 100)}% within one, "
            f"{round(s['percent_exact'] * 100)}% exact"
        ) in desc
    drift = text_of(drawn["chart-drift-1"], "desc")
    assert [name.split(":")[0] for name in drift.split("; ")] == sorted(SCORES)
    # The tables stay: they are the exact figures.
    assert "Agreement per session of Riverside instructional team" in page
    assert "Observer drift in Riverside instructional team" in page
