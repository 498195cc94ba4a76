"""The rater-effects model alone (observe/calibration/raters.py): simulated walkthroughs with
planted observer leans and classroom levels, and the overlap it needs."""

from __future__ import annotations

import numpy as np
import pytest

from observe.calibration import raters


def simulate(observers=60, classrooms=600, walkthroughs=3000, seed=1):
    rng = np.random.default_rng(seed)
    lean = rng.normal(0, 0.08, observers)
    level = rng.normal(0, 0.15, classrooms)
    o = rng.integers(0, observers, walkthroughs)
    k = rng.integers(0, classrooms, walkthroughs)
    y = 0.1 + level[k] + lean[o] + rng.normal(0, 0.12, walkthroughs)
    return o, k, y, lean


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_leans_are_recovered(seed):
    o, k, y, lean = simulate(seed=seed)
    fit = raters.fit(o + 1000, k, y)
    assert fit.refused is None and not fit.left_out
    found = {entry.observer - 1000: entry for entry in fit.observers}
    estimated = np.array([found[i].lean for i in range(len(lean))])
    assert np.corrcoef(estimated, lean)[0, 1] >= 0.9
    # The spreads are found too (planted 0.08, 0.15, 0.12).
    assert 0.05 < fit.tau_observer < 0.11
    assert 0.12 < fit.tau_lesson < 0.18
    assert 0.10 < fit.sigma < 0.14
    # About 95% of the planted leans lie within 1.96 standard errors.
    inside = np.mean([abs(found[i].lean - lean[i]) < 1.96 * found[i].standard_error
                      for i in range(len(lean))])  # fmt: skip
    assert inside > 0.85


def test_observers_without_shared_classrooms_are_refused():
    # Every observer keeps to classrooms nobody else visits: lean and level cannot be told apart.
    o = np.repeat(np.arange(10), 20)
    k = o * 100 + np.tile(np.arange(5), 40)
    fit = raters.fit(o, k, np.random.default_rng(0).normal(0, 0.1, len(o)))
    assert fit.refused is not None and fit.refused.startswith("Too little overlap")
    assert not fit.observers
    assert {left.reason for left in fit.left_out} == {
        "fewer than 3 classrooms shared with other observers"
    }


def test_a_few_isolated_observers_are_left_out_and_the_rest_fitted():
    o, k, y, _ = simulate(observers=20, classrooms=100, walkthroughs=1500)
    # Observer 99 rated only classrooms of their own; observers 97 and 98 share only with each
    # other (a second linked group, much smaller than the main one).
    lonely_o = np.full(10, 99)
    lonely_k = np.arange(5000, 5010)
    pair_o = np.array([97, 98] * 6)
    pair_k = np.repeat(np.arange(6000, 6006), 2)
    fit = raters.fit(
        np.concatenate([o, lonely_o, pair_o]),
        np.concatenate([k, lonely_k, pair_k]),
        np.concatenate([y, np.zeros(10), np.zeros(12)]),
    )
    assert fit.refused is None
    assert {entry.observer for entry in fit.observers} == set(range(20))
    reasons = {left.observer: left.reason for left in fit.left_out}
    assert reasons[99].startswith("fewer than 3 classrooms shared")
    assert (
        reasons[97]
        == reasons[98]
        == ("shares classrooms only with observers outside the main linked group")
    )
    assert fit.walkthroughs == 1500


def test_too_small_a_linked_group_is_refused():
    o, k, y, _ = simulate(observers=4, classrooms=20, walkthroughs=100)
    lonely = np.arange(100, 110)
    fit = raters.fit(
        np.concatenate([o, lonely.repeat(30)]),
        np.concatenate([k, (lonely * 1000).repeat(30) + np.tile(np.arange(30), 10)]),
        np.concatenate([y, np.zeros(300)]),
    )
    assert fit.refused is not None and "fewer than 50%" in fit.refused


def test_no_walkthroughs():
    fit = raters.fit(np.array([], dtype=int), np.array([], dtype=int), np.array([]))
    assert fit.refused and not fit.observers
