"""The sync rules, in one place: what happens to each version a device pushes, and what a
device pulls. Functions flush; the request (or ``observe import-offline``) commits once.

Every pushed version gets exactly one of four results:

* ``applied``   — stored; it is now the observation's head.
* ``duplicate`` — this version id with this content is already stored (a retry after a lost
  response); the original result is returned and nothing changes.
* ``conflict``  — stored, but another version was made from the same base. Both are kept, the
  head is chosen by :func:`choose_head`, and the observation is flagged for a person.
* ``rejected``  — not stored; ``code`` says why and ``errors`` name each field. The payload is
  kept in ``rejected_version`` for inspection.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import and_, delete, insert, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from observe.accounts.models import Role, User
from observe.audit.operations import record
from observe.calibration.models import CalibrationSession, calibration_participant
from observe.calibration.sessions import session_json
from observe.core.database import executemany_plain
from observe.core.models import utcnow
from observe.core.permissions import can_see_school, visible_school_ids
from observe.core.validation import flatten_messages, format_path, printable, storable
from observe.errors import Conflict, Forbidden, NotFound, ValidationFailed
from observe.extensions import db
from observe.observations.models import (
    Observation,
    ObservationState,
    ObservationVersion,
    Rating,
    RejectedVersion,
    VersionOutcome,
)
from observe.reports import rollups
from observe.roster.api import school_json
from observe.roster.models import Classroom, School
from observe.rubrics.api import version_json
from observe.rubrics.models import Criterion, RubricVersion
from observe.sync import changes
from observe.sync.models import Change
from observe.sync.schemas import VersionSchema

# Tablet clocks drift; a version "saved" a few minutes ahead of the server is still plausible.
CLOCK_SKEW = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

APPLIED, DUPLICATE, CONFLICT, REJECTED = "applied", "duplicate", "conflict", "rejected"

# Codes of rejected versions (stable: clients branch on them).
INVALID = "invalid"  # a field is wrong; errors name each one
VERSION_ID_REUSED = "version_id_reused"  # a known version id with different content
OBSERVATION_DELETED = "observation_deleted"  # the observation was deleted on the server
NOT_YOURS = "not_yours"  # the observation belongs to another observer
SESSION_REVEALED = "session_revealed"  # a calibration session's scoring closed at the reveal


@dataclass
class Device:
    """Who is pushing, from where: kept with every version received."""

    user: User
    device_id: str
    app_version: str = ""
    user_agent: str = ""


@dataclass
class Rejection(Exception):
    code: str
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Item:
    """One pushed version on its way through: as sent, then checked for shape and normalised."""

    raw: Any
    raw_id: str  # the version id as sent (maybe malformed): for the result and the rejection
    data: dict[str, Any] = field(default_factory=dict)  # as the schema loaded it
    payload: dict[str, Any] = field(default_factory=dict)  # normalised: as stored and hashed
    digest: str = ""
    rejection: Rejection | None = None


# Loading does not change a schema, and building one per version costs more than the load.
_VERSION_SCHEMA = VersionSchema()


def prepare(items: Iterable[Any]) -> list[Item]:
    """Check each version's shape and normalise it. No database: a request does this before it
    takes the write lock."""
    prepared = []
    for raw in items:
        item = Item(raw, _sent_id(raw, "version_id"))
        try:
            item.data = _load(raw)
        except Rejection as rejection:
            item.rejection = rejection
        else:
            item.payload = normalise(item.data)
            item.digest = content_hash(item.payload)
        prepared.append(item)
    return prepared


def push(device: Device, items: Iterable[Any]) -> list[dict[str, Any]]:
    """Apply each pushed version in order; one result per item, in the same order."""
    return apply(device, prepare(items))


def push_one(device: Device, item: Any) -> dict[str, Any]:
    return push(device, [item])[0]


def apply(device: Device, items: list[Item]) -> list[dict[str, Any]]:
    """Store prepared versions; one result per item, in order.

    A batch is mostly new walkthroughs, each sent once. Those are checked against what one query
    per kind read for the whole batch, and written together: one statement each for
    walkthroughs, versions and ratings, with every row of the batch. Anything else — a version
    of a walkthrough the server already has, an edit, a calibration score, an id this batch
    already used — goes through :func:`_apply_one` (its own savepoint, row lock and head
    choice), after everything before it in the batch has been written, so the order of the
    batch is the order of effect.
    """
    lookup = Lookup(device.user, items)
    results: list[dict[str, Any]] = [{} for _ in items]
    pending: list[tuple[int, Item, dict[str, CriterionFacts]]] = []
    seen: set[str] = set()  # version and walkthrough ids met earlier in this batch

    for i, item in enumerate(items):
        if item.rejection is not None:
            results[i] = _reject(device, item, item.rejection)
            continue
        payload = item.payload
        ids = {payload["version_id"], payload["observation_id"]}
        fresh = not ids & seen
        seen |= ids
        if fresh and payload["version_id"] in lookup.known:
            results[i] = _known(device, item, lookup)
        elif (
            fresh
            and payload["base_version_id"] is None
            and payload["observation_id"] not in lookup.observations
            and payload.get("calibration_session_id") is None
        ):
            try:
                criteria = _check(device.user, item, None, lookup)
            except Rejection as rejection:
                results[i] = _reject(device, item, rejection)
            else:
                pending.append((i, item, criteria))
        else:
            _write_new(device, pending, results, lookup)
            pending = []
            results[i] = _apply_one(device, item, lookup)
    _write_new(device, pending, results, lookup)
    return results


class Lookup:
    """What checking a batch needs from the database, read with one query per kind.

    Versions and walkthroughs are read at once; rubric versions, schools, classrooms, sessions
    and the user's schools when an item first needs checking (a retried batch needs none)."""

    def __init__(
        self,
        user: User,
        items: list[Item],
        known: dict[str, tuple[str, VersionOutcome, str]] | None = None,
    ) -> None:
        self.user = user
        self.payloads = [item.payload for item in items if item.rejection is None]
        # Versions and walkthroughs as the batch began; read only for ids the batch has not
        # touched since (see ``apply``).
        self.known = stored_versions(self._wanted("version_id")) if known is None else known
        self.observations: dict[str, tuple[str | None, bool]] = {}
        observation_ids = self._wanted("observation_id") | {k[2] for k in self.known.values()}
        if observation_ids:
            rows = db.session.execute(
                select(Observation.id, Observation.head_version_id, Observation.has_conflict).where(
                    Observation.id.in_(observation_ids)
                )
            )
            self.observations = {row[0]: (row[1], row[2]) for row in rows}

    def _wanted(self, key: str) -> set[Any]:
        return {p[key] for p in self.payloads if p.get(key) is not None}

    def _by_id(self, model: Any, key: str) -> dict[Any, Any]:
        ids = self._wanted(key)
        if not ids:
            return {}
        # Only the rows: their collections (a school's attributes, a classroom's programs) are
        # not needed to check a version, and loading them costs queries per batch.
        statement = select(model).where(model.id.in_(ids)).options(lazyload("*"))
        return {row.id: row for row in db.session.scalars(statement)}

    # Rubric versions, schools, classrooms and sessions do not change during a push.
    @cached_property
    def rubrics(self) -> dict[int, RubricVersion]:
        return self._by_id(RubricVersion, "rubric_version_id")

    @cached_property
    def schools(self) -> dict[int, School]:
        return self._by_id(School, "school_id")

    @cached_property
    def classrooms(self) -> dict[int, Classroom]:
        return self._by_id(Classroom, "classroom_id")

    @cached_property
    def sessions(self) -> dict[int, CalibrationSession]:
        return self._by_id(CalibrationSession, "calibration_session_id")

    @cached_property
    def visible(self) -> set[int] | None:
        return visible_school_ids(self.user)

    def can_see_school(self, school_id: int) -> bool:
        return self.visible is None or school_id in self.visible

    def version_owner(self, version_id: str) -> str | None:
        """The walkthrough a stored version belongs to. Read when asked: an earlier item of the
        batch may have just stored it."""
        return db.session.scalar(
            select(ObservationVersion.observation_id).where(ObservationVersion.id == version_id)
        )


