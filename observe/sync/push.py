"""The push: what happens to each version a device sends. Functions flush; the request (or
``observe import-offline``) commits once.

Every pushed version gets exactly one of four results:

* ``applied``   — stored; it is now the observation's head.
* ``duplicate`` — this version id with this content is already stored (a retry after a lost
  response); the original result is returned and nothing changes.
* ``conflict``  — stored, but another version was made from the same base. Both are kept, the
  head is chosen by ``observations.operations.choose_head``, and the observation is flagged for
  a person.
* ``rejected``  — not stored; ``code`` says why and ``errors`` name each field. The payload is
  kept in ``rejected_version`` for inspection.

The pipeline: :func:`prepare` checks each version's shape (no database); :func:`recognise`
answers a retried batch with reads alone; :func:`apply` looks up what the rules need
(:class:`Lookup`), hands it to the pure rules in ``sync/checks.py``, and stores what passes
through the walkthrough lifecycle in ``observations/operations.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from observe.accounts.models import User
from observe.calibration.models import CalibrationSession
from observe.core import hooks
from observe.core.database import savepoint, table_of
from observe.core.models import utcnow
from observe.core.permissions import visible_school_ids
from observe.core.timestamps import iso
from observe.core.validation import flatten_messages, format_path, printable, storable
from observe.extensions import db
from observe.observations import operations as walkthroughs
from observe.observations.models import (
    Observation,
    ObservationVersion,
    RejectedVersion,
    VersionOutcome,
)
from observe.observations.operations import Device, content_hash
from observe.roster import profiles
from observe.roster.models import Classroom, School
from observe.roster.queries import merged_into
from observe.rubrics.models import Criterion, RubricVersion
from observe.sync import checks
from observe.sync.checks import (
    INVALID,
    NOT_YOURS,
    OBSERVATION_DELETED,
    VERSION_ID_REUSED,
    Rejection,
    error,
)
from observe.sync.schemas import VersionSchema

__all__ = ["Device", "apply", "prepare", "push", "push_one", "recognise"]

APPLIED, DUPLICATE, CONFLICT, REJECTED = "applied", "duplicate", "conflict", "rejected"


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
    pending: list[tuple[int, Item, checks.RubricFacts]] = []
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
                rubric = _check(device.user, item, None, lookup)
            except Rejection as rejection:
                results[i] = _reject(device, item, rejection)
            else:
                pending.append((i, item, rubric))
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
    def rubrics(self) -> dict[int, checks.RubricFacts]:
        versions: dict[int, RubricVersion] = self._by_id(RubricVersion, "rubric_version_id")
        return {id_: rubric_facts(version) for id_, version in versions.items()}

    @cached_property
    def schools(self) -> dict[int, checks.SchoolFacts]:
        """By the ids the batch names. An id of a school that was merged into another (and is
        gone) gives the school it became: drafts held through a merge are accepted there."""
        rows: dict[int, School] = self._by_id(School, "school_id")
        found = {id_: checks.SchoolFacts(s.id, s.name) for id_, s in rows.items()}
        merged = merged_into(self._wanted("school_id") - set(found))  # a query only then
        if merged:
            statement = select(School).where(School.id.in_(set(merged.values())))
            into = {s.id: s for s in db.session.scalars(statement.options(lazyload("*")))}
            for old_id, into_id in merged.items():
                found[old_id] = checks.SchoolFacts(into_id, into[into_id].name)
        return found

    def school_id(self, payload: dict[str, Any]) -> int:
        """The school a version is stored in: the one it names, or the one that became."""
        facts = self.schools.get(payload["school_id"])
        return payload["school_id"] if facts is None else facts.id

    @cached_property
    def classrooms(self) -> dict[int, checks.ClassroomFacts]:
        rows: dict[int, Classroom] = self._by_id(Classroom, "classroom_id")
        # The rows are kept for the batch: the session holds only rows someone holds, and the
        # rollups' listener asks it for each walkthrough's classroom (its profile); let go, each
        # would be read again, with its programs and attributes, per walkthrough stored.
        self._classroom_rows = rows
        return {id_: checks.ClassroomFacts(c.id, c.name, c.school_id) for id_, c in rows.items()}

    @cached_property
    def sessions(self) -> dict[int, CalibrationSession]:
        return self._by_id(CalibrationSession, "calibration_session_id")

    @cached_property
    def visible(self) -> frozenset[int] | None:
        visible = visible_school_ids(self.user)
        return None if visible is None else frozenset(visible)

    def version_owner(self, version_id: str) -> str | None:
        """The walkthrough a stored version belongs to. Read when asked: an earlier item of the
        batch may have just stored it."""
        return db.session.scalar(
            select(ObservationVersion.observation_id).where(ObservationVersion.id == version_id)
        )

    def session_facts(
        self, session_id: int, observation: Observation | None
    ) -> checks.SessionFacts | None:
        """A calibration session as this user finds it, read under its row lock — as the reveal
        locks it — so a score is stored wholly before the reveal, or refused after it."""
        session = self.sessions.get(session_id)
        if session is None:
            return None
        db.session.refresh(session, with_for_update=True)
        participant = session.has_participant(self.user.id)
        other = None
        if participant and observation is None:
            other = db.session.scalar(
                select(Observation.id).where(
                    Observation.calibration_session_id == session.id,
                    Observation.author_id == self.user.id,
                    Observation.deleted_at.is_(None),
                )
            )
        return checks.SessionFacts(
            id=session.id,
            title=session.title,
            is_participant=participant,
            is_revealed=session.is_revealed,
            rubric_version_id=session.rubric_version_id,
            school_id=session.school_id,
            classroom_id=session.classroom_id,
            other_score=other,
        )


# Rubric versions never change, so what they say about their criteria can be kept for the
# life of the process instead of being read for every pushed version.
# Keyed by id and load time too, so a database emptied and refilled (tests) is never confused.
_RUBRICS: dict[tuple[int, str], checks.RubricFacts] = {}


def rubric_facts(version: RubricVersion) -> checks.RubricFacts:
    key = (version.id, version.loaded_at.isoformat())
    if key not in _RUBRICS:
        rows = db.session.execute(
            select(
                Criterion.key,
                Criterion.id,
                Criterion.levels,
                Criterion.allows_not_observed,
                Criterion.required,
                Criterion.text,
            )
            .where(Criterion.rubric_version_id == version.id)
            .order_by(Criterion.position)  # a refusal names missing look-fors in rubric order
        )
        criteria = {
            name: checks.CriterionFacts(
                id_, tuple(level["value"] for level in levels), allowed, required, text
            )
            for name, id_, levels, allowed, required, text in rows
        }
        fields = tuple(version.document.get("context_fields", []))
        _RUBRICS[key] = checks.RubricFacts(version.id, criteria, fields)
    return _RUBRICS[key]


def _ids(rubric: checks.RubricFacts) -> dict[str, int]:
    return {key: facts.id for key, facts in rubric.criteria.items()}


def _check(
    user: User, item: Item, observation: Observation | None, lookup: Lookup
) -> checks.RubricFacts:
    """Look up what the rules need, and apply them; the rubric's facts if the version passes."""
    payload = item.payload
    session_id = payload.get("calibration_session_id")
    base = payload["base_version_id"]
    stored = None
    if observation is not None:
        stored = checks.StoredWalkthrough(
            observation.rubric_version_id,
            observation.calibration_session_id,
            observation.school_id,
            observation.classroom_id,
        )
    classroom_id = payload["classroom_id"]
    facts = checks.Facts(
        now=utcnow(),
        visible_schools=lookup.visible,
        stored=stored,
        rubric=lookup.rubrics.get(payload["rubric_version_id"]),
        school=lookup.schools.get(payload["school_id"]),
        classroom=lookup.classrooms.get(classroom_id) if classroom_id is not None else None,
        session=lookup.session_facts(session_id, observation) if session_id is not None else None,
        base_owner=lookup.version_owner(base) if base is not None else None,
    )
    school_id = lookup.school_id(payload)
    checked = payload if school_id == payload["school_id"] else {**payload, "school_id": school_id}
    checks.check(checked, item.data, facts)
    assert facts.rubric is not None  # the rules refuse an unknown rubric version
    return facts.rubric


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
        [error("version_id", "this version id was already used for different content")],
    )


