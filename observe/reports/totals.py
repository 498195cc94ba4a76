"""Per-classroom totals as arrays: what the clustered intervals and gap tests rest on
(reports/uncertainty.py), held so that a district's year — more than a million cells of a
classroom, a month and a look-for — is pooled with numpy, never cell by cell in Python.

Numbers in, numbers out: no Flask, no database. A classroom is a *cluster*, written as one
integer code ``school << 32 | classroom`` (classroom 0: a school's walkthroughs of no classroom).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np

from observe.reports import uncertainty

# (school id, classroom id); classroom 0: the school's whole-school visits
Cluster = tuple[int, int]
Moments = tuple[int, int, int, float, float, float]  # see uncertainty.moments
NO_MOMENTS: Moments = (0, 0, 0, 0.0, 0.0, 0.0)


def code(school: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Each (school, classroom) as one integer."""
    return school.astype(np.int64) * (1 << 32) + room.astype(np.int64)


def cluster(value: int) -> Cluster:
    return value >> 32, value & 0xFFFFFFFF


def _moments(y: np.ndarray, n: np.ndarray) -> Moments:
    """``uncertainty.moments`` of per-classroom totals (classrooms with no ratings left out)."""
    rated = n > 0
    y, n = y[rated], n[rated]
    return (int(rated.sum()), round(float(y.sum())), round(float(n.sum())),
            float(y @ y), float(y @ n), float(n @ n))  # fmt: skip


# Cells are summed on a dense (classroom, look-for) grid when it has at most this many entries,
# or four per cell (a district year is about 5,000 classrooms by 27 look-fors); past that, by
# sorting their keys.
_DENSE_UP_TO = 1_000_000


def _dense_limit(cells: int) -> int:
    return max(_DENSE_UP_TO, 4 * cells)


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for small non-negative ids (look-fors),
    without sorting: the distinct values, and each value's index among them."""
    if not len(values):
        return values, values
    low, high = int(values.min()), int(values.max())
    if low < 0 or high > _dense_limit(len(values)):
        distinct, of = np.unique(values, return_inverse=True)
        return distinct, of.ravel()
    present = np.bincount(values, minlength=high + 1) > 0
    distinct = np.flatnonzero(present)
    rank = np.cumsum(present) - 1
    return distinct, rank[values]


class Cells:
    """Per classroom and look-for, over a span: ratings at the level or above and ratings
    given, one entry per (classroom, look-for) — what the dict of per-classroom totals used to
    hold, as four arrays."""

    __slots__ = ("clusters", "criterion", "hits", "index", "known", "rated")

    def __init__(
        self,
        codes: np.ndarray,
        criterion: np.ndarray,
        hits: np.ndarray,
        rated: np.ndarray,
    ) -> None:
        """From cells that may repeat a (classroom, look-for): they are summed."""
        codes = codes.astype(np.int64)
        criterion = criterion.astype(np.int64)
        clusters, cluster_of = np.unique(codes, return_inverse=True)
        criteria, criterion_of = _dense(criterion)
        width = max(len(criteria), 1)
        key = cluster_of.ravel() * width + criterion_of
        space = len(clusters) * width
        if space <= _dense_limit(len(key)):
            # Summed over the (classroom, look-for) grid itself: no sort of a million keys.
            hits_at = np.bincount(key, weights=hits, minlength=space)
            rated_at = np.bincount(key, weights=rated, minlength=space)
            cells = np.flatnonzero(np.bincount(key, minlength=space))
            self.hits, self.rated = hits_at[cells], rated_at[cells]
        else:
            cells, cell_of = np.unique(key, return_inverse=True)
            self.hits = np.bincount(cell_of.ravel(), weights=hits, minlength=len(cells))
            self.rated = np.bincount(cell_of.ravel(), weights=rated, minlength=len(cells))
        self.clusters = clusters
        # What estimate and moments_by_criterion found, by their arguments: the cells never
        # change once made, and a kept month's are asked the same questions by every report.
        self.known: dict[Hashable, Any] = {}
        self.index = cells // width
        self.criterion = criteria[cells % width] if len(criteria) else criterion

    @classmethod
    def empty(cls) -> Cells:
        nothing = np.zeros(0, dtype=np.int64)
        return cls(nothing, nothing, nothing, nothing)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Cluster, int, int, int]]) -> Cells:
        """From (cluster, look-for, hits, ratings) rows."""
        found = list(rows)
        if not found:
            return cls.empty()
        schools, rooms, criteria, hits, rated = (
            np.array(column, dtype=np.int64)
            for column in zip(*((s, r, c, h, n) for (s, r), c, h, n in found), strict=True)
        )
        return cls(code(schools, rooms), criteria, hits, rated)

    @classmethod
    def joined(cls, parts: Iterable[Cells]) -> Cells:
        """Several spans' or groups' cells added up."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.clusters[p.index] for p in parts]),
            np.concatenate([p.criterion for p in parts]),
            np.concatenate([p.hits for p in parts]),
            np.concatenate([p.rated for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.index)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.clusters, self.index, self.criterion, self.hits,
                                      self.rated))  # fmt: skip

    def folded(self, fold: dict[int, int]) -> Cells:
        """Each look-for's cells moved onto the look-for ``fold`` names (the shown version's
        look-for of its lineage), added up there; look-fors it does not name are left out."""
        ids, where = np.unique(self.criterion, return_inverse=True)
        targets = [fold.get(int(c), -1) for c in ids.tolist()]
        if targets == ids.tolist():
            return self  # every look-for folds onto itself (one version): nothing moves
        mapped = np.array(targets, dtype=np.int64)[where.ravel()]
        keep = mapped >= 0
        return Cells(self.clusters[self.index[keep]], mapped[keep], self.hits[keep],
                     self.rated[keep])  # fmt: skip

    def estimate(self, criterion_ids: Iterable[int] | None = None) -> uncertainty.Estimate:
        """The share over classrooms, each classroom's look-fors in ``criterion_ids`` (None:
        all) added up first: one classroom's ratings of several look-fors are never counted as
        independent."""
        ids = None if criterion_ids is None else tuple(sorted(set(criterion_ids)))
        key = ("estimate", ids)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = self._estimate(ids)
        return found

    def _estimate(self, criterion_ids: tuple[int, ...] | None) -> uncertainty.Estimate:
        index, hits, rated = self.index, self.hits, self.rated
        if criterion_ids is not None:
            mask = np.isin(self.criterion, np.fromiter(criterion_ids, dtype=np.int64))
            index, hits, rated = index[mask], hits[mask], rated[mask]
        size = len(self.clusters)
        y = np.bincount(index, weights=hits, minlength=size)
        n = np.bincount(index, weights=rated, minlength=size)
        return uncertainty.from_moments(*_moments(y, n))

    def moments_by_criterion(self) -> dict[int, Moments]:
        """Per look-for, the moments of its classrooms' totals (``uncertainty.moments``)."""
        if "moments" not in self.known:
            self.known["moments"] = self._moments_by_criterion()
        return self.known["moments"]

    def _moments_by_criterion(self) -> dict[int, Moments]:
        if not len(self):
            return {}
        criteria, of = np.unique(self.criterion, return_inverse=True)
        of = of.ravel()
        rated = self.rated > 0
        y, n = self.hits * rated, self.rated * rated
        size = len(criteria)
        columns = [
            np.bincount(of, weights=rated.astype(np.float64), minlength=size),
            np.bincount(of, weights=y, minlength=size),
            np.bincount(of, weights=n, minlength=size),
            np.bincount(of, weights=y * y, minlength=size),
            np.bincount(of, weights=y * n, minlength=size),
            np.bincount(of, weights=n * n, minlength=size),
        ]
        found: dict[int, Moments] = {}
        for i, criterion_id in enumerate(criteria.tolist()):
            c, h, r, yy, yn, nn = (float(column[i]) for column in columns)
            found[criterion_id] = (round(c), round(h), round(r), yy, yn, nn)
        return found

    def rows(self) -> list[tuple[Cluster, int, int, int]]:
        """(cluster, look-for, hits, ratings), one per cell."""
        return [
            (cluster(int(self.clusters[i])), c, round(h), round(n))
            for i, c, h, n in zip(self.index.tolist(), self.criterion.tolist(),
                                  self.hits.tolist(), self.rated.tolist(), strict=True)
        ]  # fmt: skip


