"""Shares and gaps with classrooms as clusters: numbers in, numbers out (no Flask, no database).

A walkthrough tool visits the same classroom again and again, so its ratings are not
independent: twelve visits to one AP room say a lot about that room and little about AP. Every
share in the reports is therefore a *ratio estimator* over classrooms,

    p = sum_c y_c / sum_c n_c            (y_c ratings at the level or above, n_c ratings given,
                                          in classroom c; walkthroughs of no classroom form one
                                          cluster per school)

with the cluster-robust (linearisation, "sandwich") variance

    V = C / (C - 1) * sum_c (y_c - p n_c)^2 / (sum_c n_c)^2

— exactly the variance of the constant in an OLS regression of the 0/1 ratings on a constant
with classroom-clustered standard errors (statsmodels' ``cov_type="cluster"``; Cameron & Miller
2015, "A Practitioner's Guide to Cluster-Robust Inference", J. Human Resources 50(2), eqs. 11
and 12, with their small-sample factor C/(C-1)). Only per-classroom totals are needed, so the
rollups carry them. The interval is Wilson's score interval on the *effective* sample size
n_eff = p (1 - p) / V (Kish's design effect; Korn & Graubard 1998, Survey Methodology 24(2))
with Student's t on C - 1 degrees of freedom in place of z: it stays inside [0, 1], behaves at
shares near 0 or 1, and with one rating per classroom is Wilson's interval with t. The design
effect is never taken below 1 (n_eff at most n), so an interval is never narrower than the one
that treats every rating as independent. Fewer than two classrooms: no interval.

A gap between a group and the rest of the scope (disjoint classrooms) is a Welch-type test:
t = (p_g - p_r) / sqrt(V_g + V_r) on Welch-Satterthwaite degrees of freedom
(V_g + V_r)^2 / (V_g^2 / (C_g - 1) + V_r^2 / (C_r - 1)) (Satterthwaite 1946).

Student's t comes from ``observe.core.distributions`` (no scipy at run time).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from observe.core.distributions import t_quantile, t_sf

LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A share over classrooms: its successes, ratings, classrooms and uncertainty."""

    successes: int
    ratings: int
    classrooms: int
    share: float | None
    variance: float | None  # the cluster-robust variance, C/(C-1) included; None under 2
    interval: tuple[float, float] | None

    @property
    def se(self) -> float | None:
        return None if self.variance is None else math.sqrt(self.variance)


def moments(totals: Iterable[tuple[int, int]]) -> tuple[int, int, int, float, float, float]:
    """Per-classroom (y, n) pairs summed as the estimator needs them: C, sum y, sum n,
    sum y^2, sum y n, sum n^2 (classrooms with no ratings do not count)."""
    clusters = hits = rated = 0
    yy = yn = nn = 0.0
    for y, n in totals:
        if n <= 0:
            continue
        clusters += 1
        hits += y
        rated += n
        yy += y * y
        yn += y * n
        nn += n * n
    return clusters, hits, rated, yy, yn, nn


def estimate(totals: Iterable[tuple[int, int]], level: float = LEVEL) -> Estimate:
    """The share over classrooms, each given as (ratings at the level or above, ratings)."""
    return from_moments(*moments(totals), level=level)


def from_moments(
    clusters: int, hits: int, rated: int, yy: float, yn: float, nn: float, level: float = LEVEL
) -> Estimate:
    """``estimate`` from summed moments (see ``moments``)."""
    if rated <= 0:
        return Estimate(hits, rated, clusters, None, None, None)
    p = hits / rated
    if clusters < 2:
        return Estimate(hits, rated, clusters, p, None, None)
    # sum (y - p n)^2 expanded; clipped at 0 against rounding when every classroom has share p.
    residual = max(0.0, yy - 2 * p * yn + p * p * nn)
    variance = clusters / (clusters - 1) * residual / (rated * rated)
    return Estimate(
        hits, rated, clusters, p, variance, _interval(p, variance, rated, clusters, level)
    )


def _interval(
    p: float, variance: float, rated: int, clusters: int, level: float
) -> tuple[float, float]:
    binomial = p * (1 - p)
    # Design effect below 1 (or undefined at p = 0 or 1): treated as 1, n_eff = n.
    effective = rated if variance <= 0 or binomial <= 0 else min(rated, binomial / variance)
    t = t_quantile((1 + level) / 2, clusters - 1)
    t2 = t * t
    centre = (p + t2 / (2 * effective)) / (1 + t2 / effective)
    half = t * math.sqrt(binomial / effective + t2 / (4 * effective**2)) / (1 + t2 / effective)
    return (max(0.0, centre - half), min(1.0, centre + half))


def gap_p(group: Estimate, rest: Estimate) -> float | None:
    """Two-sided p-value of the Welch-type test of group against rest (disjoint classrooms);
    None when either side has fewer than two classrooms or there is no spread to test with."""
    if group.variance is None or rest.variance is None:
        return None
    assert group.share is not None and rest.share is not None  # a variance implies a share
    total = group.variance + rest.variance
    if total <= 0:
        return None
    parts = group.variance**2 / (group.classrooms - 1) + rest.variance**2 / (rest.classrooms - 1)
    df = total**2 / parts
    t = abs(group.share - rest.share) / math.sqrt(total)
    return 2 * t_sf(t, df)


def minus(
    whole: tuple[int, int, int, float, float, float],
    part: tuple[int, int, int, float, float, float],
) -> tuple[int, int, int, float, float, float]:
    """The moments of the classrooms in ``whole`` but not in ``part`` (a subset of them)."""
    return (
        whole[0] - part[0],
        whole[1] - part[1],
        whole[2] - part[2],
        whole[3] - part[3],
        whole[4] - part[4],
        whole[5] - part[5],
    )
