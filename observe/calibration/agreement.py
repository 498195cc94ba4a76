"""Inter-rater agreement statistics for calibration sessions: numpy in, plain floats out.

``compute(ratings, categories, scale)`` takes a units x raters table of category codes (``None``
or NaN where a rater did not score a unit) and returns every statistic that applies to the
declared scale: percent agreement, Cohen's kappa (plain and weighted), Fleiss' kappa (classic and
Gwet's generalisation to missing ratings), Krippendorff's alpha (four metrics), Gwet's AC1/AC2
and the Shrout-Fleiss intraclass correlations, with standard errors where the source gives one.
``alpha_interval`` adds a bootstrap confidence interval for alpha.

The formulas, their conventions and their sources are in ``docs/agreement.md``; the comments
below name the source of each convention. Two rules hold everywhere:

* A statistic that is undefined for the input (no pairable units, a single rater for a
  two-rater statistic, expected disagreement of zero, …) is ``None`` — never 0, 1 or NaN.
* Every number returned is a plain Python ``float``.

No Flask and no database here: the web layer and the ``observe agreement`` command feed this.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

SCALES = ("nominal", "ordinal", "interval", "ratio")

Category = int | float | str
Categories = tuple[Category, ...]
# Arrays of floats, and of category codes (-1 where a rating is missing).
Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int64]

# A chance-agreement probability within this of 1 (or a variance denominator this small
# relative to the data) is treated as exactly degenerate: the statistic is undefined.
_EPS = 1e-12

_LEVELS = {"nominal": 0, "ordinal": 1, "interval": 2, "ratio": 3}


# --------------------------------------------------------------------------------------------
# Input: declared categories and the ratings table
# --------------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _check_categories(categories: Iterable[Category], scale: str) -> tuple[Categories, bool]:
    """The declared categories as a tuple of plain Python values, and whether they are numbers."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid scales: {', '.join(SCALES)}")
    if isinstance(categories, str):
        raise ValueError("categories must be a list of levels, e.g. [1, 2, 3, 4], not a string")
    declared = [c.item() if isinstance(c, np.generic) else c for c in categories]
    if not declared:
        raise ValueError("categories is empty: declare the rubric's levels, e.g. [1, 2, 3, 4]")
    numeric = all(_is_number(c) for c in declared)
    if not numeric and not all(isinstance(c, str) for c in declared):
        raise ValueError(f"categories must be all numbers or all strings, got {declared!r}")
    seen: set[Category] = set()
    for c in declared:
        if numeric and isinstance(c, int | float) and not math.isfinite(c):
            raise ValueError(f"category {c!r} is not a finite number")
        if c in seen:
            raise ValueError(f"category {c!r} is declared twice")
        seen.add(c)
    if scale in ("interval", "ratio") and not numeric:
        raise ValueError(
            f"the {scale} scale needs numeric categories (their values are the distances); "
            f"got {declared!r}"
        )
    if numeric and scale != "nominal" and len(declared) > 1:
        steps = np.diff(np.asarray(declared, dtype=float))
        if not ((steps > 0).all() or (steps < 0).all()):
            raise ValueError(
                f"numeric categories on the {scale} scale must be listed in order, got {declared!r}"
            )
    if scale == "ratio" and min(float(c) for c in declared) < 0:
        raise ValueError(f"the ratio scale needs non-negative categories, got {declared!r}")
    return tuple(declared), numeric


def _bad_rating(value: object, position: int, n_raters: int, categories: Categories) -> ValueError:
    unit, rater = divmod(position, n_raters)
    return ValueError(
        f"rating {value!r} at unit {unit}, rater {rater} (0-based row and column) is not one "
        f"of the declared categories {list(categories)!r}"
    )


