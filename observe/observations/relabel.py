"""``observe roster relabel``: correct the history of chosen walkthroughs, on purpose.

A walkthrough keeps its classroom's profile and teacher from the day of the visit
(observe/roster/profiles.py), so a roster import never changes the past. When the past was
wrong — a course level recorded late, a teacher entered against the wrong section — an admin
relabels the walkthroughs chosen here with their classroom's *current* profile and teacher. The
school of a visit is never changed: it is where the visit happened. See docs/roster-format.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import click
from sqlalchemy import ColumnElement, select

from observe.audit.operations import record
from observe.core import clock, hooks
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.observations.models import Observation
from observe.observations.operations import counted
from observe.roster import profiles
from observe.roster.models import Classroom, School, Teacher

# What a profile's attributes are called in a relabel's lines.
_FACTS = (
    ("grade", "grade"),
    ("subject", "subject"),
    ("course_level", "course level"),
    ("programs", "programs"),
    ("attributes", "attributes"),
)


@dataclass
class Choice:
    """Which walkthroughs: of these classrooms (external ids) and/or visits in these schools
    (codes), observed between these days (the district's time zone, both ends included)."""

    classrooms: list[str] = field(default_factory=list)
    schools: list[str] = field(default_factory=list)
    start: date | None = None
    end: date | None = None


@dataclass
class Move:
    """Walkthroughs whose kept profile/teacher differ from their classroom's current ones."""

    observation_ids: list[str]
    lines: list[str]  # "13 walkthroughs: course level general → honors; teacher A → B"


def _conditions(choice: Choice) -> list[ColumnElement[bool]]:
    """The chosen walkthroughs, or ValidationFailed naming every bad choice."""
    problems: dict[str, str] = {}
    if not choice.classrooms and not choice.schools:
        problems["choice"] = "choose walkthroughs with --classroom EXTERNAL_ID or --school CODE"
    if choice.start and choice.end and choice.start > choice.end:
        problems["to"] = f"the end date {choice.end} is before the start date {choice.start}"
    conditions: list[ColumnElement[bool]] = [
        Observation.deleted_at.is_(None),
        Observation.classroom_id.is_not(None),
    ]
    if choice.classrooms:
        wanted = sorted(set(choice.classrooms))
        found = dict(
            db.session.execute(
                select(Classroom.external_id, Classroom.id).where(Classroom.external_id.in_(wanted))
            ).all()
        )
        unknown = [c for c in wanted if c not in found]
        if unknown:
            problems["classroom"] = f"no classroom with the id {', '.join(unknown)}"
        conditions.append(Observation.classroom_id.in_(found.values()))
    if choice.schools:
        wanted = sorted(set(choice.schools))
        codes = dict(
            db.session.execute(select(School.code, School.id).where(School.code.in_(wanted))).all()
        )
        unknown = [c for c in wanted if c not in codes]
        if unknown:
            problems["school"] = f"no school with the code {', '.join(unknown)}"
        conditions.append(Observation.school_id.in_(codes.values()))
    if choice.start:
        conditions.append(Observation.observed_at >= clock.day_start(choice.start))
    if choice.end:
        conditions.append(Observation.observed_at < clock.day_start(choice.end + timedelta(1)))
    if problems:
        raise ValidationFailed.naming("Nothing was relabelled", problems)
    return conditions


def plan(choice: Choice) -> tuple[int, list[Move]]:
    """How many walkthroughs were chosen, and what would move: changes nothing."""
    conditions = _conditions(choice)
    rows = db.session.execute(
        select(
            Observation.id,
            Observation.classroom_id,
            Observation.profile,
            Observation.teacher_id,
        ).where(*conditions)
    ).all()
    classrooms = {
        c.id: c
        for c in db.session.scalars(
            select(Classroom).where(Classroom.id.in_({r.classroom_id for r in rows}))
        )
    }
    now = {cid: (profiles.profile_of(c), c.teacher_id) for cid, c in classrooms.items()}
    moves: dict[tuple[str | None, int | None, str, int | None], list[str]] = {}
    for oid, cid, key, teacher_id in rows:
        if cid is None:  # not chosen: whole-school visits have no classroom to follow
            continue
        new_key, new_teacher = now[cid]
        if (key, teacher_id) != (new_key, new_teacher):
            moves.setdefault((key, teacher_id, new_key, new_teacher), []).append(oid)
    if not moves:
        return len(rows), []
    # Profiles the classrooms have now may be new: they are remembered only when applied.
    facts: dict[str, dict[str, object]] = {
        key: {name: getattr(profile, name) for name, _ in _FACTS}
        for key, profile in profiles.lookup(db.session()).items()
    }
    for classroom in classrooms.values():
        facts.setdefault(profiles.profile_of(classroom), profiles.facts_of(classroom))
    teachers = {
        t.id: t.name
        for t in db.session.scalars(
            select(Teacher).where(
                Teacher.id.in_({t for k in moves for t in (k[1], k[3]) if t is not None})
            )
        )
    }
    out = []
    for (old, old_teacher, new, new_teacher), ids in sorted(
        moves.items(), key=lambda item: (-len(item[1]), item[0][0] or "", item[0][2])
    ):
        changes = []
        before, after = facts.get(old or "", {}), facts.get(new, {})
        for name, label in _FACTS:
            a, b = _shown(before.get(name)), _shown(after.get(name))
            if a != b:
                changes.append(f"{label} {a} → {b}")
        if old_teacher != new_teacher:
            changes.append(
                f"teacher {teachers.get(old_teacher, 'none') if old_teacher else 'none'} → "
                f"{teachers.get(new_teacher, 'none') if new_teacher else 'none'}"
            )
        n = len(ids)
        label = f"{n} walkthrough{'s' if n != 1 else ''}"
        out.append(Move(sorted(ids), [f"{label}: {'; '.join(changes) or 'profile recorded'}"]))
    return len(rows), out


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "(blank)"
    if isinstance(value, list):
        return ", ".join("=".join(v) if isinstance(v, list) else str(v) for v in value)
    return str(value)


def apply(choice: Choice, moves: list[Move]) -> int:
    """Give the walkthroughs of ``moves`` their classroom's current profile and teacher; the
    rollups follow through the walkthrough_counted hook. Returns how many changed."""
    changed = 0
    summary: Counter[str] = Counter()
    for move in moves:
        for observation in db.session.scalars(
            select(Observation).where(Observation.id.in_(move.observation_ids))
        ):
            hooks.walkthrough_counted.send(db.session, counted(observation, -1))
            for name, value in profiles.at_visit(db.session, observation.classroom_id).items():
                setattr(observation, name, value)
            db.session.flush()
            hooks.walkthrough_counted.send(db.session, counted(observation, +1))
            changed += 1
        for line in move.lines:
            summary[line] += 1
    record(
        "roster.relabelled",
        detail={
            "classrooms": sorted(choice.classrooms),
            "schools": sorted(choice.schools),
            "from": choice.start.isoformat() if choice.start else None,
            "to": choice.end.isoformat() if choice.end else None,
            "walkthroughs": changed,
            "moves": sorted(summary),
        },
    )
    db.session.flush()
    return changed


@click.command("relabel")
@click.option("--classroom", "classrooms", multiple=True, metavar="EXTERNAL_ID",
              help="Walkthroughs of this classroom (its roster id); may be repeated.")  # fmt: skip
@click.option("--school", "schools", multiple=True, metavar="CODE",
              help="Walkthroughs made in this school; may be repeated.")  # fmt: skip
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, YYYY-MM-DD.")
@click.option("--yes", is_flag=True, help="Make the change (without it, only show it).")
def relabel_command(
    classrooms: tuple[str, ...],
    schools: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
    yes: bool,
) -> None:
    """Correct history: give chosen walkthroughs their classroom's current profile (grade,
    subject, course level, programs, attributes) and teacher.

    A roster import never changes past walkthroughs; this does, on purpose. Without --yes it
    shows what would move and changes nothing. The school of a visit never changes.
    """
    choice = Choice(
        classrooms=[c.strip() for c in classrooms if c.strip()],
        schools=[s.strip() for s in schools if s.strip()],
        start=start.date() if start is not None else None,
        end=end.date() if end is not None else None,
    )
    try:
        chosen, moves = plan(choice)
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    if not moves:
        click.echo(f"{chosen} walkthrough{'s' if chosen != 1 else ''} chosen; none would change.")
        return
    for move in moves:
        for line in move.lines:
            click.echo(line)
    total = sum(len(m.observation_ids) for m in moves)
    if not yes:
        click.echo(
            f"Nothing was changed ({total} of {chosen} chosen walkthroughs would move). "
            "Run again with --yes to relabel them."
        )
        return
    changed = apply(choice, moves)
    db.session.commit()
    click.echo(f"Relabelled {changed} walkthrough{'s' if changed != 1 else ''}.")
