"""Imports every model so SQLAlchemy's metadata, and so Alembic, knows every table."""

from observe.accounts.models import ApiToken, User, user_school
from observe.audit.models import AuditEvent
from observe.calibration.models import (
    CalibrationReminder,
    CalibrationSession,
    ConsensusScore,
    calibration_participant,
)
from observe.core.changes import Change, ChangeCounter
from observe.observations.models import (
    FeedbackSend,
    Observation,
    ObservationVersion,
    Rating,
    RejectedVersion,
)
from observe.photos.models import Photo
from observe.reports.models import (
    Goal,
    RollupClassroom,
    RollupProfile,
    RollupSchool,
    RollupState,
)
from observe.roster.models import (
    Classroom,
    ClassroomAttribute,
    ClassroomProgram,
    School,
    SchoolAttribute,
    Teacher,
)
from observe.rubrics.models import (
    Competency,
    Criterion,
    CriterionDimension,
    CriterionKind,
    EquityDimension,
    Rubric,
    RubricVersion,
)
from observe.sync.models import TabletDevice

__all__ = [
    "ApiToken",
    "AuditEvent",
    "CalibrationReminder",
    "CalibrationSession",
    "Change",
    "ChangeCounter",
    "Classroom",
    "ClassroomAttribute",
    "ClassroomProgram",
    "Competency",
    "ConsensusScore",
    "Criterion",
    "CriterionDimension",
    "CriterionKind",
    "EquityDimension",
    "FeedbackSend",
    "Goal",
    "Observation",
    "ObservationVersion",
    "Photo",
    "Rating",
    "RejectedVersion",
    "RollupClassroom",
    "RollupProfile",
    "RollupSchool",
    "RollupState",
    "Rubric",
    "RubricVersion",
    "School",
    "SchoolAttribute",
    "TabletDevice",
    "Teacher",
    "User",
    "calibration_participant",
    "user_school",
]