def _encode(ratings: Any, categories: Categories, numeric: bool) -> Codes:
    """Category indices (units x raters, int64) with -1 where the rating is missing."""
    # dtype=object keeps each cell of a list as given (None stays None, 1 stays an int) and
    # turns ragged rows into a 1-D array of lists, caught below.
    table = ratings if isinstance(ratings, np.ndarray) else np.array(ratings, dtype=object)
    if table.size == 0:
        return np.full(table.shape if table.ndim == 2 else (0, 0), -1, dtype=np.int64)
    if table.ndim != 2:
        raise ValueError(
            "ratings must be a table with one row per unit and one column per rater, "
            "every row the same length"
        )
    n_raters = table.shape[1]

    if numeric and table.dtype.kind in "iuf":
        values = table.astype(float)
        missing = np.isnan(values)
        declared = np.asarray(categories, dtype=float)
        order = np.argsort(declared)
        ranked = declared[order]
        slot = np.clip(np.searchsorted(ranked, values), 0, len(ranked) - 1)
        unknown = ~missing & (ranked[slot] != values)
        if unknown.any():
            position = int(np.flatnonzero(unknown)[0])
            raise _bad_rating(table.flat[position].item(), position, n_raters, categories)
        return np.where(missing, -1, order[slot]).astype(np.int64)

    # Python equality decides membership: 2 and 2.0 are the same level, "2" is not.
    lookup = {c: i for i, c in enumerate(categories)}
    flat = table.ravel()
    codes = np.full(flat.shape, -1, dtype=np.int64)
    for position, value in enumerate(flat):
        if _is_missing(value):
            continue
        code = None
        if not isinstance(value, bool | np.bool_):
            try:
                code = lookup.get(value.item() if isinstance(value, np.generic) else value)
            except TypeError:  # unhashable cell, e.g. a nested list
                code = None
        if code is None:
            raise _bad_rating(value, position, n_raters, categories)
        codes[position] = code
    return codes.reshape(table.shape)


# --------------------------------------------------------------------------------------------
# Weights (agreement weights: 1 on the diagonal, 0 for the farthest pair)
# --------------------------------------------------------------------------------------------


def _identity_weights(q: int) -> Floats:
    return np.eye(q)


def _within_one_weights(q: int) -> Floats:
    steps = np.arange(q)
    weights: Floats = (np.abs(steps[:, None] - steps[None, :]) <= 1).astype(float)
    return weights


def _linear_weights(values: Floats) -> Floats:
    # Cicchetti & Allison: 1 - |x_k - x_l| / (x_max - x_min) over the declared values.
    span = float(values.max() - values.min())
    weights: Floats = 1.0 - np.abs(values[:, None] - values[None, :]) / span
    return weights


def _quadratic_weights(values: Floats) -> Floats:
    # Fleiss & Cohen 1973: 1 - (x_k - x_l)^2 / (x_max - x_min)^2 over the declared values.
    span = float(values.max() - values.min())
    weights: Floats = 1.0 - ((values[:, None] - values[None, :]) / span) ** 2
    return weights


def _gwet_ordinal_weights(q: int) -> Floats:
    # Gwet 2014, ch. 3: with M = |k - l| + 1 levels spanned, w = 1 - C(M, 2) / C(q, 2).
    # Depends on the ranks of the levels only, never on their codes.
    spanned = np.abs(np.arange(q)[:, None] - np.arange(q)[None, :]) + 1
    pairs = spanned * (spanned - 1) / 2
    weights: Floats = 1.0 - pairs / pairs.max()
    return weights


# --------------------------------------------------------------------------------------------
# The prepared ratings, with every intermediate computed at most once and only when asked
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chance:
    """Gwet's decomposition of a chance-corrected coefficient (Gwet 2014, ch. 5 and 6)."""

    coefficient: float
    pa: float
    pe: float
    pa_unit: Floats  # per-unit weighted pair agreement, 0 for units with one rating
    pi: Floats  # classification probabilities per category


@dataclass(frozen=True)
class _Cohen:
    kappa: float
    pe: float
    table: Floats  # joint proportions, rater 1 in rows
    weights: Floats
    units: int


_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


def _memoised(memo: dict[_Key, _Value], key: _Key, build: Callable[[], _Value]) -> _Value:
    if key not in memo:
        memo[key] = build()
    return memo[key]


