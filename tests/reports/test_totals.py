"""Per-classroom totals as arrays (observe/reports/totals.py) say what adding them up one by
one says: each (classroom, look-for) summed once, pooled look-fors summed per classroom first,
classrooms without ratings left out of the moments."""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest

from observe.reports import totals, uncertainty
from observe.reports.totals import Cells


def generated(seed: int) -> list[tuple[tuple[int, int], int, int, int]]:
    """Rows of (cluster, look-for, hits, ratings), with repeats, whole-school clusters
    (classroom 0) and rows of no ratings."""
    rng = random.Random(seed)
    rows = []
    for _ in range(rng.randint(1, 400)):
        school = rng.choice([3, 7, 7_000])
        room = rng.choice([0, 1, 2, 5, 90_000, 2**31])
        criterion = rng.choice([11, 12, 40, 41, 300])
        rated = rng.choice([0, 1, 2, 6])
        rows.append(((school, room), criterion, rng.randint(0, rated), rated))
    return rows


def by_hand(rows, criterion_ids=None):
    per: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for cluster, criterion, hits, rated in rows:
        if criterion_ids is None or criterion in criterion_ids:
            per[cluster][0] += hits
            per[cluster][1] += rated
    return uncertainty.moments((h, n) for h, n in per.values())


@pytest.mark.parametrize("dense", [True, False], ids=["on the grid", "by sorting"])
@pytest.mark.parametrize("seed", range(25))
def test_cells_sum_as_by_hand(seed, dense, monkeypatch):
    if not dense:
        monkeypatch.setattr(totals, "_dense_limit", lambda cells: -1)
    rows = generated(seed)
    cells = Cells.from_rows(rows)
    summed: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for cluster, criterion, hits, rated in rows:
        summed[(cluster, criterion)][0] += hits
        summed[(cluster, criterion)][1] += rated
    assert sorted(cells.rows()) == sorted((*k, h, n) for k, (h, n) in summed.items())
    for criterion_ids in (None, [11], [12, 40, 300], [999]):
        found = cells.estimate(criterion_ids)
        expected = uncertainty.from_moments(*by_hand(rows, criterion_ids))
        assert (found.successes, found.ratings, found.classrooms) == (
            expected.successes, expected.ratings, expected.classrooms,
        )  # fmt: skip
        assert found.variance == pytest.approx(expected.variance)
    moments = cells.moments_by_criterion()
    for criterion in {c for _, c, _, _ in rows}:
        assert moments[criterion] == pytest.approx(by_hand(rows, [criterion]))


def test_joined_and_folded_cells_add_up():
    first, second = generated(1), generated(2)
    joined = Cells.joined([Cells.from_rows(first), Cells.from_rows(second)])
    assert sorted(joined.rows()) == sorted(Cells.from_rows(first + second).rows())
    # Folding moves 12 onto 11 and drops 300: as if the rows had said so.
    fold = {11: 11, 12: 11, 40: 40, 41: 41}
    folded = Cells.from_rows(first).folded(fold)
    moved = [(c, fold[k], h, n) for c, k, h, n in first if k in fold]
    assert sorted(folded.rows()) == sorted(Cells.from_rows(moved).rows())
    assert len(Cells.empty()) == 0
    assert Cells.empty().estimate().ratings == 0
    assert np.array_equal(Cells.empty().clusters, np.zeros(0, dtype=np.int64))
