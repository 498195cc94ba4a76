"""The rubric file checks' own messages (format.py with marshmallow's field messages,
spreadsheet.py, lineage.py, translations.py) are in Spanish on the upload page for an admin who
reads Spanish, their locations (file, ``look-fors!C2``, YAML paths) as written; an English reader
and the command line keep the English words, exactly."""

from __future__ import annotations

import datetime
import html
import io
import re

import openpyxl
import pytest

from observe.extensions import db
from observe.rubrics import spreadsheet
from observe.rubrics.format import RubricFileError, parse_rubric
from observe.rubrics.operations import load_rubric_text
from observe.rubrics.spreadsheet import write_workbook
from tests.rubrics.conftest import VALID

# How the look-for's version is named (RubricVersion.label), the same in both languages.
LABEL = "Test Rubric (v1)"
SPANISH = {"Accept-Language": "es-MX,es;q=0.9"}

# One file, the mistakes an admin most often makes: a missing and an unknown key, wrong
# types, a bad scale, a key written twice, an unknown dimension, a text in several languages
# without the file's languages, an empty value.
MISTAKES = """\
format: observe-rubric/1
key: test-rubric
colour: blue
scale:
  levels:
    - {value: 2, label: Low}
    - {value: 1, label: low}
    - {value: high, label: High}
competencies:
  - key: thinker
    name: {en: Thinker, es: Pensador}
    criteria:
      - key: explain
        kind: teacher
        text: Students explain their reasoning.
        dimensions: [power, voice]
        required: maybe
        text: Again.
context_fields:
  - {key: null, label: Grouping, options: [Pairs]}
"""

ENGLISH = [
    "mistakes.yaml: title (line 1): required key is missing",
    "mistakes.yaml: colour (line 3): unknown key 'colour'; allowed keys here: format, key,"
    " languages, title, description, scale, context_fields, glossary, competencies",
    "mistakes.yaml: scale.levels[1].label (line 7): label 'low' is already used by levels[0]",
    "mistakes.yaml: scale.levels[1].value (line 7): levels must be listed lowest first with"
    " increasing values; 1 follows 2",
    "mistakes.yaml: scale.levels[2].value (line 8): must be a whole number",
    "mistakes.yaml: competencies[0].name (line 11): a text in several languages needs the"
    " file's languages declared: add languages: [en, es] at the top (the first is the language"
    " of every text given once, the others are its translations)",
    "mistakes.yaml: competencies[0].criteria[0].kind (line 14): must be student or adult;"
    " got 'teacher'",
    "mistakes.yaml: competencies[0].criteria[0].dimensions[1] (line 16): unknown equity"
    " dimension 'voice'; use identity, power, access, achievement",
    "mistakes.yaml: competencies[0].criteria[0].required (line 17): must be true or false",
    "mistakes.yaml: competencies[0].criteria[0].text (line 18): key 'text' appears twice in the"
    " same mapping (first on line 15); remove one",
    # marshmallow's own message, where no field of ours says it in its words
    "mistakes.yaml: context_fields[0].key (line 20): Field may not be null.",
]

SPANISH_PROBLEMS = [
    "mistakes.yaml: title (línea 1): falta una clave obligatoria",
    "mistakes.yaml: colour (línea 3): clave desconocida 'colour'; claves permitidas aquí: format,"
    " key, languages, title, description, scale, context_fields, glossary, competencies",
    "mistakes.yaml: scale.levels[1].label (línea 7): la etiqueta 'low' ya la usa levels[0]",
    "mistakes.yaml: scale.levels[1].value (línea 7): los niveles deben listarse del más bajo al"
    " más alto, con valores crecientes; 1 va después de 2",
    "mistakes.yaml: scale.levels[2].value (línea 8): debe ser un número entero",
    "mistakes.yaml: competencies[0].name (línea 11): un texto en varios idiomas requiere que el"
    " archivo declare sus idiomas: añada languages: [en, es] al principio (el primero es el"
    " idioma de todo texto escrito una sola vez; los demás son sus traducciones)",
    "mistakes.yaml: competencies[0].criteria[0].kind (línea 14): debe ser student o adult;"
    " se encontró 'teacher'",
    "mistakes.yaml: competencies[0].criteria[0].dimensions[1] (línea 16): dimensión de equidad"
    " desconocida 'voice'; use identity, power, access, achievement",
    "mistakes.yaml: competencies[0].criteria[0].required (línea 17): debe ser true o false",
    "mistakes.yaml: competencies[0].criteria[0].text (línea 18): la clave 'text' aparece dos"
    " veces en el mismo bloque (primero en la línea 15); quite una",
    "mistakes.yaml: context_fields[0].key (línea 20): no puede estar vacío",
]


