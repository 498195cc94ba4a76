"""What a report may show: one decision per response, across all its sections.

A figure (a group, a month, a whole report) is shown only when it rests on at least
``OBSERVE_MIN_GROUP_SIZE`` walkthroughs and ``OBSERVE_MIN_CLASSROOMS`` distinct classrooms;
a per-look-for cell shows its share only on ``OBSERVE_MIN_CELL_RATINGS`` ratings. Where a
total (or a larger scope's figure) is shown beside its parts, more parts are hidden — as cover —
until what lies hidden together is as large as a figure must be to be shown, so that no hidden
figure can be worked out by subtraction. Each hidden figure carries the reason it is hidden.
The threat model this answers is in docs/reports.md ("Who reads what: the threat model").
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from flask import current_app
from flask_babel import gettext, lazy_gettext, ngettext

TOO_FEW_WALKTHROUGHS = "too few walkthroughs"
TOO_FEW_CLASSROOMS = "too few classrooms"
COVER = "hidden so that a smaller figure cannot be worked out"
TOO_FEW_RATINGS = "too few ratings"
# Printed on every summary (docs/reports.md, "What two reports can tell"): suppression is
# decided per report, so two printed reports of nested scopes or overlapping periods can be
# subtracted.
PRINTED_NOTE = lazy_gettext(
    "Each report hides its own small figures. Two reports of nested scopes or overlapping "
    "periods, set side by side, can be subtracted: the difference may describe walkthroughs "
    "this page does not show. Keep printed copies to those who may read these schools' "
    "walkthroughs."
)
# The reasons above are machine values in the JSON (``reason``, ``suppressed``); a page or a PDF
# shows them in the reader's language through ``reason_words``.
REASON_WORDS = {
    TOO_FEW_WALKTHROUGHS: lazy_gettext("too few walkthroughs"),
    TOO_FEW_CLASSROOMS: lazy_gettext("too few classrooms"),
    COVER: lazy_gettext("hidden so that a smaller figure cannot be worked out"),
    TOO_FEW_RATINGS: lazy_gettext("too few ratings"),
}


def reason_words(reason: str | None) -> str:
    """A hidden figure's reason as the reader reads it (the JSON keeps the English value)."""
    if reason is None:
        return ""
    return str(REASON_WORDS.get(reason, reason))


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Rules:
    min_group: int = 10
    min_classrooms: int = 3
    min_cell: int = 10

    @classmethod
    def from_config(cls) -> Rules:
        config = current_app.config
        return cls(
            config["OBSERVE_MIN_GROUP_SIZE"],
            config["OBSERVE_MIN_CLASSROOMS"],
            config["OBSERVE_MIN_CELL_RATINGS"],
        )

    def reason(self, walkthroughs: int, classrooms: int) -> str | None:
        """Why a figure on this many walkthroughs and classrooms is hidden; None: shown."""
        if walkthroughs < self.min_group:
            return TOO_FEW_WALKTHROUGHS
        if classrooms < self.min_classrooms:
            return TOO_FEW_CLASSROOMS
        return None

    def exposed(self, walkthroughs: int, classrooms: int) -> bool:
        """Whether a remainder (what a total minus shown parts leaves) would single someone out:
        something, but less than a figure must be to be shown."""
        return walkthroughs > 0 and self.reason(walkthroughs, classrooms) is not None


def hide(
    sizes: Mapping[K, int],
    classrooms: Mapping[K, int],
    rules: Rules,
    *,
    already: Mapping[K, str] | None = None,
    overlapping: bool = False,
    spare: K | None = None,
) -> dict[K, str]:
    """Which parts of a shown total to hide, each with its reason.

    First every part too small on its own (or in ``already``, hidden for a reason found
    elsewhere in the response); then, while the hidden parts together are still too small to
    be shown — so that the total minus the shown parts would single them out — the smallest
    shown part as cover (``spare``, e.g. the newest month, last). ``overlapping``: parts share
    classrooms (months do), so the hidden parts' classrooms are counted as their largest part's,
    which never overstates them."""
    reasons: dict[K, str] = dict(already or {})
    for key, n in sizes.items():
        if key not in reasons:
            why = rules.reason(n, classrooms.get(key, 0))
            if why:
                reasons[key] = why

    def together() -> tuple[int, int]:
        units = [classrooms.get(k, 0) for k in reasons if k in sizes]
        hidden = [k for k in reasons if k in sizes]
        # Each other hidden part holds at least one walkthrough: what the remainder allows
        # the largest of them is the remainder less one per other part.
        return (
            sum(sizes[k] for k in hidden) - max(len(hidden) - 1, 0),
            (max(units, default=0) if overlapping else sum(units)),
        )

    while reasons and rules.exposed(*together()) and len(reasons) < len(sizes):
        shown = [k for k in sizes if k not in reasons]
        pick = min(shown, key=lambda k: (k == spare, sizes[k], str(k)))
        reasons[pick] = COVER
    return reasons


