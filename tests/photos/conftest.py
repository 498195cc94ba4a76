"""Photos made in memory for the photo tests, and a walkthrough to add them to."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image


def image_bytes(kind: str = "JPEG", size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, kind)
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def photo_dir(app, tmp_path) -> Any:
    """A photo storage of each test's own, so a test sees only the files it made."""
    before = app.config["OBSERVE_PHOTO_DIR"]
    app.config["OBSERVE_PHOTO_DIR"] = str(tmp_path / "photos")
    yield tmp_path / "photos"
    app.config["OBSERVE_PHOTO_DIR"] = before


@pytest.fixture
def walkthrough(push, make_version) -> dict[str, Any]:
    """A submitted walkthrough of the setting's observer, on the server."""
    version = make_version()
    assert push(version)["results"][0]["status"] == "applied"
    return version


@pytest.fixture
def upload(client, bearer, setting) -> Callable[..., Any]:
    """PUT ``data`` as a photo of a walkthrough (by default as its author, by token)."""
    author = bearer(setting.observer)

    def put(
        observation_id: str,
        data: bytes,
        *,
        digest: str | None = None,
        content_type: str = "image/jpeg",
        headers: dict[str, str] | None = None,
        criterion: str | None = None,
    ):
        path = f"/api/v1/observations/{observation_id}/photos/{digest or sha(data)}"
        if criterion is not None:
            path += f"?criterion={criterion}"
        return client.put(path, data=data, content_type=content_type, headers=headers or author)

    return put
