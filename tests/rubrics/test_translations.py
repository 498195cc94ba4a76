"""Rubric files in several languages (observe/rubrics/translations.py): how translations are
written, checked, stored, exported, read from a workbook's translations sheet, compared, and
what loading one does to the rubric's versions."""

from __future__ import annotations

import io

import openpyxl
import pytest

from observe import paths
from observe.extensions import db
from observe.rubrics.changes import compare
from observe.rubrics.export import to_yaml
from observe.rubrics.format import RubricFileError, content_hash, parse_rubric
from observe.rubrics.operations import load_rubric_file, load_rubric_text
from observe.rubrics.spreadsheet import read_workbook, write_workbook
from observe.rubrics.translations import without_translations
from tests.rubrics.conftest import VALID

TRANSLATED = (
    VALID.replace(
        "title: Test Rubric\n",
        "languages: [en, es]\ntitle: {en: Test Rubric, es: Rúbrica de prueba}\n",
    )
    .replace(
        "    name: Thinker\n",
        "    name: {en: Thinker, es: Pensador}\n",
    )
    .replace(
        "options: [Whole class, Pairs]",
        "options: [{en: Whole class, es: Toda la clase}, Pairs]",
    )
    .replace(
        "descriptors: {3: Students explain without prompting.}",
        "descriptors: {3: {en: Students explain without prompting., "
        "es: Explican sin que se les pida.}}",
    )
    .replace(
        "{value: 1, label: Low, descriptor: Rarely seen.}",
        "{value: 1, label: {en: Low, es: Bajo}, descriptor: Rarely seen.}",
    )
    .replace(
        "{term: Power, definition: Students have voice.}",
        "{term: {en: Power, es: Poder}, definition: {en: Students have voice., es: Tienen voz.}}",
    )
)


def problems(text: str) -> list[str]:
    with pytest.raises(RubricFileError) as caught:
        parse_rubric(text, "ours.yaml")
    return caught.value.problems


def test_translations_are_kept_beside_the_text_they_translate():
    document = parse_rubric(TRANSLATED, "ours.yaml").document
    assert document["languages"] == ["en", "es"]
    assert document["title"] == "Test Rubric"  # the default text, where it always was
    assert document["translations"] == {"es": {"title": "Rúbrica de prueba"}}
    competency = document["competencies"][0]
    assert competency["name"] == "Thinker"
    assert competency["translations"] == {"es": {"name": "Pensador"}}
    explain = competency["criteria"][0]
    assert explain["descriptors"] == {"3": "Students explain without prompting."}
    assert explain["translations"] == {
        "es": {"descriptors": {"3": "Explican sin que se les pida."}}
    }
    assert document["scale"]["levels"][0]["translations"] == {"es": {"label": "Bajo"}}
    field = document["context_fields"][0]
    assert field["options"] == ["Whole class", "Pairs"]
    assert field["translations"] == {"es": {"options": ["Toda la clase", None]}}
    assert document["glossary"][0]["translations"] == {
        "es": {"term": "Poder", "definition": "Tienen voz."}
    }


def test_a_file_without_translations_keeps_its_content_hash():
    """Translations add keys only where there are some: every file stored before them has
    the same document and hash, and the Spanish sample is the English one plus Spanish."""
    plain = parse_rubric(VALID, "ours.yaml")
    assert "languages" not in plain.document
    assert "translations" not in str(plain.document)
    translated = parse_rubric(TRANSLATED, "ours.yaml")
    assert content_hash(without_translations(translated.document)) == plain.content_hash
    assert translated.content_hash != plain.content_hash


def test_problems_name_the_place_and_load_nothing():
    text = (
        TRANSLATED.replace("es: Pensador", "fr: Penseur")
        .replace("{en: Low, es: Bajo}", "{es: Bajo}")
        .replace("es: Tienen voz.", "es: ''")
    )
    assert problems(text) == [
        "ours.yaml: scale.levels[0].label (line 7): the text in the file's default language (en) "
        "is missing; every translated text needs it",
        "ours.yaml: glossary[0].definition.es (line 13): must be non-empty text (leave a language "
        "out to show the default)",
        "ours.yaml: competencies[0].name.fr (line 16): 'fr' is not one of the file's languages "
        "(en, es); add it to languages, or remove this text",
    ]


