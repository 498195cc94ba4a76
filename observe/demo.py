"""``observe demo``: a fictional district to explore observe with.

Everything is invented: the schools, the people and the walkthroughs. The ratings follow
patterns an equity report should reveal — students in honors and AP sections get more chances
to reason and lead discussion than students in general sections, and English-learner and
inclusion sections less access to rigorous work — so the reports have something honest to show.
"""

from __future__ import annotations

import os
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import current_app
from sqlalchemy import func, select

from observe import paths
from observe.accounts import operations as accounts
from observe.accounts.models import User
from observe.calibration import sessions as calibration
from observe.core.permissions import Role
from observe.extensions import db
from observe.reports import goals
from observe.roster.models import (
    Classroom,
    ClassroomAttribute,
    ClassroomProgram,
    School,
    SchoolAttribute,
    Teacher,
)
from observe.rubrics.models import Criterion, RubricVersion
from observe.rubrics.operations import load_rubric_file
from observe.sync import push as sync

EMAIL_DOMAIN = "riverbend.example"
SIGN_INS_FILE = "demo-sign-ins.txt"
EL = "English learners"
INCLUSION = "Special education inclusion"


@dataclass(frozen=True)
class DemoSchool:
    code: str
    name: str
    level: str
    region: str
    title_i: bool
    feeder: str


SCHOOLS = [
    DemoSchool("RVE", "Riverside Elementary", "elementary", "North", True, "Riverbend"),
    DemoSchool("CPE", "Cedar Park Elementary", "elementary", "North", False, "Riverbend"),
    DemoSchool("MGE", "Maple Grove Elementary", "elementary", "South", True, "Southfield"),
    DemoSchool("HVE", "Harbor View Elementary", "elementary", "South", False, "Southfield"),
    DemoSchool("NGM", "Northgate Middle", "middle", "North", True, "Riverbend"),
    DemoSchool("EWM", "Eastwood Middle", "middle", "South", False, "Southfield"),
    DemoSchool("RHS", "Riverbend High", "high", "North", True, "Riverbend"),
    DemoSchool("SHS", "Southfield High", "high", "South", False, "Southfield"),
]

FIRST = ["Amara", "Ben", "Carmen", "Dev", "Elena", "Farid", "Grace", "Hiro", "Imani", "Jonah",
         "Keiko", "Luis", "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
         "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe"]  # fmt: skip
LAST = ["Abbott", "Banerjee", "Castillo", "Diallo", "Eriksen", "Fischer", "Garcia", "Haddad",
        "Ibarra", "Jensen", "Kowalski", "Lee", "Mensah", "Nguyen", "Okafor", "Park", "Quintero",
        "Rahman", "Silva", "Tran", "Usman", "Vargas", "Walsh", "Yilmaz", "Zhou"]  # fmt: skip

EVIDENCE = {
    "high": [
        "Students built on each other's ideas without waiting for the teacher.",
        "Several students justified answers with evidence from the text.",
        "Student groups chose their own approach and explained why.",
        "Students connected the problem to their neighbourhood and families.",
    ],
    "mid": [
        "A few students explained their thinking when prompted.",
        "Discussion moved mostly through the teacher.",
        "Task asked for some reasoning; most answers were short.",
    ],
    "low": [
        "Students copied notes; no student talk heard in five minutes.",
        "Worksheet asked for recall only.",
        "Same three students answered every question.",
    ],
}


def demo_password() -> str:
    """A fresh random password: each demo account gets its own, so knowing one (an observer's,
    shown in a training session) opens no other (the admin's)."""
    return "walk-" + secrets.token_urlsafe(12)


@click.command("demo")
@click.option("--observations", default=360, show_default=True, help="How many walkthroughs.")
@click.option("--seed", default=2026, show_default=True, help="Same seed, same district.")
def demo_command(observations: int, seed: int) -> None:
    """Fill an empty database with a fictional demo district and print its sign-ins."""
    if db.session.scalar(select(func.count(School.id))) or db.session.scalar(
        select(func.count(User.id))
    ):
        raise click.ClickException(
            "the database already holds schools or users; the demo fills only an empty one"
        )
    # OBSERVE_DEMO_PASSWORD gives every account that one password: for scripts (benchmarks,
    # tests) that must sign in as anyone; never for a demo people use.
    shared = os.environ.get("OBSERVE_DEMO_PASSWORD") or None
    sign_ins = build_demo(random.Random(seed), observations, shared)
    db.session.commit()

    lines = [f"{email}\t{role}\t{password}" for email, role, password in sign_ins]
    path = Path(current_app.instance_path) / SIGN_INS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("email\trole\tpassword\n" + "\n".join(lines) + "\n")
    path.chmod(0o600)
    schools = db.session.scalar(select(func.count(School.id)))
    classrooms = db.session.scalar(select(func.count(Classroom.id)))
    click.echo(
        f"Demo district ready: {schools} schools, {classrooms} classrooms, "
        f"{observations} walkthroughs."
    )
    click.echo("Sign in as any of these (also saved in " + str(path) + "):")
    for line in lines:
        click.echo("  " + line.replace("\t", "  "))


