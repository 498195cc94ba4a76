"""The sync rules a pushed version must meet that its schema cannot know: rubric, roster,
calibration session, clocks. Pure functions over plain facts — no database, no Flask: the push
(observe/sync/push.py) looks everything up first and hands it over as the dataclasses below, so
each rule can be read, and tested, on its own.

A version that breaks a rule is refused with a :class:`Rejection`: a stable ``code`` clients
branch on, and ``errors`` naming each field and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from observe.core.timestamps import iso

# Tablet clocks drift; a version "saved" a few minutes ahead of the server is still plausible.
CLOCK_SKEW = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

# Codes of rejected versions (stable: clients branch on them).
INVALID = "invalid"  # a field is wrong; errors name each one
VERSION_ID_REUSED = "version_id_reused"  # a known version id with different content
OBSERVATION_DELETED = "observation_deleted"  # the observation was deleted on the server
NOT_YOURS = "not_yours"  # the observation belongs to another observer
SESSION_REVEALED = "session_revealed"  # a calibration session's scoring closed at the reveal
INCOMPLETE = "incomplete"  # submitted with nothing rated, or a required look-for left unrated


@dataclass
class Rejection(Exception):
    code: str
    errors: list[dict[str, str]] = field(default_factory=list)


def error(field_path: str, message: str) -> dict[str, str]:
    return {"field": field_path, "message": message}


# ---- the facts a check needs ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CriterionFacts:
    """What checking and storing a rating needs to know of a criterion."""

    id: int
    levels: tuple[int, ...]
    allows_not_observed: bool
    required: bool = False  # the rubric file's ``required: true``
    text: str = ""  # the look-for, to name it in a refusal


@dataclass(frozen=True, slots=True)
class RubricFacts:
    id: int
    criteria: Mapping[str, CriterionFacts]
    context_fields: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class SchoolFacts:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ClassroomFacts:
    id: int
    name: str
    school_id: int


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """A calibration session as the pushing user finds it (read under its row lock)."""

    id: int
    title: str
    is_participant: bool
    is_revealed: bool
    rubric_version_id: int
    school_id: int
    classroom_id: int | None
    # The user's own score of this session already stored in another walkthrough, if any.
    other_score: str | None


@dataclass(frozen=True, slots=True)
class StoredWalkthrough:
    """The walkthrough a version edits, as the server has it."""

    rubric_version_id: int
    calibration_session_id: int | None
    # Where the visit happened, as stored: an amendment that keeps both is checked against
    # the walkthrough's school, not against where its classroom is now (it may have moved).
    school_id: int | None = None
    classroom_id: int | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything one version is checked against."""

    now: datetime
    visible_schools: frozenset[int] | None  # None: every school
    stored: StoredWalkthrough | None
    rubric: RubricFacts | None
    school: SchoolFacts | None
    classroom: ClassroomFacts | None
    session: SessionFacts | None
    base_owner: str | None  # the walkthrough the version's base version belongs to

    def can_see_school(self, school_id: int) -> bool:
        return self.visible_schools is None or school_id in self.visible_schools


# ---- the rules --------------------------------------------------------------------------------


def check(payload: Mapping[str, Any], data: Mapping[str, Any], facts: Facts) -> None:
    """Raise :class:`Rejection` naming every rule ``payload`` breaks (``data``: the version as
    its schema loaded it, with real datetimes).

    A later version may name another school or classroom than the stored walkthrough (a draft
    or an amendment moved): its place is checked exactly as a new walkthrough's is, never
    against where the walkthrough was."""
    errors: list[dict[str, str]] = []
    missing: list[dict[str, str]] = []
    rubric, stored = facts.rubric, facts.stored
    if rubric is None:
        errors.append(
            error("rubric_version_id", f"unknown rubric version {payload['rubric_version_id']}")
        )
    elif stored is not None and stored.rubric_version_id != rubric.id:
        errors.append(
            error(
                "rubric_version_id",
                "an observation keeps the rubric version it was started with "
                f"({stored.rubric_version_id})",
            )
        )
    else:
        errors += check_ratings(data["ratings"], rubric.criteria)
        errors += check_context(data["context"], rubric.context_fields)
        if payload["state"] == "submitted":
            missing = check_complete(data["ratings"], rubric.criteria)

    session_id = payload.get("calibration_session_id")
    if session_id is not None:
        errors += check_session(payload, facts)
    elif stored is not None and stored.calibration_session_id is not None:
        errors.append(
            error(
                "calibration_session_id",
                f"this walkthrough belongs to calibration session {stored.calibration_session_id}",
            )
        )

    school = facts.school
    if school is None:
        errors.append(error("school_id", f"unknown school {payload['school_id']}"))
    elif session_id is None and not facts.can_see_school(school.id):
        # A calibration team may come from several schools: taking part is what counts.
        # By id only: the names of another school's rooms are not this user's to learn.
        errors.append(error("school_id", f"school {school.id} is not one of your schools"))
    kept_place = (
        stored is not None
        and payload["classroom_id"] == stored.classroom_id
        and payload["school_id"] == stored.school_id
    )
    if payload["classroom_id"] is not None and not kept_place:
        classroom = facts.classroom
        if classroom is None or not (
            session_id is not None or facts.can_see_school(classroom.school_id)
        ):
            errors.append(
                error(
                    "classroom_id",
                    f"classroom {payload['classroom_id']} is not one of your schools' classrooms "
                    "(moved or removed?): pick the classroom again",
                )
            )
        elif school is not None and classroom.school_id != school.id:
            errors.append(error("classroom_id", f"{classroom.name} is not in {school.name}"))

    errors += check_clocks(data, facts.now)

    base = payload["base_version_id"]
    if base is not None and facts.base_owner != payload["observation_id"]:
        errors.append(error("base_version_id", "no such version of this observation on the server"))
    if errors:
        raise Rejection(INVALID, errors + missing)
    if missing:
        raise Rejection(INCOMPLETE, missing)


