"""The summary's headline (reports/headline.py): each kind of finding from hand-made figures,
the honest empty case, and that a hidden figure is never cited — then the headline on the
page, in the API and in the PDF."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from observe.reports.headline import MOST, what_stands_out
from tests.reports.test_pdf import pdf_text

AT = "Proficient"


def cell(share: float | None, *, gap: str | None = None, se: float = 0.03, **more: Any) -> dict:
    interval = None if share is None else [round(share - 2 * se, 4), round(share + 2 * se, 4)]
    return {"share": share, "se": se, "interval": interval, "rated": 120, "classrooms": 8,
            "suppressed": None, "gap": gap, **more}  # fmt: skip


def hidden_cell(share: float, gap: str | None = None) -> dict:
    """A cell the report hides — here with a share left in, as if a bug had kept it: the
    headline must still never cite it."""
    return {**cell(share, gap=gap), "suppressed": "too few ratings"}


def report(**parts: Any) -> dict[str, Any]:
    """A split summary: two look-fors, two dimensions, nothing standing out unless told."""
    base: dict[str, Any] = {
        "suppressed": False,
        "observations": 400,
        "scope": {"at_least_label": AT, "by": "course_level", "by_label": "Course level"},
        "criteria": [
            {"key": "a", "text": "Students explain their reasoning.", **cell(0.60)},
            {"key": "b", "text": "Students ask questions", **cell(0.50)},
        ],
        "dimensions": [{"name": "power", **cell(0.55)}, {"name": "access", **cell(0.50)}],
        "trend": [],
        "goals": [],
        "compare": None,
        "groups": {
            "by": "course_level",
            "label": "Course level",
            "adjustment": {"refused": None},
            "rows": [
                {"key": "AP", "label": "AP", "suppressed": False, "observations": 100,
                 "criteria": {"a": cell(0.62), "b": cell(0.52)},
                 "dimensions": {"power": cell(0.56), "access": cell(0.51)}},
                {"key": "general", "label": "general", "suppressed": False, "observations": 300,
                 "criteria": {"a": cell(0.59), "b": cell(0.49)},
                 "dimensions": {"power": cell(0.55), "access": cell(0.50)}},
            ],
        },
    }  # fmt: skip
    base.update(parts)
    return base


def kinds(headline: dict[str, Any]) -> list[str]:
    return [f["kind"] for f in headline["findings"]]


def test_nothing_to_say_is_said_honestly():
    quiet = what_stands_out(report())
    assert quiet["findings"] == []
    assert "Nothing stands out beyond chance" in quiet["note"]
    assert "no gap between groups survives" in quiet["note"]

    unsplit = what_stands_out(report(groups=None))
    assert unsplit["findings"] == []
    assert "Split the report" in unsplit["note"] and "no gap" not in unsplit["note"]

    too_few = what_stands_out({"suppressed": True, "scope": {"at_least_label": AT}})
    assert too_few["findings"] == []
    assert "Too few walkthroughs" in too_few["note"]


def test_the_largest_gaps_that_survive_the_correction():
    figures = report()
    rows = figures["groups"]["rows"]
    # 30 points above the scope's 60% (35 above the rest's 55%, what the test compares with).
    rows[0]["criteria"]["a"] = cell(0.90, gap="above", rest_share=0.55)
    rows[1]["criteria"]["b"] = cell(0.40, gap="below", rest_share=0.52)  # 12 below the rest
    rows[1]["criteria"]["a"] = cell(0.45)  # far from 60% but not flagged: not a finding
    found = what_stands_out(figures)
    gaps = [f for f in found["findings"] if f["kind"] == "gap"]
    assert [(g["figure"]["group"], g["direction"]) for g in gaps] == [
        ("AP", "above"),
        ("general", "below"),
    ]
    first = gaps[0]
    assert first["text"] == (
        "AP: 90% of ratings at Proficient or above on “Students explain their reasoning”, "
        "against 55% in the rest of the scope — above it beyond chance."
    )
    assert first["figure"]["share"] == 0.90 and first["compared_with"] == 0.55
    assert first["section"] == "groups-criteria"
    assert "45%" not in " ".join(f["text"] for f in found["findings"])


def test_goals_furthest_behind_their_target():
    goal = {"id": 7, "title": "Voice in every classroom", "school": None, "target_share": 0.70,
            "at_least_label": AT, "status": "behind", "decided_by": None,
            "latest": {"month": "2026-11", "share": 0.43, "interval": [0.35, 0.51]}}  # fmt: skip
    closer = {**goal, "id": 8, "title": "Rigorous tasks", "school": {"name": "Riverbend High"},
              "latest": {"month": "2026-11", "share": 0.62, "interval": [0.55, 0.68]}}  # fmt: skip
    unclear = {**goal, "id": 9, "status": "not clear"}
    on_track = {**goal, "id": 10, "status": "on track"}
    decided = {"share": 0.30, "from_month": "2026-05", "to_month": "2026-05"}
    missed = {**goal, "id": 11, "title": "Access", "status": "not met", "latest": None,
              "decided_by": decided}  # fmt: skip
    found = what_stands_out(report(goals=[closer, unclear, goal, on_track, missed]))
    goals = [f for f in found["findings"] if f["kind"] == "goal"]
    # At most two of a kind: the furthest from their targets (40 and 27 points).
    assert [g["figure"]["goal"] for g in goals] == [11, 7]
    assert goals[0]["text"] == (
        "Goal “Access” (the district) was not met: 30% at Proficient or above in 2026-05, "
        "against a target of 70%."
    )
    assert goals[1]["text"] == (
        "Goal “Voice in every classroom” (the district) is behind: 43% at Proficient or above "
        "in 2026-11, against a target of 70%."
    )
    assert goals[1]["section"] == "goal-7"


def test_changes_since_last_year_only_beyond_chance():
    compare = {
        "year": "2026-27",
        "last_year": "2025-26",
        "rows": [
            {"kind": "dimension", "name": "power", "this": cell(0.62, se=0.02),
             "last": cell(0.48, se=0.02)},
            {"kind": "dimension", "name": "access", "this": cell(0.52, se=0.05),
             "last": cell(0.50, se=0.05)},  # two points on wide intervals: chance
            {"kind": "competency", "name": "Collaborator", "this": cell(0.9, se=0.01),
             "last": cell(0.1, se=0.01)},  # competencies are in the table, not the headline
        ],
    }  # fmt: skip
    found = what_stands_out(report(compare=compare))
    changes = [f for f in found["findings"] if f["kind"] == "change"]
    assert [c["text"] for c in changes] == [
        "Power rose to 62% at Proficient or above in 2026-27, from 48% over the same span of "
        "2025-26."
    ]
    assert changes[0]["section"] == "compare-heading"

    # A report starting in the month under way counts this year to today against the whole
    # month last year: not the same span, and the sentence says which days (review minor b).
    so_far = {**copy.deepcopy(compare), "same_span": False,
              "this": {"from": "2026-12-01", "to": "2026-12-31", "through": "2026-12-03"},
              "last": {"from": "2025-12-01", "to": "2025-12-31"}}  # fmt: skip
    changes = [f for f in what_stands_out(report(compare=so_far))["findings"]
               if f["kind"] == "change"]  # fmt: skip
    assert [c["text"] for c in changes] == [
        "Power rose to 62% at Proficient or above from 2026-12-01 to 2026-12-03, against 48% "
        "from 2025-12-01 to 2025-12-31."
    ]

    # A year whose earlier figure is hidden: no change to speak of.
    hidden_last = copy.deepcopy(compare)
    hidden_last["rows"][0]["last"] = None
    assert "change" not in kinds(what_stands_out(report(compare=hidden_last)))


def test_without_last_year_the_change_since_the_month_before():
    def month(name: str, power: float, suppressed: bool = False) -> dict:
        if suppressed:
            return {"month": name, "suppressed": True, "reason": "too few walkthroughs"}
        return {"month": name, "suppressed": False, "share": power,
                "dimension_figures": {"power": cell(power, se=0.02),
                                      "access": cell(0.5, se=0.02)}}  # fmt: skip

    trend = [month("2026-09", 0.45), month("2026-10", 0.10, suppressed=True),
             month("2026-11", 0.60)]  # fmt: skip
    found = what_stands_out(report(trend=trend))
    changes = [f for f in found["findings"] if f["kind"] == "change"]
    # The month before the latest *shown*: the hidden October is skipped, never cited.
    assert [c["text"] for c in changes] == [
        "Power rose to 60% at Proficient or above in 2026-11, from 45% in 2026-09."
    ]
    assert changes[0]["section"] == "trend-heading"


def test_bright_spots_adjusted_for_who_observed_where_the_model_allows():
    figures = report()
    rows = figures["groups"]["rows"]
    rows[0]["dimensions"]["power"] = cell(0.80, se=0.03)  # AP, as observed, far ahead...
    # ...but its observers are lenient: adjusted it is 0.70, still ahead of 55%.
    moved = {"power": {"share": 0.70, "interval": [0.62, 0.78]},
             "access": {"share": 0.49, "interval": [0.4, 0.58]}}  # fmt: skip
    rows[0]["adjusted"] = {"lean": 0.10, "lean_standard_error": 0.02, "dimensions": moved}
    rows[1]["dimensions"]["access"] = cell(0.75, se=0.03)  # general: no adjusted figure
    # The scope adjusted the same way (its observers lean +1 point): 54%.
    figures["groups"]["adjustment"]["scope"] = {
        "lean": 0.01, "lean_standard_error": 0.01,
        "dimensions": {"power": {"share": 0.54, "interval": [0.5, 0.58]},
                       "access": {"share": 0.49, "interval": [0.45, 0.53]}},
    }  # fmt: skip
    found = what_stands_out(figures)
    spots = [f for f in found["findings"] if f["kind"] == "bright_spot"]
    assert [s["text"] for s in spots] == [
        "general is ahead on access: 75% at Proficient or above, against 50% across the scope.",
        "AP is ahead on power: 70% at Proficient or above adjusted for who observed, against "
        "54% across the scope adjusted the same way.",
    ]
    assert spots[1]["compared_with"] == 0.54
    assert [s["section"] for s in spots] == ["groups-heading", "adjusted-heading"]
    assert spots[1]["adjusted"] is True and spots[1]["figure"]["share"] == 0.70

    # When the model refused, every figure is as observed.
    figures["groups"]["adjustment"] = {"refused": "too little overlap between observers"}
    spots = [f for f in what_stands_out(figures)["findings"] if f["kind"] == "bright_spot"]
    assert "AP is ahead on power: 80% at Proficient or above, against 55% across the scope." in [
        s["text"] for s in spots
    ]

    # A lead within chance is no bright spot.
    near = report()
    near["groups"]["rows"][0]["dimensions"]["power"] = cell(0.60, se=0.05)
    assert "bright_spot" not in kinds(what_stands_out(near))


def test_a_lead_that_adjustment_explains_is_no_bright_spot():
    """Review B1: AP's 80% as observed is 66% adjusted for its lenient observers — ahead of the
    scope's 55% as observed, but the scope's own observers are severe: adjusted the same way
    it is 65%, and a point is no lead. Compared like with like, AP is no bright spot."""
    figures = report()
    ap = figures["groups"]["rows"][0]
    ap["dimensions"]["power"] = cell(0.80, se=0.03)
    ap["adjusted"] = {
        "lean": 0.14,
        "lean_standard_error": 0.02,
        "dimensions": {
            "power": {"share": 0.66, "interval": [0.58, 0.74]},
            "access": {"share": 0.37, "interval": [0.3, 0.44]},
        },
    }
    figures["groups"]["adjustment"]["scope"] = {
        "lean": -0.10, "lean_standard_error": 0.01,
        "dimensions": {"power": {"share": 0.65, "interval": [0.6, 0.7]},
                       "access": {"share": 0.60, "interval": [0.55, 0.65]}},
    }  # fmt: skip
    assert "bright_spot" not in kinds(what_stands_out(figures))
    # Without an adjusted scope, both as observed: AP's 80% against 55% is a bright spot.
    figures["groups"]["adjustment"]["scope"] = None
    spots = [f for f in what_stands_out(figures)["findings"] if f["kind"] == "bright_spot"]
    assert [s["text"] for s in spots] == [
        "AP is ahead on power: 80% at Proficient or above, against 55% across the scope."
    ]


def test_a_bright_spot_of_few_classrooms_is_tested_on_t_not_the_normal():
    # A lead of 12 points with a standard error of 5: z = 2.4, p = 0.016 on the normal, but
    # on four classrooms (t with 3 degrees of freedom) p = 0.096 — within chance, as the
    # page's interval for the group says.
    few = report()
    few["groups"]["rows"][0]["dimensions"]["power"] = cell(0.67, se=0.05, classrooms=4)
    assert "bright_spot" not in kinds(what_stands_out(few))
    many = report()
    many["groups"]["rows"][0]["dimensions"]["power"] = cell(0.67, se=0.05, classrooms=400)
    assert "bright_spot" in kinds(what_stands_out(many))


def test_a_hidden_figure_is_never_cited():
    figures = report()
    rows = figures["groups"]["rows"]
    # A hidden group (with figures left in), a hidden cell flagged, a hidden dimension cell.
    rows.append({"key": "honors", "label": "honors", "suppressed": True,
                 "reason": "too few walkthroughs",
                 "criteria": {"a": cell(0.99, gap="above")},
                 "dimensions": {"power": cell(0.97, se=0.01)}})  # fmt: skip
    rows[0]["criteria"]["a"] = hidden_cell(0.93, gap="above")
    rows[1]["dimensions"]["access"] = hidden_cell(0.91)
    # A look-for whose scope-wide share is hidden: a gap on it cites no scope figure.
    figures["criteria"][1] = {**figures["criteria"][1], "suppressed": "too few ratings"}
    rows[1]["criteria"]["b"] = cell(0.80, gap="above")
    # A goal whose latest month is hidden has no latest to cite.
    figures["goals"] = [{"id": 3, "title": "Hidden", "school": None, "target_share": 0.9,
                         "status": "behind", "latest": None, "decided_by": None}]  # fmt: skip
    power = {"kind": "dimension", "name": "power", "this": hidden_cell(0.95), "last": cell(0.2)}
    figures["compare"] = {"year": "2026-27", "last_year": "2025-26", "rows": [power]}
    found = what_stands_out(figures)
    text = " ".join(f["text"] for f in found["findings"])
    for hidden in ("99%", "97%", "93%", "91%", "95%", "honors", "Hidden", "50%"):
        assert hidden not in text, hidden
    assert [f["text"] for f in found["findings"]] == [
        "general: 80% of ratings at Proficient or above on “Students ask questions” — above "
        "the rest beyond chance."
    ]


def test_at_most_five_findings_taking_turns_by_kind():
    figures = report()
    rows = figures["groups"]["rows"]
    for row in rows:
        row["criteria"] = {"a": cell(0.95, gap="above"), "b": cell(0.05, gap="below")}
        row["dimensions"] = {"power": cell(0.90, se=0.01), "access": cell(0.90, se=0.01)}
    figures["goals"] = [
        {"id": i, "title": f"Goal {i}", "school": None, "target_share": 0.9, "status": "behind",
         "latest": {"month": "2026-11", "share": 0.1 * i, "interval": None}, "decided_by": None}
        for i in range(1, 4)
    ]  # fmt: skip
    found = what_stands_out(figures)
    assert len(found["findings"]) == MOST
    assert kinds(found) == ["gap", "gap", "goal", "goal", "bright_spot"]
    assert found["note"] is None


# ---- on the page, in the API and in the PDF ------------------------------------------------------


@pytest.fixture
def gaps_district(push_as, team, create_classroom):
    """Four AP rooms rated high and four general rooms rated low, three visits each, levels
    varying from visit to visit (so the classrooms differ and the gap can be tested)."""
    key = "ct-explain-reasoning"
    rooms = {
        level: [
            create_classroom(f"{level}-{i}", school=team.school, name=f"{level} {i}",
                             course_level=level)
            for i in range(4)
        ]
        for level in ("AP", "general")
    }  # fmt: skip
    levels = {"AP": [[4, 4, 3], [4, 3, 3], [4, 4, 4], [3, 4, 2]],
              "general": [[1, 2, 2], [2, 1, 1], [2, 2, 3], [1, 1, 2]]}  # fmt: skip
    day = 1
    for course, classrooms in rooms.items():
        for room, visits in zip(classrooms, levels[course], strict=True):
            for level in visits:
                push_as(team.observers[0], {"classroom_id": room.id,
                        "observed_at": f"2026-10-{day:02d}T15:00:00+00:00",
                        "ratings": [{"criterion": key, "level": level}]})  # fmt: skip
                day = day % 28 + 1


def test_the_headline_on_the_page_in_the_api_and_in_the_pdf(
    client, bearer, sign_in, admin, gaps_district, tmp_path
):
    body = client.get("/api/v1/reports/summary?by=course_level", headers=bearer(admin)).get_json()
    headline = body["headline"]
    texts = [f["text"] for f in headline["findings"]]
    assert any(t.startswith("AP: ") and "rest of the scope — above it" in t for t in texts)
    assert any(t.startswith("general: ") and "rest of the scope — below it" in t for t in texts)
    # The sentence cites what the test compares with: the look-for less the group's cell.
    at = str(body["scope"]["at_least"])
    overall = {c["key"]: c for c in body["criteria"]}
    for finding in headline["findings"]:
        if finding["kind"] != "gap":
            continue
        row = next(r for r in body["groups"]["rows"] if r["label"] == finding["figure"]["group"])
        mine = row["criteria"][finding["figure"]["criterion"]]
        whole = overall[finding["figure"]["criterion"]]
        hits = sum(whole["distribution"][v] - mine["distribution"][v]
                   for v in whole["distribution"] if int(v) >= int(at))  # fmt: skip
        assert finding["compared_with"] == mine["rest_share"]
        rest = hits / (whole["rated"] - mine["rated"])
        assert mine["rest_share"] == pytest.approx(rest, abs=1e-4)
    for finding in headline["findings"]:
        assert finding["section"] and finding["section_label"]
        assert finding["figure"]["share"] is not None

    sign_in(admin)
    page = client.get("/reports/summary?by=course_level").get_data(as_text=True)
    assert page.index("What stands out") < page.index("Equity dimensions")
    for finding in headline["findings"]:
        # Each finding links to the element that holds its figure.
        assert f'href="#{finding["section"]}"' in page
        assert f'id="{finding["section"]}"' in page

    pdf = client.get("/reports/summary.pdf?by=course_level")
    text = " ".join(pdf_text(pdf.data, tmp_path).split())
    assert "What stands out" in text
    first_page = " ".join(
        pdf_text(pdf.data, tmp_path).split("\f")[0].split()
    )  # the headline is on page 1, each finding saying on which page its figure is
    assert "What stands out" in first_page and "See Look-fors by Course level, page" in first_page


def test_the_headline_of_a_report_with_too_few_walkthroughs(client, bearer, admin, team):
    body = client.get("/api/v1/reports/summary", headers=bearer(admin)).get_json()
    assert body["suppressed"] is True
    assert body["headline"]["findings"] == []
    assert "Too few walkthroughs" in body["headline"]["note"]
