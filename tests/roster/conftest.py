"""Fixtures for roster tests: the sample files under ``data/`` and a way to write variants."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def simple(tmp_path: Path) -> Path:
    """A copy of the simple-layout sample (schools.csv, classrooms.csv) a test may edit."""
    folder = tmp_path / "simple"
    shutil.copytree(DATA / "simple", folder)
    return folder


@pytest.fixture
def oneroster(tmp_path: Path) -> Path:
    """A copy of the OneRoster sample bundle as a folder a test may edit."""
    folder = tmp_path / "oneroster"
    shutil.copytree(DATA / "oneroster", folder)
    return folder


@pytest.fixture
def zip_bundle(tmp_path: Path) -> Callable[[Path], Path]:
    """Zip a bundle folder the way SIS exports do: the files inside a folder of their own."""

    def make(folder: Path, name: str = "sis-export.zip") -> Path:
        target = tmp_path / name
        with zipfile.ZipFile(target, "w") as archive:
            for path in sorted(folder.glob("*.csv")):
                archive.write(path, f"export-2024-09-01/{path.name}")
        return target

    return make


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a file: text is written as UTF-8, bytes as they are."""

    def write_file(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write_file


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """Replace one exact piece of a file's text, failing loudly if it is not there."""

    def replace(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} is not in {path.name} exactly once"
        path.write_text(text.replace(old, new), encoding="utf-8")

    return replace
