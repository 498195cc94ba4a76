"""The summary report: figures, intervals, gaps beyond chance, and small groups that never
show — on the page, in the API, in the PDF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from observe.core.permissions import Role
from observe.extensions import db
from observe.reports.summary import (
    benjamini_hochberg,
    grade_band,
    protected,
    two_proportion_p,
    wilson,
)
from observe.reports.uncertainty import estimate, gap_p
from observe.roster import profiles
from observe.roster.models import Classroom, School
from tests.reports.test_pdf import pdf_text

KEY = "ct-explain-reasoning"


@pytest.fixture
def district(push_as, team, create_classroom):
    """At Riverside: 12 AP visits all at 4, 12 general visits all at 2, 3 honors visits at 1;
    at Southfield, 2 visits."""
    ap = create_classroom("RVE-AP", school=team.school, name="AP Biology", course_level="AP")
    general = create_classroom("RVE-G", school=team.school, name="Biology", course_level="general")
    honors = create_classroom("RVE-H", school=team.school, name="Biology H", course_level="honors")
    south = create_classroom("SHS-1", school=team.other_school, name="Art", course_level="general")
    ann, cy = team.observers[0], team.observers[2]
    unseen = {"criterion": "ct-rigorous-task", "not_observed": True}
    for room, level, count in ((ap, 4, 12), (general, 2, 12), (honors, 1, 3)):
        for i in range(count):
            push_as(ann, {"classroom_id": room.id,
                          "observed_at": f"2026-10-{1 + i:02d}T15:00:00+00:00",
                          "ratings": [{"criterion": KEY, "level": level}, unseen]})  # fmt: skip
    for i in range(2):
        push_as(cy, {"school_id": team.other_school.id, "classroom_id": south.id,
                     "observed_at": f"2026-09-{1 + i:02d}T15:00:00+00:00",
                     "ratings": [{"criterion": KEY, "level": 3}]})  # fmt: skip


def summary(client, bearer, user, query="", expect=200):
    response = client.get(f"/api/v1/reports/summary{query}", headers=bearer(user))
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def test_the_figures(client, bearer, admin, district):
    report = summary(client, bearer, admin)
    assert report["observations"] == 29
    assert report["scope"]["at_least"] == 3 and report["scope"]["at_least_label"] == "Proficient"
    reasoning = next(c for c in report["criteria"] if c["key"] == KEY)
    # 12 at 4, 2 at 3, 12 at 2, 3 at 1: 14 of 29 at Proficient or above.
    assert reasoning["distribution"] == {"1": 3, "2": 12, "3": 2, "4": 12}
    assert reasoning["share"] == round(14 / 29, 4)
    # Four classrooms (AP 12 of 12, general 0 of 12, honors 0 of 3, Southfield 2 of 2): the
    # interval is over classrooms, and four classrooms that differ this much say little.
    clustered = estimate([(12, 12), (0, 12), (0, 3), (2, 2)])
    assert clustered.interval is not None and clustered.se is not None
    low, high = clustered.interval
    assert reasoning["interval"] == [round(low, 4), round(high, 4)]
    assert reasoning["classrooms"] == 4 and reasoning["se"] == round(clustered.se, 4)
    naive = wilson(14, 29)  # what treating the 29 ratings as independent would claim
    assert naive is not None and low < naive[0] and high > naive[1]
    rigour = next(c for c in report["criteria"] if c["key"] == "ct-rigorous-task")
    assert rigour["rated"] == 0 and rigour["share"] is None
    assert rigour["not_observed_rate"] == 1.0
    # September's 2 visits are not shown; October's 27 would give them away against the total
    # of 29, so October is not shown either.
    assert report["trend"] == [
        {
            "month": "2026-09",
            "observations": None,
            "suppressed": True,
            "reason": "too few walkthroughs",
        },
        {
            "month": "2026-10",
            "observations": None,
            "suppressed": True,
            "reason": "hidden so that a smaller figure cannot be worked out",
        },
    ]


def test_gaps_beyond_chance_and_small_groups_suppressed_everywhere(
    client, bearer, sign_in, admin, district, tmp_path
):
    report = summary(client, bearer, admin, "?by=course_level&school=RVE")
    rows = {row["label"]: row for row in report["groups"]["rows"]}
    # Honors has 3 visits: hidden. Hiding it alone would let it be worked out from the total,
    # so the next smallest group (AP or general, 12 each) is hidden too.
    assert rows["honors"] == {
        "key": "honors",
        "label": "honors",
        "suppressed": True,
        "reason": "too few walkthroughs",
    }
    hidden = [label for label, row in rows.items() if row["suppressed"]]
    assert len(hidden) == 2
    assert "1 hidden so that a smaller figure cannot be worked out" in report["groups"]["note"]
    shown = next(row for row in rows.values() if not row["suppressed"])
    assert shown["observations"] == 12
    # 100% or 0% against the rest, but over one classroom: no interval and nothing to test.
    assert shown["criteria"][KEY]["classrooms"] == 1
    assert shown["criteria"][KEY]["interval"] is None and shown["criteria"][KEY]["gap"] is None
    assert report["groups"]["tests"] == 0

    # The hidden groups' figures appear nowhere: not in the page, not in the PDF.
    sign_in(admin)
    page = client.get("/reports/summary?by=course_level&school=RVE").get_data(as_text=True)
    # Each hidden group says why: honors is too small; the other is cover.
    assert page.count("not shown: too few walkthroughs") == 1
    assert page.count("not shown: hidden so that a smaller figure cannot be worked out") == 1
    pdf = client.get("/reports/summary.pdf?by=course_level&school=RVE")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data, tmp_path)
    assert "not shown: too few walkthroughs" in text
    assert "one classroom: no interval" in page
    groups_table = page.split('id="groups-heading"')[1].split("</table>")[0]
    assert ">3<" not in groups_table  # honors' 3 walkthroughs appear nowhere in the table


def test_a_scope_with_too_few_walkthroughs_shows_nothing(
    client, bearer, team, district, create_user
):
    principal = create_user(Role.SCHOOL_LEADER, schools=[team.other_school])
    report = summary(client, bearer, principal)
    assert report["observations"] is None and report["suppressed"] is True
    assert "criteria" not in report and "dimensions" not in report and "trend" not in report
    assert "Fewer than 10 walkthroughs match" in report["note"]


def test_leaders_see_their_schools_and_observers_no_summary(
    client, bearer, team, district, create_user
):
    assert summary(client, bearer, team.facilitator)["observations"] == 27  # Riverside only
    refused = summary(client, bearer, team.facilitator, "?school=SHS", expect=422)
    assert refused["error"]["details"] == {"school": "not one of your schools: SHS"}
    observer = summary(client, bearer, team.observers[0], expect=403)
    assert "school leaders and district admins" in observer["error"]["message"]


def test_bad_parameters_are_named_and_nothing_is_made(client, bearer, admin, district):
    error = summary(client, bearer, admin, "?by=shoe_size&at_least=9&from=yesterday", expect=422)[
        "error"
    ]
    assert set(error["details"]) == {"by", "at_least", "from"}
    assert "is not a level (levels: [1, 2, 3, 4])" in error["details"]["at_least"]


def test_an_observer_team_counts_only_its_members_walkthroughs(
    client, bearer, admin, team, district
):
    ann = team.observers[0]
    report = summary(client, bearer, admin, f"?observer={ann.email.upper()}")
    assert report["observations"] == 27 and report["scope"]["observers"] == 1
    error = summary(client, bearer, admin, "?observer=nobody@example.org", expect=422)["error"]
    assert error["details"] == {"observer": "not an observer in your schools: nobody@example.org"}


def test_the_command_line_prints_the_summary(app, district, tmp_path):
    out = tmp_path / "summary.pdf"
    result = app.test_cli_runner().invoke(
        args=["report", "summary", "--by", "course_level", "--school", "RVE", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "Walkthrough summary" in text and "By Course level" in text


def test_the_statistics_against_hand_computed_values():
    low, high = wilson(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    assert wilson(0, 0) is None
    assert benjamini_hochberg([0.01, 0.02, 0.03, 0.5]) == [True, True, True, False]
    assert benjamini_hochberg([0.04, 0.04, 0.04, 0.04]) == [True, True, True, True]
    assert benjamini_hochberg([0.02, 0.3, 0.4, 0.5]) == [False, False, False, False]
    assert two_proportion_p(5, 10, 5, 10) == pytest.approx(1.0)
    assert two_proportion_p(10, 10, 10, 10) is None  # no variation: nothing to test
    assert [grade_band(g) for g in ("K", "2", "3", "8", "12", None)] == [
        "K-2", "K-2", "3-5", "6-8", "9-12", None
    ]  # fmt: skip
    # Classes of several grades, as the roster stores them: in their band when both ends are.
    ranges = ("10-12", "K-1", "6-7", "9-12", "K-5", "PK-K", "8-9", "ungraded")
    assert [grade_band(g) for g in ranges] == [
        "9-12", "K-2", "6-8", "9-12", "K-5", "K-2", "8-9", "UNGRADED"
    ]  # fmt: skip


def test_what_is_hidden_cannot_be_worked_out_from_what_is_shown():
    assert protected({"a": 30, "b": 20}, 10) == (set(), False)
    assert protected({"a": 12, "b": 3}, 10) == ({"a", "b"}, True)  # 15 - 12 = 3 otherwise
    assert protected({"a": 20, "b": 3, "c": 2}, 10) == ({"a", "b", "c"}, True)  # 5 together
    assert protected({"a": 12, "b": 12, "c": 3}, 10) == ({"a", "c"}, True)
    assert protected({"a": 12, "b": 5, "c": 6}, 10) == ({"b", "c"}, False)  # 11 together


def relabel_past_visits(app, school: str = "RVE") -> None:
    """The classrooms were edited after the visits: walkthroughs keep the profile of their
    visit, so the past is corrected on purpose, as a district would (observe roster relabel)."""
    profiles.refresh(db.session)
    db.session.commit()
    done = app.test_cli_runner().invoke(args=["roster", "relabel", "--school", school, "--yes"])
    assert done.exit_code == 0, done.output


def test_overlapping_programs_hide_every_group_when_one_is_small(
    app, client, bearer, admin, team, district
):
    from observe.roster.models import Classroom, ClassroomProgram

    rooms = {c.external_id: c for c in db.session.scalars(select(Classroom))}
    db.session.add_all([
        ClassroomProgram(classroom_id=rooms["RVE-AP"].id, program="English learners"),
        ClassroomProgram(classroom_id=rooms["RVE-H"].id, program="Inclusion"),
    ])  # fmt: skip
    db.session.commit()
    relabel_past_visits(app)
    groups = summary(client, bearer, admin, "?by=program&from=2026-09-01&to=2026-10-20")["groups"]
    assert all(row["suppressed"] for row in groups["rows"])
    assert "cannot be worked out" in groups["note"]


def test_whole_school_visits_and_unrecorded_attributes_are_apart(
    client, bearer, admin, team, district, push_as
):
    for day in range(1, 11):
        push_as(team.observers[0], {"classroom_id": None,
                                    "observed_at": f"2026-10-{day:02d}T16:00:00+00:00",
                                    "ratings": [{"criterion": KEY, "level": 3}]})  # fmt: skip
    for query in ("?by=subject", "?by=subject&school=RVE"):  # rollups, then a direct count
        rows = summary(client, bearer, admin, query)["groups"]["rows"]
        assert {r["label"]: r.get("observations") for r in rows} == {
            "Not recorded": 29 if "school" not in query else 27,
            "Whole-school visits": 10,
        }


def test_roster_text_is_text_in_charts_and_pdf(app, client, sign_in, admin, district, tmp_path):
    # Issue 11: "$\frac$" made matplotlib parse TeX (a 500 for every reader), and the SVG
    # post-processing rewrote 'style="…"' wherever it appeared, label text included.
    odd = {"RVE-AP": '$\\frac$ style="x"', "RVE-G": 'style="y" $\\frac$'}
    for classroom in db.session.scalars(select(Classroom).where(Classroom.external_id.in_(odd))):
        classroom.course_level = odd[classroom.external_id]
    school = db.session.scalars(select(School).where(School.code == "RVE")).one()
    school.name = "$\\frac$ Riverside"
    db.session.commit()
    relabel_past_visits(app)
    sign_in(admin)
    query = "?by=course_level&school=RVE"
    page = client.get(f"/reports/summary{query}")
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    text = page.get_data(as_text=True)
    heatmap = text[text.index('id="chart-heatmap-title"') :]
    # One of the two groups is shown (the other is suppressed): its label, as it is.
    assert any(f">{label}</text>" in heatmap for label in odd.values())
    pdf = client.get(f"/reports/summary.pdf{query}")
    assert pdf.status_code == 200
    printed = pdf_text(pdf.data, tmp_path)
    assert any(label in printed for label in odd.values())


def test_only_the_reports_parameters_reach_its_links(client, sign_in, admin, district):
    # Issue 11: "?_method=POST" was a 500; "_external" and "_anchor" were reflected into the
    # PDF links; "paper" twice was a 500 too.
    sign_in(admin)
    page = client.get(
        "/reports/summary?_method=POST&_external=1&_anchor=evil&_scheme=javascript&paper=a4"
        "&school=RVE&school=SHS&by=course_level"
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    links = [line for line in text.splitlines() if "/reports/summary.pdf" in line]
    assert len(links) == 2
    for line in links:
        assert "http" not in line and "evil" not in line and "_method" not in line
        assert "school=RVE&amp;school=SHS" in line and "by=course_level" in line


def test_a_pdf_waits_for_a_turn_then_answers_503(app, client, sign_in, admin, district, tmp_path):
    # Issue 11: a summary PDF costs seconds of CPU, with no limit on parallel requests.
    import threading

    slots = threading.BoundedSemaphore(1)
    app.extensions["observe_pdf_slots"] = slots
    app.config["OBSERVE_PDF_WAIT"] = 0.2
    try:
        sign_in(admin)
        with slots:  # another request is printing
            busy = client.get("/reports/summary.pdf")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "1"
        assert "printing other reports" in busy.get_data(as_text=True)
        assert client.get("/reports/summary.pdf").status_code == 200  # its turn is free again
    finally:
        app.extensions.pop("observe_pdf_slots")
        app.config["OBSERVE_PDF_WAIT"] = 5.0


def test_the_form_offers_pickers_of_what_the_reader_may_choose(
    client, sign_in, team, district, admin
):
    """Issue 15: schools and observers are chosen from lists, never typed as codes or emails —
    and a leader's lists hold only their schools and their people."""
    sign_in(team.facilitator)
    page = client.get("/reports/summary").get_data(as_text=True)
    schools = re.search(
        r'<select id="school" name="school" multiple[^>]*>(.*?)</select>', page, re.S
    )
    people = re.search(
        r'<select id="observer" name="observer" multiple[^>]*>(.*?)</select>', page, re.S
    )
    assert re.findall(r">([^<]+)</option>", schools.group(1)) == ["Riverside Elementary"]
    named = re.findall(r">([^<]+)</option>", people.group(1))
    assert "Ann Ames" in named and "Olga Outside" in named
    assert "Cy Cole" not in named  # works at Southfield High only
    # Several chosen at once arrive as repeated parameters, and stay chosen on the page.
    ann, ben = team.observers[0], team.observers[1]
    page = client.get(
        f"/reports/summary?school=RVE&observer={ann.email}&observer={ben.email.upper()}"
    ).get_data(as_text=True)
    assert f'<option value="{ann.email}" selected>' in page
    assert f'<option value="{ben.email}" selected>' in page
    assert '<option value="RVE" selected>' in page