class _Ratings:
    def __init__(self, codes: Codes, categories: Categories, scale: str, numeric: bool) -> None:
        present = codes >= 0
        # A unit nobody rated and a rater who rated nothing carry no information: drop both.
        codes = codes[present.any(axis=1)]
        codes = codes[:, (codes >= 0).any(axis=0)]
        self.codes = codes
        self.categories = categories
        self.q = len(categories)
        self.scale = scale
        self.numeric = numeric
        self._weights: dict[str, Floats] = {}
        self._chances: dict[tuple[str, str], _Chance | None] = {}
        self._cohens: dict[str, _Cohen | None] = {}

    @property
    def n_raters(self) -> int:
        return int(self.codes.shape[1])

    @cached_property
    def counts(self) -> Floats:
        """r_ik: how many raters put unit i in category k (units x categories)."""
        n = self.codes.shape[0]
        present = self.codes >= 0
        units = np.broadcast_to(np.arange(n)[:, None], self.codes.shape)[present]
        flat = np.bincount(units * self.q + self.codes[present], minlength=n * self.q)
        return flat.reshape(n, self.q).astype(float)

    @cached_property
    def per_unit(self) -> Floats:
        per_unit: Floats = self.counts.sum(axis=1)
        return per_unit

    @cached_property
    def pairable(self) -> npt.NDArray[np.bool_]:
        return self.per_unit >= 2

    @cached_property
    def values(self) -> Floats:
        """The numbers interval-family statistics measure distances with.

        On the interval and ratio scales these are the declared values. On the ordinal scale
        they are the positions 0, 1, 2, … of the declared list: an ordinal declaration promises
        order only, so the levels are treated as equally spaced (identical results to the codes
        whenever the codes are equally spaced, as 1, 2, 3, 4 are).
        """
        if self.scale == "ordinal":
            return np.arange(self.q, dtype=float)
        return np.asarray(self.categories, dtype=float)

    def metric_values(self, metric: str) -> Floats | None:
        """``values`` for the interval and ratio metrics, which need numbers; else None."""
        return self.values if metric in ("interval", "ratio") else None

    def weights(self, kind: str) -> Floats:
        def build() -> Floats:
            if kind == "identity":
                return _identity_weights(self.q)
            if kind == "within_one":
                return _within_one_weights(self.q)
            if kind == "linear":
                return _linear_weights(self.values)
            if kind == "quadratic":
                return _quadratic_weights(self.values)
            return _gwet_ordinal_weights(self.q)

        return _memoised(self._weights, kind, build)

    # ---- percent agreement ------------------------------------------------------------------

    def pair_agreement(self, weights: Floats) -> Floats:
        """Per pairable unit: weighted share of agreeing ordered rater pairs (Fleiss' P_i).

        sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)) with r*_ik = sum_l w_kl r_il (Gwet 2014, 2.9):
        the -1 removes each rating's pairing with itself (w_kk = 1).
        """
        counts = self.counts[self.pairable]
        per_unit = self.per_unit[self.pairable]
        agreeing = (counts * (counts @ weights.T - 1.0)).sum(axis=1)
        agreement: Floats = agreeing / (per_unit * (per_unit - 1.0))
        return agreement

    def percent_agreement(self, kind: str) -> float | None:
        if not self.pairable.any():
            return None
        return float(self.pair_agreement(self.weights(kind)).mean())

    # ---- Gwet's framework: AC1, AC2 and Fleiss' kappa generalised to missing ratings ---------

    def chance(self, family: str, kind: str) -> _Chance | None:
        """Gwet 2014: AC1/AC2 (family "ac") or Fleiss' generalised kappa (family "fleiss").

        n counts every unit with at least one rating; the observed agreement p_a averages over
        the units with two or more; the classification probabilities pi_k average r_ik / r_i
        over all n units, so a unit with a single rating counts there (Gwet 2014, ch. 5).
        """

        def build() -> _Chance | None:
            q = self.q
            pairable = self.pairable
            if q < 2 or pairable.sum() < 2:
                return None
            weights = self.weights(kind)
            pa_unit = np.zeros(len(pairable))
            pa_unit[pairable] = self.pair_agreement(weights)
            pa = float(pa_unit[pairable].mean())
            pi = (self.counts / self.per_unit[:, None]).mean(axis=0)
            if family == "ac":
                # Gwet 2008 / 2014: p_e = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k), where T_w
                # is the sum of all q x q weights and q the number of declared categories.
                pe = float(weights.sum() * (pi * (1.0 - pi)).sum() / (q * (q - 1)))
            else:
                pe = float(pi @ weights @ pi)
            if 1.0 - pe <= _EPS:
                return None
            return _Chance((pa - pe) / (1.0 - pe), pa, pe, pa_unit, pi)

        return _memoised(self._chances, (family, kind), build)

    def chance_se(self, family: str, kind: str) -> float | None:
        """Gwet's linearised variance, without finite-population correction (Gwet 2014, 5.6).

        v = 1 / (n (n - 1)) * sum_i (g*_i - g)^2 over the n units with at least one rating,
        g_i = (n / n2) (p_a|i - p_e [r_i >= 2]) / (1 - p_e), g*_i = g_i - 2 (1 - g)
        (p_e|i - p_e) / (1 - p_e), with p_e|i the unit's share of the chance agreement.
        """
        est = self.chance(family, kind)
        if est is None:
            return None
        weights = self.weights(kind)
        counts, per_unit, pairable = self.counts, self.per_unit, self.pairable
        n, n2, q = len(per_unit), int(pairable.sum()), self.q
        g = est.coefficient
        g_unit = (n / n2) * (est.pa_unit - est.pe * pairable) / (1.0 - est.pe)
        if family == "ac":
            pe_unit = weights.sum() / (q * (q - 1)) * (counts @ (1.0 - est.pi)) / per_unit
        else:
            symmetric = (weights @ est.pi + weights.T @ est.pi) / 2.0
            pe_unit = (counts @ symmetric) / per_unit
        g_star = g_unit - 2.0 * (1.0 - g) * (pe_unit - est.pe) / (1.0 - est.pe)
        variance = float(((g_star - g) ** 2).sum() / (n * (n - 1)))
        return math.sqrt(max(variance, 0.0))

    # ---- Fleiss 1971 ---------------------------------------------------------------------

    def fleiss_classic(self) -> float | None:
        per_unit = self.per_unit
        n = len(per_unit)
        # Fleiss 1971 assumes every subject is rated by the same number m of raters.
        if n < 2 or self.q < 2 or per_unit.min() != per_unit.max() or per_unit[0] < 2:
            return None
        m = per_unit[0]
        counts = self.counts
        p = counts.sum(axis=0) / (n * m)
        p_bar = float((((counts**2).sum(axis=1) - m) / (m * (m - 1))).mean())
        p_e = float(p @ p)
        if 1.0 - p_e <= _EPS:
            return None
        return (p_bar - p_e) / (1.0 - p_e)

    # ---- Cohen 1960 / 1968, Fleiss, Cohen & Everitt 1969 ---------------------------------

    def cohen(self, kind: str) -> _Cohen | None:
        def build() -> _Cohen | None:
            if self.n_raters != 2 or self.q < 2:
                return None
            both = self.codes[(self.codes >= 0).all(axis=1)]
            units = len(both)
            if units < 2:
                return None
            q = self.q
            pairs = np.bincount(both[:, 0] * q + both[:, 1], minlength=q * q).reshape(q, q)
            table: Floats = pairs / units
            weights = self.weights(kind)
            po = float((weights * table).sum())
            pe = float(table.sum(axis=1) @ weights @ table.sum(axis=0))
            if 1.0 - pe <= _EPS:
                return None
            return _Cohen((po - pe) / (1.0 - pe), pe, table, weights, units)

        return _memoised(self._cohens, kind, build)

    def cohen_se(self, kind: str) -> float | None:
        """Large-sample (non-null) standard error of Fleiss, Cohen & Everitt 1969, eq. 13.

        var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - k))^2 - (k - p_e (1 - k))^2]
              / (n (1 - p_e)^2),
        wbar_i. = sum_j p_.j w_ij and wbar_.j = sum_i p_i. w_ij; the unweighted case is w = I.
        """
        est = self.cohen(kind)
        if est is None:
            return None
        table, weights, kappa = est.table, est.weights, est.kappa
        rows, cols = table.sum(axis=1), table.sum(axis=0)
        row_bar = weights @ cols
        col_bar = rows @ weights
        spread = weights - (row_bar[:, None] + col_bar[None, :]) * (1.0 - kappa)
        spread_term = float((table * spread**2).sum())
        difference = spread_term - (kappa - est.pe * (1.0 - kappa)) ** 2
        # The two terms cancel exactly when the variance is 0 (e.g. perfect agreement); what
        # is left is rounding, which the square root would blow up to ~1e-8.
        if difference <= _EPS * spread_term:
            return 0.0
        return math.sqrt(difference / (est.units * (1.0 - est.pe) ** 2))

    # ---- Krippendorff 2011 -------------------------------------------------------------

    @cached_property
    def coincidences(self) -> tuple[Floats, Floats, float] | None:
        """Krippendorff's coincidence matrix o_ck over the pairable units.

        Each unit with m_u >= 2 values adds every ordered pair of its values with weight
        1 / (m_u - 1); units with fewer values are not pairable and are left out.
        """
        counts = self.counts[self.pairable]
        if len(counts) < 2:
            return None
        scaled = counts / (self.per_unit[self.pairable] - 1.0)[:, None]
        matrix = scaled.T @ counts - np.diag(scaled.sum(axis=0))
        marginals = matrix.sum(axis=1)
        return matrix, marginals, float(marginals.sum())

    def alpha(self, metric: str) -> float | None:
        found = self.coincidences
        if found is None:
            return None
        matrix, marginals, total = found
        delta = _alpha_delta(metric, marginals, self.metric_values(metric))
        expected = float(marginals @ delta @ marginals)
        # Everyone used one value: expected disagreement is 0 and alpha is undefined.
        if expected <= 0.0:
            return None
        return 1.0 - (total - 1.0) * float((matrix * delta).sum()) / expected

    # ---- Shrout & Fleiss 1979 ----------------------------------------------------------

    @cached_property
    def anova(self) -> tuple[float, float, float, int, int] | None:
        """Two-way ANOVA mean squares (targets, raters, residual) on the complete units."""
        k = self.n_raters
        complete = self.codes[(self.codes >= 0).all(axis=1)]
        n = len(complete)
        if k < 2 or n < 2:
            return None
        scores = self.values[complete]
        scores = scores - scores[0, 0]  # constant data become exact zeros
        grand = scores.mean()
        target_means = scores.mean(axis=1)
        rater_means = scores.mean(axis=0)
        residual = scores - target_means[:, None] - rater_means[None, :] + grand
        ms_targets = k * float(((target_means - grand) ** 2).sum()) / (n - 1)
        ms_raters = n * float(((rater_means - grand) ** 2).sum()) / (k - 1)
        ms_error = float((residual**2).sum()) / ((n - 1) * (k - 1))
        return ms_targets, ms_raters, ms_error, n, k

    def icc(self, form: str) -> float | None:
        found = self.anova
        if found is None:
            return None
        ms_targets, ms_raters, ms_error, n, k = found
        denominator = ms_targets + (k - 1) * ms_error
        if form == "2,1":
            denominator += k * (ms_raters - ms_error) / n
        if denominator <= _EPS * (ms_targets + ms_raters + ms_error):
            return None
        return (ms_targets - ms_error) / denominator