def build_demo(
    rng: random.Random, n_observations: int, password: str | None = None
) -> list[tuple[str, str, str]]:
    """Create the district; flushes, does not commit. Returns (email, role, password) sign-ins:
    each account's own random password, or ``password`` for every one when given."""
    # Both sample rubrics are loaded; the demo's walkthroughs use the first.
    version, _ = (
        load_rubric_file(paths.SAMPLE_RUBRICS / name).version
        for name in ("portrait-of-a-graduate.yaml", "quick-look-fors.yaml")
    )
    schools = _schools()
    classrooms = _classrooms(rng, schools)
    users, passwords = _people(schools, password)
    observers = [u for u in users if u.role is not Role.DISTRICT_ADMIN]
    _observations(rng, version, classrooms, observers, n_observations)
    _calibration(rng, version, classrooms, users)
    _goals(version, users)
    return [(u.email, u.role.value, passwords[u.email]) for u in users]


def _schools() -> list[School]:
    schools = []
    for s in SCHOOLS:
        school = School(code=s.code, name=s.name, level=s.level, region=s.region, title_i=s.title_i)
        school.attributes = [SchoolAttribute(name="feeder_pattern", value=s.feeder)]
        db.session.add(school)
        schools.append(school)
    db.session.flush()
    return schools


def _classrooms(rng: random.Random, schools: list[School]) -> list[Classroom]:
    names = iter(rng.sample([(f, last) for f in FIRST for last in LAST], 200))
    classrooms = []
    for school in schools:
        for number, (grade, subject, course_level) in enumerate(_sections(school.level), 1):
            first, last = next(names)
            teacher = Teacher(
                external_id=f"T-{school.code}-{number:02d}",
                name=f"{first} {last}",
                email=f"{first}.{last}@{EMAIL_DOMAIN}".lower(),
            )
            programs = []
            if rng.random() < (0.35 if school.title_i else 0.2):
                programs.append(EL)
            if rng.random() < 0.2:
                programs.append(INCLUSION)
            title = f"{subject} {grade}" if school.level != "elementary" else f"Grade {grade}"
            if course_level not in ("general", None):
                title = f"{course_level} {title}"
            classroom = Classroom(
                external_id=f"{school.code}-{number:02d}",
                school=school,
                name=title,
                teacher=teacher,
                grade=grade,
                subject=subject,
                course_level=course_level,
                students=rng.randint(18, 32),
                programs=[ClassroomProgram(program=p) for p in programs],
                attributes=[ClassroomAttribute(name="period", value=str(rng.randint(1, 7)))]
                if school.level != "elementary"
                else [],
            )
            db.session.add(classroom)
            classrooms.append(classroom)
    db.session.flush()
    return classrooms


def _sections(level: str | None) -> list[tuple[str, str, str]]:
    if level == "elementary":
        return [(g, "Self-contained", "general") for g in ("K", "1", "2", "3", "4", "5")]
    if level == "middle":
        return [
            (g, subject, course)
            for g in ("6", "7", "8")
            for subject, course in (("Math", "general"), ("ELA", "general"), ("Math", "advanced"))
        ]
    return [
        ("9", "English", "general"),
        ("9", "English", "honors"),
        ("10", "Biology", "general"),
        ("10", "Biology", "honors"),
        ("11", "US History", "general"),
        ("11", "US History", "AP"),
        ("11", "Algebra II", "general"),
        ("12", "Calculus", "AP"),
        ("12", "Government", "general"),
    ]


def _people(schools: list[School], password: str | None) -> tuple[list[User], dict[str, str]]:
    by_code = {s.code: s for s in schools}
    people = [
        ("admin", "Dana Whitfield", Role.DISTRICT_ADMIN, []),
        ("principal.rhs", "Marcus Bell", Role.SCHOOL_LEADER, ["RHS"]),
        ("principal.rve", "Lucia Moreno", Role.SCHOOL_LEADER, ["RVE"]),
        ("coach.north", "Aisha Grant", Role.OBSERVER, ["RVE", "CPE", "NGM", "RHS"]),
        ("coach.south", "Tom Becker", Role.OBSERVER, ["MGE", "HVE", "EWM", "SHS"]),
        ("coach.secondary", "Nina Petrov", Role.OBSERVER, ["NGM", "EWM", "RHS", "SHS"]),
    ]
    users, passwords = [], {}
    for handle, name, role, codes in people:
        email = f"{handle}@{EMAIL_DOMAIN}"
        passwords[email] = password or demo_password()
        users.append(accounts.create_user(email, name, role, passwords[email], codes))
    assert all(code in by_code for _, _, _, codes in people for code in codes)
    return users, passwords


