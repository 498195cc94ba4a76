"""Rubric files made to break something: every one is refused by name, before any database sees
it, the same way on both databases (``OBSERVE_TEST_DATABASE_URL``), never with a 500."""

from __future__ import annotations

import copy
import io
import os
import time
from typing import Any

import openpyxl
import pytest
import yaml
from sqlalchemy import Enum as SQLEnum
from sqlalchemy import String, func, select, update

from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation
from observe.rubrics import models
from observe.rubrics.format import (
    MAX_DEPTH,
    MAX_LEVEL,
    MAX_NAME,
    MAX_PROSE,
    MIN_LEVEL,
    RubricFileError,
    parse_rubric,
)
from observe.rubrics.models import Criterion, Rubric, RubricVersion
from observe.rubrics.operations import load_rubric_text, store_rubric
from observe.rubrics.spreadsheet import MAX_CELLS, read_workbook, write_workbook
from tests.conftest import make_version, push, setting  # noqa: F401 (fixtures)
from tests.rubrics.conftest import VALID
from tests.rubrics.test_format import problems
from tests.rubrics.test_upload import confirm, upload


def document() -> dict[str, Any]:
    return yaml.safe_load(VALID)


def text_of(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6)


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(RubricVersion))


def set_at(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def path_text(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# --- 1. level values fit a rating's column --------------------------------------------------


def test_level_values_beyond_the_range_are_refused_by_name():
    data = document()
    data["scale"]["levels"][1]["value"] = 4294967296
    data["scale"]["levels"][2]["value"] = 4294967297
    # Only the values are named: the look-for's descriptor for level 3 is not also reported.
    assert problems(text_of(data)) == [
        f"x.yaml: scale.levels[{i}].value (line {line}): a level value must be a whole number "
        f"from {MIN_LEVEL} to {MAX_LEVEL}; got {value}"
        for i, line, value in ((1, 9, 4294967296), (2, 12, 4294967297))
    ]
    data = document()
    data["scale"]["levels"][0]["value"] = MIN_LEVEL - 1
    assert "from -1000 to 1000; got -1001" in problems(text_of(data))[0]


def test_level_values_at_the_bounds_load_and_store():
    data = document()
    data["scale"]["levels"][0]["value"] = MIN_LEVEL
    data["scale"]["levels"][2]["value"] = MAX_LEVEL
    data["competencies"][0]["criteria"][0]["descriptors"] = {MAX_LEVEL: "At the top."}
    version = load_rubric_text(text_of(data), "bounds.yaml").version
    db.session.commit()
    criterion = db.session.scalars(select(Criterion).where(Criterion.key == "explain")).one()
    assert [level["value"] for level in criterion.levels] == [MIN_LEVEL, 2, MAX_LEVEL]
    assert version.document["scale"]["levels"][2]["value"] == MAX_LEVEL


def test_a_descriptor_for_a_level_beyond_the_range_is_refused():
    data = set_at(document(), ("competencies", 0, "criteria", 0, "descriptors"), {2**40: "x"})
    (found,) = problems(text_of(data))
    assert found.startswith(f"x.yaml: competencies[0].criteria[0].descriptors[{2**40}] (line ")
    assert found.endswith(f"a level value must be a whole number from {MIN_LEVEL} to {MAX_LEVEL}")


def test_a_pushed_level_beyond_the_rating_column_rejects_its_version_only(
    push,  # noqa: F811
    make_version,  # noqa: F811
    setting,  # noqa: F811
):
    # A rubric stored before levels were bounded: one look-for has a level of 2**40.
    criterion = db.session.scalars(
        select(Criterion).where(
            Criterion.rubric_version_id == setting.version.id,
            Criterion.key == "ct-explain-reasoning",
        )
    ).one()
    levels = [*criterion.levels, {"value": 2**40, "label": "Huge", "descriptor": ""}]
    db.session.execute(update(Criterion).where(Criterion.id == criterion.id).values(levels=levels))
    db.session.commit()

    good, bad = make_version(), make_version()
    bad["ratings"][0]["level"] = 2**40
    results = push(good, bad)["results"]
    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "rejected"
    assert results[1]["errors"] == [
        {
            "field": "ratings[0].level",
            "message": f"is out of range (at most {2**31 - 1} either side of 0)",
        }
    ]
    stored = db.session.scalars(select(Observation.id)).all()
    assert [str(i) for i in stored] == [good["observation_id"]]


# --- 2. text any database can store -----------------------------------------------------------

# Every text field of the format: its path in VALID and its maximum length.
TEXT_FIELDS = [
    (("title",), MAX_NAME),
    (("description",), MAX_PROSE),
    (("scale", "levels", 0, "label"), MAX_NAME),
    (("scale", "levels", 0, "descriptor"), MAX_PROSE),
    (("context_fields", 0, "label"), MAX_NAME),
    (("context_fields", 0, "options", 0), MAX_NAME),
    (("glossary", 0, "term"), MAX_NAME),
    (("glossary", 0, "definition"), MAX_PROSE),
    (("competencies", 0, "name"), MAX_NAME),
    (("competencies", 0, "description"), MAX_PROSE),
    (("competencies", 0, "criteria", 0, "text"), MAX_PROSE),
    (("competencies", 0, "criteria", 0, "evidence_prompt"), MAX_PROSE),
    (("competencies", 0, "criteria", 0, "descriptors", 3), MAX_PROSE),
]
TEXT_IDS = [path_text(path) for path, _ in TEXT_FIELDS]


@pytest.mark.parametrize(("path", "longest"), TEXT_FIELDS, ids=TEXT_IDS)
def test_text_longer_than_its_maximum_is_refused_by_name(path, longest):
    assert parse_rubric(text_of(set_at(document(), path, "x" * longest)), "x.yaml")
    (found,) = problems(text_of(set_at(document(), path, "x" * (longest + 1))))
    assert found.startswith(f"x.yaml: {path_text(path)} (line ")
    assert found.endswith(f"must be at most {longest:,} characters; this is {longest + 1:,}")


@pytest.mark.parametrize(("path", "longest"), TEXT_FIELDS, ids=TEXT_IDS)
@pytest.mark.parametrize(
    ("hostile", "message"),
    [
        ("a\x00b", "contains a NUL character, which cannot be stored"),
        ("a\ud800b", "contains an unpaired surrogate, which is not valid Unicode"),
    ],
    ids=["nul", "surrogate"],
)
def test_text_no_database_can_store_is_refused_by_name(path, longest, hostile, message):
    # Written as YAML escapes ("\0", "\ud800"), as a hostile file would.
    text = text_of(set_at(document(), path, "PLACEHOLDER"))
    escaped = hostile.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    escaped = escaped.replace("\x00", "\\0").replace("\ud800", "\\ud800")
    text = text.replace("PLACEHOLDER", f'"{escaped}"')
    (found,) = problems(text)
    assert found.startswith(f"x.yaml: {path_text(path)} (line ")
    assert found.endswith(message)


# Columns fed by a rubric field: (table, column) → where the field is in a rubric file.
FED_BY = {
    ("rubric", "key"): ("key",),
    ("rubric_version", "title"): ("title",),
    ("competency", "key"): ("competencies", 0, "key"),
    ("competency", "name"): ("competencies", 0, "name"),
    ("criterion", "key"): ("competencies", 0, "criteria", 0, "key"),
}
# Not rubric fields: a SHA-256 in hex, and the file's name (cut to its last 255 characters).
NOT_FED = {("rubric_version", "content_hash"), ("rubric_version", "source_name")}


def _bounded(kind: Any) -> bool:
    # Enums are checked as one of their values; Text has no length.
    return isinstance(kind, String) and not isinstance(kind, SQLEnum) and kind.length is not None


def _string_columns() -> dict[tuple[str, str], int]:
    found = {}
    for model in (models.Rubric, models.RubricVersion, models.Competency, models.Criterion):
        for column in model.__table__.columns:
            if _bounded(column.type):
                found[(model.__tablename__, column.name)] = column.type.length
    found.update(
        {
            (models.CriterionDimension.__tablename__, c.name): c.type.length
            for c in models.CriterionDimension.__table__.columns
            if _bounded(c.type)
        }
    )
    return found


def test_every_string_column_fed_by_a_rubric_field_has_its_maximum_in_the_format():
    columns = _string_columns()
    assert set(columns) == set(FED_BY) | NOT_FED, "a new String column: say what feeds it"
    for where, path in FED_BY.items():
        length = columns[where]
        slug = path[-1] == "key"
        fits = ("a" if slug else "x") * length
        data = set_at(document(), path, fits)
        parsed = parse_rubric(text_of(data), f"{where[0]}-{where[1]}.yaml")
        # And the database takes it (PostgreSQL refuses what does not fit).
        store_rubric(parsed)
        db.session.flush()
        (found,) = problems(text_of(set_at(document(), path, fits + fits[0])))
        assert found.startswith(f"x.yaml: {path_text(path)} (line "), where
        assert f"must be at most {length:,} characters" in found, where
    db.session.commit()
    assert versions() == len(FED_BY)


def test_a_title_too_long_for_its_column_is_refused_before_the_database():
    data = set_at(document(), ("title",), "T" * 201)
    with pytest.raises(RubricFileError):
        load_rubric_text(text_of(data), "long.yaml")
    assert versions() == 0


@pytest.fixture
def as_admin(client, admin, sign_in):
    sign_in(admin)
    return client


def test_an_upload_with_a_lone_surrogate_is_a_422_naming_the_field(as_admin):
    text = VALID.replace("title: Test Rubric", 'title: "Test \\ud800 Rubric"')
    response = upload(as_admin, text.encode("utf-8"), "odd.yaml")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "odd.yaml: title (line 3): contains an unpaired surrogate" in page
    assert versions() == 0


def test_an_upload_named_with_a_nul_loads_under_a_printable_name(as_admin):
    preview = upload(as_admin, VALID.encode("utf-8"), "odd\x00name.yaml")
    assert preview.status_code == 200
    response = confirm(as_admin, preview.get_data(as_text=True))
    assert response.status_code == 302
    version = db.session.scalars(select(RubricVersion)).one()
    assert version.source_name == "odd\\u0000name.yaml"


def test_the_cli_loads_a_file_whose_name_is_not_utf8(app, tmp_path):
    # Python reads the byte 0xff of a file name as the unpaired surrogate "\udcff".
    path = tmp_path / os.fsdecode(b"rubric-\xff.yaml")
    path.write_text(VALID, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["rubrics", "load", str(path)])
    assert result.exit_code == 0, result.output
    version = db.session.scalars(select(RubricVersion)).one()
    assert version.source_name.endswith("rubric-\\udcff.yaml")


def _workbook(change) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(write_workbook(parse_rubric(VALID, "t").document)))
    change(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_problems(data: bytes) -> list[str]:
    with pytest.raises(RubricFileError) as caught:
        read_workbook(data, "ours.xlsx")
    return caught.value.problems


def test_workbook_text_too_long_is_refused_naming_the_cell():
    def change(workbook):
        workbook["competencies"]["B2"] = "N" * 5000
        workbook["glossary"]["A2"] = "G" * 5000
        workbook["rubric"]["B3"] = "k" * 101  # the rubric's key

    assert workbook_problems(_workbook(change)) == [
        "ours.xlsx: rubric!B3: must be at most 100 characters; this is 101",
        "ours.xlsx: competencies!B2: must be at most 200 characters; this is 5,000",
        "ours.xlsx: glossary!A2: must be at most 200 characters; this is 5,000",
    ]


# --- 3. slugs are whole; downloads survive any stored key ------------------------------------


@pytest.mark.parametrize(
    "path", [("key",), ("competencies", 0, "key"), ("competencies", 0, "criteria", 0, "key")]
)
def test_a_slug_with_a_trailing_newline_is_refused(path):
    (found,) = problems(text_of(set_at(document(), path, "pg\n")))
    assert found.startswith(f"x.yaml: {path_text(path)} (line ")
    assert found.endswith("got 'pg\\n'")
    assert problems(text_of(set_at(document(), ("context_fields", 0, "key"), "pg\n")))


@pytest.mark.parametrize("form", ["yaml", "xlsx"])
def test_a_download_names_its_file_safely_whatever_key_was_stored(
    client, create_user, sign_in, form
):
    version = load_rubric_text(VALID, "test.yaml").version
    db.session.commit()
    # A key stored before keys were checked whole (or edited in the database).
    db.session.execute(
        update(Rubric).where(Rubric.id == version.rubric_id).values(key='pg\n"; x=\u00e9')
    )
    db.session.commit()
    sign_in(create_user(Role.OBSERVER))
    response = client.get(f"/rubrics/{version.id}/download.{form}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="pg-x--v1.{form}"'


# --- 4. nesting ---------------------------------------------------------------------------------


def test_yaml_nested_too_deeply_is_refused_with_its_place():
    (found,) = problems("[" * 100_000)
    assert found == (
        f"x.yaml: line 1, column {MAX_DEPTH + 1}: the file is nested too deeply (more than "
        f"{MAX_DEPTH} levels of lists and mappings); a rubric needs fewer than ten"
    )
    block = "".join(f"{'  ' * i}- \n" for i in range(3000))
    assert "nested too deeply" in problems(block)[0]


def test_a_number_too_long_for_python_to_read_is_refused_with_its_place():
    # int() refuses more than 4,300 digits; the file is refused before it gets there.
    (found,) = problems(VALID.replace("key: test-rubric", "key: " + "9" * 5000))
    assert found == (
        "x.yaml: line 2, column 6: a number of 5,000 characters; numbers in a rubric file "
        "have at most 100"
    )


def test_an_upload_nested_too_deeply_is_a_422(as_admin):
    response = upload(as_admin, b"[" * 100_000, "deep.yaml")
    assert response.status_code == 422
    assert "deep.yaml: line 1, column 51: the file is nested too deeply" in response.get_data(
        as_text=True
    )


def test_the_cli_refuses_a_file_nested_too_deeply(app, tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 100_000, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["rubrics", "load", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback
    assert "the file is nested too deeply" in result.output
    assert versions() == 0


# --- 5. cells across all sheets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        # Stored cells, counted while the file is unpacked, before the reader parses a sheet.
        (1000, 30, "on all its sheets together"),
        # One stored cell per row, far right: few stored cells, but every row is read padded.
        (1000, 1, "each row counted up to its last cell; sheet 'notes 0' goes past it"),
    ],
)
def test_a_workbook_with_too_many_cells_is_refused_while_reading(rows, columns, message):
    def change(workbook):
        # Each sheet within its own limits (2,000 rows, 60 columns); together past MAX_CELLS.
        for n in range(2):
            sheet = workbook.create_sheet(f"notes {n}")
            for row in range(1, rows + 1):
                if columns == 1:
                    sheet.cell(row=row, column=60, value="n")
                else:
                    sheet.append(["n"] * columns)

    data = _workbook(change)
    started = time.process_time()
    assert workbook_problems(data) == [
        f"ours.xlsx: the workbook has more than {MAX_CELLS:,} cells ({message}); a rubric "
        "needs a few thousand: delete unused sheets, rows and columns"
    ]
    assert time.process_time() - started < 2