def _alpha_delta(metric: str, marginals: Floats, values: Floats | None) -> Floats:
    """Krippendorff's squared difference function delta^2_ck (Krippendorff 2011, section E)."""
    q = len(marginals)
    if metric == "nominal":
        return 1.0 - np.eye(q)
    if metric == "ordinal":
        # (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 with the n_g the coincidence marginals of
        # the values in declared order: distances come from how the observed values are
        # distributed, not from the codes. With S the running total of n_g this is
        # (S_k - S_c + (n_c - n_k) / 2)^2 for every c, k.
        running = np.cumsum(marginals)
        ordinal: Floats = (
            running[None, :] - running[:, None] + (marginals[:, None] - marginals[None, :]) / 2
        ) ** 2
        return ordinal
    assert values is not None
    difference: Floats = values[:, None] - values[None, :]
    if metric == "interval":
        return difference**2
    # ratio: ((c - k) / (c + k))^2, 0 on the diagonal (including 0 vs 0).
    total = values[:, None] + values[None, :]
    ratio = np.divide(difference, total, out=np.zeros_like(difference), where=total != 0)
    return ratio**2


# --------------------------------------------------------------------------------------------
# The statistics, each computed only when asked for
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Statistic:
    key: str
    level: str  # the weakest scale it needs: nominal < ordinal < interval < ratio
    compute: Callable[[_Ratings], float | None]


