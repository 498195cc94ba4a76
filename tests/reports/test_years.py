"""School years in the reports: goals judged on their own window, closing a year, carrying its
goals, this year against last, and the summary opening on the current year."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from observe.core import clock
from observe.extensions import db
from observe.reports import goals, years
from observe.reports.models import Goal
from observe.roster.models import AcademicSession
from observe.roster.years import add_session

CRITERION = "ct-explain-reasoning"


@pytest.fixture
def school_years():
    last = add_session("2025-26", *_days("2025-08-18", "2026-06-15"))
    this = add_session("2026-27", *_days("2026-08-17", "2027-06-11"))
    add_session("Fall 2026", *_days("2026-08-17", "2026-12-18"), kind="term", year="2026-27")
    db.session.commit()
    return last, this


def _days(start, end):
    from datetime import date

    return date.fromisoformat(start), date.fromisoformat(end)


@pytest.fixture
def min_group_3(app, monkeypatch):
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 3)


@pytest.fixture
def visit(push_as, team):
    def make(day: str, level: int, count: int = 1):
        for _ in range(count):
            push_as(team.observers[0], {
                "observed_at": f"{day}T15:00:00+00:00",
                "ratings": [{"criterion": CRITERION, "level": level}],
            })  # fmt: skip

    return make


def goal_body(team, **fields):
    return {
        "title": "Students explain their reasoning",
        "rubric_version_id": team.version.id,
        "target_kind": "criterion",
        "target_key": CRITERION,
        "at_least": 3,
        "target_share": 0.6,
        "school_code": "RVE",
        "starts_on": "2025-09-01",
        "deadline": "2026-06-15",
        **fields,
    }


def test_a_goal_that_ended_is_judged_on_its_own_window(client, bearer, team, visit):
    # The goal: ended 2026-06-15. In its window, May 2026: 8 of 10 at 3 or above.
    visit("2026-05-12", 4, 8)
    visit("2026-05-13", 1, 2)
    # After its deadline, Aug-Dec 2026: low, and more of them. They must not count.
    visit("2026-06-16", 1, 5)
    visit("2026-10-05", 1, 12)
    headers = bearer(team.facilitator)
    response = client.post("/api/v1/goals", json=goal_body(team), headers=headers)
    goal = response.get_json()
    assert response.status_code == 201, goal
    assert [m["month"] for m in goal["months"]] == ["2026-05"]
    assert goal["status"] == "met" and goal["ended"] is True and goal["days_left"] == 0
    assert goal["decided_by"] == {
        "share": 0.8, "observations": 10, "from_month": "2026-05", "to_month": "2026-05"
    }  # fmt: skip
    # The same visits against a higher target: not met, with the figure that decided it.
    higher = client.post("/api/v1/goals", json=goal_body(team, target_share=0.9, title="Higher"),
                         headers=headers).get_json()  # fmt: skip
    decided = (higher["status"], higher["met"], higher["decided_by"]["share"])
    assert decided == ("not met", False, 0.8)

    # Before a deadline: only as far as the interval allows — October's 0% comes from one
    # classroom, which gives no interval, so it is too early to tell (not "behind").
    open_goal = client.post("/api/v1/goals", json=goal_body(
        team, title="Open", starts_on="2026-09-01", deadline="2027-06-11"), headers=headers,
    ).get_json()  # fmt: skip
    assert (open_goal["status"], open_goal["ended"], open_goal["decided_by"]["share"]) == (
        "too early to tell", False, 0.0
    )  # fmt: skip
    assert open_goal["days_left"] > 0


def test_the_goals_page_shows_met_and_the_deciding_figure(client, sign_in, team, visit):
    visit("2026-05-12", 4, 8)
    visit("2026-05-13", 1, 2)
    db.session.add(Goal(**{**_goal_row(team), "target_share": 0.9}))
    db.session.commit()
    sign_in(team.facilitator)
    page = client.get("/reports/goals").get_data(as_text=True)  # no year stored: every goal
    assert "Not met" in page
    assert "80% of ratings in 2026-05, 10 walkthroughs, against 90%" in page
    assert "deadline passed" in page


def _goal_row(team):
    from datetime import date

    return {
        "title": "Reasoning",
        "rubric_version_id": team.version.id,
        "target_kind": "criterion",
        "target_key": CRITERION,
        "at_least": 3,
        "target_share": 0.6,
        "school_id": team.school.id,
        "starts_on": date(2025, 9, 1),
        "deadline": date(2026, 6, 15),
        "created_by_id": team.facilitator.id,
    }


def test_closing_a_year_freezes_its_goals(app, client, bearer, team, visit, school_years):
    visit("2026-05-12", 4, 8)
    visit("2026-05-13", 1, 2)
    goal = Goal(**_goal_row(team))
    this_year = school_years[1]
    current = Goal(**{**_goal_row(team), "title": "This year", "starts_on": this_year.start_date,
                      "deadline": this_year.end_date})  # fmt: skip
    db.session.add_all([goal, current])
    db.session.commit()
    run = app.test_cli_runner().invoke
    early = run(args=["years", "close", "2026-27"])
    assert early.exit_code == 1 and "its last day is 2027-06-11" in early.output

    result = run(args=["years", "close", "2025-26"])
    assert result.exit_code == 0, result.output
    assert "“Reasoning”: met (80% of ratings, 10 walkthroughs, 2026-05 to 2026-05)" in result.output
    db.session.expire_all()
    assert goal.final["status"] == "met" and goal.closed_at is not None
    assert current.final is None  # another year's goal is not touched

    # A late sync of May walkthroughs (a tablet that was away) would have changed the result.
    visit("2026-05-20", 1, 10)
    frozen = goals.progress(db.session.get(Goal, goal.id))
    assert (frozen["status"], frozen["closed"], frozen["decided_by"]["share"]) == ("met", True, 0.8)
    months = [{k: m[k] for k in ("month", "observations", "share")} for m in frozen["months"]]
    assert months == [{"month": "2026-05", "observations": 10, "share": 0.8}]
    live = goals.figures(db.session.get(Goal, goal.id))
    assert live["decided_by"]["share"] == 0.4  # what it would say if counted again

    again = run(args=["years", "close", "2025-26"])
    assert again.exit_code == 1 and "already closed" in again.output
    # No new goal may end in a closed year.
    refused = client.post("/api/v1/goals", json=goal_body(team, starts_on="2025-09-01"),
                          headers=bearer(team.facilitator))  # fmt: skip
    assert refused.get_json()["error"]["details"] == {
        "deadline": "2026-06-15 is in 2025-26, which is closed"
    }


def test_carry_starts_next_years_goals(app, team, school_years):
    db.session.add(Goal(**_goal_row(team)))
    db.session.add(Goal(**{**_goal_row(team), "title": "By winter", "deadline": _days(
        "2025-12-19", "2025-12-19")[0]}))  # fmt: skip
    db.session.commit()
    run = app.test_cli_runner().invoke
    result = run(args=["goals", "carry", "--from", "2025-26", "--to", "2026-27"])
    assert result.exit_code == 0, result.output
    assert "Created “By winter” (RVE): 2026-08-31 to 2026-12-18" in result.output
    assert "Created “Reasoning” (RVE): 2026-08-31 to 2027-06-11" in result.output
    assert "2 goals created in 2026-27." in result.output
    carried = db.session.scalars(select(Goal).where(Goal.carried_from_id.is_not(None))).all()
    assert {(g.target_key, g.target_share, g.at_least) for g in carried} == {(CRITERION, 0.6, 3)}
    twice = run(args=["goals", "carry", "--from", "2025-26", "--to", "2026-27"])
    assert "0 goals created in 2026-27." in twice.output and "Already carried" in twice.output
    backwards = run(args=["goals", "carry", "--from", "2026-27", "--to", "2025-26"])
    assert backwards.exit_code == 1 and "does not come after" in backwards.output


def test_the_summary_opens_on_the_current_year_and_compares_with_last(
    client, bearer, team, visit, school_years, min_group_3
):
    # This year (2026-27, from 2026-08-17): 4 walkthroughs in September, 3 at 3 or above.
    visit("2026-09-08", 4, 3)
    visit("2026-09-09", 2, 1)
    # Last year over the same span (from 2025-08-18 as far in): 5, 1 at 3 or above.
    visit("2025-09-10", 3, 1)
    visit("2025-09-11", 1, 4)
    # Last year after that span (spring): not in the comparison.
    visit("2026-03-02", 4, 6)
    headers = bearer(team.facilitator)
    report = client.get("/api/v1/reports/summary", headers=headers).get_json()
    # The year as the whole months it spans, so the monthly rollups answer it.
    assert (report["scope"]["from"], report["scope"]["to"]) == ("2026-08-01", "2027-06-30")
    assert report["scope"]["period"]["label"] == "2026-27" and report["observations"] == 4
    cmp = report["compare"]
    # August to the last complete month (on the district's clock: 2026-11 on 2026-12-03).
    done = clock.today().replace(day=1) - timedelta(days=1)
    assert cmp["this"] == {"from": "2026-08-01", "to": done.isoformat(),
                           "through": done.isoformat()}  # fmt: skip
    assert cmp["same_span"] is True
    assert cmp["last"]["from"] == "2025-08-01"
    assert cmp["last"]["to"][:7] == f"{done.year - 1}-{done.month:02d}"
    assert cmp["observations"] == {"this": 4, "last": 5}
    dimension = next(r for r in cmp["rows"] if r["kind"] == "competency")
    # Hand-computed: one look-for rated per visit; 3 of 4 this year, 1 of 5 last year.
    assert (dimension["this"]["share"], dimension["this"]["rated"]) == (0.75, 4)
    assert (dimension["last"]["share"], dimension["last"]["rated"]) == (0.2, 5)

    # Explicit dates win; "all" counts every year; a term narrows to its dates.
    dates = client.get("/api/v1/reports/summary?from=2025-08-01&to=2026-06-30",
                       headers=headers).get_json()  # fmt: skip
    assert dates["observations"] == 11 and dates["scope"]["period"]["label"] == "the dates chosen"
    every = client.get("/api/v1/reports/summary?year=all", headers=headers).get_json()
    assert every["observations"] == 15 and every["scope"]["from"] is None
    term = db.session.scalar(select(AcademicSession).where(AcademicSession.title == "Fall 2026"))
    fall = client.get(f"/api/v1/reports/summary?year=2026-27&term={term.id}",
                      headers=headers).get_json()  # fmt: skip
    assert fall["scope"]["to"] == "2026-12-18"
    bad = client.get("/api/v1/reports/summary?year=1999", headers=headers)
    assert bad.status_code == 422
    assert "unknown school year '1999'" in bad.get_json()["error"]["details"]["year"]


def test_a_small_last_year_is_suppressed_in_the_comparison(
    client, bearer, team, visit, school_years, min_group_3
):
    visit("2026-09-08", 4, 4)
    visit("2025-09-10", 3, 2)  # fewer than 3 walkthroughs: hidden
    report = client.get("/api/v1/reports/summary", headers=bearer(team.facilitator)).get_json()
    cmp = report["compare"]
    assert cmp["suppressed"] == {"this": False, "last": True}
    assert cmp["observations"]["last"] is None
    assert all(row["last"] is None for row in cmp["rows"])


def test_years_close_and_carry_through_the_pages(client, sign_in, admin, team, school_years):
    db.session.add(Goal(**_goal_row(team)))
    db.session.commit()
    sign_in(admin)
    page = client.get("/reports/goals?year=all").get_data(as_text=True)
    assert "Close 2025-26" in page and "Start its goals from 2025-26" in page
    last_id = school_years[0].id
    confirm = client.get(f"/reports/years/{last_id}/close").get_data(as_text=True)
    assert "Close the school year 2025-26?" in confirm
    token = client.csrf_token(f"/reports/years/{last_id}/close")
    unconfirmed = client.post(f"/reports/years/{last_id}/close", data={"csrf_token": token})
    assert unconfirmed.status_code == 303
    done = client.post(f"/reports/years/{last_id}/close",
                       data={"csrf_token": token, "confirmed": "yes"})  # fmt: skip
    assert done.status_code == 302
    assert db.session.scalar(select(Goal)).final is not None
    this_id = school_years[1].id
    carried = client.post(f"/reports/years/{this_id}/carry",
                          data={"csrf_token": token, "confirmed": "yes"})  # fmt: skip
    assert carried.status_code == 302
    assert len(years.goals_of(db.session.get(AcademicSession, this_id))) == 1
    again = client.get(f"/reports/years/{last_id}/close")
    assert again.status_code == 422


def test_a_years_summary_and_its_comparison_are_answered_by_the_rollups(
    client, bearer, team, visit, school_years, monkeypatch
):
    """A year's exact days are rarely whole months; counted as the months it spans, the
    district's rollups answer it instead of every walkthrough being read."""
    from observe.reports import summary

    visit("2026-09-08", 4, 10)
    visit("2025-09-10", 3, 10)

    def read_every_walkthrough(*args, **kwargs):
        raise AssertionError("the summary read the walkthroughs, not the rollups")

    monkeypatch.setattr(summary, "_counts", read_every_walkthrough)
    report = client.get("/api/v1/reports/summary", headers=bearer(team.facilitator)).get_json()
    assert report["observations"] == 10
    assert report["compare"]["observations"] == {"this": 10, "last": 10}


