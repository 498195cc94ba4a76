"""What the summary keeps in memory between requests: each school's month of per-classroom
totals (``rollup_classroom`` summed over levels), tagged with the ``RollupStamp`` serial it was
read at.

A district's year is more than a million such cells; reading them is most of a summary's time,
yet between two requests only the schools and months that walkthroughs reached have changed.
So a report asks ``rollup_stamp`` (a few hundred rows) which school-months changed since it
kept them, reads only those, and takes the rest from here. Every write to the rollups adds one
to its stamps in the same transaction (reports/rollups.py), so any server of several reads a
change at once; the key also holds the database and a token each build of the rollups draws,
so a rebuild or a restore never meets what was kept before it.

What a report makes of them — its per-classroom totals over the months and groups, its counts,
its walkthroughs per observer — is kept too, under the stamps of every school-month it rests
on: a report asked again before anything changed costs only the question to ``rollup_stamp``.

Bounded: past ``OBSERVE_REPORT_CACHE_MB`` (0 keeps nothing), the least recently used entries go.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import current_app


@dataclass(frozen=True)
class Chunk:
    """One school's month: per (profile, classroom, look-for), ratings at the level or above
    and ratings given. ``profile``: ids into this process's profile names."""

    room: np.ndarray
    criterion: np.ndarray
    hits: np.ndarray
    rated: np.ndarray
    profile: np.ndarray

    def __len__(self) -> int:
        return len(self.room)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.room, self.criterion, self.hits, self.rated,
                                      self.profile))  # fmt: skip


_lock = threading.Lock()
# What a row of counts (a tuple of a few small values) costs in memory, near enough; and what
# any entry costs besides its value (its key, the entry itself).
ROW_BYTES = 160
ENTRY_BYTES = 1024
# key -> (the stamp it was read at, the value, its size in bytes)
_entries: OrderedDict[Hashable, tuple[Hashable, Any, int]] = OrderedDict()
_size = 0
_profiles: dict[str, int] = {}
_profile_names: list[str] = []


def get(key: Hashable, stamp: Hashable) -> Any:
    """What was kept under ``key`` when it was read at ``stamp`` (a serial, or the stamps of
    every school-month it rests on); else None."""
    with _lock:
        entry = _entries.get(key)
        if entry is None or entry[0] != stamp:
            return None
        _entries.move_to_end(key)
        return entry[1]


def limit() -> int:
    """The bytes a process may keep: ``OBSERVE_REPORT_CACHE_MB``."""
    return int(current_app.config["OBSERVE_REPORT_CACHE_MB"]) << 20


def put(key: Hashable, stamp: Hashable, value: Any, size: int, limit: int) -> None:
    """Keep ``value`` (replacing what ``key`` held), then drop the least recently used entries
    until at most ``limit`` bytes are kept. Nothing larger than half of it is kept."""
    global _size
    size += ENTRY_BYTES
    with _lock:
        old = _entries.pop(key, None)
        if old is not None:
            _size -= old[2]
        if size > limit // 2:
            return  # nothing kept (0), or too large to keep: not even what the key held
        _entries[key] = (stamp, value, size)
        _size += size
        while _size > limit and _entries:
            _, (_, _, dropped) = _entries.popitem(last=False)
            _size -= dropped


def kept_bytes() -> int:
    return _size


def clear() -> None:
    global _size
    with _lock:
        _entries.clear()
        _size = 0


def digest(value: Any) -> str:
    """A short stand-in for a large key part (every school and its groups)."""
    return hashlib.sha256(repr(value).encode()).hexdigest()[:32]


def profile_ids(names: Iterable[str]) -> np.ndarray:
    """Each classroom profile key as a small integer, the same in every request. Kept for the
    process's life, uncounted: profiles are never deleted, and a district has thousands."""
    found = []
    with _lock:
        for name in names:
            i = _profiles.get(name)
            if i is None:
                i = _profiles[name] = len(_profile_names)
                _profile_names.append(name)
            found.append(i)
    return np.array(found, dtype=np.int64)


def profile_name(i: int) -> str:
    return _profile_names[i]
