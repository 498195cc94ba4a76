"""Published worked examples, to the precision their sources print (1e-9 where they print enough).

Each example also runs through an independent implementation at 1e-9 where one exists, so a
wrong transcription of a printed number cannot hide a wrong formula, and the other way round.
"""

from __future__ import annotations

import math
from fractions import Fraction

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from irrCAC.raw import CAC
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

from observe.calibration.agreement import alpha_interval, compute

N = None

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
# Communication, University of Pennsylvania, section C: 4 observers (A-D) x 12 units, values
# 1-5, "." for missing. The irrCAC R package ships the same data, units as rows, as
# ``cac.raw4raters`` (its unit 12 puts the lone value 3 under Rater3 rather than observer B;
# a lone value is never paired, so no statistic changes).
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
}
UNITS_BY_OBSERVER = [list(unit) for unit in zip(*KRIPPENDORFF_2011.values(), strict=True)]
FIVE = [1, 2, 3, 4, 5]


def as_float_matrix(rows: list[list]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


# ------------------------------------------------------------------------------------------
# Krippendorff 2011
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "printed"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_reliability_data(metric: str, printed: float) -> None:
    result = compute(UNITS_BY_OBSERVER, FIVE, scale="ratio")
    ours = result[f"krippendorff_alpha_{metric}"]
    # Krippendorff prints three decimals.
    assert ours == pytest.approx(printed, abs=5e-4)
    # The krippendorff package (reliability data are observers x units there).
    reference = krippendorff.alpha(
        reliability_data=as_float_matrix(list(KRIPPENDORFF_2011.values())),
        level_of_measurement=metric,
        value_domain=FIVE,
    )
    assert ours == pytest.approx(reference, abs=1e-9)


def test_krippendorff_2011_nominal_alpha_is_the_exact_fraction() -> None:
    # By hand from the paper's coincidence matrix: n = 40 pairable values with marginals
    # 9, 13, 10, 5, 3; the off-diagonal coincidences sum to 8 (units 2 and 8 add 2 each, unit 6
    # adds 4); sum_c n_c (n - n_c) = 40^2 - (81 + 169 + 100 + 25 + 9) = 1216.
    # alpha = 1 - (n - 1) * 8 / 1216 = 113/152.
    exact = 1 - Fraction(39 * 8, 1216)
    assert exact == Fraction(113, 152)
    result = compute(UNITS_BY_OBSERVER, FIVE, scale="nominal")
    assert result["krippendorff_alpha_nominal"] == pytest.approx(float(exact), abs=1e-12)


def test_alpha_interval_on_krippendorff_2011_brackets_the_estimate() -> None:
    low, high = alpha_interval(UNITS_BY_OBSERVER, FIVE, metric="ordinal", seed=7)
    point = compute(UNITS_BY_OBSERVER, FIVE, statistics=["krippendorff_alpha_ordinal"])
    assert low < point["krippendorff_alpha_ordinal"] <= high <= 1.0


# ------------------------------------------------------------------------------------------
# Gwet: irrCAC's documented outputs for cac.raw4raters (README and the "weighting" vignette of
# github.com/kgwet/irrCAC, R package 1.0, Gwet 2014 formulas). R prints 5 decimals for
# coefficients and standard errors, 7 significant digits for p_a.
# ------------------------------------------------------------------------------------------

GWET_RAW4RATERS = [
    ("percent_exact", 0.8181818, 5e-8),
    ("gwet_ac1", 0.77544, 5e-6),
    ("gwet_ac1_se", 0.14295, 5e-6),
    ("fleiss_kappa_gwet", 0.76117, 5e-6),
    ("fleiss_kappa_gwet_se", 0.15302, 5e-6),
    ("gwet_ac2_quadratic", 0.914, 5e-6),  # printed "0.914": 0.91400 to 5 decimals
    ("gwet_ac2_quadratic_se", 0.10396, 5e-6),
    ("krippendorff_alpha_nominal", 0.74342, 5e-6),
    # krippen.alpha.raw with quadratic weights is alpha with the interval metric.
    ("krippendorff_alpha_interval", 0.84911, 5e-6),
]


@pytest.mark.parametrize(("key", "printed", "tolerance"), GWET_RAW4RATERS)
def test_irrcac_documented_raw4raters(key: str, printed: float, tolerance: float) -> None:
    result = compute(UNITS_BY_OBSERVER, FIVE, scale="interval")
    assert result[key] == pytest.approx(printed, abs=tolerance)


def test_percent_exact_on_raw4raters_is_nine_elevenths() -> None:
    # 11 units have two or more ratings; their pair agreement sums to 9.
    result = compute(UNITS_BY_OBSERVER, FIVE, statistics=["percent_exact"])
    assert result["percent_exact"] == pytest.approx(9 / 11, abs=1e-12)


@pytest.mark.parametrize(
    ("key", "weights", "method"),
    [
        ("gwet_ac1", "identity", "gwet"),
        ("gwet_ac2_linear", "linear", "gwet"),
        ("gwet_ac2_quadratic", "quadratic", "gwet"),
        ("gwet_ac2_ordinal", "ordinal", "gwet"),
        ("fleiss_kappa_gwet", "identity", "fleiss"),
    ],
)
def test_irrcac_python_port_on_raw4raters(key: str, weights: str, method: str) -> None:
    frame = pd.DataFrame(as_float_matrix(UNITS_BY_OBSERVER))
    cac = CAC(frame, weights=weights, categories=[1.0, 2.0, 3.0, 4.0, 5.0], digits=15)
    reference = getattr(cac, method)()["est"]
    result = compute(UNITS_BY_OBSERVER, FIVE, scale="interval")
    assert result[key] == pytest.approx(reference["coefficient_value"], abs=1e-9)
    assert result[key + "_se"] == pytest.approx(reference["se"], abs=1e-9)


# ------------------------------------------------------------------------------------------
# Fleiss 1971: 30 patients x 6 psychiatrists, 5 diagnoses (depression, personality disorder,
# schizophrenia, neurosis, other). Raw form as shipped by R's irr package (``diagnoses``) and
# statsmodels' tests (statsmodels/stats/tests/test_inter_rater.py). Fleiss prints kappa = .430;
# irr's kappam.fleiss prints 0.4302445.
# ------------------------------------------------------------------------------------------

FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip


def test_fleiss_1971_kappa() -> None:
    result = compute(FLEISS_1971, FIVE, scale="nominal")
    assert result["fleiss_kappa"] == pytest.approx(0.430, abs=5e-4)  # Fleiss 1971
    assert result["fleiss_kappa"] == pytest.approx(0.4302445, abs=5e-8)  # R irr
    table, _ = aggregate_raters(np.array(FLEISS_1971), n_cat=None)
    assert result["fleiss_kappa"] == pytest.approx(fleiss_kappa(table), abs=1e-12)
    # With every patient rated by six psychiatrists, Gwet's generalisation is Fleiss' kappa.
    assert result["fleiss_kappa_gwet"] == pytest.approx(result["fleiss_kappa"], abs=1e-12)


# ------------------------------------------------------------------------------------------
# Cohen's kappa with the Fleiss-Cohen-Everitt 1969 large-sample standard error.
# ------------------------------------------------------------------------------------------


def ratings_from_table(table: list[list[int]]) -> list[list[int]]:
    """Two raters' ratings (levels 1..q) reproducing a contingency table, rater 1 in rows."""
    rows: list[list[int]] = []
    for i, line in enumerate(table):
        for j, count in enumerate(line):
            rows += [[i + 1, j + 1]] * count
    return rows


# SAS/STAT PROC FREQ AGREE output (simple and Cicchetti-Allison weighted kappa with their ASE),
# as transcribed in statsmodels' test_inter_rater.py (TestUnweightedCohens, TestWeightedCohens).
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]


