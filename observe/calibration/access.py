"""Who may do what with a calibration session (``observe.core.permissions``)."""

from __future__ import annotations

from typing import Any

from observe.core.permissions import Principal, Role, roles, rule

CREATE = "calibration.create"
EVERY_SESSION = "calibration.every_session"  # listed whether one takes part or not
VIEW = "calibration.view"
MANAGE = "calibration.manage"
# Each observer's estimated lean (the rater-effects model): a leader sees those who work in
# their schools, a district admin everyone.
OBSERVER_LEANS = "calibration.observer_leans"

roles(CREATE, Role.SCHOOL_LEADER, Role.DISTRICT_ADMIN)
roles(EVERY_SESSION, Role.DISTRICT_ADMIN)
roles(OBSERVER_LEANS, Role.SCHOOL_LEADER, Role.DISTRICT_ADMIN)


@rule(VIEW)
def can_view(who: Principal, session: Any) -> bool:
    """The team, its facilitator and district admins. Calibration is the team's own practice:
    a leader of the lesson's school who is not on the team does not see who scored what."""
    return (
        who.is_district_admin or who.id == session.facilitator_id or session.has_participant(who.id)
    )


@rule(MANAGE)
def can_manage(who: Principal, session: Any) -> bool:
    """Reveal, record consensus: the facilitator or a district admin."""
    return who.is_district_admin or who.id == session.facilitator_id