_BATCH = 50  # walkthroughs a tablet sends in one push


def _observations(
    rng: random.Random,
    version: RubricVersion,
    classrooms: list[Classroom],
    observers: list[User],
    count: int,
) -> None:
    """Walkthroughs pushed through the same sync rules as a tablet's, one version each, each
    observer's sent from their tablet in batches as a tablet sends them."""
    criteria = db.session.scalars(
        select(Criterion).where(Criterion.rubric_version_id == version.id)
    ).all()
    contexts = version.document.get("context_fields", [])
    # Each observer has a slight lean (leniency or severity), as real observers do.
    lean = {user.id: rng.uniform(-0.25, 0.25) for user in observers}
    devices = {user.id: sync.Device(user, f"demo-tablet-{user.id}", "demo") for user in observers}
    now = datetime.now(UTC)
    start = now - timedelta(days=105)
    made: dict[int, list[dict[str, Any]]] = {user.id: [] for user in observers}
    for _ in range(count):
        author = rng.choice(observers)
        school_ids = {s.id for s in author.schools}
        classroom = rng.choice([c for c in classrooms if c.school_id in school_ids])
        day = start + timedelta(days=rng.randint(0, 100))
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        observed_at = day.replace(hour=rng.randint(13, 21), minute=rng.choice((0, 10, 20, 35, 45)))
        observed_at = min(observed_at, now - timedelta(hours=2))
        months_in = (observed_at - start).days / 30
        shift = lean[author.id] + 0.12 * months_in
        made[author.id].append(
            {
                "observation_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "version_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "base_version_id": None,
                "rubric_version_id": version.id,
                "school_id": classroom.school_id,
                "classroom_id": classroom.id,
                "observed_at": observed_at.isoformat(),
                "saved_at": (observed_at + timedelta(minutes=rng.randint(10, 90))).isoformat(),
                "duration_seconds": rng.randint(6, 18) * 60,
                "state": "submitted",
                "context": {f["key"]: _context_choice(rng, f) for f in contexts},
                "ratings": [_rating(rng, c, classroom, shift) for c in criteria],
                "notes": "",
            }
        )
    for author_id, versions in made.items():
        for first in range(0, len(versions), _BATCH):
            for result in sync.push(devices[author_id], versions[first : first + _BATCH]):
                if result["status"] != sync.APPLIED:
                    raise RuntimeError(f"demo walkthrough not stored: {result}")


def _context_choice(rng: random.Random, spec: dict[str, Any]) -> str | list[str]:
    if spec.get("multiple"):
        return rng.sample(spec["options"], rng.randint(1, 2))
    return rng.choice(spec["options"])


def _rating(
    rng: random.Random, criterion: Criterion, classroom: Classroom, shift: float
) -> dict[str, Any]:
    if criterion.allows_not_observed and rng.random() < 0.12:
        return {"criterion": criterion.key, "level": None, "not_observed": True}
    values = [level["value"] for level in criterion.levels]
    dims = set(criterion.dimension_names)
    mean = 2.3 + shift
    if classroom.course_level in ("honors", "advanced"):
        mean += 0.45 if dims & {"power", "achievement"} else 0.2
    elif classroom.course_level == "AP":
        mean += 0.7 if dims & {"power", "achievement"} else 0.3
    programs = set(classroom.program_names)
    if EL in programs and dims & {"access", "power"}:
        mean -= 0.45
    if INCLUSION in programs and "access" in dims:
        mean -= 0.35
    if classroom.school.title_i and "access" in dims:
        mean -= 0.2
    if criterion.kind.value == "adult":
        mean += 0.25
    position = min(max(round(rng.gauss(mean - 1, 0.75)), 0), len(values) - 1)
    band = "high" if position >= len(values) - 1 else ("low" if position == 0 else "mid")
    evidence = rng.choice(EVIDENCE[band]) if rng.random() < 0.4 else ""
    return {"criterion": criterion.key, "level": values[position], "evidence": evidence}


