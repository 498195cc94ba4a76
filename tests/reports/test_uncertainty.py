"""The clustered shares, intervals and gap tests (observe/reports/uncertainty.py), checked against
independent implementations: statsmodels' cluster-robust OLS and GEE, scipy's Student t, and
simulation for coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from observe.reports import uncertainty
from observe.reports.summary import wilson


def district(rng: np.random.Generator, classrooms: int, mean: float = 0.5, spread: float = 1.0):
    """0/1 ratings with strong classroom effects: each classroom's own share drawn from a
    Beta(mean / spread, (1 - mean) / spread) — spread 1 is far apart — and 2 to 40 ratings each."""
    shares = rng.beta(mean / spread, (1 - mean) / spread, classrooms)
    sizes = rng.integers(2, 41, classrooms)
    y = np.concatenate([rng.random(n) < p for p, n in zip(shares, sizes, strict=True)])
    groups = np.repeat(np.arange(classrooms), sizes)
    return y.astype(float), groups


def totals(y: np.ndarray, groups: np.ndarray) -> list[tuple[int, int]]:
    return [(int(y[groups == c].sum()), int((groups == c).sum())) for c in np.unique(groups)]


@pytest.mark.parametrize("seed", range(6))
def test_a_share_and_its_standard_error_are_statsmodels_cluster_robust_ols(seed):
    rng = np.random.default_rng(seed)
    y, groups = district(rng, classrooms=int(rng.integers(3, 60)))
    found = uncertainty.estimate(totals(y, groups))
    ols = sm.OLS(y, np.ones(len(y))).fit(cov_type="cluster", cov_kwds={"groups": groups})
    # Tolerance: floating point only (the formulas are the same; statsmodels' default
    # correction G/(G-1) (N-1)/(N-K) is G/(G-1) for a constant alone).
    assert found.share == pytest.approx(ols.params[0], rel=1e-12)
    assert found.se == pytest.approx(ols.bse[0], rel=1e-9)
    # GEE with an independence working correlation and its robust ("sandwich") covariance
    # has no small-sample factor: ours is it times sqrt(C / (C - 1)).
    gee = sm.GEE(y, np.ones(len(y)), groups=groups, cov_struct=sm.cov_struct.Independence())
    fitted = gee.fit()
    c = found.classrooms
    assert found.share == pytest.approx(fitted.params[0], rel=1e-9)
    assert found.se == pytest.approx(fitted.bse[0] * math.sqrt(c / (c - 1)), rel=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_a_gap_and_its_standard_error_are_statsmodels_cluster_robust_ols(seed):
    rng = np.random.default_rng(100 + seed)
    y1, g1 = district(rng, classrooms=int(rng.integers(10, 40)), mean=0.6)
    y2, g2 = district(rng, classrooms=int(rng.integers(10, 40)), mean=0.4)
    group, rest = uncertainty.estimate(totals(y1, g1)), uncertainty.estimate(totals(y2, g2))
    assert group.variance is not None and rest.variance is not None
    y = np.concatenate([y1, y2])
    clusters = np.concatenate([g1, g2 + g1.max() + 1])
    design = np.column_stack([np.ones(len(y)), np.r_[np.ones(len(y1)), np.zeros(len(y2))]])
    # The difference is the indicator's coefficient. Without small-sample factors the two
    # sandwiches are the same to floating point ...
    raw = sm.OLS(y, design).fit(
        cov_type="cluster", cov_kwds={"groups": clusters, "use_correction": False}
    )
    assert group.share - rest.share == pytest.approx(raw.params[1], rel=1e-9)
    ours_raw = (
        group.variance * (group.classrooms - 1) / group.classrooms
        + rest.variance * (rest.classrooms - 1) / rest.classrooms
    )
    assert math.sqrt(ours_raw) == pytest.approx(raw.bse[1], rel=1e-9)
    # ... and with them, ours (each side's C/(C-1)) and statsmodels' (one G/(G-1) (N-1)/(N-2)
    # for all) agree within 10% when each side has 10 classrooms or more.
    default = sm.OLS(y, design).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    assert math.sqrt(group.variance + rest.variance) == pytest.approx(default.bse[1], rel=0.10)
    # The test: the difference over that standard error, on Welch-Satterthwaite's df (scipy).
    v1, v2 = group.variance, rest.variance
    df = (v1 + v2) ** 2 / (v1**2 / (group.classrooms - 1) + v2**2 / (rest.classrooms - 1))
    expected = 2 * stats.t.sf(abs(raw.params[1]) / math.sqrt(v1 + v2), df)
    assert uncertainty.gap_p(group, rest) == pytest.approx(expected, rel=1e-8, abs=1e-15)


def test_student_t_matches_scipy():
    for df in (1, 2, 2.7, 5, 12.3, 40, 1000):
        for t in (0.0, 0.3, 1.0, 2.2, 5.0, 12.0):
            assert uncertainty.t_sf(t, df) == pytest.approx(stats.t.sf(t, df), rel=1e-9, abs=1e-15)
        assert uncertainty.t_quantile(0.975, df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-9)


def test_intervals_cover_the_true_share_about_95_percent_of_the_time():
    """Simulated districts with strong classroom effects: the clustered interval covers the
    true share (the mean of the classrooms' shares, which the ratio estimator targets when size
    and share are unrelated) close to 95% of the time; Wilson's over the ratings does not."""
    rng = np.random.default_rng(2027)
    covered = naive = trials = 0
    for _ in range(600):
        y, groups = district(rng, classrooms=15, mean=0.3, spread=0.5)
        found = uncertainty.estimate(totals(y, groups))
        assert found.interval is not None
        trials += 1
        covered += found.interval[0] <= 0.3 <= found.interval[1]
        independent = wilson(int(y.sum()), len(y))
        assert independent is not None
        naive += independent[0] <= 0.3 <= independent[1]
    assert 0.91 <= covered / trials <= 0.99
    assert naive / trials < 0.75  # why the reports do not treat visits as independent


def test_what_has_no_interval_and_what_is_not_tested():
    one = uncertainty.estimate([(12, 12)])  # twelve visits to one classroom
    assert one.share == 1.0 and one.classrooms == 1
    assert one.interval is None and one.variance is None
    assert uncertainty.estimate([]).share is None
    many = uncertainty.estimate([(5, 5), (3, 3), (8, 8)])
    assert many.share == 1.0 and many.interval is not None
    # All at 100%: no spread between classrooms, but never a zero-width interval: the design
    # effect is taken as 1 and the interval is Wilson's with t on 2 degrees of freedom.
    assert many.interval[1] == 1.0 and many.interval[0] < 0.9
    assert uncertainty.gap_p(one, many) is None
    assert uncertainty.gap_p(many, many) is None  # no spread on either side: nothing to test


def test_never_narrower_than_treating_ratings_as_independent():
    rng = np.random.default_rng(7)
    for _ in range(50):
        counts = [(int(rng.integers(0, n + 1)), int(n)) for n in rng.integers(1, 30, 20)]
        found = uncertainty.estimate(counts)
        assert found.interval is not None
        hits, rated = sum(h for h, _ in counts), sum(n for _, n in counts)
        t = uncertainty.t_quantile(0.975, 19)
        p, n = hits / rated, rated
        centre = (p + t * t / (2 * n)) / (1 + t * t / n)
        half = t * math.sqrt(p * (1 - p) / n + t * t / (4 * n * n)) / (1 + t * t / n)
        assert (
            found.interval[1] - found.interval[0]
            >= min(1.0, centre + half) - max(0.0, centre - half) - 1e-12
        )
