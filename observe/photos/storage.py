"""Where photo bytes are kept: a small interface, a directory on the server's disk, or an
S3-compatible bucket (``OBSERVE_PHOTO_BUCKET``; AWS S3, MinIO, Ceph …) when one is set.

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
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flask import current_app

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

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


class BucketStorage:
    """Photos as objects of an S3-compatible bucket: ``<walkthrough id>/<sha256>``.

    Credentials and region come from boto3's usual places (``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, an instance role), never from observe's
    settings. S3 answers a PUT only once the object is stored durably, so an acknowledged photo
    is as safe as in the directory.
    """

    def __init__(self, bucket: str, endpoint: str = "") -> None:
        self.bucket = bucket
        self.client = _client(endpoint)

    def put(self, key: str, data: bytes) -> None:
        _checked(key)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def get(self, key: str) -> bytes | None:
        _checked(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return bytes(answer["Body"].read())

    def delete(self, key: str) -> None:
        _checked(key)
        self.client.delete_object(Bucket=self.bucket, Key=key)  # no error when it is gone


@cache
def _client(endpoint: str) -> S3Client:
    """One client per endpoint for the process: making one costs tens of milliseconds, and
    boto3's clients may be shared between threads."""
    import boto3  # only with OBSERVE_PHOTO_BUCKET: the `s3` extra

    return boto3.client("s3", endpoint_url=endpoint or None)


def check_settings(config: Mapping[str, Any]) -> None:
    """Stop the start when a bucket is set but boto3 is missing, saying what to install."""
    if config.get("OBSERVE_PHOTO_BUCKET"):
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "OBSERVE_PHOTO_BUCKET is set but boto3 is not installed: pip install 'observe[s3]'"
            ) from None


def storage() -> PhotoStorage:
    """The storage this app is configured with: the bucket when ``OBSERVE_PHOTO_BUCKET`` is
    set, else the directory ``OBSERVE_PHOTO_DIR``."""
    config = current_app.config
    if config.get("OBSERVE_PHOTO_BUCKET"):
        return BucketStorage(
            config["OBSERVE_PHOTO_BUCKET"], config.get("OBSERVE_PHOTO_S3_ENDPOINT", "")
        )
    return DirectoryStorage(config["OBSERVE_PHOTO_DIR"])