def stored_versions(version_ids: set[str]) -> dict[str, tuple[str, VersionOutcome, str]]:
    """Content hash, outcome and walkthrough of each of these versions the server has."""
    if not version_ids:
        return {}
    rows = db.session.execute(
        select(
            ObservationVersion.id,
            ObservationVersion.content_hash,
            ObservationVersion.outcome,
            ObservationVersion.observation_id,
        ).where(ObservationVersion.id.in_(version_ids))
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def recognise(device: Device, items: list[Item]) -> list[dict[str, Any]] | None:
    """The answers to a batch whose every version the server already has as sent — a retry
    after a lost response — read without the write lock; None if anything must be written.

    Retries then cost a read, not a turn at the one SQLite writer. What a retry answers (the
    head, the conflict flag) is as of the last commit, as it would be a moment later."""
    if not items:
        return []
    if any(item.rejection is not None for item in items):
        return None
    digests = {item.payload["version_id"]: item.digest for item in items}
    if len(digests) < len(items):
        return None  # a version id twice in one batch: the write path sorts that out
    known = stored_versions(set(digests))
    if len(known) < len(items) or any(known[v][0] != d for v, d in digests.items()):
        return None
    lookup = Lookup(device.user, items, known)
    return [_known(device, item, lookup) for item in items]


def _known(device: Device, item: Item, lookup: Lookup) -> dict[str, Any]:
    """A version id the server already has: a retry (duplicate) or a reuse (rejected)."""
    digest, outcome, observation_id = lookup.known[item.payload["version_id"]]
    if digest != item.digest:
        return _reject(device, item, _reused())
    head, conflict = lookup.observations[observation_id]
    return {
        "version_id": item.payload["version_id"],
        "status": DUPLICATE,
        "observation_id": observation_id,
        "head_version_id": head,
        "has_conflict": conflict,
        "original_status": outcome.value,
    }


def _reused() -> Rejection:
    return Rejection(
        VERSION_ID_REUSED,
        [_error("version_id", "this version id was already used for different content")],
    )


def _write_new(
    device: Device,
    pending: list[tuple[int, Item, dict[str, CriterionFacts]]],
    results: list[dict[str, Any]],
    lookup: Lookup,
) -> None:
    """Store checked new walkthroughs, each with its first version, in three statements."""
    if not pending:
        return
    now = utcnow()
    observations, versions, ratings, rows_of = [], [], [], []
    for _, item, criteria in pending:
        payload = item.payload
        rows_of.append(_rating_rows(payload, criteria))
        ratings += rows_of[-1]
        observations.append(
            {
                "id": payload["observation_id"],
                "author_id": device.user.id,
                "created_at": now,
                "updated_at": now,
                "has_conflict": False,
                "submitted_at": item.data["saved_at"] if payload["state"] == "submitted" else None,
                **_head_columns(payload),
            }
        )
        versions.append(_version_row(device, item, VersionOutcome.APPLIED, now))
    # Inserts on the tables, not the mapped classes: the ORM's bulk insert starts a new
    # statement whenever a row has None where the previous one had a value (a rating not
    # observed), which turns one statement into dozens.
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Observation.__table__), observations)
            db.session.execute(insert(ObservationVersion.__table__), versions)
            _store_ratings(ratings)
    except IntegrityError:
        # Another request stored one of them meanwhile (possible on PostgreSQL): each takes the
        # careful path instead, which finds the other's rows.
        for i, item, _ in pending:
            results[i] = _apply_one(device, item, lookup)
        return
    counting = rollups.kept(db.session)
    for (i, item, _), rows in zip(pending, rows_of, strict=True):
        payload = item.payload
        changes.record(
            db.session,
            "observation",
            observation_id=payload["observation_id"],
            author_id=device.user.id,
        )
        if payload["state"] == "submitted" and counting:  # calibration never comes this way
            rollups.add(
                db.session,
                version_id=payload["rubric_version_id"],
                observed_at=item.data["observed_at"],
                school_id=payload["school_id"],
                profile_key=rollups.profile(lookup.classrooms.get(payload["classroom_id"])),
                ratings=[row[1:4] for row in rows],
            )
        results[i] = {
            "version_id": payload["version_id"],
            "status": APPLIED,
            "observation_id": payload["observation_id"],
            "head_version_id": payload["version_id"],
            "has_conflict": False,
        }


