"""Who may read reports and set goals (``observe.core.permissions``). Within a report, what a
reader sees is their schools (``visible_school_ids``); an observer's export holds only their own
walkthroughs."""

from __future__ import annotations

from typing import Any

from observe.core.permissions import Principal, Role, allowed, can_see_school, roles, rule

SUMMARY = "reports.summary"
# The coverage report: visits per classroom in aggregate, and (as the walkthrough list allows)
# the classrooms nobody visited.
COVERAGE = "reports.coverage"
ALL_WALKTHROUGHS = "reports.all_walkthroughs"  # not only one's own (the export)
SET_GOALS = "goals.set"
DISTRICT_GOALS = "goals.district"
REMOVE_GOAL = "goals.remove"
# Closing a school year (its goals frozen) and starting the next year's goals from its.
CLOSE_YEAR = "years.close"

roles(SUMMARY, Role.SCHOOL_LEADER, Role.DISTRICT_ADMIN)
roles(COVERAGE, Role.SCHOOL_LEADER, Role.DISTRICT_ADMIN)
roles(ALL_WALKTHROUGHS, Role.SCHOOL_LEADER, Role.DISTRICT_ADMIN)
roles(SET_GOALS, Role.SCHOOL_LEADER, Role.DISTRICT_ADMIN)
roles(DISTRICT_GOALS, Role.DISTRICT_ADMIN)
roles(CLOSE_YEAR, Role.DISTRICT_ADMIN)


@rule(REMOVE_GOAL)
def can_remove_goal(who: Principal, goal: Any) -> bool:
    """Whoever sets goals, within the goal's own scope: a school's goal by a leader of that
    school (or a district admin), a district's goal by a district admin."""
    if not allowed(who, SET_GOALS):
        return False
    if goal.school_id is None:
        return who.is_district_admin
    return can_see_school(who, goal.school_id)
