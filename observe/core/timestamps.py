"""Moments as observe writes them in JSON and in stored versions: UTC, to the millisecond, ``Z``.
Plain Python: the pure sync rules use it too."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
