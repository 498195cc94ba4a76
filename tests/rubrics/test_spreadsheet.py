"""Rubrics as spreadsheets: .xlsx workbooks and CSV folders, read and written."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from observe import paths
from observe.rubrics.export import to_yaml
from observe.rubrics.format import RubricFileError, parse_rubric
from observe.rubrics.spreadsheet import (
    MAX_ROWS,
    SHEETS,
    read_csv_folder,
    read_workbook,
    write_workbook,
)
from tests.rubrics.conftest import VALID

SAMPLES = ("portrait-of-a-graduate.yaml", "quick-look-fors.yaml")


def valid_workbook() -> openpyxl.Workbook:
    data = write_workbook(parse_rubric(VALID, "test.yaml").document)
    return openpyxl.load_workbook(io.BytesIO(data))


def saved(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problems_of(data: bytes, name: str = "ours.xlsx") -> list[str]:
    with pytest.raises(RubricFileError) as caught:
        read_workbook(data, name)
    return caught.value.problems


@pytest.fixture
def edit() -> Callable[[Callable[[openpyxl.Workbook], None]], list[str]]:
    """Change the valid workbook in one place; return the problems it then has."""

    def change(how: Callable[[openpyxl.Workbook], None]) -> list[str]:
        workbook = valid_workbook()
        how(workbook)
        return problems_of(saved(workbook))

    return change


# --- reading ----------------------------------------------------------------------------------


def test_a_workbook_reads_as_the_same_document_as_the_yaml_file():
    parsed = parse_rubric(VALID, "test.yaml")
    read = read_workbook(saved(valid_workbook()), "test.xlsx")
    assert read.document == parsed.document
    assert read.content_hash == parsed.content_hash
    assert read.source_name == "test.xlsx"
    # The text kept with the version is the YAML equivalent, naming the workbook.
    assert read.source_text.startswith("# observe wrote this from the spreadsheet test.xlsx")
    assert parse_rubric(read.source_text, "x").content_hash == parsed.content_hash


def test_the_layout_as_written_has_every_sheet_and_an_about_sheet():
    workbook = valid_workbook()
    assert workbook.sheetnames == [s.name for s in SHEETS] + ["about"]
    look_fors = workbook["look-fors"]
    header = [c.value for c in look_fors[1]]
    assert header == [
        "competency",
        "key",
        "kind",
        "text",
        "dimensions",
        "evidence prompt",
        "not observed",
        "required",
        "continues",
        "descriptor 1",
        "descriptor 2",
        "descriptor 3",
    ]
    assert [c.value for c in look_fors[2]][:5] == [
        "thinker",
        "explain",
        "student",
        "Students explain their reasoning.",
        "power, achievement",
    ]
    assert look_fors["L2"].value == "Students explain without prompting."
    assert look_fors["G3"].value is False  # the look-for's own "not observed"


def test_headings_are_matched_loosely_and_values_typed_as_people_type_them(edit):
    workbook = valid_workbook()
    ws = workbook["look-fors"]
    ws["F1"] = "Evidence_Prompt"
    ws["C2"] = "Student"
    ws["E2"] = " Power ,achievement, "
    ws["G3"] = "false"
    workbook["scale"]["A2"] = "1"  # a number typed into a text cell
    workbook["scale"]["B2"] = 1  # a label typed as a number
    workbook["scale"]["B3"] = 2
    workbook["scale"]["B4"] = 3
    workbook.move_sheet("glossary", offset=-4)
    read = read_workbook(saved(workbook), "x.xlsx")
    criterion = read.document["competencies"][0]["criteria"][0]
    assert criterion["kind"] == "student"
    assert criterion["dimensions"] == ["power", "achievement"]
    assert [lv["label"] for lv in read.document["scale"]["levels"]] == ["1", "2", "3"]


def test_blank_rows_are_skipped_and_optional_sheets_may_be_left_out():
    workbook = valid_workbook()
    workbook["look-fors"].insert_rows(3)
    del workbook["glossary"]
    del workbook["context fields"]
    del workbook["about"]
    read = read_workbook(saved(workbook), "x.xlsx")
    assert len(read.document["competencies"][0]["criteria"]) == 2
    assert read.document["glossary"] == []
    assert read.document["context_fields"] == []


def test_options_are_one_per_line():
    read = read_workbook(saved(valid_workbook()), "x.xlsx")
    assert read.document["context_fields"][0]["options"] == ["Whole class", "Pairs"]


def test_a_look_for_may_have_a_scale_of_its_own():
    workbook = valid_workbook()
    ws = workbook["scale"]
    ws.append([0, "No", None, "ask"])
    ws.append([1, "Yes", "Seen.", "ask"])
    read = read_workbook(saved(workbook), "x.xlsx")
    own = read.document["competencies"][0]["criteria"][1]["scale"]
    assert own == {
        "not_observed": False,
        "levels": [
            {"value": 0, "label": "No", "descriptor": ""},
            {"value": 1, "label": "Yes", "descriptor": "Seen."},
        ],
    }


# --- problems name sheet, row and column ------------------------------------------------------


def test_validation_problems_name_the_cell(edit):
    def break_it(workbook):
        look_fors = workbook["look-fors"]
        look_fors["C2"] = "teacher"
        look_fors["E3"] = "access, equity"
        look_fors["D3"] = None
        look_fors["B3"] = "explain"
        workbook["scale"]["A4"] = 2
        workbook["rubric"]["B3"] = "Test Rubric!"

    assert edit(break_it) == [
        "ours.xlsx: rubric!B3: must be a slug of lowercase letters, digits and hyphens, "
        "starting with a letter or digit; got 'Test Rubric!'",
        "ours.xlsx: look-fors!C2: must be student or adult; got 'teacher'",
        "ours.xlsx: look-fors!B3: criterion key 'explain' is repeated (keys must be unique "
        "across the rubric); first used at look-fors!B2",
        "ours.xlsx: look-fors!D3: must not be empty",
        "ours.xlsx: look-fors!E3: unknown equity dimension 'equity'; use identity, power, "
        "access, achievement",
        "ours.xlsx: scale!A4: level value 2 is repeated",
    ]


def test_descriptor_for_a_level_not_on_the_scale_names_its_cell(edit):
    def break_it(workbook):
        workbook["look-fors"]["M1"] = "descriptor 4"
        workbook["look-fors"]["M3"] = "Always."

    assert edit(break_it) == [
        "ours.xlsx: look-fors!M3: 4 is not a level value on this criterion's scale (1, 2, 3)"
    ]


def test_repeated_label_names_the_first_cell(edit):
    def break_it(workbook):
        workbook["scale"]["B3"] = "low"

    assert edit(break_it) == ["ours.xlsx: scale!B3: label 'low' is already used by scale!B2"]


def test_references_between_sheets_are_checked(edit):
    def break_it(workbook):
        workbook["look-fors"]["A3"] = "thinkr"
        workbook["look-fors"]["C3"] = "nobody"
        workbook["scale"].append([1, "x", None, "nothing"])

    assert edit(break_it) == [
        "ours.xlsx: look-fors!A3: no competency with key 'thinkr' on the competencies sheet",
        # The look-for is checked even though its competency is unknown.
        "ours.xlsx: look-fors!C3: must be student or adult; got 'nobody'",
        "ours.xlsx: scale!D5: no look-for with key 'nothing' on the look-fors sheet",
    ]


def test_a_competency_without_look_fors(edit):
    def break_it(workbook):
        workbook["competencies"].append(["talker", "Talker"])

    assert edit(break_it) == ["ours.xlsx: competencies!A3: no row of the look-fors sheet names it"]


def test_missing_rubric_fields_and_wrong_types(edit):
    def break_it(workbook):
        workbook["rubric"]["B6"] = "maybe"  # not observed
        workbook["rubric"].delete_rows(4)  # title
        workbook["context fields"]["D2"] = 1

    assert edit(break_it) == [
        "ours.xlsx: rubric: add a row whose field is 'title'",
        "ours.xlsx: rubric!B5: must be true or false",
        "ours.xlsx: 'context fields'!D2: must be true or false",
    ]


def test_headings_and_sheets_are_checked(edit):
    def break_it(workbook):
        workbook["look-fors"]["F1"] = "evidence promt"
        workbook["look-fors"]["M1"] = "descriptor high"
        workbook.create_sheet("Sheet1")

    problems = edit(break_it)
    assert problems[0].startswith(
        "ours.xlsx: look-fors!F1: unknown column 'evidence promt'; columns here: competency, key,"
    )
    assert problems[1].startswith("ours.xlsx: look-fors!M1: unknown column 'descriptor high'")
    assert problems[2].startswith("ours.xlsx: Sheet1: unknown sheet 'Sheet1'; sheets here: rubric,")


def test_a_missing_sheet_or_column_stops_before_the_rows(edit):
    def break_it(workbook):
        del workbook["scale"]
        workbook["look-fors"]["D1"] = None
        workbook["look-fors"].delete_cols(4)

    assert edit(break_it) == [
        "ours.xlsx: look-fors!A1: the heading row has no 'text' column",
        "ours.xlsx: scale: the 'scale' sheet is missing",
    ]


def test_a_date_where_text_belongs_says_so(edit):
    import datetime

    problems = edit(
        lambda wb: wb["glossary"].cell(row=2, column=2, value=datetime.date(2026, 1, 2))
    )
    assert problems == [
        "ours.xlsx: glossary!B2: must be text; this cell holds a date or time (format it as text)"
    ]


# --- untrusted workbooks ----------------------------------------------------------------------


def test_formulas_are_refused_not_evaluated(edit):
    def break_it(workbook):
        workbook["look-fors"]["D2"] = '=HYPERLINK("http://example.com", "x")'
        workbook["scale"]["A2"] = "=1+0"

    assert edit(break_it) == [
        "ours.xlsx: look-fors!D2: holds a formula; observe does not calculate formulas, so type "
        "the value itself (copy the cell, then Paste Special > Values)",
        "ours.xlsx: scale!A2: holds a formula; observe does not calculate formulas, so type "
        "the value itself (copy the cell, then Paste Special > Values)",
    ]


def test_text_that_starts_with_equals_is_written_as_text_and_reads_back():
    document = parse_rubric(VALID.replace("Rarely seen.", "'=Rarely seen.'"), "t").document
    read = read_workbook(write_workbook(document), "x.xlsx")
    assert read.document["scale"]["levels"][0]["descriptor"] == "=Rarely seen."


def test_links_to_other_workbooks_are_refused():
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(saved(valid_workbook()))) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/externalLinks/externalLink1.xml", "<externalLink/>")
    (problem,) = problems_of(buffer.getvalue())
    assert problem.startswith("ours.xlsx: the workbook links to other workbooks")


def test_size_limits():
    assert problems_of(b"x" * (2 * 1024 * 1024 + 1)) == [
        "ours.xlsx: the file is 2,097,153 bytes; a rubric workbook must be under 2 MB"
    ]
    # A small file that unpacks to far more than any rubric ("zip bomb").
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (33 * 1024 * 1024))
    assert len(buffer.getvalue()) < 100_000
    (problem,) = problems_of(buffer.getvalue())
    assert problem == "ours.xlsx: the workbook unpacks to more than 33,554,432 bytes (32 MB)"
    # The same, with the sizes in the file's directory understated: refused all the same.
    patched = bytearray(buffer.getvalue())
    size = (33 * 1024 * 1024).to_bytes(4, "little")
    assert patched.count(size) == 2  # the local header and the central directory
    patched = patched.replace(size, (1000).to_bytes(4, "little"))
    (problem,) = problems_of(bytes(patched))
    assert problem == (
        "ours.xlsx: not a readable Excel workbook (.xlsx): "
        "Bad CRC-32 for file 'xl/worksheets/sheet1.xml'"
    )

    workbook = valid_workbook()
    workbook["glossary"].cell(row=1_000_000, column=1, value="far down")
    started = time.perf_counter()
    assert problems_of(saved(workbook)) == [
        f"ours.xlsx: sheet 'glossary' goes past row {MAX_ROWS:,}; delete the rows below the "
        "rubric (even empty rows with formatting count)"
    ]
    assert time.perf_counter() - started < 2  # it stops at the limit, not at row 1,000,000
    workbook = valid_workbook()
    workbook["glossary"].cell(row=2, column=16_000, value="far right")
    assert problems_of(saved(workbook)) == [
        "ours.xlsx: sheet 'glossary' has cells past column BH; delete the columns to the right "
        "of the rubric"
    ]


def test_not_a_workbook():
    assert problems_of(b"format: observe-rubric/1\n") == [
        "ours.xlsx: not an Excel workbook (.xlsx)"
    ]
    assert problems_of(b"\xd0\xcf\x11\xe0" + b"\0" * 100) == [
        "ours.xlsx: not an Excel workbook (.xlsx) (an old .xls file: save it as .xlsx)"
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    (problem,) = problems_of(buffer.getvalue())
    assert problem.startswith("ours.xlsx: not a readable Excel workbook (.xlsx)")


# --- round trip ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_yaml_to_xlsx_to_yaml_is_lossless(name):
    original = parse_rubric((paths.SAMPLE_RUBRICS / name).read_text(encoding="utf-8"), name)
    workbook = read_workbook(write_workbook(original.document), "x.xlsx")
    assert workbook.document == original.document
    again = parse_rubric(to_yaml(workbook.document), "again.yaml")
    assert again.document == original.document
    assert again.content_hash == workbook.content_hash == original.content_hash


# --- CSV folders -----------------------------------------------------------------------------


def write_csv_folder(folder: Path, workbook: openpyxl.Workbook) -> None:
    """Each sheet as "Save as CSV UTF-8" writes it (with a byte-order mark)."""
    folder.mkdir()
    for ws in workbook.worksheets:
        with (folder / f"{ws.title.replace(' ', '-')}.csv").open(
            "w", encoding="utf-8-sig", newline=""
        ) as handle:
            writer = csv.writer(handle)
            for row in ws.iter_rows(values_only=True):
                writer.writerow(
                    ["" if v is None else str(v).upper() if isinstance(v, bool) else v for v in row]
                )


@pytest.mark.parametrize("name", SAMPLES)
def test_a_csv_folder_reads_as_the_same_rubric(tmp_path, name):
    original = parse_rubric((paths.SAMPLE_RUBRICS / name).read_text(encoding="utf-8"), name)
    workbook = openpyxl.load_workbook(io.BytesIO(write_workbook(original.document)))
    write_csv_folder(tmp_path / "ours", workbook)
    (tmp_path / "ours" / "README.md").write_text("not read")
    read = read_csv_folder(tmp_path / "ours", "ours")
    assert read.content_hash == original.content_hash


def test_csv_problems_name_the_file_row_and_column(tmp_path):
    workbook = valid_workbook()
    workbook["look-fors"]["E3"] = "equity"
    write_csv_folder(tmp_path / "ours", workbook)
    (tmp_path / "ours" / "glossary.csv").write_bytes(b"term,definition\nPower,caf\xe9\n")
    with pytest.raises(RubricFileError) as caught:
        read_csv_folder(tmp_path / "ours", "ours")
    assert caught.value.problems == [
        "ours: glossary.csv: not UTF-8 text (at byte offset 25); save it as CSV UTF-8"
    ]
    (tmp_path / "ours" / "glossary.csv").write_text("term,definition\nPower,Voice.\n")
    with pytest.raises(RubricFileError) as caught:
        read_csv_folder(tmp_path / "ours", "ours")
    assert caught.value.problems == [
        "ours: look-fors.csv!E3: unknown equity dimension 'equity'; use identity, power, "
        "access, achievement"
    ]


def test_required_look_fors_round_trip_through_a_workbook(edit):
    text = VALID.replace(
        "        scale: {not_observed: false}\n",
        "        scale: {not_observed: false}\n        required: true\n",
    )
    original = parse_rubric(text, "test.yaml")
    workbook = openpyxl.load_workbook(io.BytesIO(write_workbook(original.document)))
    look_fors = workbook["look-fors"]
    assert look_fors["H1"].value == "required"
    assert (look_fors["H2"].value, look_fors["H3"].value) == (None, True)  # empty: not required
    read = read_workbook(saved(workbook), "test.xlsx")
    assert read.content_hash == original.content_hash
    assert read.document["competencies"][0]["criteria"][1]["required"] is True
    # FALSE typed out is the default, as in YAML: the same content as an empty cell.
    look_fors["H3"] = False
    assert (
        read_workbook(saved(workbook), "x.xlsx").content_hash
        == parse_rubric(VALID, "x").content_hash
    )
    # and the YAML export says it
    assert "    required: true\n" in to_yaml(original.document)
    assert parse_rubric(to_yaml(original.document), "y").content_hash == original.content_hash

    def maybe(workbook):
        workbook["look-fors"]["H2"] = "maybe"

    assert edit(maybe) == ["ours.xlsx: look-fors!H2: must be true or false"]
