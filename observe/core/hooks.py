"""How one feature reacts to another's writes: the one mechanism, a small hook registry.

A writer *sends* a hook in its own transaction, once its rows are flushed; every listener runs
then and there, in the order it connected, inside that transaction — so a rolled-back write
leaves no reaction behind either. Listeners connect when their module is imported; the app
factory imports every listening module (``observe.create_app``), so no reaction is ever
missing because a module happened not to be loaded.

The hooks below are the whole list of what features react to. Their facts are plain values
(ids, dates, numbers), never a feature's objects, so that this module imports no feature:

===========================  ==========================  ====================================
hook                         sent by                     heard by
===========================  ==========================  ====================================
``walkthrough_changed``      observations, sync (push)   the change feed (core.changes)
``walkthrough_counted``      observations                the report rollups (reports.rollups)
``walkthrough_deleted``      observations                its photos (photos.operations)
``walkthroughs_added``       sync (push, a new batch)    the report rollups
``rubric_version_added``     rubrics                     the change feed
``rubric_version_retired``   rubrics (retire, unretire)  the change feed
``school_changed``           roster                      the change feed
``access_changed``           accounts (role, schools)    the change feed
``classrooms_changed``       roster                      the classroom profiles (roster.profiles)
``schools_merged``           roster (merge)              the change feed; accounts,
                                                         observations, calibration and
                                                         reports move what was the old
                                                         school's (each its ``merges.py``)
``calibration_changed``      calibration                 the change feed
``database_restored``        backup                      the report rollups
``tablet_cleared``           accounts (sign-out)         the tablet records (sync.devices)
===========================  ==========================  ====================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from observe.core.database import AnySession

T = TypeVar("T")
Listener = Callable[[AnySession, T], None]


class Hook(Generic[T]):
    """A named point a writer announces; listeners get the session and the fact."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Listener[T]] = []

    def connect(self, listener: Listener[T]) -> Listener[T]:
        """Add ``listener`` (usable as a decorator); connecting one twice keeps one."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    def send(self, session: AnySession, fact: T) -> None:
        for listener in self._listeners:
            listener(session, fact)

    @property
    def listeners(self) -> tuple[Listener[T], ...]:
        return tuple(self._listeners)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._listeners)} listening>"


# ---- the facts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WalkthroughChanged:
    """A walkthrough's stored state changed (a version, a deletion, a reconciliation)."""

    observation_id: str
    author_id: int


@dataclass(frozen=True, slots=True)
class WalkthroughCounted:
    """A stored walkthrough starts (``sign`` +1) or stops (-1) counting as it now stands: its
    ratings are read from the database by whoever needs them."""

    observation_id: str
    rubric_version_id: int
    observed_at: datetime
    school_id: int
    classroom_id: int | None
    counts: bool  # submitted, not deleted, not a calibration score
    sign: int
    profile: str = ""  # the classroom's profile at the visit (observe/roster/profiles.py)


@dataclass(frozen=True, slots=True)
class NewWalkthrough:
    """A submitted walkthrough the push wrote in one statement with others (no ORM object)."""

    rubric_version_id: int
    observed_at: datetime
    school_id: int
    classroom_id: int | None
    ratings: list[tuple[int, int | None, bool]]  # criterion id, level, not observed
    profile: str = ""  # the classroom's profile at the visit (observe/roster/profiles.py)


@dataclass(frozen=True, slots=True)
class Entity:
    """A row devices keep a copy of (a rubric version, a school, a calibration session)."""

    id: int


@dataclass(frozen=True, slots=True)
class SchoolsMerged:
    """School ``old_id`` closes into ``into_id``; it is deleted once every listener has moved
    its rows. Each listener adds what it moved to ``moved`` (what people read, and a count: the
    merge's preview shows them) and anything a person should know to ``notes``."""

    old_id: int
    into_id: int
    moved: dict[str, int]
    notes: list[str]


@dataclass(frozen=True, slots=True)
class TabletCleared:
    """At sign-out, the tablet app said it deleted this user's database on purpose (nothing
    was unsynced), from the browser the request came from."""

    user_id: int
    database_id: str


@dataclass(frozen=True, slots=True)
class Nothing:
    """A hook whose fact is only that it happened."""


walkthrough_changed: Hook[WalkthroughChanged] = Hook("walkthrough_changed")
walkthrough_counted: Hook[WalkthroughCounted] = Hook("walkthrough_counted")
walkthrough_deleted: Hook[WalkthroughChanged] = Hook("walkthrough_deleted")
walkthroughs_added: Hook[list[NewWalkthrough]] = Hook("walkthroughs_added")
rubric_version_added: Hook[Entity] = Hook("rubric_version_added")
# Retired or brought back: devices pull the version again to learn whether to offer it.
rubric_version_retired: Hook[Entity] = Hook("rubric_version_retired")
school_changed: Hook[Entity] = Hook("school_changed")
# Whose schools changed (the fact's id is the user's): their devices replace their roster.
access_changed: Hook[Entity] = Hook("access_changed")
classrooms_changed: Hook[Nothing] = Hook("classrooms_changed")
schools_merged: Hook[SchoolsMerged] = Hook("schools_merged")
calibration_changed: Hook[Entity] = Hook("calibration_changed")
database_restored: Hook[Nothing] = Hook("database_restored")
tablet_cleared: Hook[TabletCleared] = Hook("tablet_cleared")

NOTHING = Nothing()
