"""Student's t distribution without scipy: its tail and quantiles, for the reports' clustered
intervals (reports/uncertainty.py) and the calibration report's leniency intervals. Pure math.
Checked against scipy in tests/reports/test_uncertainty.py."""

from __future__ import annotations

import math
from functools import lru_cache


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t on ``df`` (> 0, not necessarily whole) degrees of freedom,
    through the regularised incomplete beta function (Abramowitz & Stegun 26.7.1)."""
    if math.isinf(df):
        return 0.5 * math.erfc(t / math.sqrt(2))
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return tail if t >= 0 else 1 - tail


@lru_cache(maxsize=8192)
def t_quantile(probability: float, df: float) -> float:
    """The ``probability`` quantile of Student's t (0.5 < probability < 1), by bisection.
    Remembered: a report asks for the same few (95%, classrooms - 1) hundreds of times, and
    each bisection costs some forty tails (a third of the demo summary's time before)."""
    low, high = 0.0, 1.0
    while t_sf(high, df) > 1 - probability:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        if t_sf(middle, df) > 1 - probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return (low + high) / 2


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) by its continued fraction (Lentz's method;
    Press et al., Numerical Recipes, 3rd ed., section 6.4)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _fraction(a, b, x) / a
    return 1 - front * _fraction(b, a, 1 - x) / b


def _fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return result