def _chance_pair(key: str, level: str, family: str, kind: str) -> list[_Statistic]:
    return [
        _Statistic(key, level, lambda d: _coefficient(d.chance(family, kind))),
        _Statistic(key + "_se", level, lambda d: d.chance_se(family, kind)),
    ]


def _coefficient(found: _Chance | None) -> float | None:
    return None if found is None else found.coefficient


def _kappa(found: _Cohen | None) -> float | None:
    return None if found is None else found.kappa


def _cohen_pair(key: str, level: str, kind: str) -> list[_Statistic]:
    return [
        _Statistic(key, level, lambda d: _kappa(d.cohen(kind))),
        _Statistic(key + "_se", level, lambda d: d.cohen_se(kind)),
    ]


_STATISTICS: tuple[_Statistic, ...] = (
    _Statistic("percent_exact", "nominal", lambda d: d.percent_agreement("identity")),
    _Statistic("percent_within_one", "ordinal", lambda d: d.percent_agreement("within_one")),
    *_cohen_pair("cohen_kappa", "nominal", "identity"),
    *_cohen_pair("cohen_kappa_linear", "interval", "linear"),
    *_cohen_pair("cohen_kappa_quadratic", "interval", "quadratic"),
    _Statistic("fleiss_kappa", "nominal", lambda d: d.fleiss_classic()),
    *_chance_pair("fleiss_kappa_gwet", "nominal", "fleiss", "identity"),
    _Statistic("krippendorff_alpha_nominal", "nominal", lambda d: d.alpha("nominal")),
    _Statistic("krippendorff_alpha_ordinal", "ordinal", lambda d: d.alpha("ordinal")),
    _Statistic("krippendorff_alpha_interval", "interval", lambda d: d.alpha("interval")),
    _Statistic("krippendorff_alpha_ratio", "ratio", lambda d: d.alpha("ratio")),
    *_chance_pair("gwet_ac1", "nominal", "ac", "identity"),
    *_chance_pair("gwet_ac2_linear", "interval", "ac", "linear"),
    *_chance_pair("gwet_ac2_quadratic", "interval", "ac", "quadratic"),
    *_chance_pair("gwet_ac2_ordinal", "ordinal", "ac", "ordinal"),
    _Statistic("icc_2_1", "interval", lambda d: d.icc("2,1")),
    _Statistic("icc_3_1", "interval", lambda d: d.icc("3,1")),
)

