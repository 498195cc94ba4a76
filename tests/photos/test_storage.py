"""observe/photos/storage.py: photo files in a directory, named only by walkthrough and hash."""

from __future__ import annotations

import uuid

import pytest

from observe.photos.storage import DirectoryStorage


def test_put_get_delete(tmp_path) -> None:
    files = DirectoryStorage(tmp_path / "photos")
    key = f"{uuid.uuid4()}/{'a' * 64}"
    files.put(key, b"bytes")
    assert files.get(key) == b"bytes"
    assert (tmp_path / "photos").stat().st_mode & 0o077 == 0
    assert files.path(key).stat().st_mode & 0o077 == 0
    files.put(key, b"bytes")  # the same photo again replaces itself
    assert [p.name for p in files.path(key).parent.iterdir()] == ["a" * 64]  # no temporary left
    files.delete(key)
    assert files.get(key) is None
    assert not files.path(key).parent.exists()  # the walkthrough's folder goes with its last
    files.delete(key)  # deleting twice is harmless


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", f"{uuid.uuid4()}/../{'a' * 64}", f"{uuid.uuid4()}/{'A' * 64}", ""]
)
def test_no_key_names_a_file_outside_the_directory(tmp_path, key: str) -> None:
    with pytest.raises(ValueError, match="not a photo key"):
        DirectoryStorage(tmp_path).get(key)
