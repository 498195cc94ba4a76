"""The JSON shape of a photo."""

from __future__ import annotations

from typing import Any

from observe.core.timestamps import iso
from observe.photos.models import Photo


def photo_json(photo: Photo) -> dict[str, Any]:
    return {
        "observation_id": photo.observation_id,
        "sha256": photo.sha256,
        "content_type": photo.content_type,
        "bytes": photo.bytes,
        "width": photo.width,
        "height": photo.height,
        "criterion": photo.criterion_key,
        "uploaded_at": iso(photo.uploaded_at),
    }
