"""School years in the reports: the period a report counts by default, closing a year (its
goals frozen), starting next year's goals from last year's, and this year against last.

The years themselves are the roster's (observe/roster/years.py: from OneRoster
``academicSessions.csv`` or ``observe years add``). The conventions are in docs/reports.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext, ngettext
from sqlalchemy import select

from observe.audit.operations import record
from observe.core import clock
from observe.core.models import utcnow
from observe.core.permissions import Principal, allowed, check
from observe.errors import ValidationFailed
from observe.extensions import db
from observe.reports import access, goals, summary
from observe.reports.models import Goal
from observe.reports.periods import month_end
from observe.roster import years
from observe.roster.models import AcademicSession
from observe.roster.years import Period

# ---- goals of a year ---------------------------------------------------------------------------


def goals_of(year: AcademicSession) -> list[Goal]:
    """The goals whose deadline falls in ``year``: the year they are judged in."""
    return list(
        db.session.scalars(
            select(Goal)
            .where(Goal.deadline >= year.start_date, Goal.deadline <= year.end_date)
            .order_by(Goal.deadline, Goal.id)
        )
    )


def goals_in(period: Period, listed: list[Goal]) -> list[Goal]:
    """The goals of ``listed`` whose deadline falls in the period (all when it has no dates)."""
    start, end = period.dates
    return [
        g
        for g in listed
        if (start is None or g.deadline >= start) and (end is None or g.deadline <= end)
    ]


def year_rows(user: Principal, visible: list[Goal]) -> list[dict[str, Any]]:
    """The goals page's school years: each with how many of the ``visible`` goals it judges,
    whether it may be closed
    now and whether its goals may be started from the year before's (district admins)."""
    admin = allowed(user, access.CLOSE_YEAR)
    today = clock.today()
    rows = []
    for year in years.school_years():
        last = years.year_before(year)
        rows.append(
            {
                "year": year,
                "goals": sum(year.start_date <= g.deadline <= year.end_date for g in visible),
                "can_close": admin and year.closed_at is None and today > year.end_date,
                "carry_from": last if admin and last and year.closed_at is None else None,
            }
        )
    return rows


def closable(user: Principal, year: AcademicSession) -> AcademicSession:
    """The year ``user`` asks to close: refused unless a district admin; ValidationFailed when
    it is already closed or not over."""
    check(user, access.CLOSE_YEAR, refusal=gettext("only a district admin closes a school year"))
    if year.closed_at is not None:
        raise ValidationFailed.naming(
            gettext("%(year)s is already closed", year=year.title),
            {"year": gettext("closed on %(date)s", date=year.closed_at.strftime("%Y-%m-%d"))},
        )
    if clock.today() <= year.end_date:
        raise ValidationFailed.naming(
            gettext("%(year)s is not over", year=year.title),
            {"year": gettext("its last day is %(date)s; close it after that", date=year.end_date)},
        )
    return year


def close_year(user: Principal, year: AcademicSession) -> tuple[AcademicSession, list[Goal]]:
    """Close a school year: each of its goals gets its final status and figures stored, shown
    from then on and never counted again — so a later roster import, re-rating or rubric change
    does not change the year's results. The year's dates can no longer change. Flushes."""
    closable(user, year)
    now = utcnow()
    frozen = goals_of(year)
    for goal in frozen:
        if goal.final is None:
            goal.final = goals.figures(goal)
            goal.closed_at = now
    year.closed_at = now
    db.session.flush()
    record(
        "year.closed",
        object_type="academic_session",
        object_id=year.id,
        detail={"title": year.title, "goals": [g.id for g in frozen]},
    )
    return year, frozen


@dataclass
class Carried:
    created: list[Goal] = field(default_factory=list)
    already: list[Goal] = field(default_factory=list)  # carried before: left as they are

    def lines(self, to_year: AcademicSession) -> list[str]:
        lines = [
            gettext(
                "Created “%(title)s” (%(school)s): %(start)s to %(end)s",
                title=g.title,
                school=g.school.code if g.school else gettext("district"),
                start=g.starts_on,
                end=g.deadline,
            )
            for g in self.created
        ]
        lines += [gettext("Already carried: “%(title)s”", title=g.title) for g in self.already]
        count = len(self.created)
        lines.append(
            ngettext(
                "%(num)d goal created in %(year)s.",
                "%(num)d goals created in %(year)s.",
                count,
                year=to_year.title,
            )
        )
        return lines


