"""Who may read and change a walkthrough: the rules this feature declares
(``observe.core.permissions``)."""

from __future__ import annotations

from typing import Any

from observe.core.permissions import Principal, Role, can_see_school, roles, rule

READ = "walkthrough.read"
DELETE = "walkthrough.delete"
# List the walkthroughs of one's schools (every school for an admin), not only one's own.
LIST_SCHOOLS = "walkthrough.list_schools"

roles(LIST_SCHOOLS, Role.SCHOOL_LEADER, Role.DISTRICT_ADMIN)


@rule(READ)
def can_read(who: Principal, observation: Any) -> bool:
    """Read one walkthrough in full (its versions, its feedback page) and reconcile it: its
    author, a district admin, or a leader of its school — never someone else's score in a
    calibration session, which nobody but its author may see before the reveal."""
    if observation.author_id == who.id:
        return True
    if observation.calibration_session_id is not None:
        return False
    if who.is_district_admin:
        return True
    return who.role is Role.SCHOOL_LEADER and can_see_school(who, observation.school_id)


@rule(DELETE)
def can_delete(who: Principal, observation: Any) -> bool:
    """Delete a walkthrough: its author or a district admin."""
    return observation.author_id == who.id or who.is_district_admin


SEND_FEEDBACK = "walkthrough.send_feedback"


@rule(SEND_FEEDBACK)
def can_send_feedback(who: Principal, observation: Any) -> bool:
    """E-mail a walkthrough's feedback to its teacher: its author, or a leader of its school
    (a principal sending a coach's visit on). Not a district admin as such: feedback comes
    from someone in the building. Never a calibration score: practice, not a visit."""
    if observation.calibration_session_id is not None:
        return False
    if observation.author_id == who.id:
        return True
    return who.role is Role.SCHOOL_LEADER and can_see_school(who, observation.school_id)
