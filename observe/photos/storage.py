"""Where photo bytes are kept: a small interface, and a directory on the server's disk.

Keys are ``<walkthrough id>/<sha256>``, checked here so that no key can name a file outside the
storage directory. A file is written beside its name, flushed to disk and renamed, and the
directory flushed too: a photo the server acknowledged survives a power cut, as a walkthrough
version does. Files and folders are readable by their owner only (photos of classrooms are
personal data, as the database is).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[0-9a-f]{64}")


class PhotoStorage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...


def _checked(key: str) -> tuple[str, str]:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a photo key: {key!r}")
    folder, name = key.split("/")
    return folder, name


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DirectoryStorage:
    """Photos as files: ``<root>/<walkthrough id>/<sha256>``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        folder, name = _checked(key)
        return self.root / folder / name

    def put(self, key: str, data: bytes) -> None:
        target = self.path(key)
        for folder in (self.root, target.parent):
            if not folder.exists():
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                _fsync(folder.parent)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync(target.parent)

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        target = self.path(key)
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        # The walkthrough's folder goes with its last photo.
        with contextlib.suppress(FileNotFoundError, OSError):
            target.parent.rmdir()


def storage() -> PhotoStorage:
    """The storage this app is configured with (``OBSERVE_PHOTO_DIR``)."""
    return DirectoryStorage(current_app.config["OBSERVE_PHOTO_DIR"])
