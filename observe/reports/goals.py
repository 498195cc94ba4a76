"""Equity goals: leaders say what share of ratings at or above a level they aim for — for a
look-for, a competency or an equity dimension, in the district or one school, by a deadline —
and the reports show month by month how far there is to go.

Progress is counted like the summary report (the same walkthroughs, rollups when they can
answer), and months hidden by the report's suppression rules (reports/suppression.py) show no
figure: goals shown together, and with the summary's trend, are decided at once.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from observe.accounts.models import User
from observe.audit.operations import record
from observe.core import clock
from observe.core.permissions import SYSTEM, allowed, can_see_school, check, visible_school_ids
from observe.core.validation import load_body
from observe.errors import NotFound, ValidationFailed
from observe.extensions import db
from observe.reports import access, revisions, summary
from observe.reports.models import Goal
from observe.reports.schemas import GoalSchema
from observe.reports.suppression import Rules, Series, consistent, hide
from observe.roster import years
from observe.roster.models import School
from observe.rubrics.models import Criterion, EquityDimension, RubricVersion
from observe.rubrics.queries import wording


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
        problems["rubric_version_id"] = _(
            "unknown rubric version %(id)s", id=data["rubric_version_id"]
        )
    else:
        # A look-for removed from this version: the goal is set on the last version that has it,
        # and its progress says where it stopped being rated.
        version = _holding(version, data["target_kind"], data["target_key"])
        if not _members(version, data["target_kind"], data["target_key"]):
            problems["target_key"] = _not_a_target(data["target_kind"], data["target_key"], version)
        levels = sorted({lv["value"] for c in version.criteria for lv in c.levels})
        if data["at_least"] not in levels:
            problems["at_least"] = _(
                "%(level)s is not a level (levels: %(levels)s)",
                level=data["at_least"],
                levels=str(levels),
            )
    school = None
    if data["school_code"]:
        school = db.session.scalar(select(School).where(School.code == data["school_code"]))
        if school is None or not can_see_school(user, school.id):
            problems["school_code"] = _(
                "not one of your schools: %(code)s", code=data["school_code"]
            )
    elif not allowed(user, access.DISTRICT_GOALS):
        problems["school_code"] = _("a school leader sets goals for one of their schools")
    year = years.current_year()
    starts_on = data["starts_on"] or (year.start_date if year else clock.today())
    deadline = data["deadline"] or (year.end_date if year else None)
    if deadline is None:
        problems["deadline"] = _("give a deadline (no school year is stored to take one from)")
    elif deadline <= starts_on:
        problems["deadline"] = _("the deadline must come after the start")
    elif closed := years.closed_year_holding(deadline):
        problems["deadline"] = _(
            "%(deadline)s is in %(year)s, which is closed", deadline=deadline, year=closed.title
        )
    if problems:
        raise ValidationFailed.naming(_("The goal was not set"), problems)
    assert version is not None and deadline is not None  # a problem above when not
    goal = Goal(
        title=data["title"].strip(),
        rubric_version_id=version.id,
        target_kind=data["target_kind"],
        target_key=data["target_key"],
        at_least=data["at_least"],
        target_share=data["target_share"],
        school_id=school.id if school else None,
        starts_on=starts_on,
        deadline=deadline,
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


def _not_a_target(kind: str, key: str, version: RubricVersion) -> str:
    """The goal form's message for a target ``version`` does not have (one sentence per kind,
    so that each language words it whole)."""
    if kind == "criterion":
        return _("%(key)s is not a criterion of %(version)s", key=repr(key), version=version.label)
    if kind == "competency":
        return _("%(key)s is not a competency of %(version)s", key=repr(key), version=version.label)
    return _("%(key)s is not a dimension of %(version)s", key=repr(key), version=version.label)


def _holding(version: RubricVersion, kind: str, key: str) -> RubricVersion:
    """``version``, or for a look-for it no longer has, the newest earlier version that has it."""
    if kind != "criterion" or _members(version, kind, key):
        return version
    earlier = [v for v in version.rubric.versions if v.number < version.number]
    return next((v for v in reversed(earlier) if _members(v, kind, key)), version)


def _members(version: RubricVersion, kind: str, key: str) -> list[Criterion]:
    if kind == "criterion":
        return [c for c in version.criteria if c.key == key]
    if kind == "competency":
        return [c for c in version.criteria if c.competency.key == key]
    if key not in {d.value for d in EquityDimension}:
        return []
    return [c for c in version.criteria if key in c.dimension_names]


def _target_label(goal: Goal) -> str:
    """What the goal is on, in the reader's language (the rubric's own text where the rubric
    file gives it in that language)."""
    version = goal.rubric_version
    said = wording(version)
    if goal.target_kind == "criterion":
        text = next((c.text for c in version.criteria if c.key == goal.target_key), goal.target_key)
        return _("“%(look_for)s”", look_for=said.criterion(text, goal.target_key).rstrip("."))
    if goal.target_kind == "competency":
        name = next((c.name for c in version.competencies if c.key == goal.target_key), "")
        return said.competency(name, goal.target_key)
    return _("the %(dimension)s dimension", dimension=said.dimension(goal.target_key).lower())


STANDINGS = ("on track", "behind", "not clear", "too early to tell")


def standing(month: dict[str, Any] | None, target: float) -> str:
    """Where a goal stands, said only as far as the month's interval allows: "on track" when
    all of it is at or above the target, "behind" when all of it is below, "not clear" when it
    straddles the target, "too early to tell" with no month or no interval (one classroom)."""
    interval = month.get("interval") if month else None
    if not interval:
        return "too early to tell"
    if interval[0] >= target:
        return "on track"
    if interval[1] < target:
        return "behind"
    return "not clear"


def _query(goal: Goal) -> summary.Query:
    # Its target followed through the rubric's later versions (reports.revisions).
    following = revisions.goal_scope(goal.rubric_version)
    return summary.Query(
        rubric_version_id=goal.rubric_version_id,
        start=goal.starts_on,
        end=goal.deadline,
        school_codes=[goal.school.code] if goal.school else [],
        at_least=goal.at_least,
        versions=following.version_ids,
        fold=following.fold,
    )


def _counted(goal: Goal) -> dict[str, Any]:
    return summary.counted(SYSTEM, _query(goal))  # the goal's own scope, whoever reads it


def _series(goal: Goal, counts: dict[str, Any]) -> Series:
    query = _query(goal)
    return Series(
        schools=frozenset({goal.school_id}) if goal.school_id is not None else None,
        versions=frozenset(query.version_ids),
        months=dict(counts["months"]),
        classrooms=dict(counts["month_classrooms"]),
        hidden={},
        partial=summary.partial_months(query.start, query.end, counts["months"]),
        window=(query.start, query.end),
    )


def progress_all(listed: list[Goal]) -> list[dict[str, Any]]:
    """Goals shown together, their months hidden by one decision (suppression.consistent): a
    district goal's month minus its schools' goals' must not single out a small school. Goals
    of closed years show what was stored, less the months hidden now (review A2)."""
    counts = {goal.id: _counted(goal) for goal in listed}
    series = {goal.id: _series(goal, counts[goal.id]) for goal in listed}
    if series:
        per_school = summary.school_months({one.versions for one in series.values()})
        consistent(list(series.values()), per_school, Rules.from_config())
    return [
        progress(goal, counts.get(goal.id), series[goal.id].hidden if goal.id in series else None)
        for goal in listed
    ]


def summary_with_goals(user: User, query: summary.Query, listed: list[Goal]) -> dict[str, Any]:
    """The summary report with these goals' progress, their months and the trend's hidden by
    one decision. A closed year's goals take part as they count now: the months they stored
    at closing were decided by the suppression of that time, and one the response hides now
    (a group since fallen under the minimum, a month hidden as the trend's cover) is masked."""
    counts = {goal.id: _counted(goal) for goal in listed}
    series = {goal.id: _series(goal, counts[goal.id]) for goal in listed}
    report = summary.build(user, query, list(series.values()))
    rules = Rules.from_config()
    if report["suppressed"] and series:  # no trend: the goals are decided among themselves
        per_school = summary.school_months({one.versions for one in series.values()})
        consistent(list(series.values()), per_school, rules)
    elif query.by and summary.school_split(query.by) and series:
        # Split by a school attribute, a school's group is the sum of its months in the
        # period: a school goal's whole months in the period are parts of a shown total too.
        period = {row["month"] for row in report["trend"]} - summary.partial_months(
            query.start, query.end, {row["month"] for row in report["trend"]}
        )
        for one in series.values():
            if (
                one.schools is not None
                and len(one.schools) == 1
                and one.versions == frozenset(query.version_ids)
            ):
                inside = {m: n for m, n in one.months.items() if m in period and one.whole(m)}
                one.hidden.update(
                    hide(inside, one.classrooms, rules, overlapping=True,
                         already={m: w for m, w in one.hidden.items() if m in inside},
                         spare=max(inside, default=None))
                )  # fmt: skip
        versions = {frozenset(query.version_ids), *(one.versions for one in series.values())}
        consistent(list(series.values()), summary.school_months(versions), rules)
    report["goals"] = [
        progress(goal, counts.get(goal.id), series[goal.id].hidden if goal.id in series else None)
        for goal in listed
    ]
    return report


def progress(
    goal: Goal, counts: dict[str, Any] | None = None, hidden: dict[str, str] | None = None
) -> dict[str, Any]:
    """The goal with its share month by month over its own window — walkthroughs from its
    start to its deadline, both days included — its status and the figure that decided it.
    A goal of a closed year answers with what was stored when the year closed. ``counts`` and
    ``hidden`` (the months hidden, with why): as progress_all decides them for goals shown
    together; else the goal's own."""
    about = {
        "id": goal.id,
        "title": goal.title,
        "target": {"kind": goal.target_kind, "key": goal.target_key, "label": _target_label(goal)},
        "at_least": goal.at_least,
        "target_share": goal.target_share,
        "school": {"code": goal.school.code, "name": goal.school.name} if goal.school else None,
        "rubric_version_id": goal.rubric_version_id,
        "starts_on": goal.starts_on.isoformat(),
        "deadline": goal.deadline.isoformat(),
        "days_left": max(0, (goal.deadline - clock.today()).days),
        "carried_from": goal.carried_from_id,
    }
    if goal.final is not None:
        shown = {**about, **stored(goal, hidden), "closed": True}
    else:
        shown = {**about, **figures(goal, counts, hidden), "closed": False}
    # Stored (a closed year's) and counted alike in the rubric's own words: the reader's here.
    shown["at_least_label"] = wording(goal.rubric_version).level(shown["at_least_label"])
    return shown


def stored(goal: Goal, hidden: dict[str, str] | None = None) -> dict[str, Any]:
    """What a closed year's goal stored, less what may not be shown now (review A2): a month
    in ``hidden`` (the response's decision, as goals are decided with the trend beside them),
    or one the rules hide today on its stored figures; a latest month or deciding figure of a
    masked month gives way to the newest month still shown (``decided_by`` to None, with
    ``decided_by_hidden`` saying why). The stored status — the year's result — stays."""
    final = dict(goal.final or {})
    rules = Rules.from_config()
    hidden = hidden or {}
    months = []
    masked: dict[str, str] = {}
    for month in final.get("months", []):
        why = hidden.get(month["month"])
        if why is None and month.get("observations") is not None:
            rooms = month.get("classrooms")  # of the target's ratings: never more than counted
            rooms = rules.min_classrooms if rooms is None else rooms
            why = rules.reason(month["observations"], rooms)
        if why and month.get("observations") is not None:
            masked[month["month"]] = why
            month = {"month": month["month"], "observations": None, "share": None, "reason": why}
        months.append(month)
    if not masked:
        return final
    shown = [m for m in months if m.get("share") is not None]
    latest = shown[-1] if shown else None
    final.update(months=months, latest=latest,
                 met=bool(latest and latest["share"] >= goal.target_share),
                 standing=standing(latest, goal.target_share))  # fmt: skip
    deciding = final.get("decided_by")
    if deciding and {deciding["from_month"], deciding["to_month"]} & set(masked):
        final["decided_by"] = None
        final["decided_by_hidden"] = masked.get(deciding["to_month"]) or masked.get(
            deciding["from_month"]
        )
    return final


def figures(
    goal: Goal, counts: dict[str, Any] | None = None, hidden: dict[str, str] | None = None
) -> dict[str, Any]:
    """What a goal's result is made of, counted now: what closing its year stores.

    The goal is judged on its months as they are hidden on their own, so its status is the
    same on every page and when its year closes. The months shown are those ``hidden`` leaves
    (the decision of a response showing it beside other figures; else its own); when the month
    that decided it is hidden there, ``decided_by`` gives way to ``decided_by_hidden`` (why).
    Its latest month is the newest shown."""
    rules = Rules.from_config()
    min_group = rules.min_group
    members = {c.id for c in _members(goal.rubric_version, goal.target_kind, goal.target_key)}
    query = _query(goal)
    if counts is None:
        counts = summary.counted(SYSTEM, query)  # the goal's own scope, whoever reads it
    one = _series(goal, counts)
    consistent([one], {}, rules)
    own = one.hidden
    if hidden is None:
        hidden = own
    per_classroom = summary.clustered(SYSTEM, query, False).months
    judged_on = []
    for month in sorted(counts["months"]):
        n = counts["months"][month]
        cells = [(h, r) for m, c, h, r in counts["trend"] if m == month and c in members]
        rated = sum(int(r or 0) for _, r in cells)
        if month in own or not rated:
            # Walkthroughs that rated none of the target (say, on a version without it) show
            # their number and no share; a month too small to show, neither.
            shown_n = None if month in own else n
            judged_on.append({"month": month, "observations": shown_n, "share": None,
                              "reason": own.get(month)})  # fmt: skip
            continue
        found = per_classroom.estimate(month, members)
        judged_on.append({"month": month, "observations": n, **summary.uncertain(found)})
    months = [
        {"month": row["month"], "observations": None, "share": None, "reason": hidden[row["month"]]}
        if row["month"] in hidden and row["month"] not in own
        else row
        for row in judged_on
    ]
    shown = [m for m in months if m["share"] is not None]
    latest = shown[-1] if shown else None
    ended = clock.today() > goal.deadline
    status, decided_by = judge(goal.target_share, judged_on, ended)
    decided_by_hidden = None
    if decided_by is not None and decided_by["to_month"] in hidden:
        decided_by_hidden = hidden[decided_by["to_month"]]
        decided_by = None
    levels = {lv["value"]: lv["label"] for c in goal.rubric_version.criteria for lv in c.levels}
    return {
        "at_least_label": levels.get(goal.at_least, str(goal.at_least)),
        "months": months,
        "latest": latest,
        "met": bool(latest and latest["share"] >= goal.target_share),
        "ended": ended,
        "status": status,
        "standing": standing(latest, goal.target_share),
        "decided_by": decided_by,
        **({"decided_by_hidden": decided_by_hidden} if decided_by_hidden else {}),
        "min_group": min_group,
        "min_classrooms": rules.min_classrooms,
        "judged_on": clock.today().isoformat(),
        "removed": revisions.removal_note(goal.rubric_version, members),
    }


ON_TRACK, BEHIND, MET, NOT_MET = "on track", "behind", "met", "not met"


def judge(
    target_share: float, months: list[dict[str, Any]], ended: bool
) -> tuple[str, dict[str, Any] | None]:
    """A goal's status from its months (suppressed ones carry no share) and the figure that
    decided it — its share, walkthroughs and the months it covers — or None when no month
    had enough walkthroughs to show. Before the deadline: on track or behind; after it, met or
    not met. The one place the decision is made: the pages, PDF, JSON and closing a year ask.

    The decision is the latest month shown within the goal's window, at or above the target.
    """
    shown = [m for m in months if m["share"] is not None]
    if not shown:
        return (NOT_MET if ended else standing(None, target_share)), None
    latest = shown[-1]
    reached = latest["share"] >= target_share
    # Before the deadline, only as far as the month's interval allows (see standing()).
    status = (MET if reached else NOT_MET) if ended else standing(latest, target_share)
    decided_by = {
        "share": latest["share"],
        "observations": latest["observations"],
        "from_month": latest["month"],
        "to_month": latest["month"],
    }
    return status, decided_by
