"""Reading the audit log: the filters an admin may set, newest first, a page at a time."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from observe.audit.models import AuditEvent
from observe.core import clock
from observe.errors import ValidationFailed
from observe.extensions import db

PAGE_SIZE = 50
MAX_PAGE = 100_000
_PAGE = re.compile(r"[0-9]{1,6}")  # ASCII only: "²".isdigit() is true, int("²") fails
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Filters:
    who: str = ""  # part of the actor's email, any case
    action: str = ""  # an action code, or its first part ("walkthrough")
    object_type: str = ""
    object_id: str = ""
    start: date | None = None  # the district's days, both included
    end: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query parameters (for the next page's link and the export's)."""
        values = asdict(self)
        values["from"], values["to"] = values.pop("start"), values.pop("end")
        values["type"], values["id"] = values.pop("object_type"), values.pop("object_id")
        return {key: str(value) for key, value in values.items() if value not in ("", None)}


def _day(text: str, field: str, problems: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        problems[field] = f"must be a date written YYYY-MM-DD, not {text[:40]!r}"
        return None


def parse_filters(args: Mapping[str, str]) -> Filters:
    """The filters in a request's query; every problem named at once."""
    problems: dict[str, str] = {}
    text = {key: (args.get(key) or "").strip() for key in ("who", "action", "type", "id")}
    for key, limit in (("who", 254), ("action", 64), ("type", 40), ("id", 64)):
        if len(text[key]) > limit or "\x00" in text[key]:
            problems[key] = f"must be at most {limit} characters, without NUL"
    start = _day((args.get("from") or "").strip(), "from", problems)
    end = _day((args.get("to") or "").strip(), "to", problems)
    if start and end and start > end:
        problems["to"] = "must not be before from"
    for field, day in (("from", start), ("to", end)):
        if day is not None and not date(1900, 1, 1) <= day <= date(9000, 12, 31):
            problems[field] = "must be between 1900-01-01 and 9000-12-31"
    if problems:
        raise ValidationFailed.naming("The audit log cannot be searched", problems)
    return Filters(text["who"], text["action"], text["type"], text["id"], start, end)


def parse_page(text: str | None) -> int:
    if not text:
        return 1
    if not _PAGE.fullmatch(text) or not 1 <= int(text) <= MAX_PAGE:
        raise ValidationFailed.naming(
            "The audit log cannot be searched", {"page": f"must be a number from 1 to {MAX_PAGE}"}
        )
    return int(text)


def _query(filters: Filters) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if filters.who:
        escaped = filters.who.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(AuditEvent.actor_email).like(f"%{escaped}%", escape="\\"))
    if filters.action:
        query = query.where(
            (AuditEvent.action == filters.action)
            | AuditEvent.action.startswith(filters.action + ".", autoescape=True)
        )
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.start:
        query = query.where(AuditEvent.at >= clock.day_start(filters.start))
    if filters.end:
        query = query.where(AuditEvent.at < clock.day_start(filters.end + timedelta(days=1)))
    return query.order_by(AuditEvent.id.desc())


def search(filters: Filters, page: int = 1) -> tuple[list[AuditEvent], bool]:
    """One page of the events that match, newest first, and whether an older page follows."""
    rows = db.session.scalars(
        _query(filters).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    return list(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE


CSV_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "address",
    "detail",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: one that begins like a formula gets a leading quote
    (OWASP's advice for CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_chunks(filters: Filters) -> Iterator[str]:
    """The matching events as CSV, a few hundred rows at a time, newest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    result = db.session.execute(_query(filters).execution_options(yield_per=500))
    for (event,) in result:
        writer.writerow(
            [
                spreadsheet_safe(value)
                for value in (
                    event.id,
                    event.at.isoformat(),
                    event.actor_id,
                    event.actor_email,
                    event.action,
                    event.object_type,
                    event.object_id,
                    event.address,
                    json.dumps(event.detail, sort_keys=True, ensure_ascii=False),
                )
            ]
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