def check_clocks(data: Mapping[str, Any], now: datetime) -> list[dict[str, str]]:
    errors = []
    for name in ("observed_at", "saved_at"):
        moment = data[name]
        if moment > now + CLOCK_SKEW:
            errors.append(error(name, f"{iso(moment)} is in the future; check the clock"))
        elif moment < EARLIEST:
            errors.append(error(name, f"{iso(moment)} is before 2000"))
    return errors


def check_session(payload: Mapping[str, Any], facts: Facts) -> list[dict[str, str]]:
    """A score in a calibration session: a participant's own, of the session's lesson."""
    session = facts.session
    if session is None or not session.is_participant:
        return [
            error(
                "calibration_session_id",
                "you are not a participant of calibration session "
                f"{payload['calibration_session_id']}",
            )
        ]
    if session.is_revealed:
        raise Rejection(
            SESSION_REVEALED,
            [
                error(
                    "calibration_session_id",
                    f"scoring of {session.title!r} closed when the scores were revealed",
                )
            ],
        )
    errors = []
    stored = facts.stored
    if stored is not None and stored.calibration_session_id != session.id:
        errors.append(
            error("calibration_session_id", "a walkthrough cannot move into a calibration session")
        )
    if payload["rubric_version_id"] != session.rubric_version_id:
        errors.append(
            error(
                "rubric_version_id",
                f"the session is scored with rubric version {session.rubric_version_id}",
            )
        )
    if payload["school_id"] != session.school_id:
        errors.append(error("school_id", f"the session's lesson is in school {session.school_id}"))
    if payload["classroom_id"] != session.classroom_id:
        where = f"classroom {session.classroom_id}" if session.classroom_id else "no classroom"
        errors.append(error("classroom_id", f"the session's lesson is in {where}"))
    if stored is None and session.other_score is not None:
        errors.append(
            error(
                "calibration_session_id",
                f"you already scored this session in walkthrough {session.other_score}; "
                "amend that one",
            )
        )
    return errors


def check_ratings(
    ratings: list[Mapping[str, Any]], criteria: Mapping[str, CriterionFacts]
) -> list[dict[str, str]]:
    errors = []
    seen: set[str] = set()
    for i, rating in enumerate(ratings):
        where = f"ratings[{i}]"
        key = rating["criterion"]
        criterion = criteria.get(key)
        if key in seen:
            errors.append(error(f"{where}.criterion", f"{key!r} is rated twice"))
        seen.add(key)
        if criterion is None:
            errors.append(error(f"{where}.criterion", f"{key!r} is not in this rubric version"))
            continue
        values = criterion.levels
        if rating["level"] is not None and rating["level"] not in values:
            errors.append(
                error(
                    f"{where}.level",
                    f"{rating['level']} is not a level of {key!r} "
                    f"(levels: {', '.join(map(str, values))})",
                )
            )
        if rating["not_observed"] and not criterion.allows_not_observed:
            errors.append(error(f"{where}.not_observed", f"{key!r} cannot be marked not observed"))
    return errors


def check_context(
    context: Mapping[str, Any], fields: tuple[Mapping[str, Any], ...]
) -> list[dict[str, str]]:
    errors = []
    by_key = {f["key"]: f for f in fields}
    for key, value in context.items():
        spec = by_key.get(key)
        if spec is None:
            known = ", ".join(by_key) or "none"
            errors.append(error(f"context.{key}", f"unknown context field (known: {known})"))
            continue
        chosen = value if isinstance(value, list) else [value]
        if not spec.get("multiple") and isinstance(value, list):
            errors.append(error(f"context.{key}", "takes one option, not a list"))
        for option in chosen:
            if option not in spec["options"]:
                errors.append(
                    error(
                        f"context.{key}",
                        f"{option!r} is not an option (options: {', '.join(spec['options'])})",
                    )
                )
    return errors


NOTHING_RATED = (
    "nothing is rated: rate at least one look-for (or mark it not observed) before submitting; "
    "a draft may be saved unrated"
)


def check_complete(
    ratings: list[Mapping[str, Any]], criteria: Mapping[str, CriterionFacts]
) -> list[dict[str, str]]:
    """What a *submitted* walkthrough (or calibration score) lacks: any rating at all, and each
    required look-for, rated or — where its scale allows — marked not observed. Drafts may be
    incomplete. A rubric version from before ``required`` existed requires nothing."""
    answered = {r["criterion"] for r in ratings if r["level"] is not None or r["not_observed"]}
    errors = [error("ratings", NOTHING_RATED)] if not answered else []
    for key, criterion in criteria.items():
        if criterion.required and key not in answered:
            how = "rate it or mark it not observed" if criterion.allows_not_observed else "rate it"
            text = criterion.text if len(criterion.text) <= 80 else criterion.text[:79] + "…"
            named = f" ({text})" if text else ""
            errors.append(error("ratings", f"{key!r}{named} is required: {how} before submitting"))
    return errors