def test_a_district_admin_picks_from_every_school(client, sign_in, team, district, admin):
    sign_in(admin)
    page = client.get("/reports/summary").get_data(as_text=True)
    schools = re.search(
        r'<select id="school" name="school" multiple[^>]*>(.*?)</select>', page, re.S
    )
    assert re.findall(r">([^<]+)</option>", schools.group(1)) == [
        "Riverside Elementary",
        "Southfield High",
    ]


def test_many_visits_to_few_classrooms_are_not_a_gap(client, bearer, admin, team, push_as,
                                                     create_classroom):  # fmt: skip
    """Two AP classrooms visited 8 times each (13 of 16 ratings at Proficient or above) and
    three general ones visited 6 times each (5 of 18): counted as 34 independent ratings the
    gap is far beyond chance; counted over the 5 classrooms it is not, and is not flagged."""
    plan = {("AP", 0): [4] * 8, ("AP", 1): [4] * 5 + [2] * 3,
            ("general", 0): [2] * 6, ("general", 1): [4] * 3 + [2] * 3,
            ("general", 2): [4] * 2 + [2] * 4}  # fmt: skip
    for (level_name, i), levels in plan.items():
        room = create_classroom(f"C-{level_name}-{i}", school=team.school, course_level=level_name)
        for day, level in enumerate(levels, 1):
            visit = {"classroom_id": room.id, "observed_at": f"2026-10-{day:02d}T15:00:00+00:00",
                     "ratings": [{"criterion": KEY, "level": level}]}  # fmt: skip
            push_as(team.observers[0], visit)
    naive = two_proportion_p(13, 16, 5, 18)
    assert naive is not None and naive < 0.01
    report = summary(client, bearer, admin, "?by=course_level")
    rows = {row["label"]: row for row in report["groups"]["rows"]}
    ap, general = rows["AP"]["criteria"][KEY], rows["general"]["criteria"][KEY]
    assert (ap["rated"], ap["classrooms"], general["rated"], general["classrooms"]) == (
        16,
        2,
        18,
        3,
    )
    assert report["groups"]["tests"] == 2
    assert ap["gap"] is None and general["gap"] is None
    # The figures are the estimator's over the classrooms' totals.
    expected = estimate([(8, 8), (5, 8)])
    assert expected.interval is not None and ap["share"] == round(13 / 16, 4)
    assert ap["interval"] == [round(expected.interval[0], 4), round(expected.interval[1], 4)]
    p = gap_p(expected, estimate([(0, 6), (3, 6), (2, 6)]))
    assert p is not None and p > 0.05
    # The month carries its n, classrooms and interval too.
    (october,) = report["trend"]
    assert (october["rated"], october["classrooms"]) == (34, 5)
    overall = estimate([(8, 8), (5, 8), (0, 6), (3, 6), (2, 6)])
    assert overall.interval is not None
    assert october["interval"] == [round(overall.interval[0], 4), round(overall.interval[1], 4)]
