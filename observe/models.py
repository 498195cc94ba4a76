"""Imports every model so SQLAlchemy's metadata, and so Alembic, knows every table."""

from observe.accounts.models import ApiToken, User, user_school
from observe.audit.models import AuditEvent
from observe.calibration.models import (
    CalibrationReminder,
    CalibrationSession,
    ConsensusScore,
    ObserverLean,
    StoredRaterFit,
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
    AcademicSession,
    Classroom,
    ClassroomAttribute,
    ClassroomProgram,
    School,
    SchoolAttribute,
    SchoolMerge,
    Teacher,
)
from observe.roster.profiles import ClassroomProfile
from observe.rubrics.models import (
    Competency,
    Criterion,
    CriterionDimension,
    CriterionKind,
    EquityDimension,
    Rubric,
    RubricRetirement,
    RubricVersion,
)
from observe.sync.models import TabletDevice

__all__ = [
    "AcademicSession",
    "ApiToken",
    "AuditEvent",
    "CalibrationReminder",
    "CalibrationSession",
    "Change",
    "ChangeCounter",
    "Classroom",
    "ClassroomAttribute",
    "ClassroomProfile",
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
    "ObserverLean",
    "Photo",
    "Rating",
    "RejectedVersion",
    "RollupClassroom",
    "RollupProfile",
    "RollupSchool",
    "RollupState",
    "Rubric",
    "RubricRetirement",
    "RubricVersion",
    "School",
    "SchoolAttribute",
    "SchoolMerge",
    "StoredRaterFit",
    "TabletDevice",
    "Teacher",
    "User",
    "calibration_participant",
    "user_school",
]
