"""The feedback loop: did the teacher hear back within two school days of the visit?

School days are Monday to Friday on the district's clock (``OBSERVE_TIMEZONE``). Holidays and
closures are not known to observe: a visit on the Wednesday before Thanksgiving is counted as
if Thursday and Friday were school days (docs/walkthroughs.md says so to leaders).

A walkthrough's feedback is *on time* when it was e-mailed by the end of the second school day
after the visit's day (a visit on Friday: by the end of Tuesday). Whether a send was on time is
decided when it is sent (``FeedbackSend.on_time``), so the share leaders read is two counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select

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


@dataclass
class Loop:
    """Of ``walkthroughs`` (submitted, in a classroom), ``on_time`` had feedback e-mailed in
    time; ``waiting`` have had none yet but still may; ``share`` is on_time over the rest
    (None when there are none: undefined, not 0)."""

    walkthroughs: int
    on_time: int
    waiting: int

    @property
    def decided(self) -> int:
        return self.walkthroughs - self.waiting

    @property
    def share(self) -> float | None:
        return self.on_time / self.decided if self.decided else None

    def as_json(self) -> dict[str, int | float | None]:
        return {
            "walkthroughs": self.walkthroughs,
            "on_time": self.on_time,
            "waiting": self.waiting,
            "share": None if self.share is None else round(self.share, 4),
            "school_days": SCHOOL_DAYS,
        }


def loop(user: Principal, filters: listing.Filters) -> Loop:
    """The feedback loop of the walkthroughs the list shows for ``filters``: those submitted
    in a classroom (a whole-school visit has no teacher to hear back)."""
    sent_on_time = (
        select(FeedbackSend.id)
        .where(FeedbackSend.observation_id == Observation.id, FeedbackSend.on_time.is_(True))
        .exists()
    )
    open_from = clock.day_start(still_open_since(clock.today()))
    in_time = case((sent_on_time, 1), else_=0)
    waiting = case((~sent_on_time & (Observation.observed_at >= open_from), 1), else_=0)
    total, counted_on_time, counted_waiting = db.session.execute(
        select(func.count(), func.sum(in_time), func.sum(waiting)).where(
            *listing.conditions(user, filters),
            Observation.state == ObservationState.SUBMITTED,
            Observation.classroom_id.is_not(None),
        )
    ).one()
    return Loop(int(total), int(counted_on_time or 0), int(counted_waiting or 0))