def test_cohen_kappa_sas_example() -> None:
    result = compute(ratings_from_table(SAS_TABLE), [1, 2, 3], scale="interval")
    assert result["cohen_kappa"] == pytest.approx(0.4842, abs=5e-5)
    assert result["cohen_kappa_se"] == pytest.approx(0.1380, abs=5e-5)
    assert result["cohen_kappa_linear"] == pytest.approx(0.4701, abs=5e-5)
    assert result["cohen_kappa_linear_se"] == pytest.approx(0.1457, abs=5e-5)


# irrCAC README / weighting vignette: cont3x3abstractors, kappa2.table (Gwet's SE for Cohen's
# kappa is the Fleiss-Cohen-Everitt one), 7 significant digits printed.
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


def test_cohen_kappa_irrcac_abstractors() -> None:
    result = compute(ratings_from_table(ABSTRACTORS), [1, 2, 3], scale="interval")
    assert result["cohen_kappa"] == pytest.approx(0.7964094, abs=5e-8)
    assert result["cohen_kappa_se"] == pytest.approx(0.05891072, abs=5e-9)
    assert result["cohen_kappa_quadratic"] == pytest.approx(0.8921569, abs=5e-8)
    assert result["cohen_kappa_quadratic_se"] == pytest.approx(0.03535151, abs=5e-9)
    assert result["percent_exact"] == pytest.approx(0.89, abs=1e-12)
    assert result["gwet_ac1"] == pytest.approx(0.8493305, abs=5e-8)
    assert result["gwet_ac2_quadratic"] == pytest.approx(0.9402369, abs=5e-8)