def _row(
    device: Device, item: Item, outcome: VersionOutcome, received_at: datetime
) -> dict[str, Any]:
    return walkthroughs.version_row(
        device, item.payload, item.data["saved_at"], item.digest, outcome, received_at
    )


def _write_new(
    device: Device,
    pending: list[tuple[int, Item, checks.RubricFacts]],
    results: list[dict[str, Any]],
    lookup: Lookup,
) -> None:
    """Store checked new walkthroughs, each with its first version, in three statements."""
    if not pending:
        return
    now = utcnow()
    observations, versions, ratings, rows_of = [], [], [], []
    for _, item, rubric in pending:
        payload = item.payload
        rows_of.append(walkthroughs.rating_rows(payload, _ids(rubric)))
        ratings += rows_of[-1]
        observations.append(
            {
                "id": payload["observation_id"],
                "author_id": device.user.id,
                "created_at": now,
                "updated_at": now,
                "has_conflict": False,
                "submitted_at": item.data["saved_at"] if payload["state"] == "submitted" else None,
                **walkthroughs.head_columns(payload),
                "school_id": lookup.school_id(payload),
                **profiles.at_visit(db.session, payload["classroom_id"]),
            }
        )
        versions.append(_row(device, item, VersionOutcome.APPLIED, now))
    # Inserts on the tables, not the mapped classes: the ORM's bulk insert starts a new
    # statement whenever a row has None where the previous one had a value (a rating not
    # observed), which turns one statement into dozens.
    try:
        with savepoint(db.session):
            db.session.execute(insert(table_of(Observation)), observations)
            db.session.execute(insert(table_of(ObservationVersion)), versions)
            walkthroughs.store_ratings(ratings)
    except IntegrityError:
        # Another request stored one of them meanwhile (possible on PostgreSQL): each takes the
        # careful path instead, which finds the other's rows.
        for i, item, _ in pending:
            results[i] = _apply_one(device, item, lookup)
        return
    added = []
    for (i, item, _), rows, stored in zip(pending, rows_of, observations, strict=True):
        payload = item.payload
        hooks.walkthrough_changed.send(
            db.session, hooks.WalkthroughChanged(payload["observation_id"], device.user.id)
        )
        if payload["state"] == "submitted":  # calibration never comes this way
            added.append(
                hooks.NewWalkthrough(
                    rubric_version_id=payload["rubric_version_id"],
                    observed_at=item.data["observed_at"],
                    school_id=lookup.school_id(payload),
                    classroom_id=payload["classroom_id"],
                    ratings=[row[1:4] for row in rows],
                    profile=stored["profile"],
                )
            )
        results[i] = {
            "version_id": payload["version_id"],
            "status": APPLIED,
            "observation_id": payload["observation_id"],
            "head_version_id": payload["version_id"],
            "has_conflict": False,
        }
    hooks.walkthroughs_added.send(db.session, added)