def upload(client, data: bytes, name: str, headers: dict[str, str] | None = None):
    return client.post_form(
        "/rubrics/load",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def problems(response) -> list[str]:
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    return [html.unescape(p) for p in re.findall(r'<code class="problem">(.*?)</code>', page)]


@pytest.fixture
def as_admin(client, admin, sign_in):
    sign_in(admin)
    return client


def test_a_yaml_files_mistakes_are_named_in_spanish(as_admin):
    spanish = problems(upload(as_admin, MISTAKES.encode(), "mistakes.yaml", SPANISH))
    assert spanish == SPANISH_PROBLEMS
    english = problems(upload(as_admin, MISTAKES.encode(), "mistakes.yaml"))
    assert english == ENGLISH


def test_the_command_line_keeps_english():
    with pytest.raises(RubricFileError) as refused:
        parse_rubric(MISTAKES, "mistakes.yaml")
    assert refused.value.problems == ENGLISH


def workbook(extra_sheet: str = "", **cells: object) -> bytes:
    """The valid rubric as a workbook, with ``cells`` (``look_fors__C2="…"``) overwritten."""
    book = openpyxl.load_workbook(io.BytesIO(write_workbook(parse_rubric(VALID, "t").document)))
    for at, value in cells.items():
        sheet, cell = at.split("__")
        book[sheet.replace("_", "-")][cell] = value
    if extra_sheet:
        book.create_sheet(extra_sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbooks_sheet_and_column_mistakes_are_named_in_spanish(as_admin):
    data = workbook("notes", scale__A1="colour")
    assert problems(upload(as_admin, data, "ours.xlsx", SPANISH)) == [
        "ours.xlsx: scale!A1: columna desconocida 'colour'; columnas de esta hoja: value, label,"
        " descriptor, look-for",
        "ours.xlsx: scale!A1: la fila de encabezados no tiene la columna 'value'",
        "ours.xlsx: notes: hoja desconocida 'notes'; hojas posibles: rubric, competencies,"
        " look-fors, scale, context fields, glossary, translations (y about)",
    ]
    assert problems(upload(as_admin, data, "ours.xlsx")) == [
        "ours.xlsx: scale!A1: the heading row has no 'value' column",
        "ours.xlsx: scale!A1: unknown column 'colour'; columns here: value, label, descriptor,"
        " look-for",
        "ours.xlsx: notes: unknown sheet 'notes'; sheets here: rubric, competencies, look-fors,"
        " scale, context fields, glossary, translations (and about)",
    ]


def test_a_workbooks_cell_mistakes_are_named_in_spanish(as_admin):
    data = workbook(
        look_fors__C2="teacher",
        look_fors__E3="=A1",
        look_fors__A3="writer",
        rubric__A4="titel",
        scale__A3=1,
        glossary__B2=datetime.date(2026, 1, 2),
    )
    assert problems(upload(as_admin, data, "ours.xlsx", SPANISH)) == [
        "ours.xlsx: rubric: añada una fila cuyo campo sea 'title'",
        "ours.xlsx: rubric!A4: campo desconocido 'titel'; campos de esta hoja: format, key, title,"
        " description, languages, not observed",
        "ours.xlsx: look-fors!C2: debe ser student o adult; se encontró 'teacher'",
        "ours.xlsx: look-fors!A3: no hay ninguna competencia con la clave 'writer' en la hoja"
        " competencies",
        "ours.xlsx: look-fors!E3: contiene una fórmula; observe no calcula fórmulas, así que"
        " escriba el valor mismo (copie la celda y luego Pegado especial > Valores)",
        "ours.xlsx: scale!A3: el valor de nivel 1 está repetido",
        "ours.xlsx: glossary!B2: debe ser texto; esta celda contiene una fecha u hora (dele"
        " formato de texto)",
    ]
    assert problems(upload(as_admin, data, "ours.xlsx")) == [
        "ours.xlsx: rubric: add a row whose field is 'title'",
        "ours.xlsx: rubric!A4: unknown field 'titel'; fields here: format, key, title,"
        " description, languages, not observed",
        "ours.xlsx: look-fors!C2: must be student or adult; got 'teacher'",
        "ours.xlsx: look-fors!A3: no competency with key 'writer' on the competencies sheet",
        "ours.xlsx: look-fors!E3: holds a formula; observe does not calculate formulas, so type"
        " the value itself (copy the cell, then Paste Special > Values)",
        "ours.xlsx: scale!A3: level value 1 is repeated",
        "ours.xlsx: glossary!B2: must be text; this cell holds a date or time (format it as text)",
    ]


def test_continues_mistakes_are_named_in_spanish(as_admin):
    first = VALID.replace(
        "      - key: explain\n", "      - key: explain\n        continues: old\n"
    )
    assert problems(upload(as_admin, first.encode(), "first.yaml", SPANISH)) == [
        "first.yaml: el indicador 'explain' continúa 'old', pero esta es la primera versión de la"
        " rúbrica 'test-rubric': no hay ningún indicador anterior que continuar"
    ]
    assert problems(upload(as_admin, first.encode(), "first.yaml")) == [
        "first.yaml: look-for 'explain' continues 'old', but this is the first version of rubric"
        " 'test-rubric': there is no earlier look-for to continue"
    ]
    load_rubric_text(VALID, "test.yaml")
    db.session.commit()
    second = first.replace("Test Rubric", "Test Rubric 2")
    assert problems(upload(as_admin, second.encode(), "second.yaml", SPANISH)) == [
        f"second.yaml: el indicador 'explain' continúa 'old', que no es un indicador de {LABEL}"
    ]
    assert problems(upload(as_admin, second.encode(), "second.yaml")) == [
        f"second.yaml: look-for 'explain' continues 'old', which is not a look-for of {LABEL}"
    ]


@pytest.mark.parametrize(
    ("data", "spanish", "english"),
    [
        (b"plain text", "no es un libro de Excel (.xlsx)", "not an Excel workbook (.xlsx)"),
        (
            b"\xd0\xcf\x11\xe0 an old workbook",
            "no es un libro de Excel (.xlsx) (es un archivo .xls antiguo: guárdelo como .xlsx)",
            "not an Excel workbook (.xlsx) (an old .xls file: save it as .xlsx)",
        ),
    ],
)
def test_a_file_that_is_no_workbook_is_refused_in_spanish(as_admin, data, spanish, english):
    assert problems(upload(as_admin, data, "old.xlsx", SPANISH)) == [f"old.xlsx: {spanish}"]
    assert problems(upload(as_admin, data, "old.xlsx")) == [f"old.xlsx: {english}"]


def test_a_sheet_too_long_is_refused_in_spanish(as_admin, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 3)
    data = workbook()
    assert problems(upload(as_admin, data, "long.xlsx", SPANISH)) == [
        "long.xlsx: la hoja 'rubric' pasa de la fila 3; elimine las filas que hay debajo de la"
        " rúbrica (también cuentan las filas vacías con formato)"
    ]
    assert problems(upload(as_admin, data, "long.xlsx")) == [
        "long.xlsx: sheet 'rubric' goes past row 3; delete the rows below the rubric (even empty"
        " rows with formatting count)"
    ]


def test_a_translation_rows_mistakes_are_named_in_spanish(as_admin):
    data = workbook(
        translations__A2="es",
        translations__B2="look-fors",
        translations__C2="gone",
        translations__D2="text",
        translations__E2="Explican.",
        translations__A3="es",
        translations__B3="look-fors",
        translations__C3="explain",
        translations__D3="colour",
        translations__E3="Azul.",
    )
    assert problems(upload(as_admin, data, "ours.xlsx", SPANISH)) == [
        "ours.xlsx: translations!C2: no hay ningún indicador con la clave 'gone' en la hoja"
        " look-fors; si se eliminó, elimine también esta fila",
        "ours.xlsx: translations!D3: la columna 'colour' de look-fors no se traduce aquí; use"
        " text, evidence prompt, descriptor N",
    ]
    assert problems(upload(as_admin, data, "ours.xlsx")) == [
        "ours.xlsx: translations!C2: no look-for with key 'gone' on the look-fors sheet; if it"
        " was removed, remove this row",
        "ours.xlsx: translations!D3: column 'colour' of look-fors is not translated here; use"
        " text, evidence prompt, descriptor N",
    ]


def test_a_rubric_a_workbook_cannot_hold_is_refused_in_spanish(as_admin):
    """A context option with a line break loads (YAML holds it) but a workbook cell holds one
    option per line: its download as a workbook is refused, in the reader's words."""
    text = VALID.replace("options: [Whole class, Pairs]", 'options: ["Whole\\nclass", Pairs]')
    version = load_rubric_text(text, "test.yaml").version
    db.session.commit()
    path = f"/rubrics/{version.id}/download.xlsx"
    spanish = as_admin.get(path, headers=SPANISH)
    assert spanish.status_code == 409
    assert (
        "Esta rúbrica no se puede escribir como libro de Excel: el campo de contexto 'grouping' "
        "tiene una opción con un salto de línea" in html.unescape(spanish.get_data(as_text=True))
    )
    english = as_admin.get(path)
    assert english.status_code == 409
    assert (
        "This rubric cannot be written as a workbook: context field 'grouping' has an option "
        "with a line break" in html.unescape(english.get_data(as_text=True))
    )
    assert as_admin.get(f"/rubrics/{version.id}/download.yaml").status_code == 200
