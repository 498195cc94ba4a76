"""The photo endpoints of the JSON API: upload one (idempotent, named by its SHA-256) and
read one back."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_login import current_user

from observe.api import bp
from observe.core.database import begin_write
from observe.extensions import db
from observe.photos import operations
from observe.photos.models import Photo
from observe.photos.schemas import photo_json


def _body() -> bytes:
    """The request's bytes, refused before they are read when they say they are too many."""
    limit = operations.max_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise operations.TooLarge(
            f"The photo is {request.content_length:,} bytes; at most {limit:,} are kept. "
            "Nothing was stored."
        )
    return request.stream.read(limit + 1)


@bp.put("/observations/<observation_id>/photos/<sha256>")
def put_photo(observation_id: str, sha256: str) -> tuple[Response, int]:
    """Add a photo to a walkthrough: 201 when stored, 200 when it already had that photo."""
    declared = request.mimetype or None
    if declared == "application/octet-stream":
        declared = None  # "some bytes": the type is read from the bytes themselves
    criterion = request.args.get("criterion")
    data = _body()
    begin_write()
    photo, created = operations.add_photo(
        current_user, observation_id, sha256, data, declared, criterion
    )
    db.session.commit()
    return jsonify(photo_json(photo)), 201 if created else 200


@bp.get("/observations/<observation_id>/photos/<sha256>")
def get_photo(observation_id: str, sha256: str) -> Response:
    photo, data = operations.photo_for(current_user, observation_id, sha256)
    return _image(photo, data)


def _image(photo: Photo, data: bytes) -> Response:
    response = Response(data, mimetype=photo.content_type)
    # Shown as an image, never run as anything else; not kept by a shared tablet's cache.
    response.headers["Content-Disposition"] = f'inline; filename="{photo.sha256[:12]}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
