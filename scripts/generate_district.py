"""A generated district-year for benchmarks: schools, classrooms, observers and walkthroughs
written straight into a migrated database through SQLAlchemy Core (no sync rules: the point is
volume, quickly). Used by the benchmark scripts; run alone it fills DATABASE_URL:

    .venv/bin/python scripts/generate_district.py --observations 250000 [--schools 200 …]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COURSE_LEVELS = ["general", "general", "general", "honors", "AP"]
PROGRAMS = ["English learners", "Special education inclusion"]
SUBJECTS = ["English", "Math", "Science", "History", "Arts"]
CHUNK = 2_000  # walkthroughs per insert round


def generate(
    url: str,
    *,
    schools: int = 200,
    classrooms: int = 5_000,
    observers: int = 400,
    observations: int = 250_000,
    ratings: int = 25,
    seed: int = 2026,
    quiet: bool = False,
    observer_lean: float = 0.0,
) -> dict:
    """Fill an empty database at ``url``; returns what was made (ids for the callers).

    ``observer_lean``: the spread (in levels) of a lean planted in each observer, drawn apart
    from everything else so that the rest of the district is the same with or without it;
    returned as ``leans`` (user id to lean) for scripts/bench_raters.py."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from observe import create_app, paths
    from observe.accounts.models import User, user_school
    from observe.core.permissions import Role
    from observe.extensions import db
    from observe.observations.models import Observation, ObservationVersion, Rating
    from observe.roster import profiles
    from observe.roster.models import Classroom, ClassroomProgram, School
    from observe.rubrics.models import Criterion
    from observe.rubrics.operations import load_rubric_file

    rng = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
        criteria = db.session.scalars(
            select(Criterion)
            .where(Criterion.rubric_version_id == version.id)
            .order_by(Criterion.position)
        ).all()[:ratings]
        db.session.execute(
            insert(School.__table__),
            [
                {"code": f"S{i:03d}", "name": f"School {i:03d}",
                 "level": ("elementary", "middle", "high")[i % 3],
                 "region": ("North", "South", "East", "West")[i % 4],
                 "title_i": i % 3 == 0, "updated_at": datetime.now(UTC)}
                for i in range(schools)
            ],
        )  # fmt: skip
        school_ids = list(db.session.scalars(select(School.id).order_by(School.id)))
        db.session.execute(
            insert(Classroom.__table__),
            [
                {"external_id": f"C{i:05d}", "school_id": school_ids[i % schools],
                 "name": f"Section {i}", "grade": str(6 + i % 7),
                 "subject": SUBJECTS[i % len(SUBJECTS)],
                 "course_level": COURSE_LEVELS[i % len(COURSE_LEVELS)], "active": True,
                 "updated_at": datetime.now(UTC)}
                for i in range(classrooms)
            ],
        )  # fmt: skip
        rooms = db.session.execute(select(Classroom.id, Classroom.school_id)).all()
        db.session.execute(
            insert(ClassroomProgram.__table__),
            [
                {"classroom_id": cid, "program": PROGRAMS[cid % 2]}
                for cid, _ in rooms
                if cid % 4 == 0
            ],
        )
        db.session.execute(
            insert(User.__table__),
            [
                {"email": f"observer{i}@bench.example", "name": f"Observer {i}",
                 "role": Role.OBSERVER, "password_hash": None, "active": True,
                 "created_at": datetime.now(UTC)}
                for i in range(observers)
            ],
        )  # fmt: skip
        user_ids = list(db.session.scalars(select(User.id).order_by(User.id)))
        planted = random.Random(seed + 1)
        leans = {uid: planted.gauss(0, observer_lean) if observer_lean else 0.0 for uid in user_ids}
        db.session.execute(
            insert(user_school),
            [
                {"user_id": uid, "school_id": school_ids[i % schools]}
                for i, uid in enumerate(user_ids)
            ],
        )
        db.session.commit()

        # Each walkthrough keeps its classroom's profile and teacher (observe/roster/profiles.py).
        loaded = db.session.scalars(select(Classroom)).all()  # one read, programs and all
        at_visit = {room_id: profiles.at_visit(db.session, room_id) for room_id, _ in rooms}
        del loaded
        db.session.commit()
        start = datetime(2025, 8, 15, tzinfo=UTC)
        for first in range(0, observations, CHUNK):
            walkthroughs, versions, rows = [], [], []
            for _ in range(first, min(first + CHUNK, observations)):
                oid, vid = str(uuid.UUID(int=rng.getrandbits(128), version=4)), str(uuid.uuid4())
                room_id, school_id = rooms[rng.randrange(len(rooms))]
                observed = start + timedelta(minutes=rng.randrange(300 * 24 * 60))
                shift = 0.4 if room_id % 5 in (3, 4) else (-0.3 if room_id % 4 == 0 else 0.0)
                walkthroughs.append({
                    "id": oid, "author_id": user_ids[rng.randrange(len(user_ids))],
                    "rubric_version_id": version.id, "school_id": school_id,
                    "classroom_id": room_id, "observed_at": observed, "duration_seconds": 600,
                    "context": {}, "notes": "", "state": "submitted", "submitted_at": observed,
                    "created_at": observed, "updated_at": observed, "head_version_id": vid,
                    "has_conflict": False, **at_visit[room_id],
                })  # fmt: skip
                versions.append({
                    "id": vid, "observation_id": oid, "base_version_id": None,
                    "pushed_by_id": walkthroughs[-1]["author_id"], "device_id": "generated",
                    "app_version": "", "user_agent": "", "saved_at": observed,
                    "payload": {}, "content_hash": vid.replace("-", "") * 2,
                    "outcome": "applied", "received_at": observed,
                })  # fmt: skip
                for criterion in criteria:
                    unseen = rng.random() < 0.08
                    lean = leans[walkthroughs[-1]["author_id"]]
                    level = min(max(round(rng.gauss(2.4 + shift + lean, 0.8)), 1), 4)
                    rows.append(
                        {
                            "observation_id": oid,
                            "criterion_id": criterion.id,
                            "level": None if unseen else level,
                            "not_observed": unseen,
                            "evidence": "",
                        }
                    )
            db.session.execute(insert(Observation.__table__), walkthroughs)
            db.session.execute(insert(ObservationVersion.__table__), versions)
            db.session.execute(insert(Rating.__table__), rows)
            db.session.commit()
            if not quiet and (first // CHUNK) % 25 == 0:
                print(f"  … {first + len(walkthroughs):,} walkthroughs", flush=True)
        db.session.remove()
        db.engine.dispose()
    made = {
        "schools": schools, "classrooms": classrooms, "observers": observers,
        "observations": observations, "ratings": observations * len(criteria),
        "seconds": time.perf_counter() - started, "leans": leans,
    }  # fmt: skip
    if not quiet:
        print(f"Generated {made['observations']:,} walkthroughs, {made['ratings']:,} ratings "
              f"in {made['seconds']:.0f} s")  # fmt: skip
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--classrooms", type=int, default=5_000)
    parser.add_argument("--observers", type=int, default=400)
    parser.add_argument("--observations", type=int, default=250_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL to an empty database")
    generate(url, schools=args.schools, classrooms=args.classrooms, observers=args.observers,
             observations=args.observations)  # fmt: skip


if __name__ == "__main__":
    main()