# The calibration team and its sessions: (title, days ago, classroom, anchor, revealed).
CALIBRATION_TEAM = "District equity team"
CALIBRATION_SESSIONS = [
    ("Grade 4 read-aloud and discussion", 98, "RVE-05", None, True),
    ("Biology lab: designing an experiment", 70, "RHS-03", "principal.rhs", True),
    ("Algebra II: modelling with functions", 42, "RHS-07", None, True),
    ("Grade 8 ELA: argument writing", 3, "NGM-08", None, False),
]
# Nobody agrees on this look-for; one observer scores high everywhere.
CONTESTED = "cp-productive-struggle"
LENIENT = "coach.south"


def _calibration(
    rng: random.Random, version: RubricVersion, classrooms: list[Classroom], users: list[User]
) -> None:
    """Sessions with the patterns calibration is for: one lenient observer, one criterion
    nobody agrees on, and agreement that improves from session to session."""
    admin = next(u for u in users if u.role is Role.DISTRICT_ADMIN)
    team = [u for u in users if u.role is not Role.DISTRICT_ADMIN]
    by_handle = {u.email.split("@")[0]: u for u in users}
    rooms = {c.external_id: c for c in classrooms}
    criteria = db.session.scalars(
        select(Criterion)
        .where(Criterion.rubric_version_id == version.id)
        .order_by(Criterion.position)
    ).all()
    today = datetime.now(UTC)
    for number, (title, days_ago, room, anchor, revealed) in enumerate(CALIBRATION_SESSIONS):
        classroom = rooms[room]
        held = (today - timedelta(days=days_ago)).replace(hour=14, minute=0)
        session = calibration.create_session(
            admin,
            {
                "title": title,
                "team": CALIBRATION_TEAM,
                "rubric_version_id": version.id,
                "school_id": classroom.school_id,
                "classroom_id": classroom.id,
                "held_on": held.date().isoformat(),
                "participant_ids": [u.id for u in team],
                "anchor_id": by_handle[anchor].id if anchor else None,
            },
        )
        noise = (0.95, 0.7, 0.45, 0.4)[number]  # the team converges over the months
        truth = {c.key: rng.choice((1, 2, 2, 3, 3, 4)) for c in criteria}
        # In the open session two participants have scored so far; the rest score on tablets.
        scorers = team if revealed else team[:2]
        for person in scorers:
            ratings = []
            for c in criteria:
                if c.key == CONTESTED:
                    level = rng.randint(1, 4)
                else:
                    lean = 0.9 if person.email.startswith(LENIENT) else 0.0
                    level = min(max(round(rng.gauss(truth[c.key] + lean, noise)), 1), 4)
                band = "high" if level == 4 else ("low" if level == 1 else "mid")
                evidence = rng.choice(EVIDENCE[band]) if rng.random() < 0.5 else ""
                ratings.append({"criterion": c.key, "level": level, "evidence": evidence})
            result = sync.push_one(
                sync.Device(person, f"demo-tablet-{person.id}", "demo"),
                {
                    "observation_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "version_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "base_version_id": None,
                    "rubric_version_id": version.id,
                    "school_id": classroom.school_id,
                    "classroom_id": classroom.id,
                    "observed_at": held.isoformat(),
                    "saved_at": (held + timedelta(minutes=rng.randint(25, 40))).isoformat(),
                    "duration_seconds": 20 * 60,
                    "state": "submitted",
                    "ratings": ratings,
                    "calibration_session_id": session.id,
                },
            )
            if result["status"] != sync.APPLIED:
                raise RuntimeError(f"demo calibration score not stored: {result}")
        if revealed:
            calibration.reveal(admin, session)
            agreed = [
                {
                    "criterion": key,
                    "level": level,
                    "rationale": "Agreed after re-reading the descriptors against our notes.",
                }
                for key, level in list(truth.items())[::3]
            ]
            calibration.record_consensus(admin, session, {"scores": agreed})


def _goals(version: RubricVersion, users: list[User]) -> None:
    """A district goal on an equity dimension and a school's goal on one look-for."""
    admin = next(u for u in users if u.role is Role.DISTRICT_ADMIN)
    principal = next(u for u in users if u.email.startswith("principal.rhs"))
    today = datetime.now(UTC).date()
    deadline = today.replace(month=6, day=15, year=today.year + (today.month > 6))
    begun = (today - timedelta(days=110)).replace(day=1).isoformat()
    for author, body in (
        (admin, {"title": "Students have voice in every classroom", "target_kind": "dimension",
                 "target_key": "power", "target_share": 0.7, "school_code": None}),
        (principal, {"title": "Rigorous tasks in every Riverbend High section",
                     "target_kind": "criterion", "target_key": "ct-rigorous-task",
                     "target_share": 0.65, "school_code": "RHS"}),
    ):  # fmt: skip
        goals.create_goal(
            author,
            {**body, "rubric_version_id": version.id, "at_least": 3, "starts_on": begun,
             "deadline": deadline.isoformat()},
        )  # fmt: skip
