"""A small district for the authorization table: two schools, the six kinds of requester, and
a real object behind every id a route takes.

Distinctive values are planted where a leak would show:

* ``BLIND_*`` — the evidence and notes of calibration scores not yet revealed; nobody but
  their author may ever read them (not the facilitator, not an admin).
* ``TINY_GROUP`` — the value of a classroom attribute that only one walkthrough has; in the
  summary split by that attribute its group is too small to show.
* ``WALK_A`` — the evidence of a walkthrough in school A: its author, school A's leader and
  admins may read it; school B's people may not.
* ``TEACHER_B`` — a teacher in school B, unknown to school A's people.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from typing import Any

from werkzeug.security import generate_password_hash

from observe import paths
from observe.accounts import operations as account_ops
from observe.accounts.models import User
from observe.calibration import sessions
from observe.core.permissions import Role
from observe.extensions import db
from observe.photos import operations as photo_ops
from observe.reports import goals
from observe.roster.models import Classroom, ClassroomAttribute, School, Teacher
from observe.roster.years import add_session
from observe.rubrics.operations import load_rubric_file
from observe.sync import push as sync

PASSWORD = "authz table password"
# A cheap hash: the table signs people in hundreds of times; what is tested is who they are.
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")

BLIND_A = "BLIND-ZQX-ANN-evidence"  # observer A's blind score
BLIND_B = "BLIND-ZQX-BOB-evidence"  # observer B's blind score
TINY_GROUP = "PATHWAY-TINY-KJW"
WALK_A = "WALK-A-EVIDENCE-PLM"
TEACHER_B = "Tobias Teacherb-QVN"
# A photo the table's PUT adds: a 1 by 1 PNG, one orange pixel.
OTHER_PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c63"
    "3851c10000034c014194dd53450000000049454e44ae426082"
)
OTHER_PHOTO_SHA = sha256(OTHER_PHOTO).hexdigest()
# A photo of a walkthrough: a 1 by 1 PNG, one blue pixel.
PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c63"
    "90f5eb0400018000f5f2515f780000000049454e44ae426082"
)

# The requesters of the table, in its column order.
ROLES = ("anonymous", "observer", "observer_b", "leader_a", "leader_b", "admin")
MODES = ("cookie", "token")


@dataclass
class District:
    emails: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # role → bearer secret
    # Markers a role may see (beyond TINY_GROUP, checked apart): role → set of markers.
    may_see: dict[str, set[str]] = field(default_factory=dict)

    def user_id(self, role: str) -> int:
        return self.user_ids[role]


def _user(email: str, name: str, role: Role, schools: list[School]) -> User:
    user = account_ops.create_user(email, name, role, None, [s.code for s in schools])
    user.password_hash = _HASH
    return user


def _version(
    rubric_version_id: int,
    school: School,
    classroom: Classroom,
    *,
    evidence: str = "",
    notes: str = "",
    session_id: int | None = None,
    minutes_ago: int = 60,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "observation_id": str(uuid.uuid4()),
        "version_id": str(uuid.uuid4()),
        "base_version_id": None,
        "rubric_version_id": rubric_version_id,
        "school_id": school.id,
        "classroom_id": classroom.id,
        "observed_at": (now - timedelta(minutes=minutes_ago)).isoformat(),
        "saved_at": (now - timedelta(minutes=minutes_ago - 5)).isoformat(),
        "duration_seconds": 600,
        "state": "submitted",
        "ratings": [
            {"criterion": "ct-explain-reasoning", "level": 3, "evidence": evidence},
            {"criterion": "ct-rigorous-task", "level": 2, "evidence": ""},
        ],
        "notes": notes,
        "calibration_session_id": session_id,
    }


def _edit(version: dict[str, Any], **fields: Any) -> dict[str, Any]:
    saved = datetime.fromisoformat(version["saved_at"]) + timedelta(minutes=1)
    return {
        **version,
        "version_id": str(uuid.uuid4()),
        "base_version_id": version["version_id"],
        "saved_at": saved.isoformat(),
        **fields,
    }


def _push(user: User, device: str, *versions: dict[str, Any]) -> None:
    results = sync.push(sync.Device(user=user, device_id=device), list(versions))
    assert all(r["status"] in ("applied", "conflict") for r in results), results


def build() -> District:
    """Write the district (committed) and return what the table needs to address it."""
    d = District()
    school_a = School(code="AUTHZ-A", name="Alder Elementary", level="elementary")
    school_b = School(code="AUTHZ-B", name="Birch High", level="high")
    teacher_b = Teacher(external_id="T-B1", name=TEACHER_B)
    db.session.add_all([school_a, school_b, teacher_b])
    classrooms = {}
    for key, school, pathway in (
        ("A1", school_a, "General"),
        ("A2", school_a, TINY_GROUP),
        ("A3", school_a, "Arts"),
        ("B1", school_b, "General"),
    ):
        classroom = Classroom(
            external_id=f"AUTHZ-{key}",
            name=f"Room {key}",
            school=school,
            grade="3" if school is school_a else "10",
            teacher=teacher_b if key == "B1" else None,
        )
        classroom.attributes.append(ClassroomAttribute(name="pathway", value=pathway))
        db.session.add(classroom)
        classrooms[key] = classroom
    db.session.flush()

    users = {
        "observer": _user("ann@authz.example", "Ann Observer", Role.OBSERVER, [school_a]),
        "observer_b": _user("bob@authz.example", "Bob Observer", Role.OBSERVER, [school_b]),
        "leader_a": _user("lea@authz.example", "Lea Leader", Role.SCHOOL_LEADER, [school_a]),
        "leader_b": _user("leb@authz.example", "Leb Leader", Role.SCHOOL_LEADER, [school_b]),
        "admin": _user("ada@authz.example", "Ada Admin", Role.DISTRICT_ADMIN, []),
    }
    ann, bob = users["observer"], users["observer_b"]
    lea, admin = users["leader_a"], users["admin"]
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    db.session.flush()

    # Walkthroughs: three rooms of school A, split by pathway 3 / 3 / 1 (the tiny group); the
    # first is edited on two tablets, so it has a conflict to reconcile; one in school B.
    walk_a = _version(version.id, school_a, classrooms["A1"], evidence=WALK_A, minutes_ago=300)
    others = [
        _version(version.id, school_a, classrooms[key], minutes_ago=200 + i)
        for i, key in enumerate(["A1", "A1", "A3", "A3", "A3", "A2"])
    ]
    _push(ann, "ann-tablet", walk_a, *others)
    left = _edit(walk_a, notes="edited on the tablet")
    right = _edit(walk_a, notes="edited on the phone")
    _push(ann, "ann-tablet", left)
    _push(ann, "ann-phone", right)
    walk_b = _version(version.id, school_b, classrooms["B1"], minutes_ago=90)
    _push(bob, "bob-tablet", walk_b)
    # A photo on a walkthrough of school A that no row of the table deletes.
    photo_walk = others[0]["observation_id"]
    photo, _ = photo_ops.add_photo(ann, photo_walk, sha256(PHOTO).hexdigest(), PHOTO, None, None)

    # Calibration: one session still scoring (blind), one revealed, both in school A's room A1
    # with observers from both schools; school A's leader facilitates.
    def new_session(title: str) -> Any:
        return sessions.create_session(
            lea,
            {
                "title": title,
                "team": "Alder team",
                "rubric_version_id": version.id,
                "school_id": school_a.id,
                "classroom_id": classrooms["A1"].id,
                "held_on": date.today().isoformat(),
                "participant_ids": [ann.id, bob.id],
            },
        )

    open_session = new_session("Open session")
    revealed = new_session("Revealed session")
    blind_a = _version(
        version.id, school_a, classrooms["A1"], evidence=BLIND_A, notes=BLIND_A,
        session_id=open_session.id,
    )  # fmt: skip
    blind_b = _version(
        version.id, school_a, classrooms["A1"], evidence=BLIND_B, notes=BLIND_B,
        session_id=open_session.id,
    )  # fmt: skip
    _push(ann, "ann-tablet", blind_a, _version(
        version.id, school_a, classrooms["A1"], session_id=revealed.id))  # fmt: skip
    _push(bob, "bob-tablet", blind_b, _version(
        version.id, school_a, classrooms["A1"], session_id=revealed.id))  # fmt: skip
    sessions.reveal(lea, revealed)
    sessions.record_consensus(
        lea, revealed, {"scores": [{"criterion": "ct-explain-reasoning", "level": 3}]}
    )

    # School years: last year (over, so it may be closed) and this one (goals carried into it).
    year_last = add_session("2025-26", date(2025, 8, 18), date(2026, 6, 15))
    year_this = add_session("2026-27", date(2026, 8, 17), date(2027, 6, 11))

    # Goals: a district goal, one for each school.
    def goal(user: User, title: str, school: School | None) -> Any:
        return goals.create_goal(
            user,
            {
                "title": title,
                "rubric_version_id": version.id,
                "target_kind": "criterion",
                "target_key": "ct-explain-reasoning",
                "at_least": 3,
                "target_share": 0.6,
                "school_code": school.code if school else None,
                "deadline": (date.today() + timedelta(days=200)).isoformat(),
            },
        )

    goal_district = goal(admin, "District goal", None)
    goal_a = goal(lea, "Alder goal", school_a)
    goal_b = goal(users["leader_b"], "Birch goal", school_b)

    for role, user in users.items():
        _, d.tokens[role] = account_ops.create_token(user, "authz table")
        d.emails[role], d.user_ids[role] = user.email, user.id
    spare, _ = account_ops.create_token(ann, "spare")
    db.session.flush()

    d.ids = {
        "school_a": school_a.code,
        "school_b": school_b.code,
        "rubric_version": version.id,
        "walk_a": walk_a["observation_id"],
        "walk_a_leaf": right["version_id"],
        "walk_b": walk_b["observation_id"],
        "photo_walk": photo_walk,
        "photo_sha": photo.sha256,
        "blind_b": blind_b["observation_id"],
        "open_session": open_session.id,
        "revealed_session": revealed.id,
        "goal_district": goal_district.id,
        "goal_a": goal_a.id,
        "goal_b": goal_b.id,
        "spare_token": spare.id,
        "classroom_a1": classrooms["A1"].id,
        "school_a_id": school_a.id,
        "year_last": year_last.id,
        "year_this": year_this.id,
    }
    d.may_see = {
        "anonymous": set(),
        "observer": {BLIND_A, WALK_A},
        "observer_b": {BLIND_B, TEACHER_B},
        "leader_a": {WALK_A},
        "leader_b": {TEACHER_B},
        "admin": {WALK_A, TEACHER_B},
    }
    db.session.commit()
    return d


MARKERS = (BLIND_A, BLIND_B, WALK_A, TEACHER_B)
