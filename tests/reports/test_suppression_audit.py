"""The LP audit: nothing a summary response hides can be pinned down from what it shows.

An analyst with one JSON response treats every shown figure as a linear constraint on the
hidden counts and bounds each hidden count with a linear program (scipy's ``linprog``, a
test-only dependency). Unknowns: walkthroughs per (school, month) — the trend's months, the
goals' months and, split by school, the groups are sums of them; the groups of any other split;
and ratings per (group, look-for, level) for every hidden cell.

The criterion, for every hidden figure:

* a hidden walkthrough count (a group, a month of the trend or of a goal): its largest and
  smallest feasible values differ by at least half of ``OBSERVE_MIN_GROUP_SIZE`` — the reader
  cannot learn it to within a quarter of the threshold either way. (The stricter "its largest
  feasible value reaches the threshold" fails whenever a shown total of 10 is split into two
  hidden months, each then in [1, 9]: a shown total just above the threshold always says its
  hidden parts are small. docs/reports.md says so.);
* a hidden cell (a look-for in a group, on too few ratings): its number of ratings at or above
  the report's level is not pinned (smallest < largest), unless every hidden rating of that
  look-for agrees (all at or above, or none) — the one thing suppression cannot hide, since the
  overall figure then says it of all of them together.

"Feasible" is the LP relaxation: it can only be wider than what whole numbers allow, so the test
also checks each bound against the true value (the truth is always feasible).
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from scipy.optimize import linprog
from sqlalchemy import insert, select

from observe.extensions import db
from observe.observations.models import Observation, Rating
from observe.reports.models import Goal
from observe.roster.models import Classroom, ClassroomProgram, School
from observe.rubrics.models import Criterion

LEVELS = ["general", "general", "honors", "AP"]


@pytest.fixture
def small_district(app, team, admin, create_school):
    """Five schools of few classrooms, walkthroughs from August to November 2026 in uneven
    numbers (some classrooms seen once, one seen a dozen times), a district goal and two
    school goals."""
    rng = random.Random(14)
    schools = [team.school, team.other_school]
    schools += [create_school(f"G{i}", f"Generated {i}") for i in range(3)]
    criteria = db.session.scalars(
        select(Criterion).where(Criterion.rubric_version_id == team.version.id)
    ).all()[:6]
    rooms = []
    for s, school in enumerate(schools):
        for r in range(2 + s % 3 * 2):
            room = Classroom(external_id=f"X{s}-{r}", school=school, name=f"Room {s}-{r}",
                             course_level=LEVELS[(s + r) % 4], grade=str(6 + r))  # fmt: skip
            db.session.add(room)
            rooms.append(room)
    db.session.flush()
    for room in rooms[::3]:
        db.session.add(ClassroomProgram(classroom_id=room.id, program="English learners"))
    author = team.observers[0].id
    walkthroughs, ratings = [], []
    for room in rooms:
        visits = rng.choice([1, 2, 3, 5, 8, 12])
        for _ in range(visits):
            day = date(2026, 8, 10) + timedelta(days=rng.randrange(110))
            observed = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
            oid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            walkthroughs.append({
                "id": oid, "author_id": author, "rubric_version_id": team.version.id,
                "school_id": room.school_id, "classroom_id": room.id, "observed_at": observed,
                "duration_seconds": 600, "context": {}, "notes": "", "state": "submitted",
                "submitted_at": observed, "created_at": observed, "updated_at": observed,
                "has_conflict": False,
            })  # fmt: skip
            for criterion in criteria:
                unseen = rng.random() < 0.15
                ratings.append({"observation_id": oid, "criterion_id": criterion.id,
                                "level": None if unseen else rng.randint(1, 4),
                                "not_observed": unseen, "evidence": ""})  # fmt: skip
    db.session.execute(insert(Observation.__table__), walkthroughs)
    db.session.execute(insert(Rating.__table__), ratings)
    for school in (None, team.school, team.other_school):
        db.session.add(Goal(title=f"Goal {school.code if school else 'district'}",
                            rubric_version_id=team.version.id, target_kind="dimension",
                            target_key="power", at_least=3, target_share=0.5,
                            school_id=school.id if school else None,
                            starts_on=date(2026, 8, 1), deadline=date(2027, 6, 1),
                            created_by_id=admin.id))  # fmt: skip
    # Goals counting from early September to late October: their months are parts of the
    # trend's (review A1: the trend's September minus the goal's gave away the first days).
    for school in (None, schools[3]):
        db.session.add(Goal(title=f"Goal mid-month {school.code if school else 'district'}",
                            rubric_version_id=team.version.id, target_kind="dimension",
                            target_key="power", at_least=3, target_share=0.5,
                            school_id=school.id if school else None,
                            starts_on=date(2026, 9, 8), deadline=date(2026, 10, 24),
                            created_by_id=admin.id))  # fmt: skip
    db.session.commit()
    return schools


def summary(client, bearer, user, query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/reports/summary?{query}", headers=bearer(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


class Analyst:
    """Unknowns and equalities built from one response; bounds each hidden figure."""

    def __init__(self) -> None:
        self.names: dict[Any, int] = {}
        self.rows: list[tuple[dict[int, float], float]] = []
        self.at_least_one: list[dict[int, float]] = []

    def var(self, key: Any) -> int:
        return self.names.setdefault(key, len(self.names))

    def equal(self, terms: dict[int, float], value: float) -> None:
        self.rows.append((terms, value))

    def bounds(self, terms: dict[int, float]) -> tuple[float, float]:
        n = len(self.names)
        a_eq = np.zeros((len(self.rows), n))
        b_eq = np.zeros(len(self.rows))
        for i, (row, value) in enumerate(self.rows):
            for j, c in row.items():
                a_eq[i, j] += c
            b_eq[i] = value
        a_ub = np.zeros((len(self.at_least_one), n))
        for i, row in enumerate(self.at_least_one):
            for j, c in row.items():
                a_ub[i, j] -= c
        b_ub = -np.ones(len(self.at_least_one))
        objective = np.zeros(n)
        for j, c in terms.items():
            objective[j] += c
        found = []
        for sign in (1, -1):
            result = linprog(sign * objective, A_ub=a_ub if len(a_ub) else None,
                             b_ub=b_ub if len(b_ub) else None, A_eq=a_eq, b_eq=b_eq,
                             bounds=[(0, None)] * n, method="highs")  # fmt: skip
            if result.status == 3:  # unbounded
                found.append(-float("inf") * sign)  # minimising: -inf; maximising: inf
            else:
                assert result.status == 0, result.message
                found.append(sign * result.fun)
        return found[0], found[1]


def audit(report: dict[str, Any], school_ids: dict[str, int], min_group: int) -> list[str]:
    """What the response lets an analyst pin down; empty when nothing."""
    if report["suppressed"]:
        return []
    analyst = Analyst()
    every = sorted(school_ids.values())
    scope = report["scope"]
    mine = sorted(school_ids[c] for c in scope["schools"]) if scope["schools"] else every
    months = [m["month"] for m in report["trend"]]

    # Unknowns per (school, month, run of days): the days where some figure of the response
    # starts or stops cut a month into runs, and a figure of part of a month is the sum of
    # the runs it covers.
    windows = [(scope["from"], scope.get("to"))]
    windows += [(g.get("starts_on"), g.get("deadline")) for g in report.get("goals", [])]
    cuts = {date.fromisoformat(a) for a, _ in windows if a}
    cuts |= {date.fromisoformat(b) + timedelta(days=1) for _, b in windows if b}

    def cell(
        schools: list[int], month: str, start: str | None = None, end: str | None = None
    ) -> dict[int, float]:
        first = date.fromisoformat(f"{month}-01")
        after = (first + timedelta(days=32)).replace(day=1)
        low = max(first, date.fromisoformat(start)) if start else first
        high = min(after, date.fromisoformat(end) + timedelta(days=1)) if end else after
        edges = sorted({first, after, *(c for c in cuts if first < c < after)})
        runs = [a for a, b in itertools.pairwise(edges) if low <= a and b <= high]
        return {analyst.var(("x", s, month, run)): 1.0 for s in schools for run in runs}

    checks: list[tuple[str, dict[int, float]]] = []
    whole_months = scope["observers"] is None
    # The trend (its months: when the dates are whole months, sums of the schools' months).
    total_terms: dict[int, float] = {}
    for row in report["trend"]:
        month = row["month"]
        terms = (
            cell(mine, month, scope["from"], scope.get("to"))
            if whole_months
            else {analyst.var(("m", month)): 1.0}
        )
        total_terms.update(terms)
        analyst.at_least_one.append(terms)
        if row["suppressed"]:
            checks.append((f"trend {row['month']}", terms))
        else:
            analyst.equal(terms, row["observations"])
    analyst.equal(total_terms, report["observations"])
    # The goals' months: sums of their school's (or every school's) months.
    for goal in report.get("goals", []):
        schools = [school_ids[goal["school"]["code"]]] if goal["school"] else every
        for row in goal["months"]:
            terms = cell(schools, row["month"], goal.get("starts_on"), goal.get("deadline"))
            analyst.at_least_one.append(terms)
            if row["observations"] is None:
                checks.append((f"goal {goal['title']} {row['month']}", terms))
            else:
                analyst.equal(terms, row["observations"])
    # The groups, and their cells.
    groups = report.get("groups")
    if groups:
        sizes: dict[int, float] = {}
        for row in groups["rows"]:
            terms = {analyst.var(("g", row["key"])): 1.0}
            if scope["by"] == "school" and whole_months:  # a school's group: its months
                school = [school_ids[row["key"]]]
                parts = {
                    var: -1.0 for m in months for var in cell(school, m, scope["from"], scope["to"])
                }
                analyst.equal({**terms, **parts}, 0)
            analyst.at_least_one.append(terms)
            sizes.update(terms)
            if row["suppressed"]:
                checks.append((f"group {row['key']}", terms))
            else:
                analyst.equal(terms, row["observations"])
        if scope["by"] != "program":  # programs overlap: the groups need not add up
            analyst.equal(sizes, report["observations"])
            checks += _cells(analyst, report, groups)
    # Part of a month that no figure shows on its own (the days before a goal's start, say):
    # what the shown figures leave of it must not be a small number the reader can pin.
    for month in sorted({row["month"] for row in report["trend"]}):
        first = date.fromisoformat(f"{month}-01")
        inside = sorted(c for c in cuts if c.strftime("%Y-%m") == month and c != first)
        if whole_months and inside:
            for run in [first, *inside]:
                for schools in [mine, *([s] for s in mine)]:
                    terms = {analyst.var(("x", s, month, run)): 1.0 for s in schools}
                    checks.append((f"days of {month} from {run} in {schools}", terms))
    problems = []
    for name, terms in checks:
        low, high = analyst.bounds(terms)
        if name.startswith("cell "):
            if high - low < 0.5 and not name.endswith("(unanimous)"):
                problems.append(f"{name} pinned to {low:g}")
        elif name.startswith("days "):  # none, or as many as a figure shows, is no one's
            if high > 0.5 and low < min_group and high - low < min_group / 2:
                problems.append(f"{name} narrowed to [{low:g}, {high:g}]")
        elif high - low < min_group / 2:
            problems.append(f"{name} narrowed to [{low:g}, {high:g}]")
    return problems


def _cells(analyst: Analyst, report: dict[str, Any], groups: dict[str, Any]) -> list:
    """Ratings per (group, look-for, level) of hidden cells: shown cells' distributions and the
    overall one fix their sums; a shown group's n fixes its cell's total."""
    checks = []
    at_least = report["scope"]["at_least"]
    levels = [str(v["value"]) for v in report["levels"]]
    for criterion in report["criteria"]:
        key = criterion["key"]
        if criterion["distribution"] is None:
            continue  # the overall figure shows only its n: nothing to subtract from
        hidden_cells = []
        shown_sum = dict.fromkeys(levels, 0)
        for row in groups["rows"]:
            figures = None if row["suppressed"] else row["criteria"][key]
            if figures is not None and figures["suppressed"] is None:
                for level in levels:
                    shown_sum[level] += figures["distribution"][level]
                continue
            terms = {level: analyst.var(("z", row["key"], key, level)) for level in levels}
            if figures is not None:
                analyst.equal({terms[level]: 1.0 for level in levels}, figures["rated"])
            else:  # at most one rating of the look-for per walkthrough of the group
                slack = analyst.var(("slack", row["key"], key))
                group = analyst.var(("g", row["key"]))
                analyst.equal({**{terms[level]: 1.0 for level in levels}, slack: 1.0,
                               group: -1.0}, 0)  # fmt: skip
            hidden_cells.append((row["key"], terms))
        if not hidden_cells:
            continue
        for level in levels:
            remaining = criterion["distribution"][level] - shown_sum[level]
            analyst.equal({t[level]: 1.0 for _, t in hidden_cells}, remaining)
        high_levels = [level for level in levels if int(level) >= at_least]
        hits = sum(criterion["distribution"][lv] - shown_sum[lv] for lv in high_levels)
        held = sum(criterion["distribution"][lv] - shown_sum[lv] for lv in levels)
        unanimous = hits in (0, held)
        for group, terms in hidden_cells:
            name = f"cell {group} {key}" + (" (unanimous)" if unanimous else "")
            checks.append((name, {terms[level]: 1.0 for level in high_levels}))
    return checks


SCOPES = [
    "",
    "by=school",
    "by=course_level",
    "by=program",
    "by=grade_band",
    "by=region",
    "school=RVE",
    "school=RVE&by=course_level",
    "school=SHS&by=course_level",
    "school=RVE,SHS&by=school",
    "to=2026-10-31",
    "from=2026-09-01&to=2026-10-31&by=school",
    "from=2026-09-01&by=course_level",
    "school=RVE&to=2026-10-31",
    "from=2026-09-15&by=school",
    "from=2026-08-01&to=2026-09-30&by=course_level",
]


@pytest.mark.parametrize("min_group,min_classrooms", [(10, 3), (6, 2)])
def test_no_hidden_figure_can_be_pinned_down(
    app, client, bearer, admin, small_district, min_group, min_classrooms, monkeypatch
):
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", min_group)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CLASSROOMS", min_classrooms)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CELL_RATINGS", 10)
    codes = {s.code: s.id for s in db.session.scalars(select(School))}
    hid_something = 0
    for query in SCOPES:
        report = summary(client, bearer, admin, query)
        problems = audit(report, codes, min_group)
        assert problems == [], (query, problems)
        hid_something += sum(m["suppressed"] for m in report.get("trend", []))
        hid_something += sum(r["suppressed"] for r in report.get("groups", {}).get("rows", []))
    assert hid_something > 5  # the district is small enough that much is hidden


def test_the_audit_finds_what_the_old_rule_gave_away():
    """The audit itself can fail: recovery 1 of issue 14, as the response used to be."""
    report = {
        "suppressed": False, "observations": 80,
        "scope": {"schools": ["RHS"], "from": None, "observers": None, "by": None},
        "trend": [{"month": "2026-08", "suppressed": True},
                  {"month": "2026-09", "suppressed": False, "observations": 36},
                  {"month": "2026-10", "suppressed": True}],
        "goals": [{"title": "RHS", "school": {"code": "RHS"},
                   "months": [{"month": "2026-10", "observations": 36}]}],
    }  # fmt: skip
    problems = audit(report, {"RHS": 1, "SHS": 2}, 10)
    assert any(p.startswith("trend 2026-08 narrowed to [8, 8]") for p in problems), problems


def test_recovery_1_on_the_demo_is_closed(app, client, bearer, tmp_path, monkeypatch):
    """Issue 14's recovery 1, exactly: the demo, school=RHS, to=2026-10-31. The trend used to
    hide August and, as cover, October, while the RHS goal beside it showed October."""
    from observe.accounts.models import User

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CLASSROOMS", 3)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CELL_RATINGS", 10)
    result = app.test_cli_runner().invoke(
        args=["demo"], env={"OBSERVE_DEMO_PASSWORD": "demo-password-1"}
    )
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.email == "admin@riverbend.example"))
    codes = {s.code: s.id for s in db.session.scalars(select(School))}
    report = summary(client, bearer, admin, "school=RHS&to=2026-10-31")
    assert audit(report, codes, 10) == []
    hidden = {m["month"]: m["reason"] for m in report["trend"] if m["suppressed"]}
    goal = next(g for g in report["goals"] if g["school"] and g["school"]["code"] == "RHS")
    for month in goal["months"]:
        if month["month"] in hidden:  # hidden in the trend: hidden in the goal, for the same reason
            assert month["observations"] is None and month["reason"] == hidden[month["month"]]
    shown = [m for m in goal["months"] if m["share"] is not None]
    assert goal["latest"] == (shown[-1] if shown else None)
    for month, reason in hidden.items():
        assert reason != "too few walkthroughs" or all(
            m["observations"] is None for m in goal["months"] if m["month"] == month
        )
    for query in ("school=RHS", "school=RHS&by=course_level", "by=school&to=2026-10-31", ""):
        assert audit(summary(client, bearer, admin, query), codes, 10) == [], query