def _apply_one(device: Device, item: Item, lookup: Lookup) -> dict[str, Any]:
    try:
        # Two requests carrying the same new version can race; the loser's insert fails on the
        # primary key, and on the second pass it finds the winner's row and answers duplicate.
        for attempt in (1, 2):
            noted = rollups.snapshot(db.session)
            try:
                with db.session.begin_nested():
                    return _apply(device, item, lookup)
            except BaseException as error:
                rollups.restore(db.session, noted)  # the savepoint's counts are gone with it
                if attempt == 2 or not isinstance(error, IntegrityError):
                    raise
        raise AssertionError("unreachable")
    except Rejection as rejection:
        return _reject(device, item, rejection)


# A rejected version is kept for a person to read, not as a store for whatever a client sends:
# beyond this size (as JSON) only its identifying fields are kept.
MAX_REJECTED_PAYLOAD = 64 * 1024
_IDENTIFYING = (
    "observation_id",
    "version_id",
    "base_version_id",
    "rubric_version_id",
    "school_id",
    "classroom_id",
    "calibration_session_id",
    "observed_at",
    "saved_at",
    "state",
)


def _sent_id(raw: Any, key: str) -> str:
    """An id as the device sent it, for results and rejections: text only, storable, short."""
    value = raw.get(key) if isinstance(raw, dict) else None
    if isinstance(value, str):
        return printable(value[:64])
    return str(value)[:64] if isinstance(value, int | float) else ""


def kept_payload(raw: Any) -> Any:
    """What ``rejected_version`` keeps of a refused version: all of it, made storable (see
    :func:`~observe.core.validation.storable`), unless that is over
    :data:`MAX_REJECTED_PAYLOAD` bytes of JSON — then its identifying fields and a note."""
    kept = storable(raw)
    size = len(json.dumps(kept, ensure_ascii=False).encode())
    if size <= MAX_REJECTED_PAYLOAD:
        return kept
    summary: dict[str, Any] = {}
    if isinstance(kept, dict):
        summary = {
            k: kept[k] for k in _IDENTIFYING if k in kept and len(json.dumps(kept[k])) <= 200
        }
    summary["_truncated"] = (
        f"the version was {size} bytes of JSON; over {MAX_REJECTED_PAYLOAD} bytes only its "
        "identifying fields are kept"
    )
    return summary


