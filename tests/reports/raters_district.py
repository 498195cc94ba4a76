"""A generated district with planted observer leans, for the observer-adjusted comparisons
(tests/reports/test_raters.py and the browser test's screenshots).

Four schools of ten classrooms each. Every school has its principal, who makes most of its
walkthroughs; four district coaches visit every school. Planted:

- an observer-driven gap: ALD and BRK teach alike, but ALD's principal is severe (-0.25) and
  BRK's lenient (+0.10): as observed, ALD looks far behind BRK;
- a real gap: CED's classrooms are truly 0.20 above DUN's, with unbiased principals;
- the coaches lean a little each way, and every observer scored one calibration lesson.

Ratings are written straight into the tables (as scripts/generate_district.py does): the point
is data with a known truth, quickly.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from observe import paths
from observe.accounts.models import User
from observe.calibration.models import CalibrationSession, SessionState
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion, Rating
from observe.roster.models import Classroom, School
from observe.rubrics.models import Criterion, RubricVersion
from observe.rubrics.operations import load_rubric_file

SCHOOLS = {"ALD": 0.0, "BRK": 0.0, "CED": 0.10, "DUN": -0.10}  # true school levels
PRINCIPAL_LEAN = {"ALD": -0.25, "BRK": 0.10, "CED": 0.0, "DUN": 0.0}
COACH_LEANS = [0.06, -0.06, 0.03, -0.03]
LOOK_FORS = 6


@dataclass
class District:
    version: RubricVersion
    schools: dict[str, School]
    observers: dict[int, float] = field(default_factory=dict)  # user id -> planted lean
    principals: dict[str, User] = field(default_factory=dict)
    coaches: list[User] = field(default_factory=list)
    admin: User | None = None


def build(
    create_user,
    *,
    walkthroughs_per_school: int = 240,
    overlap: bool = True,
    seed: int = 14,
) -> District:
    """Make the district. ``overlap=False``: every observer keeps to classrooms of their own,
    and there is no calibration lesson (the model must refuse)."""
    rng = random.Random(seed)
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    schools = {code: School(code=code, name=f"{code} School") for code in SCHOOLS}
    db.session.add_all(schools.values())
    db.session.flush()
    rooms: dict[str, list[tuple[int, float]]] = {}
    for code, school in schools.items():
        made = [Classroom(external_id=f"{code}-{i}", school=school, name=f"{code} room {i}",
                          grade="9", course_level="general") for i in range(10)]  # fmt: skip
        db.session.add_all(made)
        db.session.flush()
        rooms[code] = [(c.id, SCHOOLS[code] + rng.gauss(0, 0.08)) for c in made]
    db.session.commit()
    district = District(version, schools)
    district.admin = create_user(Role.DISTRICT_ADMIN, email="admin@example.org", name="Ada Admin")
    for code in SCHOOLS:
        person = create_user(Role.SCHOOL_LEADER, email=f"principal-{code.lower()}@example.org",
                             name=f"Principal {code}", schools=[schools[code]])  # fmt: skip
        district.principals[code] = person
        district.observers[person.id] = PRINCIPAL_LEAN[code]
    for i, lean in enumerate(COACH_LEANS):
        coach = create_user(Role.OBSERVER, email=f"coach{i}@example.org", name=f"Coach {i}",
                            schools=list(schools.values()))  # fmt: skip
        district.coaches.append(coach)
        district.observers[coach.id] = lean
    criteria = list(
        db.session.scalars(
            select(Criterion.id)
            .where(Criterion.rubric_version_id == version.id)
            .order_by(Criterion.position)
        )
    )[:LOOK_FORS]
    rows: list[tuple[int, int, int | None, int, float]] = []  # author, school, room, session, level
    for code, school in schools.items():
        for _ in range(walkthroughs_per_school):
            if not overlap:
                # Coaches keep to rooms 8-9, each principal to rooms 0-7: nobody shares.
                coach_index = rng.randrange(len(district.coaches))
                by_coach = rng.random() < 0.3
                author = district.coaches[coach_index] if by_coach else district.principals[code]
                room_id, level = rooms[code][8 + coach_index % 2 if by_coach else rng.randrange(8)]
            else:
                by_coach = rng.random() < 0.35
                author = rng.choice(district.coaches) if by_coach else district.principals[code]
                room_id, level = rng.choice(rooms[code])
            rows.append((author.id, school.id, room_id, 0, level))
    sessions = 0
    if overlap:
        lesson = CalibrationSession(
            title="District norming", team="District", rubric_version_id=version.id,
            school_id=schools["ALD"].id, classroom_id=rooms["ALD"][0][0],
            held_on=datetime(2026, 9, 20).date(), facilitator_id=district.admin.id,
            state=SessionState.REVEALED, revealed_at=datetime(2026, 9, 21, tzinfo=UTC),
        )  # fmt: skip
        db.session.add(lesson)
        db.session.flush()
        sessions = lesson.id
        for user_id in district.observers:
            rows.append((user_id, schools["ALD"].id, rooms["ALD"][0][0], sessions, 0.0))
    _write(rows, district.observers, criteria, version.id, rng)
    db.session.commit()
    return district


def _write(
    rows: list[tuple[int, int, int | None, int, float]],
    leans: dict[int, float],
    criteria: list[int],
    version_id: int,
    rng: random.Random,
) -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    walkthroughs, versions, ratings = [], [], []
    for author, school_id, room_id, session_id, level in rows:
        oid, vid = str(uuid.UUID(int=rng.getrandbits(128), version=4)), str(uuid.uuid4())
        observed = start + timedelta(minutes=rng.randrange(50 * 24 * 60))
        walkthroughs.append({
            "id": oid, "author_id": author, "rubric_version_id": version_id,
            "school_id": school_id, "classroom_id": room_id, "observed_at": observed,
            "duration_seconds": 600, "context": {}, "notes": "", "state": "submitted",
            "submitted_at": observed, "created_at": observed, "updated_at": observed,
            "head_version_id": vid, "has_conflict": False,
            "calibration_session_id": session_id or None,
        })  # fmt: skip
        versions.append({
            "id": vid, "observation_id": oid, "base_version_id": None, "pushed_by_id": author,
            "device_id": "generated", "app_version": "", "user_agent": "",
            "saved_at": observed, "payload": {}, "content_hash": vid.replace("-", "") * 2,
            "outcome": "applied", "received_at": observed,
        })  # fmt: skip
        chance = min(0.95, max(0.05, 0.5 + level + leans[author]))
        for criterion in criteria:
            hit = rng.random() < chance
            ratings.append({"observation_id": oid, "criterion_id": criterion,
                            "level": rng.choice((3, 4)) if hit else rng.choice((1, 2)),
                            "not_observed": False, "evidence": ""})  # fmt: skip
    db.session.execute(insert(Observation.__table__), walkthroughs)
    db.session.execute(insert(ObservationVersion.__table__), versions)
    db.session.execute(insert(Rating.__table__), ratings)
