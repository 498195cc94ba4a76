"""School years and terms in the database: which year is current, adding one by command,
writing those a OneRoster import brings. Writes only flush; the caller commits.

The checks (dates, overlaps, parents) are the pure ones of ``academic_sessions``; here they get
the stored sessions to compare with. Closing a year freezes its goals, which are the reports'
(observe/reports/years.py); this module only says whether a year is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from observe.audit import operations as audit
from observe.core import clock
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.roster import academic_sessions
from observe.roster.academic_sessions import SessionRecord
from observe.roster.models import SCHOOL_YEAR, AcademicSession


def school_years() -> list[AcademicSession]:
    """Every school year, the latest first, with its terms."""
    return list(
        db.session.scalars(
            select(AcademicSession)
            .where(AcademicSession.kind == SCHOOL_YEAR)
            .options(selectinload(AcademicSession.children))
            .order_by(AcademicSession.start_date.desc())
        )
    )


def current_year(today: date | None = None) -> AcademicSession | None:
    """The year today falls in; between two years (the summer), the latest that has begun;
    before any has begun, the first. None when no year is stored."""
    today = today or clock.today()
    years = school_years()
    for year in years:
        if year.start_date <= today <= year.end_date:
            return year
    begun = [y for y in years if y.start_date <= today]
    if begun:
        return begun[0]
    return years[-1] if years else None


def closed_year_holding(day: date) -> AcademicSession | None:
    """The closed school year ``day`` falls in, if any."""
    return db.session.scalar(
        select(AcademicSession).where(
            AcademicSession.kind == SCHOOL_YEAR,
            AcademicSession.closed_at.is_not(None),
            AcademicSession.start_date <= day,
            AcademicSession.end_date >= day,
        )
    )


def year_before(year: AcademicSession) -> AcademicSession | None:
    """The school year that ended last before ``year`` began."""
    return db.session.scalar(
        select(AcademicSession)
        .where(AcademicSession.kind == SCHOOL_YEAR, AcademicSession.end_date < year.start_date)
        .order_by(AcademicSession.start_date.desc())
        .limit(1)
    )


def year_named(title: str) -> AcademicSession:
    """The school year titled ``title`` (or with that sourced id); ValidationFailed naming the
    years there are when none is."""
    wanted = " ".join(title.split())
    years = school_years()
    for year in years:
        if wanted in (year.title, year.sourced_id):
            return year
    known = ", ".join(y.title for y in years) or "none yet (observe years add)"
    raise ValidationFailed.naming("No such school year", {"year": f"{wanted!r} (years: {known})"})


def term_within(year: AcademicSession, session_id: int) -> AcademicSession | None:
    """A term of ``year`` (at any depth) by id."""
    session = db.session.get(AcademicSession, session_id)
    while session is not None and session.parent_id is not None:
        if session.parent_id == year.id:
            return db.session.get(AcademicSession, session_id)
        session = session.parent
    return None


def terms(year: AcademicSession) -> list[AcademicSession]:
    """The year's terms, semesters and grading periods, by start date then length."""
    found: list[AcademicSession] = []
    stack = list(year.children)
    while stack:
        session = stack.pop()
        found.append(session)
        stack.extend(session.children)
    return sorted(found, key=lambda s: (s.start_date, -(s.end_date - s.start_date).days, s.id))


def _adopted(records: list[SessionRecord]) -> dict[int, str]:
    """Stored sessions a file's rows stand for although they have no sourced id yet (a year
    added by command, then found in the student information system's file): same type and
    title. Stored id → the file's sourced id."""
    known = {r.sourced_id for r in records}
    unnamed = {
        (s.kind, s.title): s.id
        for s in db.session.scalars(
            select(AcademicSession).where(AcademicSession.sourced_id.is_(None))
        )
    }
    stored_ids = set(db.session.scalars(select(AcademicSession.sourced_id)))
    return {
        unnamed[(r.kind, r.title)]: r.sourced_id
        for r in records
        if (r.kind, r.title) in unnamed and r.sourced_id in known - stored_ids
    }