def _reject(device: Device, item: Item, rejection: Rejection) -> dict[str, Any]:
    """Keep the version as sent (bounded, see :func:`kept_payload`), with the reasons, for a
    person to inspect."""
    errors = [
        {"field": printable(e["field"])[:200], "message": printable(e["message"])[:1000]}
        for e in rejection.errors[:50]
    ]
    db.session.add(
        RejectedVersion(
            version_id=item.raw_id,
            observation_id=_sent_id(item.raw, "observation_id") or None,
            user_id=device.user.id,
            device_id=device.device_id,
            app_version=device.app_version,
            user_agent=device.user_agent,
            code=rejection.code,
            errors=errors,
            payload=kept_payload(item.raw),
        )
    )
    return {
        "version_id": item.raw_id,
        "status": REJECTED,
        "code": rejection.code,
        "errors": errors,
    }


def _load(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Rejection(INVALID, [_error("", "each version must be a JSON object")])
    try:
        data = _VERSION_SCHEMA.load(item)
    except ValidationError as error:
        raise Rejection(
            INVALID, [_error(format_path(p), m) for p, m in flatten_messages(error.messages)]
        ) from None
    return data


def _error(field_path: str, message: str) -> dict[str, str]:
    return {"field": field_path, "message": message}


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """The version as stored and hashed: canonical ids and UTC times, ratings by criterion."""
    payload = {
        "observation_id": str(data["observation_id"]),
        "version_id": str(data["version_id"]),
        "base_version_id": str(data["base_version_id"]) if data["base_version_id"] else None,
        "rubric_version_id": data["rubric_version_id"],
        "school_id": data["school_id"],
        "classroom_id": data["classroom_id"],
        "observed_at": _iso(data["observed_at"]),
        "saved_at": _iso(data["saved_at"]),
        "duration_seconds": data["duration_seconds"],
        "state": data["state"],
        "context": data["context"],
        "ratings": sorted(data["ratings"], key=lambda r: r["criterion"]),
        "notes": data["notes"],
    }
    # Only when set, so that versions stored before sessions existed keep their hashes and a
    # retry of one is still recognised as a duplicate.
    if data.get("calibration_session_id") is not None:
        payload["calibration_session_id"] = data["calibration_session_id"]
    return payload


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _apply(device: Device, item: Item, lookup: Lookup) -> dict[str, Any]:
    """One version, the careful way: its walkthrough locked, siblings and head looked at."""
    payload = item.payload
    version_id = payload["version_id"]

    known = db.session.get(ObservationVersion, version_id)
    if known is not None:
        if known.content_hash != item.digest:
            raise _reused()
        return _result(DUPLICATE, known.observation, version_id, original=known.outcome.value)

    observation = db.session.get(Observation, payload["observation_id"], with_for_update=True)
    if observation is not None and observation.is_deleted:
        raise Rejection(
            OBSERVATION_DELETED,
            [_error("observation_id", "this observation was deleted on the server")],
        )
    if observation is not None and observation.author_id != device.user.id:
        raise Rejection(
            NOT_YOURS, [_error("observation_id", "this observation belongs to another observer")]
        )
    criteria = _check(device.user, item, observation, lookup)

    if observation is None:
        observation = Observation(
            id=payload["observation_id"],
            author_id=device.user.id,
            rubric_version_id=payload["rubric_version_id"],
            school_id=payload["school_id"],
            observed_at=item.data["observed_at"],
        )
        db.session.add(observation)
        outcome = VersionOutcome.APPLIED
    else:
        # Made from a version that is no longer the head: someone changed the walkthrough
        # meanwhile (another device, or a reconciliation), and this edit did not see it.
        stale = observation.head_version_id != payload["base_version_id"]
        outcome = VersionOutcome.CONFLICT if stale else VersionOutcome.APPLIED

    db.session.flush()
    db.session.execute(
        insert(ObservationVersion.__table__), [_version_row(device, item, outcome, utcnow())]
    )
    if outcome is VersionOutcome.CONFLICT:
        observation.has_conflict = True
    head = choose_head(observation.id)
    if observation.head_version_id != head.id:
        _mirror(observation, head, criteria)
    db.session.flush()
    changes.record(
        db.session, "observation", observation_id=observation.id, author_id=observation.author_id
    )
    return _result(outcome.value, observation, version_id)


def _version_row(
    device: Device, item: Item, outcome: VersionOutcome, received_at: datetime
) -> dict[str, Any]:
    """A version as stored: what the device sent, normalised, and where it came from."""
    payload = item.payload
    return {
        "id": payload["version_id"],
        "observation_id": payload["observation_id"],
        "base_version_id": payload["base_version_id"],
        "pushed_by_id": device.user.id,
        "device_id": device.device_id,
        "app_version": device.app_version,
        "user_agent": device.user_agent,
        "saved_at": item.data["saved_at"],
        "payload": payload,
        "content_hash": item.digest,
        "outcome": outcome,
        "received_at": received_at,
    }


def _head_columns(payload: dict[str, Any]) -> dict[str, Any]:
    """The walkthrough row's columns that mirror its head version."""
    return {
        "head_version_id": payload["version_id"],
        "rubric_version_id": payload["rubric_version_id"],
        "school_id": payload["school_id"],
        "classroom_id": payload["classroom_id"],
        "observed_at": datetime.fromisoformat(payload["observed_at"]),
        "duration_seconds": payload["duration_seconds"],
        "context": payload["context"],
        "notes": payload["notes"],
        "state": ObservationState(payload["state"]),
        "calibration_session_id": payload.get("calibration_session_id"),
    }


_RATING_COLUMNS = ("observation_id", "criterion_id", "level", "not_observed", "evidence")
_INSERT_RATINGS = insert(Rating.__table__)


def _rating_rows(payload: dict[str, Any], criteria: dict[str, CriterionFacts]) -> list[tuple]:
    """A version's ratings as rows of the rating table, in the order of ``_RATING_COLUMNS``."""
    observation_id = payload["observation_id"]
    return [
        (observation_id, criteria[r["criterion"]].id, r["level"], r["not_observed"], r["evidence"])
        for r in payload["ratings"]
    ]


def _store_ratings(rows: list[tuple]) -> None:
    executemany_plain(db.session.connection(), _INSERT_RATINGS, _RATING_COLUMNS, rows)


def _result(
    status: str, observation: Observation, version_id: str, original: str | None = None
) -> dict[str, Any]:
    result = {
        "version_id": version_id,
        "status": status,
        "observation_id": observation.id,
        "head_version_id": observation.head_version_id,
        "has_conflict": observation.has_conflict,
    }
    if original is not None:
        result["original_status"] = original
    return result


def leaves(observation_id: str) -> list[ObservationVersion]:
    """The versions of a walkthrough nobody has edited further, the head first.

    The head is the one saved last, then the highest id: deterministic whatever order versions
    arrive in, so every server and every retry agrees.
    """
    edited = select(ObservationVersion.base_version_id).where(
        ObservationVersion.observation_id == observation_id,
        ObservationVersion.base_version_id.is_not(None),
    )
    return list(
        db.session.scalars(
            select(ObservationVersion)
            .where(
                ObservationVersion.observation_id == observation_id,
                ObservationVersion.id.not_in(edited),
            )
            .order_by(ObservationVersion.saved_at.desc(), ObservationVersion.id.desc())
        )
    )


def choose_head(observation_id: str) -> ObservationVersion:
    return leaves(observation_id)[0]


def _mirror(
    observation: Observation, head: ObservationVersion, criteria: dict[str, CriterionFacts]
) -> None:
    """Make the observation row and its ratings say what the head version says."""
    if observation.head_version_id is not None:
        rollups.add_stored(db.session, observation, -1)  # what it counted as until now
    for name, value in _head_columns(head.payload).items():
        setattr(observation, name, value)
    if observation.state is ObservationState.SUBMITTED and observation.submitted_at is None:
        observation.submitted_at = head.saved_at
    # The ratings are replaced in two statements rather than through the ORM collection,
    # which loads the old rows and tracks each new object: this runs for every version pushed.
    db.session.flush()
    db.session.execute(delete(Rating).where(Rating.observation_id == observation.id))
    _store_ratings(_rating_rows(head.payload, criteria))
    rollups.add_stored(db.session, observation, +1)
    db.session.expire(observation, ["ratings"])


@dataclass(frozen=True)
class CriterionFacts:
    """What checking and storing a rating needs to know of a criterion."""

    id: int
    levels: tuple[int, ...]
    allows_not_observed: bool


# Rubric versions never change, so what they say about their criteria can be kept for the
# life of the process instead of being read for every pushed version.
# Keyed by id and load time too, so a database emptied and refilled (tests) is never confused.
_CRITERIA: dict[tuple[int, str], dict[str, CriterionFacts]] = {}


def _criteria(version: RubricVersion) -> dict[str, CriterionFacts]:
    key = (version.id, version.loaded_at.isoformat())
    if key not in _CRITERIA:
        rows = db.session.execute(
            select(
                Criterion.key, Criterion.id, Criterion.levels, Criterion.allows_not_observed
            ).where(Criterion.rubric_version_id == version.id)
        )
        _CRITERIA[key] = {
            name: CriterionFacts(id_, tuple(level["value"] for level in levels), allowed)
            for name, id_, levels, allowed in rows
        }
    return _CRITERIA[key]


def _check(
    user: User, item: Item, observation: Observation | None, lookup: Lookup
) -> dict[str, CriterionFacts]:
    """Everything the schema cannot know: rubric, roster, permissions, clocks."""
    payload, data = item.payload, item.data
    errors: list[dict[str, str]] = []
    now = utcnow()

    version = lookup.rubrics.get(payload["rubric_version_id"])
    criteria: dict[str, CriterionFacts] = {}
    if version is None:
        errors.append(
            _error("rubric_version_id", f"unknown rubric version {payload['rubric_version_id']}")
        )
    elif observation is not None and observation.rubric_version_id != version.id:
        errors.append(
            _error(
                "rubric_version_id",
                "an observation keeps the rubric version it was started with "
                f"({observation.rubric_version_id})",
            )
        )
    else:
        criteria = _criteria(version)
        errors += _check_ratings(data["ratings"], criteria)
        errors += _check_context(data["context"], version.document.get("context_fields", []))

    session_id = payload.get("calibration_session_id")
    if session_id is not None:
        errors += _check_session(user, payload, observation, lookup)
    elif observation is not None and observation.calibration_session_id is not None:
        errors.append(
            _error(
                "calibration_session_id",
                "this walkthrough belongs to calibration session "
                f"{observation.calibration_session_id}",
            )
        )

    school = lookup.schools.get(payload["school_id"])
    if school is None:
        errors.append(_error("school_id", f"unknown school {payload['school_id']}"))
    elif session_id is None and not lookup.can_see_school(school.id):
        # A calibration team may come from several schools: taking part is what counts.
        # By id only: the names of another school's rooms are not this user's to learn.
        errors.append(_error("school_id", f"school {school.id} is not one of your schools"))
    if payload["classroom_id"] is not None:
        classroom = lookup.classrooms.get(payload["classroom_id"])
        visible = classroom is not None and (
            session_id is not None or lookup.can_see_school(classroom.school_id)
        )
        if not visible:
            errors.append(
                _error(
                    "classroom_id",
                    f"classroom {payload['classroom_id']} is not one of your schools' classrooms "
                    "(moved or removed?): pick the classroom again",
                )
            )
        elif school is not None and classroom.school_id != school.id:
            errors.append(_error("classroom_id", f"{classroom.name} is not in {school.name}"))

    for name in ("observed_at", "saved_at"):
        moment = data[name]
        if moment > now + CLOCK_SKEW:
            errors.append(_error(name, f"{_iso(moment)} is in the future; check the clock"))
        elif moment < EARLIEST:
            errors.append(_error(name, f"{_iso(moment)} is before 2000"))

    base = payload["base_version_id"]
    if base is not None and lookup.version_owner(base) != payload["observation_id"]:
        errors.append(
            _error("base_version_id", "no such version of this observation on the server")
        )
    if errors:
        raise Rejection(INVALID, errors)
    return criteria


def _check_session(
    user: User, payload: dict[str, Any], observation: Observation | None, lookup: Lookup
) -> list[dict[str, str]]:
    """A score in a calibration session: a participant's own, of the session's lesson."""
    session_id = payload["calibration_session_id"]
    session = lookup.sessions.get(session_id)
    if session is not None:
        # Locked, as the reveal locks it: this score is stored wholly before the reveal, or
        # refused after it.
        db.session.refresh(session, with_for_update=True)
    if session is None or not session.has_participant(user.id):
        return [
            _error(
                "calibration_session_id",
                f"you are not a participant of calibration session {session_id}",
            )
        ]
    if session.is_revealed:
        raise Rejection(
            SESSION_REVEALED,
            [
                _error(
                    "calibration_session_id",
                    f"scoring of {session.title!r} closed when the scores were revealed",
                )
            ],
        )
    errors = []
    if observation is not None and observation.calibration_session_id != session.id:
        errors.append(
            _error("calibration_session_id", "a walkthrough cannot move into a calibration session")
        )
    if payload["rubric_version_id"] != session.rubric_version_id:
        errors.append(
            _error(
                "rubric_version_id",
                f"the session is scored with rubric version {session.rubric_version_id}",
            )
        )
    if payload["school_id"] != session.school_id:
        errors.append(_error("school_id", f"the session's lesson is in school {session.school_id}"))
    if payload["classroom_id"] != session.classroom_id:
        where = f"classroom {session.classroom_id}" if session.classroom_id else "no classroom"
        errors.append(_error("classroom_id", f"the session's lesson is in {where}"))
    if observation is None:
        other = db.session.scalar(
            select(Observation.id).where(
                Observation.calibration_session_id == session.id,
                Observation.author_id == user.id,
                Observation.deleted_at.is_(None),
            )
        )
        if other is not None:
            errors.append(
                _error(
                    "calibration_session_id",
                    f"you already scored this session in walkthrough {other}; amend that one",
                )
            )
    return errors


def _check_ratings(
    ratings: list[dict[str, Any]], criteria: dict[str, CriterionFacts]
) -> list[dict[str, str]]:
    errors = []
    seen: set[str] = set()
    for i, rating in enumerate(ratings):
        where = f"ratings[{i}]"
        key = rating["criterion"]
        criterion = criteria.get(key)
        if key in seen:
            errors.append(_error(f"{where}.criterion", f"{key!r} is rated twice"))
        seen.add(key)
        if criterion is None:
            errors.append(_error(f"{where}.criterion", f"{key!r} is not in this rubric version"))
            continue
        values = criterion.levels
        if rating["level"] is not None and rating["level"] not in values:
            errors.append(
                _error(
                    f"{where}.level",
                    f"{rating['level']} is not a level of {key!r} "
                    f"(levels: {', '.join(map(str, values))})",
                )
            )
        if rating["not_observed"] and not criterion.allows_not_observed:
            errors.append(_error(f"{where}.not_observed", f"{key!r} cannot be marked not observed"))
    return errors


def _check_context(context: dict[str, Any], fields: list[dict[str, Any]]) -> list[dict[str, str]]:
    errors = []
    by_key = {f["key"]: f for f in fields}
    for key, value in context.items():
        spec = by_key.get(key)
        if spec is None:
            known = ", ".join(by_key) or "none"
            errors.append(_error(f"context.{key}", f"unknown context field (known: {known})"))
            continue
        chosen = value if isinstance(value, list) else [value]
        if not spec.get("multiple") and isinstance(value, list):
            errors.append(_error(f"context.{key}", "takes one option, not a list"))
        for option in chosen:
            if option not in spec["options"]:
                errors.append(
                    _error(
                        f"context.{key}",
                        f"{option!r} is not an option (options: {', '.join(spec['options'])})",
                    )
                )
    return errors


def delete_observation(user: User, observation_id: str) -> Observation:
    """Mark an observation deleted (its versions are kept); devices learn of it by pull."""
    try:
        observation_id = str(uuid.UUID(observation_id))
    except ValueError:
        raise NotFound(f"no observation {observation_id}") from None
    observation = db.session.get(Observation, observation_id, with_for_update=True)
    if observation is None:
        raise NotFound(f"no observation {observation_id}")
    if observation.author_id != user.id and not user.is_district_admin:
        if not can_see_detail(user, observation):
            # Someone who may not read it learns nothing, not even that it exists.
            raise NotFound(f"no observation {observation_id}")
        raise Forbidden("only its author or a district admin can delete an observation")
    session = observation.calibration_session
    if session is not None and session.is_revealed:
        raise Conflict(
            f"this walkthrough is a score in the revealed calibration session {session.title!r}; "
            "the team's report rests on it, so it is kept"
        )
    if observation.deleted_at is None:
        rollups.add_stored(db.session, observation, -1)
        observation.deleted_at = utcnow()
        observation.deleted_by_id = user.id
        changes.record(
            db.session,
            "observation",
            observation_id=observation.id,
            author_id=observation.author_id,
        )
        db.session.flush()
        record(
            "walkthrough.deleted", object_type="observation", object_id=observation.id, actor=user
        )
    return observation


def can_see_detail(user: User, observation: Observation) -> bool:
    """Who may read one walkthrough in full (its versions, its feedback page) and reconcile it:
    its author, a district admin, or a leader of its school — never someone else's score in a
    calibration session, which nobody but its author may see before the reveal."""
    if observation.author_id == user.id:
        return True
    if observation.calibration_session_id is not None:
        return False
    if user.is_district_admin:
        return True
    return user.role is Role.SCHOOL_LEADER and can_see_school(user, observation.school_id)


def walkthrough_for(user: User, observation_id: str) -> Observation:
    """A walkthrough ``user`` may read in full, or NotFound (as if it did not exist)."""
    observation = db.session.get(Observation, observation_id)
    if observation is None or not can_see_detail(user, observation):
        raise NotFound(f"no walkthrough {observation_id}")
    return observation


def conflicted(user: User) -> list[Observation]:
    """Walkthroughs edited on two devices that ``user`` may reconcile, newest first."""
    query = (
        select(Observation)
        .where(Observation.has_conflict, Observation.deleted_at.is_(None))
        .order_by(Observation.observed_at.desc())
    )
    return [o for o in db.session.scalars(query) if can_see_detail(user, o)]


def reconcile(user: User, observation_id: str, version_id: Any) -> Observation:
    """Settle a conflict: the chosen version's content becomes a new head, made from the
    current head, and the flag is cleared. Nothing is deleted: every version stays."""
    observation = db.session.get(Observation, str(observation_id), with_for_update=True)
    if observation is None or not can_see_detail(user, observation):
        raise NotFound(f"no walkthrough {observation_id}")
    if observation.is_deleted:
        raise Conflict("this walkthrough was deleted")
    if not observation.has_conflict:
        raise Conflict("this walkthrough has no conflict to reconcile")
    session = observation.calibration_session
    if session is not None and session.is_revealed:
        raise Conflict(f"the scores of {session.title!r} were revealed; they no longer change")
    chosen = None
    if isinstance(version_id, str) and _UUID_TEXT.fullmatch(version_id):
        chosen = db.session.get(ObservationVersion, str(uuid.UUID(version_id)))
    if chosen is None or chosen.observation_id != observation.id:
        raise ValidationFailed(
            "The walkthrough was not changed: version_id must be one of its versions.",
            details={"version_id": "not a version of this walkthrough"},
        )
    # Saved after every version that is still a leaf (a tablet's clock may run ahead), so the
    # head rule keeps choosing it; an offline edit of another branch arriving later is a new
    # conflict, since it was not made from this head.
    latest = max(v.saved_at for v in leaves(observation.id))
    now = max(utcnow(), latest + timedelta(milliseconds=1))
    payload = {
        **chosen.payload,
        "version_id": str(uuid.uuid4()),
        "base_version_id": observation.head_version_id,
        "saved_at": _iso(now),
    }
    item = Item(payload, payload["version_id"], {"saved_at": now}, payload, content_hash(payload))
    device = Device(user, "observe-server", "reconcile")
    db.session.execute(
        insert(ObservationVersion.__table__),
        [_version_row(device, item, VersionOutcome.APPLIED, now)],
    )
    observation.has_conflict = False
    head = db.session.get(ObservationVersion, payload["version_id"])
    _mirror(observation, head, _criteria(observation.rubric_version))
    db.session.flush()
    changes.record(
        db.session, "observation", observation_id=observation.id, author_id=observation.author_id
    )
    record(
        "walkthrough.reconciled",
        object_type="observation",
        object_id=observation.id,
        actor=user,
        detail={"chosen_version": chosen.id, "new_version": payload["version_id"]},
    )
    return observation


_UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


def history_json(observation: Observation) -> dict[str, Any]:
    """A walkthrough with every version received, oldest first; the leaves are the candidates
    a person chooses between when it is in conflict."""
    leaf_ids = {v.id for v in leaves(observation.id)}
    versions = db.session.scalars(
        select(ObservationVersion)
        .where(ObservationVersion.observation_id == observation.id)
        .order_by(ObservationVersion.received_at, ObservationVersion.id)
    ).all()
    ids = {observation.author_id} | {v.pushed_by_id for v in versions}
    people = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    return {
        **observation_json(observation),
        "author": {"id": observation.author_id, "name": people.get(observation.author_id)},
        "versions": [
            {
                "id": v.id,
                "base_version_id": v.base_version_id,
                "saved_at": _iso(v.saved_at),
                "received_at": _iso(v.received_at),
                "pushed_by": {"id": v.pushed_by_id, "name": people.get(v.pushed_by_id)},
                "device_id": v.device_id,
                "app_version": v.app_version,
                "outcome": v.outcome.value,
                "leaf": v.id in leaf_ids,
                "head": v.id == observation.head_version_id,
                "payload": v.payload,
            }
            for v in versions
        ],
    }


def observation_json(
    observation: Observation, head: ObservationVersion | None = None
) -> dict[str, Any]:
    """An observation as a device stores it: the head version and the server's flags."""
    if observation.is_deleted:
        return {"id": observation.id, "deleted": True}
    head = head or db.session.get(ObservationVersion, observation.head_version_id)
    return {
        "id": observation.id,
        "deleted": False,
        "head_version_id": observation.head_version_id,
        "has_conflict": observation.has_conflict,
        "state": observation.state.value,
        "version": head.payload if head else None,
    }


RECENT_DAYS = 120
RECENT_LIMIT = 500


def recent_observations(user: User) -> list[dict[str, Any]]:
    """The user's own walkthroughs of recent months, for a new device to show and amend."""
    since = utcnow() - timedelta(days=RECENT_DAYS)
    found = db.session.scalars(
        select(Observation)
        .where(
            Observation.author_id == user.id,
            Observation.deleted_at.is_(None),
            Observation.observed_at >= since,
        )
        .order_by(Observation.observed_at.desc())
        .limit(RECENT_LIMIT)
    ).all()
    heads = {
        v.id: v
        for v in db.session.scalars(
            select(ObservationVersion).where(
                ObservationVersion.id.in_([o.head_version_id for o in found])
            )
        )
    }
    return [observation_json(o, heads.get(o.head_version_id)) for o in found]


def pull(user: User, cursor: int, limit: int) -> dict[str, Any]:
    """Changes after ``cursor`` that ``user`` may see, oldest first, at most ``limit``.

    The ceiling is read first: every change numbered up to it has committed (numbers are taken
    in commit order), so a cursor never moves past a change the reader has not seen.
    """
    ceiling = changes.latest_seq(db.session)
    visible = visible_school_ids(user)
    school_filter = true() if visible is None else Change.entity_id.in_(visible)
    my_sessions = select(calibration_participant.c.session_id).where(
        calibration_participant.c.user_id == user.id
    )
    rows = db.session.scalars(
        select(Change)
        .where(
            Change.seq > cursor,
            Change.seq <= ceiling,
            or_(
                and_(Change.kind == "observation", Change.author_id == user.id),
                Change.kind == "rubric_version",
                and_(Change.kind == "school", school_filter),
                and_(Change.kind == "calibration_session", Change.entity_id.in_(my_sessions)),
            ),
        )
        .order_by(Change.seq)
        .limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = rows[-1].seq if has_more else max(cursor, ceiling)

    # A page may name one observation several times; its current state is sent once.
    last_seq = {(row.kind, row.observation_id or row.entity_id): row.seq for row in rows}
    out = []
    for row in rows:
        if last_seq[(row.kind, row.observation_id or row.entity_id)] != row.seq:
            continue
        out.append({"seq": row.seq, "kind": row.kind, **_change_body(row)})
    return {"changes": out, "cursor": str(next_cursor), "has_more": has_more}


def _change_body(row: Change) -> dict[str, Any]:
    if row.kind == "observation":
        return {"observation": observation_json(db.session.get(Observation, row.observation_id))}
    if row.kind == "calibration_session":
        session = db.session.get(CalibrationSession, row.entity_id)
        # With its rubric version, which may be older than the one a device has.
        return {
            "calibration_session": session_json(session),
            "rubric_version": version_json(session.rubric_version),
        }
    if row.kind == "rubric_version":
        return {"rubric_version": version_json(db.session.get(RubricVersion, row.entity_id))}
    return {"school": school_json(db.session.get(School, row.entity_id))}
