"""The equity dimensions' names as a reader of a summary reads them: the report carries them in
``scope.dimension_labels`` (set by reports/wording.py from the rubric's glossary, else observe's
catalog); the report's keys (``identity``) stay as they are for programs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from observe.rubrics.translations import dimension_name


def label(report: Mapping[str, Any], key: str) -> str:
    """The name of dimension ``key`` for this report's reader."""
    labels = (report.get("scope") or {}).get("dimension_labels") or {}
    return str(labels.get(key) or dimension_name(key))
