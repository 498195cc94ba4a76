"""The equity goals' charts: each goal's share month by month against its target, with a
description that says the table's figures — and never a month the table hides."""

from __future__ import annotations

from observe.reports import charts
from tests.calibration.test_charts import svgs, text_of
from tests.reports.test_goals import goal_body, visits  # noqa: F401 (a fixture)
from tests.reports.test_pdf import pdf_text

PROGRESS = {
    "id": 4,
    "title": "Every student explains their reasoning",
    "at_least_label": "Proficient",
    "target_share": 0.7,
    "min_group": 10,
    "months": [
        {"month": "2026-09", "observations": None, "share": None},
        {"month": "2026-10", "observations": 12, "share": 0.75},
        {"month": "2026-11", "observations": 14, "share": 0.5},
        {"month": "2026-12", "observations": None, "share": None},
    ],
}


def test_a_goals_chart_shows_the_months_the_table_shows_and_no_other():
    svg = str(charts.goal(PROGRESS))
    assert text_of(svg, "title") == "Every student explains their reasoning: share by month"
    assert text_of(svg, "desc") == (
        "Target 70% at Proficient or above. "
        "2026-10: 75% of ratings, 12 walkthroughs, met; "
        "2026-11: 50% of ratings, 14 walkthroughs, below the target. "
        "2 months not shown: fewer than 10 walkthroughs."
    )
    assert ">2026-10<" in svg and ">75%<" in svg and ">50%<" in svg and ">Target 70%<" in svg
    assert "2026-09" not in svg and "2026-12" not in svg
    # Below the target is told apart by a pattern as well as a colour.
    assert "<pattern " in svg
    assert "At or above the target" in svg and "Below the target" in svg


def test_no_month_shown_no_chart():
    hidden = [{"month": "2026-09", "observations": None, "share": None}]
    assert charts.goal({**PROGRESS, "months": hidden}) is None


def test_the_goals_page_draws_each_goal_without_its_hidden_months(
    client,
    bearer,
    sign_in,
    team,
    visits,  # noqa: F811 (the fixture imported above)
):
    goal = client.post("/api/v1/goals", json=goal_body(team), headers=bearer(team.facilitator))
    goal_id = goal.get_json()["id"]
    sign_in(team.facilitator)
    page = client.get("/reports/goals").get_data(as_text=True)
    svg = svgs(page)[f"chart-goal-{goal_id}"]
    # The API's figures: October and November shown; September (3 visits) is not.
    assert text_of(svg, "desc") == (
        "Target 70% at Proficient or above. 2026-10: 75% of ratings, 12 walkthroughs, met; "
        "2026-11: 0% of ratings, 11 walkthroughs, below the target. "
        "1 month not shown: too few walkthroughs."
    )
    assert "2026-09" not in svg
    assert "not shown: too few walkthroughs" in page  # the table keeps its rows


def test_the_summary_and_its_pdf_carry_each_goals_chart(
    client,
    bearer,
    sign_in,
    team,
    visits,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    goal = client.post("/api/v1/goals", json=goal_body(team), headers=bearer(team.facilitator))
    goal_id = goal.get_json()["id"]
    sign_in(team.facilitator)
    query = f"rubric_version_id={team.version.id}"
    page = client.get(f"/reports/summary?{query}").get_data(as_text=True)
    svg = svgs(page)[f"chart-goal-{goal_id}"]
    # The trend beside it hides September (3 visits) and, as cover, October, not the newest
    # month: the goal hides the same months.
    assert "2026-11: 0% of ratings, 11 walkthroughs, below the target." in text_of(svg, "desc")
    assert "2026-09" not in svg and "2026-10" not in svg

    pdf = client.get(f"/reports/summary.pdf?{query}")
    assert pdf.status_code == 200
    text = pdf_text(pdf.get_data(), tmp_path)
    assert "Share at Proficient or above, month by month" in text
    assert "Every student explains their reasoning (months not shown in the table are left" in (
        " ".join(text.split())
    )
