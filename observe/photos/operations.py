"""Adding a photo to a walkthrough, reading one, and forgetting them all when the walkthrough
is deleted. Functions flush; the request commits once.

The bytes go to the storage (``storage.py``) before the row is flushed: a request that fails
after that leaves at most a file nobody names, which the same upload, sent again, replaces.
When a walkthrough is deleted its photo rows go in the same transaction, and their files once
that transaction has committed — never before, so a rolled-back deletion loses no photo.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from flask import current_app
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from observe.accounts.models import User
from observe.core import hooks
from observe.core.database import AnySession, pending_buffer
from observe.core.permissions import Principal, allowed
from observe.errors import Conflict, Forbidden, NotFound, ObserveError, ValidationFailed
from observe.extensions import db
from observe.observations.models import Observation
from observe.photos import access, images
from observe.photos.models import Photo
from observe.photos.storage import storage
from observe.rubrics.models import Criterion

# A walkthrough is a few minutes in a room: a handful of photos is evidence, more is a gallery.
MAX_PER_WALKTHROUGH = 20
SHA256 = re.compile(r"[0-9a-f]{64}")
_DOOMED = pending_buffer("observe.photos.doomed")  # storage keys to remove after the commit


class PhotosOff(ObserveError):
    status = 403
    code = "photos_off"


class TooLarge(ObserveError):
    status = 413
    code = "too_large"


class UnsupportedType(ObserveError):
    status = 415
    code = "unsupported_type"


def enabled() -> bool:
    return bool(current_app.config["OBSERVE_PHOTOS"])


def max_bytes() -> int:
    return int(current_app.config["OBSERVE_PHOTO_MAX_BYTES"])


def _walkthrough(who: Principal, observation_id: str, *, lock: bool = False) -> Observation:
    """The walkthrough, or NotFound for someone who may not read it (as if it did not exist)."""
    try:
        observation_id = str(uuid.UUID(observation_id))
    except ValueError:
        raise NotFound(f"no walkthrough {observation_id}") from None
    observation = db.session.get(Observation, observation_id, with_for_update=lock)
    if observation is None or not allowed(who, access.VIEW, observation):
        raise NotFound(f"no walkthrough {observation_id}")
    return observation


def _criterion_key(observation: Observation, key: str | None) -> str | None:
    if key is None or key == "":
        return None
    found = db.session.scalar(
        select(Criterion.id).where(
            Criterion.rubric_version_id == observation.rubric_version_id, Criterion.key == key
        )
    )
    if found is None:
        raise ValidationFailed.naming(
            "The photo was not stored",
            {"criterion": f"{key[:100]!r} is not a look-for of this walkthrough's rubric"},
        )
    return key


def add_photo(
    user: User,
    observation_id: str,
    sha256: str,
    data: bytes,
    declared_type: str | None,
    criterion_key: str | None,
) -> tuple[Photo, bool]:
    """Store ``data`` as a photo of the walkthrough, named by its SHA-256: the photo and
    whether it is new (False: this walkthrough already had it, and nothing changed)."""
    if not enabled():
        raise PhotosOff(
            "Photos are turned off in this district (OBSERVE_PHOTOS=off); nothing was stored."
        )
    observation = _walkthrough(user, observation_id, lock=True)
    if not allowed(user, access.ADD, observation):
        raise Forbidden("Only the walkthrough's author adds photos to it; nothing was stored.")
    if observation.is_deleted:
        raise Conflict("This walkthrough was deleted; nothing was stored.")
    if observation.calibration_session_id is not None:
        raise Conflict("A calibration score takes no photos; nothing was stored.")
    if not SHA256.fullmatch(sha256):
        raise ValidationFailed.naming(
            "The photo was not stored",
            {"sha256": "the address must end with the photo's SHA-256: 64 lower-case hex digits"},
        )
    limit = max_bytes()
    if len(data) > limit:
        raise TooLarge(
            f"The photo is {len(data):,} bytes; at most {limit:,} are kept. Nothing was stored."
        )
    if not data:
        raise ValidationFailed.naming("The photo was not stored", {"body": "the photo is empty"})
    try:
        facts = images.inspect(data)
    except images.NotAPhoto as problem:
        raise UnsupportedType(f"The photo was not stored: {problem}.") from None
    if declared_type is not None and declared_type != facts.content_type:
        raise UnsupportedType(
            f"The photo was not stored: it is a {images.NAMES[facts.content_type]} image "
            f"but was sent as {declared_type[:60]!r}."
        )
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ValidationFailed.naming(
            "The photo was not stored",
            {"sha256": f"the photo's bytes hash to {actual}, not to the SHA-256 in the address"},
        )
    key = _criterion_key(observation, criterion_key)
    files = storage()
    existing = db.session.scalar(
        select(Photo).where(Photo.observation_id == observation.id, Photo.sha256 == sha256)
    )
    if existing is not None:
        if files.get(existing.storage_key) is None:  # a database restored without its files
            files.put(existing.storage_key, data)
        return existing, False
    count = db.session.scalar(
        select(func.count()).select_from(Photo).where(Photo.observation_id == observation.id)
    )
    if (count or 0) >= MAX_PER_WALKTHROUGH:
        raise Conflict(
            f"This walkthrough has {MAX_PER_WALKTHROUGH} photos, the most it keeps; "
            "nothing was stored."
        )
    photo = Photo(
        observation_id=observation.id,
        sha256=sha256,
        content_type=facts.content_type,
        bytes=len(data),
        width=facts.width,
        height=facts.height,
        criterion_key=key,
        uploaded_by_id=user.id,
    )
    files.put(photo.storage_key, data)
    db.session.add(photo)
    db.session.flush()
    return photo, True


def photo_for(who: Principal, observation_id: str, sha256: str) -> tuple[Photo, bytes]:
    """A photo and its bytes, for someone who may read its walkthrough; else NotFound."""
    observation = _walkthrough(who, observation_id)
    photo = None
    if SHA256.fullmatch(sha256) and not observation.is_deleted:
        photo = db.session.scalar(
            select(Photo).where(Photo.observation_id == observation.id, Photo.sha256 == sha256)
        )
    data = storage().get(photo.storage_key) if photo is not None else None
    if photo is None or data is None:
        raise NotFound(f"this walkthrough has no photo {sha256[:64]}")
    return photo, data


def photos_of(observation: Observation) -> list[Photo]:
    """A walkthrough's photos, in the order they arrived."""
    return list(
        db.session.scalars(
            select(Photo)
            .where(Photo.observation_id == observation.id)
            .order_by(Photo.uploaded_at, Photo.id)
        )
    )