def test_gwet_two_rater_table_variance_differs_by_n_over_n_minus_one() -> None:
    # gwet.ac1.table divides the variance by n^2; the raw-data formula used here (Gwet 2014,
    # and irrCAC's gwet.ac1.raw) by n (n - 1). With n = 100 units the SEs differ by sqrt(.99).
    result = compute(ratings_from_table(ABSTRACTORS), [1, 2, 3], scale="interval")
    shrink = math.sqrt(99 / 100)
    assert result["gwet_ac1_se"] * shrink == pytest.approx(0.04321747, abs=5e-9)
    assert result["gwet_ac2_quadratic_se"] * shrink == pytest.approx(0.01792019, abs=5e-9)


@pytest.mark.parametrize("table", [SAS_TABLE, ABSTRACTORS])
def test_cohen_kappa_matches_statsmodels(table: list[list[int]]) -> None:
    result = compute(ratings_from_table(table), [1, 2, 3], scale="interval")
    for key, options in [
        ("cohen_kappa", {}),
        ("cohen_kappa_linear", {"weights": [1, 2, 3], "wt": "linear"}),
        ("cohen_kappa_quadratic", {"weights": [1, 2, 3], "wt": "quadratic"}),
    ]:
        reference = cohens_kappa(np.array(table), **options)
        assert result[key] == pytest.approx(reference.kappa, abs=1e-12)
        assert result[key + "_se"] == pytest.approx(reference.std_kappa, abs=1e-12)


# ------------------------------------------------------------------------------------------
# Shrout & Fleiss 1979, Table 2: 6 targets x 4 judges. Printed: ICC(2,1) = .29, ICC(3,1) = .71.
# ------------------------------------------------------------------------------------------

SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_shrout_fleiss_1979_table_2() -> None:
    result = compute(SHROUT_FLEISS, list(range(1, 11)), scale="interval")
    assert result["icc_2_1"] == pytest.approx(0.29, abs=5e-3)
    assert result["icc_3_1"] == pytest.approx(0.71, abs=5e-3)
    long = pd.DataFrame(
        [
            {"target": t, "judge": j, "score": score}
            for t, row in enumerate(SHROUT_FLEISS)
            for j, score in enumerate(row)
        ]
    )
    reference = pingouin.intraclass_corr(long, targets="target", raters="judge", ratings="score")
    # Recent pingouin labels the forms McGraw & Wong's way: ICC(A,1) is Shrout & Fleiss'
    # ICC(2,1) (absolute agreement), ICC(C,1) their ICC(3,1) (consistency); older ones said
    # ICC2 and ICC3.
    by_type = reference.set_index("Type")["ICC"]
    absolute = "ICC(A,1)" if "ICC(A,1)" in by_type else "ICC2"
    consistency = "ICC(C,1)" if "ICC(C,1)" in by_type else "ICC3"
    assert result["icc_2_1"] == pytest.approx(by_type[absolute], abs=1e-9)
    assert result["icc_3_1"] == pytest.approx(by_type[consistency], abs=1e-9)
