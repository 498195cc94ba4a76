"""The feedback loop: did the teacher hear back within two school days of the visit?

School days are Monday to Friday on the district's clock (``OBSERVE_TIMEZONE``). Holidays and
closures are not known to observe: a visit on the Wednesday before Thanksgiving is counted as
if Thursday and Friday were school days (docs/walkthroughs.md says so to leaders).

A walkthrough's feedback is *on time* when it was e-mailed by the end of the second school day
after the visit's day (a visit on Friday: by the end of Tuesday). Whether a send was on time is
decided when it is sent (``FeedbackSend.on_time``), so the share leaders read is two counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func, select

from observe.core import clock
from observe.core.permissions import Principal
from observe.extensions import db
from observe.observations import listing
from observe.observations.models import FeedbackSend, Observation, ObservationState

SCHOOL_DAYS = 2


def school_days_after(visit: date, day: date) -> int:
    """How many school days (Monday to Friday) lie after ``visit`` up to and including ``day``."""
    if day <= visit:
        return 0
    whole_weeks, rest = divmod((day - visit).days, 7)
    count = whole_weeks * 5
    for offset in range(1, rest + 1):
        if (visit + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count


def on_time(visit: date, sent: date) -> bool:
    """Sent by the end of the second school day after the visit's day."""
    return school_days_after(visit, sent) <= SCHOOL_DAYS


def still_open_since(today: date) -> date:
    """The first visit day whose feedback could still arrive on time today: a walkthrough of
    that day or later that has had no feedback yet is not late, only waiting."""
    day = today
    while on_time(day - timedelta(days=1), today):
        day -= timedelta(days=1)
    return day


# With no start date chosen, the figure covers the last 30 days up to the end chosen (or
# today): a recent figure is what leaders act on, walkthroughs from before a district began
# sending feedback would drag an all-time figure down for years, and the count reads every
# walkthrough of its period (a district-year would cost ~0.4 s on SQLite; docs/benchmarks.md).
DEFAULT_DAYS = 30
LONG_DAYS = 60


@dataclass
class Loop:
    """Of ``walkthroughs`` (submitted, in a classroom, observed from ``start`` to ``end``),
    ``on_time`` had feedback e-mailed in time; ``waiting`` have had none yet but still may;
    ``share`` is on_time over the rest (None when there are none: undefined, not 0)."""

    walkthroughs: int
    on_time: int
    waiting: int
    start: date
    end: date

    @property
    def decided(self) -> int:
        return self.walkthroughs - self.waiting

    @property
    def share(self) -> float | None:
        return self.on_time / self.decided if self.decided else None

    def as_json(self) -> dict[str, int | float | str | None]:
        return {
            "walkthroughs": self.walkthroughs,
            "on_time": self.on_time,
            "waiting": self.waiting,
            "share": None if self.share is None else round(self.share, 4),
            "school_days": SCHOOL_DAYS,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
        }


def period(filters: listing.Filters) -> tuple[date, date]:
    """The days the figure covers: the filters' dates, else the last 30 days."""
    end = filters.end or clock.today()
    return filters.start or end - timedelta(days=DEFAULT_DAYS - 1), end


def loop(user: Principal, filters: listing.Filters) -> Loop:
    """The feedback loop of the walkthroughs the list shows for ``filters`` (within
    :func:`period`): those submitted in a classroom (a whole-school visit has no teacher to
    hear back).

    Three counts, each read the cheap way round: all of them (one pass over the period's
    rows, no look-up per row), those sent on time (from the sends, joined to their
    walkthrough), and those still waiting (the last few days' rows only)."""
    start, end = period(filters)
    if (end - start).days > LONG_DAYS and db.session.get_bind().dialect.name == "sqlite":
        # SQLite would read a long period through ix_observation_observed, a row look-up
        # each: five times slower than one pass over the table (40,000 walkthroughs: 200 ms
        # against 39 ms). A function of the column keeps its planner off that index.
        moment = func.coalesce(Observation.observed_at, Observation.observed_at)
        dated = [
            *listing.conditions(user, replace(filters, start=None, end=None)),
            moment >= clock.day_start(start),
            moment < clock.day_start(end + timedelta(days=1)),
        ]
    else:
        dated = listing.conditions(user, replace(filters, start=start, end=end))
    counted = [
        *dated,
        Observation.state == ObservationState.SUBMITTED,
        Observation.classroom_id.is_not(None),
    ]
    total = db.session.scalar(select(func.count()).select_from(Observation).where(*counted))
    in_time = db.session.scalar(
        select(func.count(func.distinct(FeedbackSend.observation_id)))
        .join(Observation, Observation.id == FeedbackSend.observation_id)
        .where(FeedbackSend.on_time.is_(True), *counted)
    )
    sent_on_time = (
        select(FeedbackSend.id)
        .where(FeedbackSend.observation_id == Observation.id, FeedbackSend.on_time.is_(True))
        .exists()
    )
    open_from = clock.day_start(still_open_since(clock.today()))
    waiting = db.session.scalar(
        select(func.count())
        .select_from(Observation)
        .where(*counted, Observation.observed_at >= open_from, ~sent_on_time)
    )
    return Loop(int(total or 0), int(in_time or 0), int(waiting or 0), start, end)