def test_translations_need_the_languages_declared():
    text = TRANSLATED.replace("languages: [en, es]\n", "")
    found = problems(text)
    assert found[0] == (
        "ours.yaml: title (line 3): a text in several languages needs the file's languages "
        "declared: add languages: [en, es] at the top (the first is the language of every text "
        "given once, the others are its translations)"
    )
    # Said in full once; each other place is still named.
    assert "ours.yaml: competencies[0].name (line 15): a text in several languages needs the " in (
        " ".join(found)
    )
    assert len(found) == 7


@pytest.mark.parametrize(
    ("languages", "message"),
    [
        ("[en, ES]", "languages[1] (line 3): must be a language code in lowercase letters"),
        ("[en, en]", "languages[1] (line 3): 'en' is listed twice"),
        ("[]", "languages (line 3): must list at least one language"),
        ("en", "languages (line 3): must be a list"),
    ],
)
def test_the_languages_themselves_are_checked(languages, message):
    text = VALID.replace("title: Test Rubric\n", f"languages: {languages}\ntitle: Test Rubric\n")
    assert any(message in problem for problem in problems(text)), problems(text)


def test_a_translation_obeys_the_length_of_what_it_translates():
    text = TRANSLATED.replace("es: Pensador", "es: " + "x" * 201)
    assert problems(text) == [
        "ours.yaml: competencies[0].name.es (line 16): must be at most 200 characters; this is 201"
    ]


def test_yaml_out_and_back_keeps_every_translation():
    parsed = parse_rubric(TRANSLATED, "ours.yaml")
    written = to_yaml(parsed.document)
    assert "languages:\n- en\n- es\n" in written
    assert "  name:\n    en: Thinker\n    es: Pensador\n" in written
    assert parse_rubric(written, "again.yaml").document == parsed.document


@pytest.mark.parametrize("name", ["quick-look-fors.yaml", "portrait-of-a-graduate.yaml"])
def test_the_sample_rubrics_are_in_english_and_spanish(name):
    document = parse_rubric(
        (paths.SAMPLE_RUBRICS / name).read_text(encoding="utf-8"), name
    ).document
    assert document["languages"] == ["en", "es"]
    missing = []
    for competency in document["competencies"]:
        if "name" not in competency.get("translations", {}).get("es", {}):
            missing.append(competency["key"])
        for criterion in competency["criteria"]:
            spanish = criterion.get("translations", {}).get("es", {})
            if "text" not in spanish:
                missing.append(criterion["key"])
            if criterion.get("evidence_prompt") and "evidence_prompt" not in spanish:
                missing.append(f"{criterion['key']} evidence prompt")
    for level in document["scale"]["levels"]:
        if set(level["translations"]["es"]) != {"label", "descriptor"}:
            missing.append(f"level {level['value']}")
    for entry in document["glossary"]:
        if set(entry["translations"]["es"]) != {"term", "definition"}:
            missing.append(entry["term"])
    for field in document["context_fields"]:
        if None in field["translations"]["es"]["options"]:
            missing.append(field["key"])
    assert not missing


# --- spreadsheets -----------------------------------------------------------------------------


def workbook_of(text: str) -> openpyxl.Workbook:
    data = write_workbook(parse_rubric(text, "ours.yaml").document)
    return openpyxl.load_workbook(io.BytesIO(data))