def shifted(day: date, from_year: AcademicSession, to_year: AcademicSession) -> date:
    """The day as far into ``to_year`` as ``day`` was into ``from_year``, kept inside it."""
    moved = to_year.start_date + (day - from_year.start_date)
    return min(max(moved, to_year.start_date), to_year.end_date)


def carry_goals(user: Principal, from_title: str, to_title: str) -> tuple[Carried, AcademicSession]:
    """Start ``to_title``'s goals from ``from_title``'s: the same target, level, share, scope and
    rubric, with dates moved as far into the new year as they were into the old. A goal carried
    before is not carried twice. Flushes."""
    check(user, access.CLOSE_YEAR, refusal=gettext("only a district admin carries a year's goals"))
    problems: dict[str, str] = {}
    found: dict[str, AcademicSession] = {}
    for name, title in (("from", from_title), ("to", to_title)):
        try:
            found[name] = years.year_named(title)
        except ValidationFailed as error:
            problems[name] = str(error.details["year"])
    if len(found) == 2 and found["to"].start_date <= found["from"].start_date:
        problems["to"] = gettext(
            "%(to)s does not come after %(from)s",
            to=found["to"].title,
            **{"from": found["from"].title},
        )
    elif len(found) == 2 and found["to"].closed_at is not None:
        problems["to"] = gettext("%(year)s is closed", year=found["to"].title)
    if problems:
        raise ValidationFailed.naming(gettext("No goal was carried"), problems)
    old, new = found["from"], found["to"]
    carried = Carried()
    done = {
        g.carried_from_id: g
        for g in db.session.scalars(select(Goal).where(Goal.carried_from_id.is_not(None)))
    }
    for goal in goals_of(old):
        if goal.id in done:
            carried.already.append(done[goal.id])
            continue
        starts_on, deadline = shifted(goal.starts_on, old, new), shifted(goal.deadline, old, new)
        if deadline <= starts_on:
            starts_on, deadline = new.start_date, new.end_date
        fresh = Goal(
            title=goal.title,
            rubric_version_id=goal.rubric_version_id,
            target_kind=goal.target_kind,
            target_key=goal.target_key,
            at_least=goal.at_least,
            target_share=goal.target_share,
            school_id=goal.school_id,
            starts_on=starts_on,
            deadline=deadline,
            # The goal stays its author's: carrying it forward does not make it someone else's.
            created_by_id=goal.created_by_id,
            carried_from_id=goal.id,
        )
        db.session.add(fresh)
        db.session.flush()
        record(
            "goal.carried",
            object_type="goal",
            object_id=fresh.id,
            detail={"title": fresh.title, "from_goal": goal.id, "to_year": new.title},
        )
        carried.created.append(fresh)
    return carried, new


# ---- this year against last --------------------------------------------------------------------


