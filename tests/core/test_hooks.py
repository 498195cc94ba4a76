"""observe/core/hooks.py: how one feature reacts to another's writes, and the savepoints that
keep what a transaction noted for its commit in step with what it wrote."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from observe.core import changes, hooks
from observe.core.changes import Change
from observe.core.database import pending_buffer, savepoint
from observe.extensions import db
from observe.photos import operations as photos
from observe.reports import rollups
from observe.roster import profiles
from observe.sync import devices


def test_listeners_hear_in_the_order_they_connected_and_once_each() -> None:
    hook: hooks.Hook[int] = hooks.Hook("test")
    heard: list[tuple[str, int]] = []

    def first(session: Any, fact: int) -> None:
        heard.append(("first", fact))

    def second(session: Any, fact: int) -> None:
        heard.append(("second", fact))

    hook.connect(first)
    hook.connect(second)
    hook.connect(first)  # twice: still heard once
    hook.send(db.session, 7)
    assert heard == [("first", 7), ("second", 7)]
    assert hook.listeners == (first, second)


def test_the_app_connects_every_reaction_the_hook_table_promises() -> None:
    """The table in observe/core/hooks.py, checked: who hears what once the app is made."""
    heard_by = {
        hooks.walkthrough_changed: changes,
        hooks.rubric_version_added: changes,
        hooks.rubric_version_retired: changes,
        hooks.school_changed: changes,
        hooks.access_changed: changes,
        hooks.calibration_changed: changes,
        hooks.walkthrough_counted: rollups,
        hooks.walkthroughs_added: rollups,
        hooks.classrooms_changed: profiles,
        hooks.database_restored: rollups,
        hooks.tablet_cleared: devices,
        hooks.walkthrough_deleted: photos,
        # The feed's rows, then each feature that keeps rows of a school (create_app's MERGING).
        hooks.schools_merged: (
            changes,
            "observe.accounts.merges",
            "observe.observations.merges",
            "observe.calibration.merges",
            "observe.reports.merges",
        ),
    }
    every_hook = {value for value in vars(hooks).values() if isinstance(value, hooks.Hook)}
    assert every_hook == set(heard_by)
    for hook, heard in heard_by.items():
        modules = heard if isinstance(heard, tuple) else (heard,)
        names = [m if isinstance(m, str) else m.__name__ for m in modules]
        assert [listener.__module__ for listener in hook.listeners] == names, hook


def test_a_change_reaches_the_feed_only_when_its_transaction_commits() -> None:
    hooks.school_changed.send(db.session, hooks.Entity(41))
    db.session.rollback()
    assert db.session.scalars(select(Change)).all() == []
    hooks.school_changed.send(db.session, hooks.Entity(42))
    db.session.commit()
    [change] = db.session.scalars(select(Change)).all()
    assert (change.kind, change.entity_id) == ("school", 42)
    assert changes.latest_seq(db.session) == change.seq


def test_a_savepoint_rolled_back_takes_its_notes_with_it() -> None:
    hooks.school_changed.send(db.session, hooks.Entity(1))
    with pytest.raises(RuntimeError), savepoint(db.session):
        hooks.school_changed.send(db.session, hooks.Entity(2))
        raise RuntimeError("the savepoint's write failed")
    with savepoint(db.session):
        hooks.school_changed.send(db.session, hooks.Entity(3))
    db.session.commit()
    kept = db.session.scalars(select(Change.entity_id).order_by(Change.seq)).all()
    assert kept == [1, 3]


def test_a_buffer_is_put_back_as_it_was_not_merely_emptied() -> None:
    key = pending_buffer("observe.test_buffer")
    db.session.info[key] = {"noted": [1]}
    with pytest.raises(ValueError), savepoint(db.session):
        db.session.info[key]["noted"].append(2)
        db.session.info[key]["other"] = True
        raise ValueError
    assert db.session.info[key] == {"noted": [1]}
    db.session.info.pop(key)