def saved(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_workbook_carries_translations_on_its_translations_sheet():
    workbook = workbook_of(TRANSLATED)
    rubric = {row[0]: row[1] for row in workbook["rubric"].iter_rows(min_row=2, values_only=True)}
    assert rubric["languages"] == "en, es"
    rows = list(workbook["translations"].iter_rows(values_only=True))
    assert rows[0] == ("language", "sheet", "key", "column", "text")
    assert set(rows[1:]) == {
        ("es", "rubric", "title", "value", "Rúbrica de prueba"),
        ("es", "competencies", "thinker", "name", "Pensador"),
        ("es", "look-fors", "explain", "descriptor 3", "Explican sin que se les pida."),
        ("es", "scale", "1", "label", "Bajo"),
        ("es", "context fields", "grouping", "option 1", "Toda la clase"),
        ("es", "glossary", "Power", "term", "Poder"),
        ("es", "glossary", "Power", "definition", "Tienen voz."),
    }
    read = read_workbook(saved(workbook), "ours.xlsx")
    assert read.document == parse_rubric(TRANSLATED, "ours.yaml").document


def test_translation_rows_are_checked_cell_by_cell():
    workbook = workbook_of(TRANSLATED)
    sheet = workbook["translations"]
    first = sheet.max_row + 1
    for row in (
        ["fr", "competencies", "thinker", "description", "Penseur"],
        ["es", "look-fors", "nope", "text", "x"],
        ["es", "look-fors", "explain", "kind", "x"],
        ["es", "scale", "7", "label", "x"],
        ["es", "context fields", "grouping", "option 9", "x"],
        ["es", "glossary", "Power", "term", "Otra vez"],
        ["es", "Sheet9", "x", "text", "x"],
        ["es", "competencies", "thinker", "description", None],
    ):
        sheet.append(row)
    with pytest.raises(RubricFileError) as caught:
        read_workbook(saved(workbook), "ours.xlsx")
    n = first
    assert caught.value.problems == [
        f"ours.xlsx: translations!C{n}: there is no text here to translate",
        f"ours.xlsx: translations!C{n + 1}: no look-for with key 'nope' on the look-fors sheet; "
        "if it was removed, remove this row",
        f"ours.xlsx: translations!D{n + 2}: column 'kind' of look-fors is not translated here; "
        "use text, evidence prompt, descriptor N",
        f"ours.xlsx: translations!C{n + 3}: no level with value 7 on the scale sheet; if it was "
        "removed, remove this row",
        f"ours.xlsx: translations!C{n + 4}: the context field has no option 9",
        f"ours.xlsx: translations!C{n + 5}: this text is translated into that language twice",
        f"ours.xlsx: translations!B{n + 6}: unknown sheet 'Sheet9'; use rubric, competencies, "
        "look-fors, scale, context fields, glossary",
        f"ours.xlsx: translations!E{n + 7}: must not be empty",
    ]


def test_a_language_the_workbook_does_not_declare_names_the_translation():
    workbook = workbook_of(TRANSLATED)
    workbook["translations"].append(["fr", "competencies", "thinker", "name", "Penseur"])
    row = workbook["translations"].max_row
    with pytest.raises(RubricFileError) as caught:
        read_workbook(saved(workbook), "ours.xlsx")
    assert caught.value.problems == [
        f"ours.xlsx: translations!E{row}: 'fr' is not one of the file's languages (en, es); "
        "add it to languages, or remove this text"
    ]


# --- comparing and storing --------------------------------------------------------------------


def test_a_translation_added_is_reported_as_such_not_as_other_changes():
    old = parse_rubric(VALID, "old.yaml").document
    new = parse_rubric(TRANSLATED, "new.yaml").document
    changes = compare(old, new)
    assert not (changes.added or changes.removed or changes.reworded or changes.altered)
    assert changes.general == [
        "The file's languages change from none declared to en, es.",
        "Translations into es: texts 7 added.",
    ]
    reworded = TRANSLATED.replace("es: Pensador", "es: Pensadora").replace(", es: Tienen voz.", "")
    again = compare(new, parse_rubric(reworded, "again.yaml").document)
    assert again.general == ["Translations into es: texts 1 changed, 1 removed."]


def test_adding_a_translation_makes_the_next_version_with_the_same_look_fors(app):
    """A stored version never changes (docs/rubric-format.md, Languages): the Spanish text is
    version 2, whose look-fors continue version 1's by key."""
    first = load_rubric_text(VALID, "ours.yaml").version
    second = load_rubric_text(TRANSLATED, "ours.yaml")
    db.session.commit()
    assert second.created and second.version.number == first.number + 1
    assert [c.key for c in second.version.criteria] == [c.key for c in first.criteria]
    assert load_rubric_text(to_yaml(second.version.document), "again.yaml").created is False


def test_the_sample_loads(app):
    result = load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml")
    db.session.commit()
    assert result.version.document["translations"]["es"]["title"] == "Indicadores rápidos"