def compare_with_last_year(
    user: Principal, query: summary.Query, period: Period, report: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Per equity dimension and competency, the share this year and in the same span of the
    year before, with n each. Each year is the summary report's own figures over its span, so
    what it suppresses stays suppressed. None when the report's dates are not within one
    school year (or the months it spans).

    Whole months (a year's default period) compare whole months — August to November against
    August to November, leaving out the month under way when an earlier one is complete — so
    the rollups answer both; other dates compare as many days into each year.

    ``report`` is the summary this comparison is shown with. When it hides the month under
    way, leaving that month out here would let a reader subtract this year's figures from the
    report's own and pin it down (docs/reports.md, the threat model): the comparison then
    runs to the report's own end, against as many days of the year before."""
    if query.start is None or query.end is None:
        return None
    year = period.year or _year_of(query.start, query.end)
    if year is None:
        return None
    today = clock.today()
    last = years.year_before(year)
    result: dict[str, Any] = {"year": year.title, "last_year": last.title if last else None}
    if today < query.start:
        result["note"] = gettext("%(year)s has not begun.", year=year.title)
        return result
    stop = min(query.end, today)
    whole = query.start.day == 1 and month_end(query.end) == query.end
    if whole:
        end = month_end(stop)
        if end > today and stop.replace(day=1) > query.start:
            end = stop.replace(day=1) - timedelta(days=1)  # the last complete month
    else:
        end = stop
    if whole and end < stop and _hides_a_month_after(report, end):
        whole, end = False, stop
    result["this"] = {"from": query.start.isoformat(), "to": end.isoformat()}
    if last is None:
        result["note"] = gettext("No school year before %(year)s is stored.", year=year.title)
        return result
    if whole:
        months = (year.start_date.year - last.start_date.year) * 12 + (
            year.start_date.month - last.start_date.month
        )
        last_start = _months_back(query.start, months)
        last_end = month_end(_months_back(end.replace(day=1), months))
    else:
        last_start, last_end = shifted(query.start, year, last), shifted(end, year, last)
    result["last"] = {"from": last_start.isoformat(), "to": last_end.isoformat()}
    plain = {**query.__dict__, "by": None}
    this = summary.build(user, summary.Query(**{**plain, "start": query.start, "end": end}))
    if whole and end < stop and _few_ratings_after(report, this):
        # The month under way, left out here, would be the report's figures less these: a
        # competency (or dimension) it rated fewer than the cell minimum times would be
        # pinned. Run to the report's own end, as when the trend hides that month.
        end = stop
        last_end = shifted(end, year, last)
        result["this"]["to"], result["last"]["to"] = end.isoformat(), last_end.isoformat()
        this = summary.build(user, summary.Query(**{**plain, "start": query.start, "end": end}))
    before = summary.build(user, summary.Query(**{**plain, "start": last_start, "end": last_end}))
    # A report that starts in the month under way counts this year only up to today against
    # all of that month last year: not the same span, and the page and headline say so
    # (review minor b).
    through = min(end, today)
    result["this"]["through"] = through.isoformat()
    result["same_span"] = (whole and end <= today) or (through - query.start) == (
        last_end - last_start
    )
    result["observations"] = {"this": this["observations"], "last": before["observations"]}
    result["suppressed"] = {"this": this["suppressed"], "last": before["suppressed"]}
    result["min_group"] = this["scope"]["min_group"]
    rows = []
    for kind, key in (("dimension", "dimensions"), ("competency", "competencies")):
        mine = {row["name"]: row for row in this.get(key, [])}
        theirs = {row["name"]: row for row in before.get(key, [])}
        for name in list(mine) + [n for n in theirs if n not in mine]:
            rows.append(
                {
                    "kind": kind,
                    "name": name,
                    "this": _figure(mine.get(name)),
                    "last": _figure(theirs.get(name)),
                }
            )
    result["rows"] = rows
    return result


def _hides_a_month_after(report: dict[str, Any] | None, end: date) -> bool:
    """Whether ``report``'s trend hides a month after ``end`` (no report: assume it does)."""
    if report is None:
        return True
    after = f"{end.year:04d}-{end.month:02d}"
    return any(row["suppressed"] and row["month"] > after for row in report.get("trend", []))


def _few_ratings_after(report: dict[str, Any] | None, this: dict[str, Any]) -> bool:
    """Whether a shown dimension or competency of ``report`` rests on a few more ratings than
    ``this`` (the same scope up to an earlier end): some, but under the cell minimum (review
    minor a). No report: assume so."""
    if report is None:
        return True
    least = report["scope"]["min_cell"]
    for key in ("dimensions", "competencies"):
        mine = {row["name"]: row for row in this.get(key, [])}
        for row in report.get(key, []):
            if row.get("share") is None or row.get("rated") is None:
                continue
            earlier = (mine.get(row["name"]) or {}).get("rated") or 0
            if 0 < row["rated"] - earlier < least:
                return True
    return False


def _figure(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None or row["share"] is None:
        return None
    return {
        "share": row["share"],
        "rated": row["rated"],
        "interval": row["interval"],
        "se": row["se"],
        "classrooms": row.get("classrooms"),
    }


def _months_back(day: date, months: int) -> date:
    """The first of the month ``months`` before ``day``'s."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _year_of(start: date, end: date) -> AcademicSession | None:
    """The school year whose months hold ``start`` to ``end``."""
    for year in years.school_years():
        if year.start_date.replace(day=1) <= start and end <= month_end(year.end_date):
            return year
    return None