def shown(observation: Observation) -> list[dict[str, Any]]:
    """The photos as the walkthrough page shows them: each with its look-for's text."""
    texts = {c.key: c.text for c in observation.rubric_version.criteria}
    found = []
    for number, photo in enumerate(photos_of(observation), start=1):
        look_for = texts.get(photo.criterion_key or "")
        found.append(
            {
                "sha256": photo.sha256,
                "width": photo.width,
                "height": photo.height,
                "look_for": look_for,
                "alt": f"Photo {number}"
                + (f", evidence for “{look_for}”" if look_for else ", of the whole walkthrough"),
            }
        )
    return found


# ---- deleted with the walkthrough -----------------------------------------------------------


@hooks.walkthrough_deleted.connect
def forget_photos(session: AnySession, fact: hooks.WalkthroughChanged) -> None:
    """A deleted walkthrough's photos go: the rows now, the files once this commits."""
    shas = session.scalars(
        select(Photo.sha256).where(Photo.observation_id == fact.observation_id)
    ).all()
    if not shas:
        return
    session.execute(delete(Photo).where(Photo.observation_id == fact.observation_id))
    session.info.setdefault(_DOOMED, []).extend(f"{fact.observation_id}/{sha}" for sha in shas)


@event.listens_for(Session, "after_commit")
def _remove_files(session: Session) -> None:
    doomed = session.info.pop(_DOOMED, None)
    if doomed:
        files = storage()
        for key in doomed:
            files.delete(key)


@event.listens_for(Session, "after_rollback")
def _keep_files(session: Session) -> None:
    session.info.pop(_DOOMED, None)
