"""A small valid rubric file to break in one place per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# Line numbers matter: tests assert them. Keep this text's layout stable.
VALID = """\
format: observe-rubric/1
key: test-rubric
title: Test Rubric
scale:
  levels:
    - {value: 1, label: Low, descriptor: Rarely seen.}
    - {value: 2, label: Mid, descriptor: Sometimes seen.}
    - {value: 3, label: High, descriptor: Usually seen.}
context_fields:
  - {key: grouping, label: Grouping, options: [Whole class, Pairs]}
glossary:
  - {term: Power, definition: Students have voice.}
competencies:
  - key: thinker
    name: Thinker
    criteria:
      - key: explain
        kind: student
        text: Students explain their reasoning.
        dimensions: [power, achievement]
        descriptors: {3: Students explain without prompting.}
      - key: ask
        kind: adult
        text: The teacher asks open questions.
        dimensions: [access]
        scale: {not_observed: false}
"""


@pytest.fixture
def valid_text() -> str:
    return VALID


@pytest.fixture
def write_rubric(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
