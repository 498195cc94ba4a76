"""The sync endpoints of the JSON API: bootstrap, push, pull, and the tablet's report of its
database. See docs/sync.md."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from observe.accounts.schemas import user_json
from observe.api import bp
from observe.calibration.schemas import session_json
from observe.calibration.sessions import device_sessions
from observe.core import changes
from observe.core.database import begin_write
from observe.core.validation import MAX_CURSOR, load_body, printable, whole_number
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.roster.schemas import school_json
from observe.rubrics.models import RubricVersion
from observe.rubrics.queries import current_version_ids
from observe.rubrics.schemas import version_json
from observe.sync import devices, pull, push
from observe.sync.schemas import DeviceSchema, PushSchema

DEFAULT_PAGE = 200
MAX_PAGE = 1000


@bp.get("/bootstrap")
def bootstrap() -> Response:
    """Everything a device needs to work offline, and the cursor to pull changes from."""
    # The cursor is read before the data: a change committed in between is pulled again
    # later (harmless), never missed.
    cursor = changes.latest_seq(db.session)
    sessions = device_sessions(current_user)
    # The current version of each rubric (its newest not retired), and those the user's
    # calibration sessions are scored with (a session may keep an older one).
    wanted = RubricVersion.id.in_(current_version_ids()) | RubricVersion.id.in_(
        [s.rubric_version_id for s in sessions]
    )
    versions = db.session.scalars(
        select(RubricVersion).where(wanted).order_by(RubricVersion.id)
    ).all()
    return jsonify(
        user=user_json(current_user),
        rubric_versions=[version_json(v) for v in versions],
        schools=[school_json(s) for s in pull.device_schools(current_user)],
        observations=pull.recent_observations(current_user),
        calibration_sessions=[session_json(s) for s in sessions],
        cursor=str(cursor),
    )


@bp.post("/sync/push")
def push_versions() -> Response:
    # The envelope's own fields are checked by its schema; each version by itself, below.
    envelope = load_body(PushSchema(), request.get_json(silent=True), screened=False)
    device = push.Device(
        user=current_user._get_current_object(),
        device_id=envelope["device_id"],
        app_version=envelope["app_version"],
        user_agent=printable(request.headers.get("User-Agent", ""))[:400],
    )
    # Shapes are checked before the write lock is taken: on SQLite one writer at a time.
    prepared = push.prepare(envelope["versions"])
    results = push.recognise(device, prepared)  # a retried batch needs no write
    if results is None:
        begin_write()
        results = push.apply(device, prepared)
        # What reached this browser's tablet database: one UPDATE for the batch. A retried
        # batch (recognised above) was counted when it was first applied.
        devices.acknowledged(device.user, devices.key_of(request), device.device_id, results)
        db.session.commit()
    return jsonify(results=results)


@bp.post("/device")
def device() -> Response:
    """The app reports the tablet database it holds; the answer says whether this browser
    lost the one before (evicted), and the cookie naming this browser is (re)set."""
    body = load_body(DeviceSchema(), request.get_json(silent=True))
    key = devices.key_of(request) or devices.new_key()
    begin_write()
    lost = devices.register(
        current_user._get_current_object(), key, body["database_id"], body["persisted"]
    )
    db.session.commit()
    response = jsonify(database_id=body["database_id"], evicted=lost)
    devices.set_cookie(response, key)
    return response


@bp.get("/sync/pull")
def pull_changes() -> Response:
    cursor = whole_number(request.args.get("cursor") or "0", 0, MAX_CURSOR)
    limit = whole_number(request.args.get("limit") or str(DEFAULT_PAGE), 1, MAX_PAGE)
    problems = {}
    if cursor is None:
        problems["cursor"] = "must be a cursor returned by bootstrap or an earlier pull"
    if limit is None:
        problems["limit"] = f"must be a whole number from 1 to {MAX_PAGE}"
    if problems or cursor is None or limit is None:
        raise ValidationFailed.naming("The request is not valid", problems)
    return jsonify(pull.pull(current_user, cursor, limit))
