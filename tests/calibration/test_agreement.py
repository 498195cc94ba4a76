"""The agreement engine: independent implementations on generated data, invariances,
degenerate inputs, input errors, laziness and speed."""

from __future__ import annotations

import math
import time

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from irrCAC.raw import CAC
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

from observe.calibration import agreement
from observe.calibration.agreement import alpha_interval, available_statistics, compute

NOMINAL_KEYS = [
    "percent_exact",
    "cohen_kappa",
    "cohen_kappa_se",
    "fleiss_kappa",
    "fleiss_kappa_gwet",
    "fleiss_kappa_gwet_se",
    "krippendorff_alpha_nominal",
    "gwet_ac1",
    "gwet_ac1_se",
]
ORDINAL_ONLY = [
    "percent_within_one",
    "krippendorff_alpha_ordinal",
    "gwet_ac2_ordinal",
    "gwet_ac2_ordinal_se",
]
INTERVAL_ONLY = [
    "cohen_kappa_linear",
    "cohen_kappa_linear_se",
    "cohen_kappa_quadratic",
    "cohen_kappa_quadratic_se",
    "krippendorff_alpha_interval",
    "gwet_ac2_linear",
    "gwet_ac2_linear_se",
    "gwet_ac2_quadratic",
    "gwet_ac2_quadratic_se",
    "icc_2_1",
    "icc_3_1",
]
CHANCE_CORRECTED = [
    "cohen_kappa",
    "cohen_kappa_linear",
    "cohen_kappa_quadratic",
    "fleiss_kappa",
    "fleiss_kappa_gwet",
    "krippendorff_alpha_nominal",
    "krippendorff_alpha_ordinal",
    "krippendorff_alpha_interval",
    "krippendorff_alpha_ratio",
]


