"""Equity goals: leaders say what share of ratings at or above a level they aim for — for a
look-for, a competency or an equity dimension, in the district or one school, by a deadline —
and the reports show month by month how far there is to go.

Progress is counted like the summary report (the same walkthroughs, rollups when they can
answer), and months with fewer walkthroughs than the minimum group size show no figure.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from observe.accounts.models import User
from observe.audit.operations import record
from observe.core import clock
from observe.core.permissions import SYSTEM, allowed, can_see_school, check, visible_school_ids
from observe.core.validation import load_body
from observe.errors import NotFound, ValidationFailed
from observe.extensions import db
from observe.reports import access, summary
from observe.reports.models import Goal
from observe.reports.schemas import GoalSchema
from observe.reports.suppression import Rules, Series, consistent, hide
from observe.roster.models import School
from observe.rubrics.models import Criterion, EquityDimension, RubricVersion


def visible_goals(user: User) -> list[Goal]:
    """District goals, and goals of the schools ``user`` may see; none for observers."""
    if not allowed(user, access.SET_GOALS):
        return []
    query = select(Goal).order_by(Goal.deadline, Goal.id)
    visible = visible_school_ids(user)
    if visible is not None:
        query = query.where(or_(Goal.school_id.is_(None), Goal.school_id.in_(visible)))
    return list(db.session.scalars(query))


def create_goal(user: User, body: Any) -> Goal:
    check(user, access.SET_GOALS, refusal="only school leaders and district admins set goals")
    data = load_body(GoalSchema(), body)
    problems: dict[str, str] = {}
    version = db.session.get(RubricVersion, data["rubric_version_id"])
    if version is None:
        problems["rubric_version_id"] = f"unknown rubric version {data['rubric_version_id']}"
    else:
        if not _members(version, data["target_kind"], data["target_key"]):
            problems["target_key"] = (
                f"{data['target_key']!r} is not a {data['target_kind']} of {version.label}"
            )
        levels = sorted({lv["value"] for c in version.criteria for lv in c.levels})
        if data["at_least"] not in levels:
            problems["at_least"] = f"{data['at_least']} is not a level (levels: {levels})"
    school = None
    if data["school_code"]:
        school = db.session.scalar(select(School).where(School.code == data["school_code"]))
        if school is None or not can_see_school(user, school.id):
            problems["school_code"] = f"not one of your schools: {data['school_code']}"
    elif not allowed(user, access.DISTRICT_GOALS):
        problems["school_code"] = "a school leader sets goals for one of their schools"
    starts_on = data["starts_on"] or clock.today()
    if data["deadline"] <= starts_on:
        problems["deadline"] = "the deadline must come after the start"
    if problems:
        raise ValidationFailed.naming("The goal was not set", problems)
    assert version is not None  # a problem above when unknown
    goal = Goal(
        title=data["title"].strip(),
        rubric_version_id=version.id,
        target_kind=data["target_kind"],
        target_key=data["target_key"],
        at_least=data["at_least"],
        target_share=data["target_share"],
        school_id=school.id if school else None,
        starts_on=starts_on,
        deadline=data["deadline"],
        created_by_id=user.id,
    )
    db.session.add(goal)
    db.session.flush()
    record(
        "goal.created",
        object_type="goal",
        object_id=goal.id,
        detail={"title": goal.title, "school_id": goal.school_id},
    )
    return goal


def removable_goal(user: User, goal_id: int) -> Goal:
    """The goal ``user`` asks to remove: NotFound if they cannot see it, Forbidden if they may
    not remove it."""
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal not in visible_goals(user):
        raise NotFound(f"no goal {goal_id}")
    check(user, access.REMOVE_GOAL, goal, refusal="only a district admin removes a district goal")
    return goal


def delete_goal(user: User, goal_id: int) -> None:
    goal = removable_goal(user, goal_id)
    detail = {"title": goal.title, "school_id": goal.school_id}
    db.session.delete(goal)
    db.session.flush()
    record("goal.deleted", object_type="goal", object_id=goal_id, detail=detail)


def _members(version: RubricVersion, kind: str, key: str) -> list[Criterion]:
    if kind == "criterion":
        return [c for c in version.criteria if c.key == key]
    if kind == "competency":
        return [c for c in version.criteria if c.competency.key == key]
    if key not in {d.value for d in EquityDimension}:
        return []
    return [c for c in version.criteria if key in c.dimension_names]


def _target_label(goal: Goal) -> str:
    version = goal.rubric_version
    if goal.target_kind == "criterion":
        text = next((c.text for c in version.criteria if c.key == goal.target_key), goal.target_key)
        return f"“{text.rstrip('.')}”"
    if goal.target_kind == "competency":
        return next((c.name for c in version.competencies if c.key == goal.target_key), "")
    return f"the {goal.target_key} dimension"


def _counted(goal: Goal) -> dict[str, Any]:
    query = summary.Query(
        rubric_version_id=goal.rubric_version_id,
        start=goal.starts_on.replace(day=1),
        school_codes=[goal.school.code] if goal.school else [],
        at_least=goal.at_least,
    )
    return summary.counted(SYSTEM, query)  # the goal's own scope, whoever reads it


def _series(goal: Goal, counts: dict[str, Any]) -> Series:
    return Series(
        schools=frozenset({goal.school_id}) if goal.school_id is not None else None,
        version_id=goal.rubric_version_id,
        months=dict(counts["months"]),
        classrooms=dict(counts["month_classrooms"]),
        hidden={},
    )


def progress_all(listed: list[Goal]) -> list[dict[str, Any]]:
    """Goals shown together, their months hidden by one decision (suppression.consistent): a
    district goal's month minus its schools' goals' must not single out a small school."""
    counts = [_counted(goal) for goal in listed]
    series = [_series(goal, c) for goal, c in zip(listed, counts, strict=True)]
    if series:
        per_school = summary.school_months({g.rubric_version_id for g in listed})
        consistent(series, per_school, Rules.from_config())
    return [
        progress(goal, c, one.hidden) for goal, c, one in zip(listed, counts, series, strict=True)
    ]


