"""``observe agreement``, invoked directly through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from observe.calibration.agreement import compute
from observe.calibration.cli import agreement_command

# Krippendorff 2011's reliability data, units as rows (see test_agreement_reference.py).
KRIPPENDORFF_CSV = """\
unit,A,B,C,D
1,1,1,,1
2,2,2,3,2
3,3,3,3,3
4,3,3,3,3
5,2,2,2,2
6,1,2,3,4
7,4,4,4,4
8,1,1,2,1
9,2,2,2,2
10,,5,5,5
11,,,1,1
12,,3,,
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(agreement_command, list(args))


@pytest.fixture
def ratings_csv(tmp_path: Path) -> Path:
    path = tmp_path / "ratings.csv"
    path.write_text(KRIPPENDORFF_CSV, encoding="utf-8")
    return path


def write(tmp_path: Path, text: str, name: str = "ratings.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_table_lists_every_statistic_with_notes(ratings_csv: Path) -> None:
    result = run(str(ratings_csv), "--categories", "1,2,3,4,5")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "12 units rated (11 by two or more raters), 4 raters; ordinal scale, "
        "categories 1, 2, 3, 4, 5"
    )
    rows = {line.split()[0]: line for line in lines[3:]}
    assert "0.815" in rows["krippendorff_alpha_ordinal"]
    assert ">= 0.800 reliable" in rows["krippendorff_alpha_ordinal"]
    assert "0.818" in rows["percent_exact"]
    assert "undefined" in rows["cohen_kappa"]  # four raters
    assert "undefined" in rows["fleiss_kappa"]  # unequal numbers of ratings
    assert "standard error" in rows["gwet_ac1_se"]
    assert "krippendorff_alpha_ratio" not in rows  # ordinal scale
    # Values line up in one column.
    header = lines[2]
    assert header.startswith("statistic") and "value" in header
    ends = {line.index(" 0.") + 6 for line in lines[3:] if " 0." in line}
    assert len(ends) == 1


def test_json_has_the_same_keys_as_the_engine(ratings_csv: Path) -> None:
    result = run(str(ratings_csv), "--categories", "1,2,3,4,5", "--scale", "ratio", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    rows = [
        [None if cell == "" else int(cell) for cell in line.split(",")[1:]]
        for line in KRIPPENDORFF_CSV.splitlines()[1:]
    ]
    assert printed == compute(rows, [1, 2, 3, 4, 5], scale="ratio")
    assert printed["cohen_kappa"] is None
    assert printed["krippendorff_alpha_ratio"] == pytest.approx(0.797, abs=5e-4)


def test_selected_statistics(ratings_csv: Path) -> None:
    result = run(
        str(ratings_csv),
        "--categories",
        "1,2,3,4,5",
        "--statistic",
        "gwet_ac1",
        "--statistic",
        "percent_within_one",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.output)) == ["percent_within_one", "gwet_ac1"]


def test_string_categories_nominal(tmp_path: Path) -> None:
    path = write(tmp_path, "lesson,Ana,Ben\nL1,yes,yes\nL2,no,yes\nL3,no,no\nL4,yes,\n")
    result = run(str(path), "--categories", "yes,no", "--scale", "nominal", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["percent_exact"] == pytest.approx(2 / 3)
    assert "percent_within_one" not in printed


def test_decimal_cells_match_integer_categories(tmp_path: Path) -> None:
    path = write(tmp_path, "unit,a,b\n1,1.0,1\n2,2,2.0\n3, 3 ,2\n")
    result = run(str(path), "--categories", "1,2,3", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["percent_exact"] == pytest.approx(2 / 3)


def test_undefined_when_everyone_agrees_on_one_level(tmp_path: Path) -> None:
    path = write(tmp_path, "unit,a,b,c\n1,2,2,2\n2,2,2,2\n3,2,2,2\n")
    result = run(str(path), "--categories", "1,2,3,4")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines()[3:]}
    assert "1.000" in rows["percent_exact"]
    assert "undefined" in rows["krippendorff_alpha_ordinal"]


@pytest.mark.parametrize(
    ("text", "categories", "extra", "message"),
    [
        ("unit,A,B\n1,1,2\n2,1\n", "1,2", [], "line 3: 2 cells, but the header has 3"),
        (
            "unit,Ms. Lee,Mr. Cho\n1,1,2\n2,1,7\n",
            "1,2,3",
            [],
            "line 3, rater 'Mr. Cho': '7' is not one of the categories 1, 2, 3",
        ),
        ("unit,A,B\n1,1,high\n", "1,2", [], "line 2, rater 'B': 'high' is not one"),
        ("unit,A\n1,1\n", "", [], "--categories is empty"),
        ("unit,A\n1,1\n", "1,,2", [], "--categories has an empty level"),
        ("unit,A\n1,low\n", "low,high", ["--scale", "interval"], "needs numeric categories"),
        ("unit,A\n1,1\n", "1,2,2", [], "declared twice"),
        ("", "1,2", [], "is empty"),
        ("unit\n1\n", "1,2", [], "at least one rater column"),
        ("unit,A,B\n1,1,2\n", "1,2", ["--statistic", "kappa"], "unknown statistic 'kappa'"),
        (
            "unit,A,B\n1,1,2\n",
            "1,2",
            ["--scale", "nominal", "--statistic", "icc_2_1"],
            "'icc_2_1' does not apply",
        ),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, text: str, categories: str, extra: list[str], message: str
) -> None:
    path = write(tmp_path, text)
    result = run(str(path), "--categories", categories, *extra)
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert message in result.output


def test_missing_file(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.csv"), "--categories", "1,2")
    assert result.exit_code == 1
    assert "cannot read" in result.output and "nope.csv" in result.output


def test_directory_and_binary_file(tmp_path: Path) -> None:
    result = run(str(tmp_path), "--categories", "1,2")
    assert result.exit_code == 1
    assert "cannot read" in result.output
    binary = tmp_path / "scores.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00\x81 not text")
    result = run(str(binary), "--categories", "1,2")
    assert result.exit_code == 1
    assert "not a UTF-8 text file" in result.output


def test_unknown_scale_is_a_usage_error(ratings_csv: Path) -> None:
    result = run(str(ratings_csv), "--categories", "1,2", "--scale", "likert")
    assert result.exit_code == 2
    assert "likert" in result.output