@dataclass
class Series:
    """Month figures one section of a response shows for a set of schools (None: every
    school) and rubric versions (counted together, reports/revisions.py): the trend, or a goal.
    ``hidden`` is filled in by :func:`consistent`."""

    schools: frozenset[int] | None
    versions: frozenset[int]
    months: dict[str, int]
    classrooms: dict[str, int]
    hidden: dict[str, str]
    total_shown: bool = False  # the trend: its months add up to a total the report shows
    # Months that are not sums of whole months of its schools (part of a month at either end
    # of a period or a goal's window; every month of an observer team's walkthroughs): only
    # the others are compared with the other series.
    partial: frozenset[str] = frozenset()
    # The period's first and last days (None: open), which say which days of a partial month
    # the figure covers; None for a series that is not a period of its scope's walkthroughs
    # (an observer team's), whose partial months are never the same figure as another's.
    window: tuple[date | None, date | None] | None = None

    def whole(self, month: str) -> bool:
        return month in self.months and month not in self.partial

    def days(self, month: str) -> tuple[date, date] | None:
        """The days of ``month`` its figure covers; None when not a date window."""
        if self.window is None:
            return None
        first = date.fromisoformat(f"{month}-01")
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        start, end = self.window
        return (max(first, start) if start else first, min(last, end) if end else last)


def consistent(
    series: list[Series],
    per_school: Mapping[tuple[frozenset[int], str, int], tuple[int, int]],
    rules: Rules,
) -> None:
    """Hide months so that no subtraction between the month figures of a response singles out
    a small set of schools' walkthroughs: for each month, each shown figure minus the shown
    figures of its subsets (the scopes are nested: the district, a reader's schools, one
    school) must leave nothing or enough to be shown. ``per_school`` holds walkthroughs and
    distinct classrooms per (versions, month, school). A series with a shown total also keeps
    its months' cover (:func:`hide`); the newest month is cover last, so that a goal's latest
    month is the newest that can be shown. Repeated until nothing changes."""
    every = frozenset(school for (_, _, school) in per_school)
    for one in series:
        if one.schools is None:
            one.schools = every
    for one in series:
        for month, n in one.months.items():
            why = rules.reason(n, one.classrooms.get(month, 0))
            if why:
                one.hidden.setdefault(month, why)
    changed = True
    while changed:
        changed = False
        for one in series:
            if one.total_shown:
                newest = max(one.months, default=None)
                before = len(one.hidden)
                one.hidden = hide(
                    one.months, one.classrooms, rules, already=one.hidden, overlapping=True,
                    spare=newest,
                )  # fmt: skip
                changed = changed or len(one.hidden) != before
        # Same scope and versions: one figure, shown or hidden alike everywhere.
        for one in series:
            for other in series:
                if other is not one and _same(one, other):
                    for month, why in other.hidden.items():
                        if one.whole(month) and other.whole(month) and month not in one.hidden:
                            one.hidden[month] = why
                            changed = True
        changed = _part_of_a_month(series) or changed
        for one in series:
            mine = one.schools or frozenset()
            for month in one.months:
                if month in one.hidden or not one.whole(month):
                    continue
                inside: set[int] = set()
                for other in series:
                    theirs = other.schools or frozenset()
                    if (
                        other.versions == one.versions
                        and other.whole(month)
                        and month not in other.hidden
                        and theirs < mine
                    ):
                        inside |= theirs
                if not inside:
                    continue
                rest = [per_school.get((one.versions, month, s), (0, 0)) for s in mine - inside]
                if rules.exposed(sum(n for n, _ in rest), sum(u for _, u in rest)):
                    one.hidden[month] = COVER
                    changed = True