def _stored(adopted: dict[int, str] | None = None) -> list[SessionRecord]:
    adopted = adopted or {}
    sessions = list(db.session.scalars(select(AcademicSession)))
    ids = {s.id: adopted.get(s.id) or _key(s) for s in sessions}
    return [
        SessionRecord(
            sourced_id=ids[s.id],
            title=s.title,
            kind=s.kind,
            start=s.start_date,
            end=s.end_date,
            parent=ids.get(s.parent_id) if s.parent_id else None,
            where=f"the stored {'year' if s.kind == SCHOOL_YEAR else s.kind} {s.title}",
            closed=s.closed_at is not None,
        )
        for s in sessions
    ]


def _key(session: AcademicSession) -> str:
    """A stored session's key for the checks: its sourced id, or one made from its id."""
    return session.sourced_id or f"\x00{session.id}"


def check_sessions(records: list[SessionRecord]) -> list[str]:
    """What is wrong with importing ``records`` over the stored years and terms."""
    return academic_sessions.check(records, _stored(_adopted(records)))


@dataclass
class SessionsWritten:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def write_sessions(records: list[SessionRecord]) -> SessionsWritten:
    """Create or update sessions by sourced id, parents before children. ``check_sessions``
    must have found nothing wrong (it also gives parentless terms their year)."""
    written = SessionsWritten()
    for session_id, sourced_id in _adopted(records).items():
        db.session.get_one(AcademicSession, session_id).sourced_id = sourced_id
    db.session.flush()
    stored = {
        s.sourced_id: s
        for s in db.session.scalars(select(AcademicSession))
        if s.sourced_id is not None
    }
    ordered = sorted(records, key=lambda r: academic_sessions.KINDS.index(r.kind))
    for record in ordered:
        session = stored.get(record.sourced_id)
        values = {
            "title": record.title,
            "kind": record.kind,
            "start_date": record.start,
            "end_date": record.end,
        }
        if session is None:
            session = AcademicSession(sourced_id=record.sourced_id, **values)
            db.session.add(session)
            stored[record.sourced_id] = session
            written.created += 1
            changed = True
        else:
            changed = any(getattr(session, k) != v for k, v in values.items())
            for name, value in values.items():
                setattr(session, name, value)
        parent = stored.get(record.parent) if record.parent else None
        if parent is None and record.parent and record.parent.startswith("\x00"):
            parent = db.session.get(AcademicSession, int(record.parent[1:]))
        if session.parent is not parent:
            session.parent = parent
            changed = True
        if changed and session.id is not None:
            written.updated += 1
        elif session.id is not None:
            written.unchanged += 1
        db.session.flush()
    return written


def add_session(
    title: str, start: date, end: date, *, kind: str = SCHOOL_YEAR, year: str | None = None
) -> AcademicSession:
    """Add a school year (or, with ``year``, a term of that year) by hand; ValidationFailed
    naming what is wrong (overlaps, a term outside its year, a title already used)."""
    title = " ".join(title.split())
    problems: dict[str, str] = {}
    if not title or len(title) > academic_sessions.MAX_TITLE:
        problems["title"] = f"give a title of 1 to {academic_sessions.MAX_TITLE} characters"
    if end < start:
        problems["end"] = f"{end} is before the start, {start}"
    parent = None
    if kind == SCHOOL_YEAR:
        if any(y.title == title for y in school_years()):
            problems["title"] = f"there is already a school year {title!r}"
    else:
        try:
            parent = year_named(year or "")
        except ValidationFailed as error:
            problems.update(error.details)
        else:
            if parent.closed_at is not None:
                problems["year"] = f"{parent.title} is closed"
            elif any(t.title == title and t.kind == kind for t in terms(parent)):
                problems["title"] = f"{parent.title} already has a {kind} {title!r}"
    if not problems:
        record = SessionRecord(
            sourced_id="\x00new",
            title=title,
            kind=kind,
            start=start,
            end=end,
            parent=_key(parent) if parent else None,
            where="the new " + ("year" if kind == SCHOOL_YEAR else kind),
        )
        for problem in check_sessions([record]):
            problems.setdefault("dates", problem.partition(": ")[2])
    if problems:
        raise ValidationFailed.naming(f"{title or 'The session'} was not added", problems)
    session = AcademicSession(title=title, kind=kind, start_date=start, end_date=end, parent=parent)
    db.session.add(session)
    db.session.flush()
    audit.record(
        "year.added",
        object_type="academic_session",
        object_id=session.id,
        detail={"title": title, "kind": kind, "start": str(start), "end": str(end)},
    )
    return session