def test_the_comparison_never_leaves_out_a_month_the_report_hides(
    client, bearer, team, push_as, visit, school_years, min_group_3
):
    # Three in September and one so far this month: the report hides this month (too few),
    # so comparing only up to the last complete month would let a reader take the
    # comparison's figures from the report's and work out this month's one walkthrough.
    visit("2026-09-08", 4, 3)
    visit("2025-09-10", 3, 3)
    moment = clock.day_start(clock.today()) + timedelta(minutes=1)
    push_as(team.observers[0], {
        "observed_at": moment.isoformat(),
        "ratings": [{"criterion": CRITERION, "level": 1}],
    })  # fmt: skip
    report = client.get("/api/v1/reports/summary", headers=bearer(team.facilitator)).get_json()
    this_month = clock.today().strftime("%Y-%m")
    assert any(row["month"] == this_month and row["suppressed"] for row in report["trend"])
    cmp = report["compare"]
    # The comparison runs to the report's own end (today), against as many days last year.
    assert cmp["this"]["to"] == clock.today().isoformat()
    shown = report["observations"]
    assert cmp["observations"]["this"] in (shown, None)
    if shown is not None and cmp["observations"]["this"] is not None:
        assert shown - cmp["observations"]["this"] == 0


def test_the_comparison_never_isolates_a_competency_of_few_ratings_this_month(
    app, client, bearer, team, push_as, visit, school_years, min_group_3, monkeypatch
):
    # Twelve walkthroughs in September and three so far this month: the trend shows this
    # month (3 is enough walkthroughs here), but its 3 ratings of the competency are under the
    # cell minimum of 10. Comparing only up to the last complete month would let a reader take
    # the comparison's competency from the report's and read this month's 3 ratings.
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CELL_RATINGS", 10)
    visit("2026-09-08", 4, 12)
    visit("2025-09-10", 3, 12)
    moment = clock.day_start(clock.today()) + timedelta(minutes=1)
    for _ in range(3):
        push_as(team.observers[0], {
            "observed_at": moment.isoformat(),
            "ratings": [{"criterion": CRITERION, "level": 1}],
        })  # fmt: skip
    report = client.get("/api/v1/reports/summary", headers=bearer(team.facilitator)).get_json()
    this_month = clock.today().strftime("%Y-%m")
    assert any(r["month"] == this_month and not r["suppressed"] for r in report["trend"])
    competency = next(c for c in report["competencies"] if c["rated"])
    assert competency["rated"] == 15 and competency["share"] is not None
    cmp = report["compare"]
    assert cmp["this"]["to"] == clock.today().isoformat()  # to the report's own end
    row = next(r for r in cmp["rows"] if r["kind"] == "competency" and r["this"])
    assert row["this"]["rated"] == 15  # the report's own figure: nothing left to subtract


def test_a_report_of_the_month_under_way_is_not_compared_as_the_same_span(
    client, bearer, sign_in, team, visit, school_years, min_group_3
):
    """Review minor b: a report from the first of this month counts this year up to today
    against the whole month last year; the comparison says so rather than "the same span"."""
    first = clock.today().replace(day=1)
    visit(first.isoformat(), 4, 3)
    visit(first.replace(year=first.year - 1).isoformat(), 2, 3)
    end = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    query = f"from={first.isoformat()}&to={end.isoformat()}"
    report = client.get(f"/api/v1/reports/summary?{query}",
                        headers=bearer(team.facilitator)).get_json()  # fmt: skip
    cmp = report["compare"]
    assert cmp["same_span"] is False and cmp["this"]["through"] == clock.today().isoformat()
    page = sign_in(team.facilitator).get(f"/reports/summary?{query}").get_data(as_text=True)
    assert "not the same number of days" in page and "over the same span" not in page
    # A year's whole months up to the last complete one are the same span.
    whole = client.get("/api/v1/reports/summary", headers=bearer(team.facilitator)).get_json()
    assert whole["compare"]["same_span"] is True