def summary_with_goals(user: User, query: summary.Query, listed: list[Goal]) -> dict[str, Any]:
    """The summary report with these goals' progress, their months and the trend's hidden by
    one decision."""
    counts = [_counted(goal) for goal in listed]
    series = [_series(goal, c) for goal, c in zip(listed, counts, strict=True)]
    report = summary.build(user, query, series)
    rules = Rules.from_config()
    if report["suppressed"] and series:  # no trend: the goals are decided among themselves
        per_school = summary.school_months({g.rubric_version_id for g in listed})
        consistent(series, per_school, rules)
    elif query.by and summary.school_split(query.by):
        # Split by a school attribute, a school's group is the sum of its months in the
        # period: a school goal's months in the period are parts of a shown total too.
        period = {row["month"] for row in report["trend"]}
        for one in series:
            if one.schools is not None and len(one.schools) == 1:
                inside = {m: n for m, n in one.months.items() if m in period}
                one.hidden.update(
                    hide(inside, one.classrooms, rules, overlapping=True,
                         already={m: w for m, w in one.hidden.items() if m in inside},
                         spare=max(inside, default=None))
                )  # fmt: skip
        consistent(series, summary.school_months({query.rubric_version_id}), rules)
    report["goals"] = [
        progress(goal, c, one.hidden) for goal, c, one in zip(listed, counts, series, strict=True)
    ]
    return report


def progress(
    goal: Goal, counts: dict[str, Any] | None = None, hidden: dict[str, str] | None = None
) -> dict[str, Any]:
    """The goal with its share month by month since it started, and the latest: the newest
    month that can be shown. ``hidden``: the months hidden, with why (progress_all decides
    them for goals shown together); else those too small on their own."""
    rules = Rules.from_config()
    min_group = rules.min_group
    members = {c.id for c in _members(goal.rubric_version, goal.target_kind, goal.target_key)}
    if counts is None:
        counts = _counted(goal)
    if hidden is None:
        one = _series(goal, counts)
        consistent([one], {}, rules)
        hidden = one.hidden
    months = []
    for month in sorted(counts["months"]):
        n = counts["months"][month]
        cells = [(h, r) for m, c, h, r in counts["trend"] if m == month and c in members]
        hits, rated = sum(int(h or 0) for h, _ in cells), sum(int(r or 0) for _, r in cells)
        if month in hidden or not rated:
            months.append({"month": month, "observations": None, "share": None,
                           "reason": hidden.get(month, "no ratings of it")})  # fmt: skip
            continue
        months.append({"month": month, "observations": n, "share": round(hits / rated, 4)})
    shown = [m for m in months if m["share"] is not None]
    latest = shown[-1] if shown else None
    levels = {lv["value"]: lv["label"] for c in goal.rubric_version.criteria for lv in c.levels}
    return {
        "id": goal.id,
        "title": goal.title,
        "target": {"kind": goal.target_kind, "key": goal.target_key, "label": _target_label(goal)},
        "at_least": goal.at_least,
        "at_least_label": levels.get(goal.at_least, str(goal.at_least)),
        "target_share": goal.target_share,
        "school": {"code": goal.school.code, "name": goal.school.name} if goal.school else None,
        "rubric_version_id": goal.rubric_version_id,
        "starts_on": goal.starts_on.isoformat(),
        "deadline": goal.deadline.isoformat(),
        "days_left": (goal.deadline - clock.today()).days,
        "months": months,
        "latest": latest,
        "met": bool(latest and latest["share"] >= goal.target_share),
        "min_group": min_group,
        "min_classrooms": rules.min_classrooms,
    }
