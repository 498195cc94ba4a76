"""What a photo upload is, read from its bytes: pure functions, no Flask, no database.

The type is decided by the file's first bytes (its "magic"), never by its name or the type the
client declares: JPEG, PNG and WebP only, the formats every tablet browser shows. Pillow then
reads the image's header for its size and checks the file is whole (``verify``), without
decoding the pixels.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
ACCEPTED = (JPEG, PNG, WEBP)
NAMES = {JPEG: "JPEG", PNG: "PNG", WEBP: "WebP"}
_PILLOW_FORMAT = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
# The tablet sends at most 1600 pixels a side; other clients get room, but not a decompression
# bomb (a small file that claims a huge image).
MAX_SIDE = 8000


class NotAPhoto(ValueError):
    """The bytes are not a photo this server keeps; the message says why."""


@dataclass(frozen=True)
class PhotoFacts:
    content_type: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The type the first bytes say, if it is one of the accepted three."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def inspect(data: bytes) -> PhotoFacts:
    """The photo's type and size, or :class:`NotAPhoto` naming what is wrong."""
    content_type = sniff(data)
    if content_type is None:
        raise NotAPhoto("this file is not a JPEG, PNG or WebP image (judged by its first bytes)")
    name = NAMES[content_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[content_type]]) as image:
                width, height = image.size
                if width > MAX_SIDE or height > MAX_SIDE:
                    raise NotAPhoto(
                        f"the image is {width} by {height} pixels; at most {MAX_SIDE} a side"
                    )
                image.verify()
    except NotAPhoto:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAPhoto(
            f"this file starts like a {name} image but is not one Pillow can read"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise NotAPhoto(f"this {name} image is damaged or cut short") from None
    if width < 1 or height < 1:
        raise NotAPhoto(f"this {name} image has no pixels")
    return PhotoFacts(content_type, width, height)
