"""Recording changes for the pull feed, numbered in commit order (see observe/sync/models.py).

Operations call :func:`record`; the numbers are taken and the rows written by a hook that runs
as the session commits, so the counter's row lock is held only for the last moment of a
transaction, and a rolled-back transaction records nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, select, text, update
from sqlalchemy.orm import Session, SessionTransaction

from observe.sync.models import Change, ChangeCounter

_PENDING = "observe.pending_changes"


def record(
    session: Session,
    kind: str,
    *,
    observation_id: str | None = None,
    author_id: int | None = None,
    entity_id: int | None = None,
) -> None:
    """Note a change; it reaches the feed when (and only if) the session commits."""
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
    session.execute(insert(Change.__table__), rows)  # the table: no ORM bookkeeping per row


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted_changes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def latest_seq(session: Session) -> int:
    return session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0
