"""The change feed devices pull from: its tables, and the listeners that record to it.

Every change gets a sequence number in *commit order*: a transaction takes the next numbers
from a one-row counter just before it commits, and the row lock makes any other transaction
wait for that commit before taking its own. An auto-increment id would not do: on PostgreSQL
two transactions can take ids 7 and 8 and commit 8 first, and a reader that saw 8 would never
go back for 7.

Writers do not call this module: they send a hook (``observe.core.hooks``) and the listeners at
the bottom of this file note the change; the numbers are taken and the rows written by a hook
that runs as the session commits — and, as SQLAlchemy runs ``before_commit`` for a savepoint
too, as a savepoint is released — so the counter's row lock is held from the first such moment
to the end of the transaction (for a plain request, only its last moment; for a push whose
items take savepoints, from the first of them), and a rolled-back transaction records
nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, event, insert, select, text, update
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from observe.core import hooks
from observe.core.database import AnySession, pending_buffer, table_of
from observe.core.models import UTCDateTime, utcnow
from observe.extensions import Model


class Change(Model):
    __tablename__ = "change"
    __table_args__ = (Index("ix_change_author_seq", "author_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # observation, rubric_version, school, calibration_session
    kind: Mapped[str] = mapped_column(String(30))
    # For observation changes: which one, and whose (a device pulls its user's own).
    observation_id: Mapped[str | None] = mapped_column(String(36))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # For rubric versions, schools and calibration sessions: the row's id.
    entity_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChangeCounter(Model):
    """One row holding the last sequence number handed out."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


_PENDING = pending_buffer("observe.pending_changes")


def record(
    session: AnySession,
    kind: str,
    *,
    observation_id: str | None = None,
    author_id: int | None = None,
    entity_id: int | None = None,
) -> None:
    """Note a change; it reaches the feed when (and only if) the session commits."""
    if _PENDING not in session.info:
        # The first note of a transaction. If nothing was read or written yet, this begins
        # the transaction the note belongs to, so that a rollback forgets it too.
        session.connection()
    session.info.setdefault(_PENDING, []).append(
        {
            "kind": kind,
            "observation_id": observation_id,
            "author_id": author_id,
            "entity_id": entity_id,
        }
    )


@event.listens_for(Session, "before_commit")
def _number_pending_changes(session: Session) -> None:
    pending: list[dict[str, Any]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # every other write first: the counter lock is taken last
    # The counter row exists from the first change on; ON CONFLICT keeps two first changes
    # from racing to create it.
    session.execute(
        text("INSERT INTO change_counter (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
    )
    last = session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + len(pending))
        .returning(ChangeCounter.value)
    ).scalar_one()
    first = last - len(pending) + 1
    rows = [{"seq": first + i, **row} for i, row in enumerate(pending)]
    session.execute(insert(table_of(Change)), rows)  # the table: no ORM bookkeeping per row


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted_changes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def latest_seq(session: AnySession) -> int:
    return session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0


# ---- what is recorded, and when --------------------------------------------------------------


@hooks.walkthrough_changed.connect
def _walkthrough(session: AnySession, fact: hooks.WalkthroughChanged) -> None:
    # A device pulls its own user's walkthroughs: the author goes with the change.
    record(session, "observation", observation_id=fact.observation_id, author_id=fact.author_id)


@hooks.rubric_version_retired.connect
@hooks.rubric_version_added.connect
def _rubric_version(session: AnySession, fact: hooks.Entity) -> None:
    record(session, "rubric_version", entity_id=fact.id)


@hooks.school_changed.connect
def _school(session: AnySession, fact: hooks.Entity) -> None:
    record(session, "school", entity_id=fact.id)


@hooks.access_changed.connect
def _access(session: AnySession, fact: hooks.Entity) -> None:
    # Only that user's devices: the schools they may record in are theirs to learn.
    record(session, "access", author_id=fact.id)


@hooks.calibration_changed.connect
def _calibration_session(session: AnySession, fact: hooks.Entity) -> None:
    record(session, "calibration_session", entity_id=fact.id)


@hooks.schools_merged.connect
def _school_merged(session: AnySession, fact: hooks.SchoolsMerged) -> None:
    # The feed's rows name rows that still exist (pull reads each as it is now): a school's
    # past changes become the changes of the school it closed into.
    session.execute(
        update(Change)
        .where(Change.kind == "school", Change.entity_id == fact.old_id)
        .values(entity_id=fact.into_id)
    )
