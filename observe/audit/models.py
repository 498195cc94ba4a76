"""The audit log's one table, and what keeps it append-only.

Events are never changed or deleted by the app. Two guards say so: SQLAlchemy refuses to flush
a change or deletion of an event, or to run an UPDATE or DELETE statement on the table; and the
database itself refuses them in a trigger (UPDATE on both databases; DELETE on PostgreSQL, where
a setting local to the purging transaction lets the retention purge through, see
``operations.purge``). On SQLite, deleting rows behind the app's back is refused only by the
app: SQLite has no transaction-local setting for a trigger to read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, BigInteger, Index, Integer, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from observe.core.models import JSONDocument, UTCDateTime, utcnow
from observe.extensions import Model

# Set (with SET LOCAL, through set_config) by the retention purge, inside its transaction.
PURGE_SETTING = "observe.audit_purge"
PURGE_OPTION = "observe_audit_purge"


class AuditLogIsAppendOnly(RuntimeError):
    """An attempt to change or delete an audit event other than by the retention purge."""


class AuditEvent(Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_actor_id", "actor_id"),
        Index("ix_audit_event_action", "action"),
        Index("ix_audit_event_at", "at"),
    )

    # BigInteger on PostgreSQL (a district reads many feedback pages); SQLite needs INTEGER
    # for its rowid alias to count on its own.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # No foreign key: the event outlives the account, and its email is kept as text.
    actor_id: Mapped[int | None] = mapped_column()
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed: the log is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(
        f"audit event {target.id} cannot be deleted: only the retention purge removes events"
    )


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    # An ORM statement names an annotated copy of the table: compare names.
    if getattr(getattr(state.statement, "table", None), "name", None) != AuditEvent.__tablename__:
        return
    if state.is_delete and state.execution_options.get(PURGE_OPTION):
        return
    verb = "changed" if state.is_update else "deleted"
    raise AuditLogIsAppendOnly(
        f"audit events cannot be {verb}: the log is append-only (observe audit purge removes "
        "events past the retention period)"
    )


# The same guards in the database, for statements that do not pass through the app. (A DDL's
# text is %-formatted by SQLAlchemy, hence the doubled percent sign.)
PG_GUARD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
PG_GUARD_TRIGGER = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
"""
SQLITE_GUARD = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused');
END
"""

for _statement in (PG_GUARD_FUNCTION, PG_GUARD_TRIGGER):
    event.listen(
        AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
event.listen(AuditEvent.__table__, "after_create", DDL(SQLITE_GUARD).execute_if(dialect="sqlite"))