def session_json(session: AcademicSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "sourced_id": session.sourced_id,
        "title": session.title,
        "type": session.kind,
        "start_date": session.start_date.isoformat(),
        "end_date": session.end_date.isoformat(),
        "closed": session.closed_at is not None,
    }


def year_json(year: AcademicSession, today: date | None = None) -> dict[str, Any]:
    today = today or clock.today()
    return {
        **session_json(year),
        "closed_at": year.closed_at.isoformat() if year.closed_at else None,
        "current": year.start_date <= today <= year.end_date,
        "terms": [{**session_json(t), "parent_id": t.parent_id} for t in terms(year)],
    }


ALL_YEARS = "all"


@dataclass
class Period:
    """The dates a report counts: a school year's or a term's, by default the current year's,
    or (``year`` None) everything. ``chosen`` says whether the reader picked it."""

    start: date | None = None
    end: date | None = None
    year: AcademicSession | None = None
    term: AcademicSession | None = None
    chosen: bool = False

    @property
    def dates(self) -> tuple[date | None, date | None]:
        return self.start, self.end

    @property
    def label(self) -> str:
        if self.term is not None and self.year is not None:
            return f"{self.term.title}, {self.year.title}"
        return self.year.title if self.year is not None else "every year"


def period_for(year_text: str | None, term_text: str | None, problems: dict[str, str]) -> Period:
    """The period a report's ``year`` and ``term`` parameters ask for: a year by id or title
    (``all``: every year, no dates), one of its terms by id; with neither, the current year
    (``current_year``) — and when no year is stored, everything. Problems are named."""
    year_text = (year_text or "").strip()
    term_text = (term_text or "").strip()
    if year_text == ALL_YEARS:
        if term_text:
            problems["term"] = "a term belongs to a year: choose the year too"
        return Period(chosen=True)
    if year_text:
        year = _year_by_text(year_text)
        if year is None:
            known = ", ".join(y.title for y in school_years()) or "none"
            problems["year"] = f"unknown school year {year_text!r} (years: {known})"
            return Period()
    else:
        year = current_year()
        if year is None:
            if term_text:
                problems["term"] = "no school year is stored"
            return Period()
    period = Period(year.start_date, year.end_date, year, chosen=bool(year_text))
    if term_text:
        # A term by its id, or by its title (as the year's terms are named on the page).
        term = term_within(year, int(term_text)) if _digits(term_text) else None
        if term is None:
            named = [t for t in terms(year) if t.title.casefold() == term_text.casefold()]
            term = named[0] if len(named) == 1 else None
        if term is None:
            problems["term"] = f"unknown term {term_text!r} of {year.title}"
        else:
            period.start, period.end, period.term, period.chosen = (
                term.start_date,
                term.end_date,
                term,
                True,
            )
    return period


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9


def _year_by_text(text: str) -> AcademicSession | None:
    for year in school_years():
        if (_digits(text) and year.id == int(text)) or text in (year.title, year.sourced_id):
            return year
    return None