class MonthTotals:
    """Per month, classroom and look-for: ratings at the level or above and ratings given.

    Each month's cells are held as arrays (classroom, look-for, hits, ratings): a month's share
    over a set of look-fors sums each classroom's cells of them (``np.bincount``), then the
    moments the clustered estimator needs (``uncertainty.from_moments``). A classroom's cells
    may come in several rows (under two profiles, or two rubric versions folded together): they
    are summed alike."""

    def __init__(self) -> None:
        self._months: dict[str, Cells] = {}

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, Cluster, int, int, int]]) -> MonthTotals:
        """From (month, cluster, look-for, hits, ratings) rows."""
        by_month: dict[str, list[tuple[Cluster, int, int, int]]] = defaultdict(list)
        for month, at, criterion, hits, rated in rows:
            by_month[month].append((at, criterion, hits, rated))
        found = cls()
        for month, cells in by_month.items():
            found._months[month] = Cells.from_rows(cells)
        return found

    def add(self, month: str, cells: Cells) -> None:
        """One month's cells (the month must not have been added yet)."""
        assert month not in self._months
        self._months[month] = cells

    def months(self) -> list[str]:
        return sorted(self._months)

    def nbytes(self) -> int:
        return sum(cells.nbytes() for cells in self._months.values())

    def folded(self, fold: dict[int, int]) -> MonthTotals:
        """Each month's cells folded (``Cells.folded``)."""
        months = {month: cells.folded(fold) for month, cells in self._months.items()}
        if all(months[m] is self._months[m] for m in months):
            return self
        found = MonthTotals()
        found._months = months
        return found

    def estimate(
        self, month: str, criterion_ids: Iterable[int] | None = None
    ) -> uncertainty.Estimate:
        """The month's share over classrooms, pooling ``criterion_ids`` (None: every look-for)."""
        cells = self._months.get(month)
        if cells is None:
            return uncertainty.from_moments(*NO_MOMENTS)
        return cells.estimate(criterion_ids)

    def whole(self) -> Cells:
        """Per look-for and classroom, the totals over every month: the whole scope's, each
        classroom once however many groups (or profiles) its walkthroughs fall in."""
        return Cells.joined(self._months.values())

    def rows(self) -> list[tuple[str, Cluster, int, int, int]]:
        """(month, cluster, look-for, hits, ratings), one row per cell."""
        return [(month, *row) for month, cells in self._months.items() for row in cells.rows()]