def _part_of_a_month(series: list[Series]) -> bool:
    """Hide what part of a month could give away beside another figure of that month (issue
    14, review A1): a goal counting from the 15th shown beside the trend's whole month leaves
    the 1st to the 14th by subtraction — a handful of walkthroughs, perhaps one teacher's.
    Partial months have no whole-month figures of their schools (``per_school``) to check a
    remainder against, so where two overlapping series both have a month and either covers
    only part of it, one of them gives way, as cover: a goal rather than the trend (whose
    total is shown), the partial goal rather than the whole one, of two partial goals the one
    of fewer schools. The same scope over the same days is one figure: shown or hidden alike.
    Whether anything changed."""
    changed = False
    for month in sorted({m for one in series for m in one.partial}):
        having = [one for one in series if month in one.months]
        for i, one in enumerate(having):
            for other in having[i + 1 :]:
                if month not in one.partial and month not in other.partial:
                    continue
                if not _overlapping(one, other):
                    continue
                days = one.days(month)
                if _same(one, other) and days is not None and days == other.days(month):
                    for a, b in ((one, other), (other, one)):  # one figure, shown or hidden
                        if month in b.hidden and month not in a.hidden:
                            a.hidden[month] = b.hidden[month]
                            changed = True
                    continue
                if any(month in s.hidden and not s.total_shown for s in (one, other)):
                    continue  # one has given way: a goal's hidden month is no figure
                loser = _gives_way(one, other, month)
                loser.hidden[month] = COVER
                changed = True
    return changed


def _gives_way(one: Series, other: Series, month: str) -> Series:
    if one.total_shown or other.total_shown:
        return other if one.total_shown else one
    if (month in one.partial) != (month in other.partial):
        return one if month in one.partial else other
    return one if len(one.schools or ()) < len(other.schools or ()) else other


def _overlapping(one: Series, other: Series) -> bool:
    """Whether two series may count some of the same walkthroughs."""
    if one.versions != other.versions and not (set(one.versions) & set(other.versions)):
        return False
    # No schools known (None, or none counted in ``per_school``): assume they overlap.
    return not one.schools or not other.schools or bool(one.schools & other.schools)


def _same(one: Series, other: Series) -> bool:
    return one.versions == other.versions and one.schools == other.schools


def hide_cells(
    rated: Mapping[K, int], rules: Rules, *, hidden_parts: Iterable[int] = ()
) -> dict[K, str]:
    """Which cells of one look-for (one per shown group) show only their n. A cell on fewer
    than ``min_cell`` ratings; and then, while the hidden cells with the hidden groups'
    (``hidden_parts``: their ratings, which the overall figure minus the shown cells gives
    away together) hold fewer than ``min_cell`` ratings, the smallest shown cell as cover."""
    reasons: dict[K, str] = {k: TOO_FEW_RATINGS for k, n in rated.items() if 0 < n < rules.min_cell}
    extra = sum(hidden_parts)

    def short() -> bool:
        held = sum(rated[k] for k in reasons) + extra
        return 0 < held < rules.min_cell

    while short():
        shown = [k for k, n in rated.items() if k not in reasons and n > 0]
        if not shown:
            break
        reasons[min(shown, key=lambda k: (rated[k], str(k)))] = COVER
    return reasons


def note(reasons: Mapping[K, str], what: str = "group") -> str | None:
    """What a section says of what it hides, reason by reason (``what``: only "group" is
    worded, in the reader's language)."""
    if not reasons:
        return None
    counted: dict[str, int] = {}
    for why in reasons.values():
        counted[why] = counted.get(why, 0) + 1
    parts = [
        ngettext("%(num)d hidden so that a smaller figure cannot be worked out",
                 "%(num)d hidden so that a smaller figure cannot be worked out", n)
        if why == COVER
        else gettext("%(num)d with %(reason)s", num=n, reason=reason_words(why))
        for why in (TOO_FEW_WALKTHROUGHS, TOO_FEW_CLASSROOMS, TOO_FEW_RATINGS, COVER)
        if (n := counted.get(why))
    ]  # fmt: skip
    total = len(reasons)
    return ngettext("%(num)d group not shown: %(parts)s.", "%(num)d groups not shown: %(parts)s.",
                    total, parts="; ".join(parts))  # fmt: skip