_BY_KEY = {s.key: s for s in _STATISTICS}


def _applies(level: str, scale: str, numeric: bool) -> bool:
    if level == "interval" and scale == "ordinal":
        return numeric  # numeric ordinal codes also get the interval family, equally spaced
    return _LEVELS[level] <= _LEVELS[scale]


def available_statistics(categories: Iterable[Category], scale: str = "ordinal") -> list[str]:
    """The keys ``compute`` returns for these categories on this scale, in output order."""
    _, numeric = _check_categories(categories, scale)
    return [s.key for s in _STATISTICS if _applies(s.level, scale, numeric)]


def _select(statistics: Sequence[str] | None, valid: list[str], scale: str) -> list[str]:
    if statistics is None:
        return valid
    if isinstance(statistics, str):
        statistics = [statistics]
    for key in statistics:
        if key not in _BY_KEY:
            raise ValueError(f"unknown statistic {key!r}; valid for scale {scale!r}: {valid}")
        if key not in valid:
            raise ValueError(
                f"statistic {key!r} does not apply to these categories on the {scale!r} scale; "
                f"valid: {valid}"
            )
    wanted = set(statistics)
    return [key for key in valid if key in wanted]


def _plain(value: float | None) -> float | None:
    """A plain ``float``; a non-finite result is undefined too (a last guard, not a path)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _prepare(ratings: Any, categories: Iterable[Category], scale: str) -> _Ratings:
    declared, numeric = _check_categories(categories, scale)
    codes = _encode(ratings, declared, numeric)
    return _Ratings(codes, declared, scale, numeric)


def compute(
    ratings: Any,
    categories: Iterable[Category],
    scale: str = "ordinal",
    statistics: Sequence[str] | None = None,
) -> dict[str, float | None]:
    """Agreement statistics for a units x raters table of ratings.

    ``ratings``: rows are units (lessons, video clips, look-fors …), columns are raters; each
    cell a declared category, or ``None``/NaN where that rater gave no rating. ``categories``:
    the declared, ordered levels (numbers or strings). ``scale``: ``nominal``, ``ordinal``,
    ``interval`` or ``ratio``. ``statistics``: keys to compute (default: every one that applies).

    Returns ``{key: float or None}`` in a fixed order; ``None`` means undefined for this input.
    Raises ``ValueError`` for an unknown scale or key, a key that does not apply, or a rating
    that is not a declared category (naming its position).
    """
    data = _prepare(ratings, categories, scale)
    valid = [s.key for s in _STATISTICS if _applies(s.level, scale, data.numeric)]
    return {key: _plain(_BY_KEY[key].compute(data)) for key in _select(statistics, valid, scale)}


# --------------------------------------------------------------------------------------------
# Bootstrap interval for alpha
# --------------------------------------------------------------------------------------------


def alpha_interval(
    ratings: Any,
    categories: Iterable[Category],
    metric: str = "ordinal",
    level: float = 0.95,
    samples: int = 1000,
    seed: int = 2011,
    scale: str | None = None,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval for Krippendorff's alpha, resampling units.

    Units with two or more ratings are drawn with replacement (the unit, with all its ratings,
    is the resampled cluster); alpha is recomputed on each of ``samples`` resamples and the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles are returned. Resamples on which alpha
    is undefined (everyone drew one value) are left out. The same ``seed`` gives the same
    interval. ``scale`` defaults to ``metric`` and decides, as in ``compute``, the distances the
    interval metric uses. ``None`` when alpha itself is undefined.
    """
    scale = scale or metric
    if metric not in SCALES:
        raise ValueError(f"unknown metric {metric!r}; valid metrics: {', '.join(SCALES)}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples!r}")
    data = _prepare(ratings, categories, scale)
    if not _applies(_BY_KEY[f"krippendorff_alpha_{metric}"].level, scale, data.numeric):
        raise ValueError(f"the {metric} metric does not apply to these categories on {scale!r}")
    if data.alpha(metric) is None:
        return None

    q = data.q
    counts = data.counts[data.pairable]
    units = len(counts)
    # Each unit's own coincidences, flattened: resampled matrices are weighted sums of these.
    scaled = counts / (data.per_unit[data.pairable] - 1.0)[:, None]
    own = scaled[:, :, None] * counts[:, None, :]
    own[:, np.arange(q), np.arange(q)] -= scaled
    own = own.reshape(units, q * q)

    rng = np.random.default_rng(seed)
    alphas: list[Floats] = []
    for start in range(0, samples, 250):
        draws = rng.multinomial(units, np.full(units, 1.0 / units), size=min(250, samples - start))
        matrices = (draws @ own).reshape(-1, q, q)
        marginals = matrices.sum(axis=2)
        totals = marginals.sum(axis=1)
        if metric == "ordinal":
            running = np.cumsum(marginals, axis=1)
            delta = (
                running[:, None, :]
                - running[:, :, None]
                + (marginals[:, :, None] - marginals[:, None, :]) / 2
            ) ** 2
        else:
            fixed = _alpha_delta(metric, marginals[0], data.metric_values(metric))
            delta = np.broadcast_to(fixed, matrices.shape)
        observed = (matrices * delta).sum(axis=(1, 2))
        expected = np.einsum("bc,bck,bk->b", marginals, delta, marginals)
        defined = expected > 0
        alphas.append(1.0 - (totals[defined] - 1.0) * observed[defined] / expected[defined])
    found = np.concatenate(alphas)
    if len(found) == 0:
        return None
    low, high = np.quantile(found, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(low), float(high)