def _apply_one(device: Device, item: Item, lookup: Lookup) -> dict[str, Any]:
    try:
        # Two requests carrying the same new version can race; the loser's insert fails on the
        # primary key, and on the second pass it finds the winner's row and answers duplicate.
        for attempt in (1, 2):
            try:
                with savepoint(db.session):
                    return _apply(device, item, lookup)
            except IntegrityError:
                if attempt == 2:
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
        raise Rejection(INVALID, [error("", "each version must be a JSON object")])
    try:
        data: dict[str, Any] = _VERSION_SCHEMA.load(item)
    except ValidationError as invalid:
        raise Rejection(
            INVALID, [error(format_path(p), m) for p, m in flatten_messages(invalid.messages)]
        ) from None
    return data


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """The version as stored and hashed: canonical ids and UTC times, ratings by criterion."""
    payload = {
        "observation_id": str(data["observation_id"]),
        "version_id": str(data["version_id"]),
        "base_version_id": str(data["base_version_id"]) if data["base_version_id"] else None,
        "rubric_version_id": data["rubric_version_id"],
        "school_id": data["school_id"],
        "classroom_id": data["classroom_id"],
        "observed_at": iso(data["observed_at"]),
        "saved_at": iso(data["saved_at"]),
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
    # Likewise the feedback fields: a version without them (from an app that predates them, or
    # with nothing written) hashes as it did before they existed.
    for name in ("strengths", "next_step", "language"):
        if data.get(name):
            payload[name] = data[name]
    return payload


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
            [error("observation_id", "this observation was deleted on the server")],
        )
    if observation is not None and observation.author_id != device.user.id:
        raise Rejection(
            NOT_YOURS, [error("observation_id", "this observation belongs to another observer")]
        )
    rubric = _check(device.user, item, observation, lookup)

    if observation is None:
        observation = Observation(
            id=payload["observation_id"],
            author_id=device.user.id,
            rubric_version_id=payload["rubric_version_id"],
            school_id=lookup.school_id(payload),
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
        insert(table_of(ObservationVersion)), [_row(device, item, outcome, utcnow())]
    )
    if outcome is VersionOutcome.CONFLICT:
        observation.has_conflict = True
    head = walkthroughs.choose_head(observation.id)
    if observation.head_version_id != head.id:
        walkthroughs.mirror(observation, head, _ids(rubric))
    db.session.flush()
    walkthroughs.changed(observation)
    return _result(outcome.value, observation, version_id)


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
