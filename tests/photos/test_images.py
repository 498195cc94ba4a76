"""observe/photos/images.py: what an upload is, from its bytes alone."""

from __future__ import annotations

import pytest

from observe.photos import images
from tests.photos.conftest import image_bytes


@pytest.mark.parametrize(
    ("kind", "content_type"), [("JPEG", images.JPEG), ("PNG", images.PNG), ("WEBP", images.WEBP)]
)
def test_the_three_kept_types_and_their_size(kind: str, content_type: str) -> None:
    facts = images.inspect(image_bytes(kind, (30, 20)))
    assert facts == images.PhotoFacts(content_type, 30, 20)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "not a JPEG, PNG or WebP"),
        (b"GIF89a\x01\x00\x01\x00", "not a JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "not a JPEG, PNG or WebP"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not a JPEG, PNG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "PNG"),
    ],
)
def test_anything_else_is_named(data: bytes, said: str) -> None:
    with pytest.raises(images.NotAPhoto, match=said):
        images.inspect(data)


def test_a_cut_short_image_is_refused() -> None:
    whole = image_bytes("PNG", (40, 40))
    with pytest.raises(images.NotAPhoto, match="damaged or cut short"):
        images.inspect(whole[: len(whole) // 2])


def test_an_image_too_large_a_side_is_refused() -> None:
    wide = image_bytes("PNG", (images.MAX_SIDE + 1, 1))
    with pytest.raises(images.NotAPhoto, match="at most 8000 a side"):
        images.inspect(wide)