def generated(
    seed: int,
    units: int = 40,
    raters: int = 4,
    categories: int = 4,
    missing: float = 0.15,
    noise: float = 0.8,
) -> np.ndarray:
    """Codes 0..categories-1 that agree more than chance, NaN where a rating is missing."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, categories, size=units)[:, None]
    jitter = np.rint(rng.normal(0, noise, size=(units, raters)))
    codes = np.clip(truth + jitter, 0, categories - 1)
    codes[rng.random(codes.shape) < missing] = np.nan
    return codes


def relabel(codes: np.ndarray, labels: list) -> list[list]:
    return [[None if math.isnan(v) else labels[int(v)] for v in row] for row in codes]


def same(a: float | None, b: float | None, tolerance: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=0, abs_tol=tolerance)


# ------------------------------------------------------------------------------------------
# Which keys come back
# ------------------------------------------------------------------------------------------


def test_keys_follow_the_scale() -> None:
    assert list(compute([[1, 1]], [1, 2], "nominal")) == list(
        available_statistics([1, 2], "nominal")
    )
    assert set(available_statistics([1, 2], "nominal")) == set(NOMINAL_KEYS)
    assert set(available_statistics(["a", "b"], "ordinal")) == set(NOMINAL_KEYS + ORDINAL_ONLY)
    # Numeric ordinal codes also get the interval family (levels equally spaced).
    assert set(available_statistics([1, 2], "ordinal")) == set(
        NOMINAL_KEYS + ORDINAL_ONLY + INTERVAL_ONLY
    )
    assert set(available_statistics([1, 2], "interval")) == set(
        NOMINAL_KEYS + ORDINAL_ONLY + INTERVAL_ONLY
    )
    assert set(available_statistics([1, 2], "ratio")) == {
        *NOMINAL_KEYS,
        *ORDINAL_ONLY,
        *INTERVAL_ONLY,
        "krippendorff_alpha_ratio",
    }


def test_statistics_argument_selects_keys_in_output_order() -> None:
    result = compute([[1, 2], [2, 2]], [1, 2, 3], statistics=["gwet_ac1", "percent_exact"])
    assert list(result) == ["percent_exact", "gwet_ac1"]


# ------------------------------------------------------------------------------------------
# Independent implementations on generated data
# ------------------------------------------------------------------------------------------

SEEDS = [1, 2, 3, 4, 5]


@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_matches_krippendorff_package(seed: int) -> None:
    codes = generated(seed, units=30, raters=5, categories=4, missing=0.3)
    values = [0, 1, 3, 7]  # unequal spacing: interval and ratio must use the values
    ratings = relabel(codes, values)
    result = compute(ratings, values, scale="ratio")
    reliability = np.array(
        [[np.nan if v is None else v for v in row] for row in ratings], dtype=float
    ).T
    for metric in ("nominal", "ordinal", "interval", "ratio"):
        reference = krippendorff.alpha(
            reliability_data=reliability, level_of_measurement=metric, value_domain=values
        )
        assert result[f"krippendorff_alpha_{metric}"] == pytest.approx(reference, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_ordinal_scale_measures_distances_in_steps(seed: int) -> None:
    codes = generated(seed, units=30, raters=3, categories=4)
    result = compute(relabel(codes, [0, 1, 3, 7]), [0, 1, 3, 7], scale="ordinal")
    steps = compute(relabel(codes, [1, 2, 3, 4]), [1, 2, 3, 4], scale="interval")
    for key in INTERVAL_ONLY + ORDINAL_ONLY + NOMINAL_KEYS:
        assert same(result[key], steps[key]), key
    reference = krippendorff.alpha(
        reliability_data=codes.T, level_of_measurement="interval", value_domain=[0, 1, 2, 3]
    )
    assert result["krippendorff_alpha_interval"] == pytest.approx(reference, abs=1e-9)


def contingency(codes: np.ndarray, q: int) -> np.ndarray:
    table = np.zeros((q, q))
    for first, second in codes:
        if not (math.isnan(first) or math.isnan(second)):
            table[int(first), int(second)] += 1
    return table


@pytest.mark.parametrize("seed", SEEDS)
def test_cohen_kappa_matches_statsmodels(seed: int) -> None:
    codes = generated(seed, units=60, raters=2, categories=5, missing=0.1)
    values = [2, 3, 5, 8, 13]
    result = compute(relabel(codes, values), values, scale="interval")
    table = contingency(codes, 5)
    for key, options in [
        ("cohen_kappa", {}),
        ("cohen_kappa_linear", {"weights": values, "wt": "linear"}),
        ("cohen_kappa_quadratic", {"weights": values, "wt": "quadratic"}),
    ]:
        reference = cohens_kappa(table, **options)
        assert result[key] == pytest.approx(reference.kappa, abs=1e-9)
        assert result[key + "_se"] == pytest.approx(reference.std_kappa, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_kappa_matches_statsmodels(seed: int) -> None:
    codes = generated(seed, units=50, raters=6, categories=5, missing=0.0)
    result = compute(codes, [0, 1, 2, 3, 4], scale="nominal")
    table, _ = aggregate_raters(codes.astype(int), n_cat=5)
    assert result["fleiss_kappa"] == pytest.approx(fleiss_kappa(table), abs=1e-9)
    assert result["fleiss_kappa_gwet"] == pytest.approx(result["fleiss_kappa"], abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_gwet_family_matches_irrcac(seed: int) -> None:
    # Five declared levels, the top one never used: q = 5 in Gwet's chance agreement.
    codes = generated(seed, units=35, raters=4, categories=4, missing=0.3)
    values = [1.0, 2.0, 4.0, 5.0, 9.0]
    ratings = relabel(codes, values)
    result = compute(ratings, values, scale="interval")
    frame = pd.DataFrame([[np.nan if v is None else v for v in row] for row in ratings])
    # irrCAC drops unrated units itself, then edits the slice in place (pandas warns, and
    # warnings fail tests): hand it the rated units only. The engine ignores the others too.
    frame = frame.dropna(how="all").reset_index(drop=True)
    for key, weights, method in [
        ("gwet_ac1", "identity", "gwet"),
        ("gwet_ac2_linear", "linear", "gwet"),
        ("gwet_ac2_quadratic", "quadratic", "gwet"),
        ("gwet_ac2_ordinal", "ordinal", "gwet"),
        ("fleiss_kappa_gwet", "identity", "fleiss"),
    ]:
        cac = CAC(frame.copy(), weights=weights, categories=values, digits=15)
        reference = getattr(cac, method)()["est"]
        assert result[key] == pytest.approx(reference["coefficient_value"], abs=1e-9), key
        assert result[key + "_se"] == pytest.approx(reference["se"], abs=1e-9), key


@pytest.mark.parametrize("seed", SEEDS)
def test_icc_matches_pingouin(seed: int) -> None:
    codes = generated(seed, units=25, raters=4, categories=5, missing=0.05)
    result = compute(codes, [0, 1, 2, 3, 4], scale="interval")
    long = pd.DataFrame(
        [
            {"unit": u, "rater": r, "score": codes[u, r]}
            for u in range(codes.shape[0])
            for r in range(codes.shape[1])
        ]
    )
    reference = pingouin.intraclass_corr(
        long, targets="unit", raters="rater", ratings="score", nan_policy="omit"
    ).set_index("Type")["ICC"]
    absolute = "ICC(A,1)" if "ICC(A,1)" in reference else "ICC2"
    consistency = "ICC(C,1)" if "ICC(C,1)" in reference else "ICC3"
    assert result["icc_2_1"] == pytest.approx(reference[absolute], abs=1e-9)
    assert result["icc_3_1"] == pytest.approx(reference[consistency], abs=1e-9)


def test_percent_agreement_by_hand() -> None:
    # Unit 1: 3 raters give 2, 2, 3 -> 1 of 3 pairs exact, 3 of 3 within one.
    # Unit 2: 2, 4 -> 0 exact, 0 within one. Unit 3 has one rating and is not paired.
    result = compute([[2, 2, 3], [2, None, 4], [None, 1, None]], [1, 2, 3, 4])
    assert result["percent_exact"] == pytest.approx((1 / 3 + 0) / 2)
    assert result["percent_within_one"] == pytest.approx((1 + 0) / 2)


# ------------------------------------------------------------------------------------------
# Invariances (hypothesis)
# ------------------------------------------------------------------------------------------

cells = st.one_of(st.none(), st.sampled_from([1, 2, 3, 4]))
tables = st.integers(min_value=1, max_value=5).flatmap(
    lambda raters: st.lists(
        st.lists(cells, min_size=raters, max_size=raters), min_size=0, max_size=14
    )
)


def assert_contract(result: dict) -> None:
    for key, value in result.items():
        assert value is None or (type(value) is float and math.isfinite(value)), key
    for key in ("percent_exact", "percent_within_one"):
        if result.get(key) is not None:
            assert -1e-12 <= result[key] <= 1 + 1e-12
    if result.get("percent_within_one") is not None:
        assert result["percent_within_one"] >= result["percent_exact"] - 1e-12
    for key, value in result.items():
        if key.endswith("_se") and value is not None:
            assert value >= 0
        if key in CHANCE_CORRECTED and value is not None:
            assert value <= 1 + 1e-9, key


@settings(max_examples=120, deadline=None)
@given(tables, st.randoms(use_true_random=False))
def test_permuting_units_and_raters_changes_nothing(table: list[list], random) -> None:
    result = compute(table, [1, 2, 3, 4], scale="interval")
    assert_contract(result)
    rows = list(table)
    random.shuffle(rows)
    order = list(range(len(table[0]))) if table else []
    random.shuffle(order)
    shuffled = [[row[j] for j in order] for row in rows]
    again = compute(shuffled, [1, 2, 3, 4], scale="interval")
    for key in result:
        assert same(result[key], again[key]), key


@settings(max_examples=120, deadline=None)
@given(tables, st.permutations(["never", "rarely", "often", "always"]))
def test_relabelling_categories_leaves_nominal_statistics_unchanged(
    table: list[list], labels: list[str]
) -> None:
    result = compute(table, [1, 2, 3, 4], scale="nominal")
    renamed = [[None if v is None else labels[v - 1] for v in row] for row in table]
    again = compute(renamed, ["always", "often", "rarely", "never"], scale="nominal")
    for key in result:
        assert same(result[key], again[key]), key


@settings(max_examples=60, deadline=None)
@given(tables)
def test_empty_units_and_raters_change_nothing(table: list[list]) -> None:
    result = compute(table, [1, 2, 3, 4], scale="ordinal")
    width = len(table[0]) if table else 1
    padded = [[*row, None] for row in table] + [[None] * (width + 1)]
    assert compute(padded, [1, 2, 3, 4], scale="ordinal") == result


# ------------------------------------------------------------------------------------------
# Degenerate inputs: undefined is None, never 0, 1 or NaN
# ------------------------------------------------------------------------------------------


def test_everyone_uses_one_level_is_the_kappa_paradox() -> None:
    result = compute([[3, 3, 3]] * 10, [1, 2, 3, 4], scale="interval")
    assert result["percent_exact"] == 1.0
    assert result["percent_within_one"] == 1.0
    for key in (
        "fleiss_kappa",
        "fleiss_kappa_gwet",
        "fleiss_kappa_gwet_se",
        "krippendorff_alpha_nominal",
        "krippendorff_alpha_ordinal",
        "krippendorff_alpha_interval",
        "icc_2_1",
        "icc_3_1",
    ):
        assert result[key] is None, key
    # AC1's chance agreement is sum pi_k (1 - pi_k) / (q - 1) = 0 here: it stays defined.
    assert result["gwet_ac1"] == 1.0
    assert result["gwet_ac1_se"] == 0.0


def test_two_raters_who_always_give_the_same_single_level() -> None:
    result = compute([[2, 2]] * 5, [1, 2, 3], scale="interval")
    assert result["percent_exact"] == 1.0
    for key in ("cohen_kappa", "cohen_kappa_se", "cohen_kappa_linear", "cohen_kappa_quadratic"):
        assert result[key] is None


def test_one_level_dominating_gives_high_agreement_and_low_kappa() -> None:
    ratings = [[3, 3]] * 18 + [[3, 2], [2, 3]]
    result = compute(ratings, [1, 2, 3, 4], scale="ordinal")
    assert result["percent_exact"] == pytest.approx(0.9)
    assert result["cohen_kappa"] == pytest.approx(-0.0526315789, abs=1e-9)
    assert result["gwet_ac1"] > 0.85


@pytest.mark.parametrize(
    "ratings",
    [
        [],
        [[]],
        [[None, None], [None, None]],
        np.full((3, 4), np.nan),
        [[1], [2], [3], [4]],  # one rater
        [[1, None], [None, 2], [3, None]],  # every unit has a single rating
    ],
    ids=["empty", "no-raters", "all-missing", "nan-array", "one-rater", "single-ratings"],
)
def test_nothing_to_pair_gives_every_statistic_none(ratings) -> None:
    result = compute(ratings, [1, 2, 3, 4], scale="ratio")
    assert result
    assert all(value is None for value in result.values()), result


def test_one_pairable_unit_gives_chance_corrected_statistics_none() -> None:
    result = compute([[1, 2], [3, None]], [1, 2, 3, 4], scale="interval")
    assert result["percent_exact"] == 0.0
    assert result["percent_within_one"] == 1.0
    for key in [*CHANCE_CORRECTED[:-1], "gwet_ac1", "icc_2_1", "icc_3_1"]:
        assert result[key] is None, key


def test_two_units_only() -> None:
    result = compute([[1, 1], [2, 2]], [1, 2], scale="interval")
    assert result["percent_exact"] == 1.0
    assert result["cohen_kappa"] == 1.0
    assert result["krippendorff_alpha_nominal"] == 1.0
    assert result["icc_2_1"] == 1.0
    result = compute([[1, 2], [2, 1]], [1, 2], scale="interval")
    assert result["cohen_kappa"] == -1.0
    assert result["krippendorff_alpha_nominal"] == pytest.approx(-0.5)


def test_units_with_a_single_rating_count_in_gwet_not_in_alpha() -> None:
    full = [[1, 1, 2], [2, 2, 2], [3, 3, 4], [4, 4, 4]]
    lone = [*full, [1, None, None], [1, None, None]]
    with_lone, without = compute(lone, [1, 2, 3, 4]), compute(full, [1, 2, 3, 4])
    assert with_lone["krippendorff_alpha_ordinal"] == without["krippendorff_alpha_ordinal"]
    assert with_lone["percent_exact"] == without["percent_exact"]
    # Gwet's classification probabilities pi_k average over every rated unit.
    assert with_lone["gwet_ac1"] != pytest.approx(without["gwet_ac1"])
    assert with_lone["fleiss_kappa"] is None  # unequal numbers of ratings
    assert without["fleiss_kappa"] is not None


def test_all_missing_column_is_not_a_rater() -> None:
    result = compute([[1, None, 1], [2, None, 3], [3, None, 3]], [1, 2, 3])
    assert result["cohen_kappa"] is not None
    assert result == compute([[1, 1], [2, 3], [3, 3]], [1, 2, 3])


def test_three_raters_have_no_cohen_kappa() -> None:
    result = compute([[1, 2, 2], [2, 2, 3], [3, 3, 3]], [1, 2, 3])
    assert result["cohen_kappa"] is None
    assert result["cohen_kappa_quadratic_se"] is None
    assert result["fleiss_kappa"] is not None


def test_single_declared_category() -> None:
    result = compute([[1, 1], [1, 1]], [1], scale="interval")
    assert result["percent_exact"] == 1.0
    assert all(v is None for k, v in result.items() if not k.startswith("percent"))


def test_string_categories() -> None:
    levels = ["beginning", "developing", "proficient", "exemplary"]
    ratings = [
        ["developing", "developing", "proficient"],
        ["exemplary", "exemplary", "exemplary"],
        ["beginning", "developing", None],
        ["proficient", "proficient", "proficient"],
    ]
    result = compute(ratings, levels, scale="ordinal")
    assert set(result) == set(NOMINAL_KEYS + ORDINAL_ONLY)
    coded = [[None if v is None else levels.index(v) + 1 for v in row] for row in ratings]
    numeric = compute(coded, [1, 2, 3, 4], scale="ordinal")
    for key in result:
        assert same(result[key], numeric[key]), key


def test_numpy_and_list_inputs_agree() -> None:
    codes = generated(11, units=20, raters=3, categories=4)
    as_lists = relabel(codes, [1, 2, 3, 4])
    assert compute(codes + 1, [1, 2, 3, 4]) == compute(as_lists, [1, 2, 3, 4])
    assert compute(np.array(as_lists, dtype=object), [1, 2, 3, 4]) == compute(
        as_lists, [1, 2, 3, 4]
    )


def test_numbers_match_categories_by_value() -> None:
    assert compute([[1.0, 2], [2, 2.0]], [1, 2]) == compute([[1, 2], [2, 2]], [1, 2])


# ------------------------------------------------------------------------------------------
# Input errors
# ------------------------------------------------------------------------------------------


def test_unknown_statistic_names_it_and_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown statistic 'kappa'.*percent_exact"):
        compute([[1, 1]], [1, 2], statistics=["kappa"])


def test_statistic_not_applicable_to_scale() -> None:
    with pytest.raises(ValueError, match=r"'icc_2_1' does not apply.*'nominal'.*gwet_ac1"):
        compute([[1, 1]], [1, 2], scale="nominal", statistics=["icc_2_1"])
    with pytest.raises(ValueError, match=r"'krippendorff_alpha_interval' does not apply"):
        compute(
            [["a", "b"]], ["a", "b"], scale="ordinal", statistics=["krippendorff_alpha_interval"]
        )


def test_rating_not_among_categories_names_value_and_position() -> None:
    with pytest.raises(ValueError, match=r"rating 5 at unit 1, rater 2 .*\[1, 2, 3, 4\]"):
        compute([[1, 2, 3], [1, 2, 5]], [1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"rating 5\.0 at unit 0, rater 1"):
        compute(np.array([[1.0, 5.0]]), [1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"rating 'maybe' at unit 0, rater 0"):
        compute([["maybe", "yes"]], ["yes", "no"], scale="nominal")
    with pytest.raises(ValueError, match=r"rating '1' at unit 0, rater 0"):
        compute([["1", 2]], [1, 2])
    with pytest.raises(ValueError, match=r"rating True"):
        compute([[True, 1]], [1, 2])


@pytest.mark.parametrize(
    ("categories", "scale", "message"),
    [
        ([1, 2], "likert", r"unknown scale 'likert'.*nominal, ordinal, interval, ratio"),
        ([], "ordinal", r"categories is empty"),
        (["low", "high"], "interval", r"interval scale needs numeric categories"),
        ([1, 2, 2], "ordinal", r"category 2 is declared twice"),
        ([1, "two"], "nominal", r"all numbers or all strings"),
        ([1, 3, 2], "ordinal", r"must be listed in order"),
        ([-1, 0, 1], "ratio", r"non-negative"),
        ([1, float("nan")], "nominal", r"not a finite number"),
        ("1234", "ordinal", r"not a string"),
    ],
)
def test_bad_categories(categories, scale: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute([[1, 1]], categories, scale=scale)


def test_descending_numeric_categories_are_an_order() -> None:
    up = compute([[1, 2], [2, 3], [3, 3]], [1, 2, 3])
    down = compute([[1, 2], [2, 3], [3, 3]], [3, 2, 1])
    for key in up:
        assert same(up[key], down[key]), key


def test_ragged_rows() -> None:
    with pytest.raises(ValueError, match="every row the same length"):
        compute([[1, 2], [1]], [1, 2])


# ------------------------------------------------------------------------------------------
# Laziness and speed
# ------------------------------------------------------------------------------------------


def test_one_statistic_does_not_pay_for_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("computed a statistic nobody asked for")

    for name in ("chance", "chance_se", "cohen", "cohen_se", "fleiss_classic", "icc"):
        monkeypatch.setattr(agreement._Ratings, name, forbidden)
    monkeypatch.setattr(agreement._Ratings, "anova", property(forbidden))
    result = compute([[1, 2], [2, 2], [3, 3]], [1, 2, 3], statistics=["krippendorff_alpha_ordinal"])
    assert result["krippendorff_alpha_ordinal"] is not None


def test_district_scale_input_is_fast() -> None:
    codes = generated(2024, units=2000, raters=10, categories=4, missing=0.1)
    as_lists = relabel(codes, [1, 2, 3, 4])
    started = time.perf_counter()
    result = compute(as_lists, [1, 2, 3, 4], scale="interval")
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.3f}s"
    assert result["krippendorff_alpha_ordinal"] is not None


# ------------------------------------------------------------------------------------------
# Bootstrap interval
# ------------------------------------------------------------------------------------------


def test_alpha_interval_is_reproducible_and_brackets_the_estimate() -> None:
    codes = generated(8, units=60, raters=4, categories=4, missing=0.2)
    first = alpha_interval(codes, [0, 1, 2, 3], seed=42, samples=400)
    assert first == alpha_interval(codes, [0, 1, 2, 3], seed=42, samples=400)
    assert first != alpha_interval(codes, [0, 1, 2, 3], seed=43, samples=400)
    assert all(type(bound) is float for bound in first)
    point = compute(codes, [0, 1, 2, 3], statistics=["krippendorff_alpha_ordinal"])
    assert first[0] < point["krippendorff_alpha_ordinal"] < first[1]
    narrow = alpha_interval(codes, [0, 1, 2, 3], level=0.5, seed=42, samples=400)
    assert first[0] < narrow[0] < narrow[1] < first[1]


@pytest.mark.parametrize("metric", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_interval_every_metric(metric: str) -> None:
    codes = generated(9, units=40, raters=3, categories=4)
    low, high = alpha_interval(codes + 1, [1, 2, 3, 4], metric=metric, samples=200)
    point = compute(codes + 1, [1, 2, 3, 4], scale="ratio")[f"krippendorff_alpha_{metric}"]
    assert low <= point <= high


def test_alpha_interval_undefined_and_errors() -> None:
    assert alpha_interval([[2, 2]] * 5, [1, 2, 3]) is None
    assert alpha_interval([[1], [2]], [1, 2, 3]) is None
    with pytest.raises(ValueError, match="unknown metric"):
        alpha_interval([[1, 2]], [1, 2], metric="cosine")
    with pytest.raises(ValueError, match="does not apply"):
        alpha_interval([["a", "b"]], ["a", "b"], metric="interval", scale="ordinal")
    with pytest.raises(ValueError, match="level"):
        alpha_interval([[1, 2]], [1, 2], level=1.5)
