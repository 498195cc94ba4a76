"""A rubric's own text in the reader's language (observe/rubrics/translations.py: localized,
wording): the sample rubric carries Spanish, a reader of Spanish gets it, anything the file does
not translate stays as the file writes it, and the rubric's pages (its page, the upload
preview) show it with their own words in Spanish too."""

from __future__ import annotations

import io

from observe import paths
from observe.rubrics.format import parse_rubric
from observe.rubrics.translations import language_for, localized, wording

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
PORTRAIT = (paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").read_text()


def document():
    return parse_rubric(PORTRAIT, "portrait.yaml").document


def test_which_translation_serves_a_reader():
    doc = {"languages": ["en", "es-mx"]}
    assert language_for(doc, "es") == "es-mx"  # the same primary language
    assert language_for(doc, "es-MX") == "es-mx"
    assert language_for(doc, "en") is None  # the file's own text
    assert language_for(doc, "fr") is None  # no French: the file's own text
    assert language_for({}, "es") is None  # a file with no languages


def test_a_spanish_reader_gets_the_files_spanish_and_english_where_it_has_none():
    doc = document()
    shown = localized(doc, "es")
    assert shown["title"] == "Visita al aula: Perfil del Egresado"
    assert shown["competencies"][0]["name"] == "Pensador crítico"
    assert shown["scale"]["levels"][2]["label"] == "Competente"
    assert shown["context_fields"][0]["options"][1] == "Grupos pequeños"
    assert "translations" not in shown["competencies"][0]
    assert localized(doc, "en")["competencies"][0]["name"] == "Critical Thinker"
    # A text the file leaves untranslated stays as written.
    doc["competencies"][0]["translations"]["es"].pop("name")
    assert localized(doc, "es")["competencies"][0]["name"] == "Critical Thinker"
    assert doc["competencies"][0]["name"] == "Critical Thinker"  # the stored document unchanged


def test_wording_looks_up_by_key_and_by_the_stored_text():
    said = wording(document(), "es")
    assert said.competency("Critical Thinker") == "Pensador crítico"
    assert said.competency("anything", "critical-thinker") == "Pensador crítico"
    assert said.criterion("?", "ct-explain-reasoning").startswith("Los estudiantes explican")
    assert said.level("Proficient") == "Competente"
    assert said.level("Proficient", 3, "ct-explain-reasoning") == "Competente"
    assert said.option("grouping", "Small groups") == "Grupos pequeños"
    assert said.criterion("Not in the rubric") == "Not in the rubric"
    english = wording(document(), "en")
    assert english.competency("Critical Thinker") == "Critical Thinker"
    assert english.title == "Portrait of a Graduate Walkthrough"


def test_the_rubric_page_in_spanish(client, sign_in, admin, setting):
    sign_in(admin)
    page = client.get(f"/rubrics/{setting.version.id}", headers=SPANISH).get_data(as_text=True)
    for spanish in ("Visita al aula: Perfil del Egresado", "Pensador crítico", "Competente",
                    "Los estudiantes explican su razonamiento", "Glosario", "Escala",
                    "Sobre la visita", "Grupos pequeños", "Estudiante", "Evidencia:",
                    "Niveles de este indicador"):  # fmt: skip
        assert spanish in page, spanish
    for english in ("Critical Thinker", "Proficient", "Students explain their reasoning",
                    "Glossary", "About the visit", "Small groups", "look-fors</span>"):  # fmt: skip
        assert english not in page, english
    # The glossary's anchors follow the file's own text, the same in every language.
    english_page = client.get(f"/rubrics/{setting.version.id}").get_data(as_text=True)
    assert 'id="term-equity"' in page and 'id="term-equity"' in english_page
    assert "Critical Thinker" in english_page and "Pensador crítico" not in english_page


def test_the_upload_preview_in_spanish(client, sign_in, admin, setting):
    sign_in(admin)
    edited = PORTRAIT.replace(
        "es: Los estudiantes explican su razonamiento",
        "es: Las y los estudiantes explican su razonamiento",
    )
    response = client.post_form(
        "/rubrics/load",
        {"file": (io.BytesIO(edited.encode()), "portrait.yaml")},
        content_type="multipart/form-data",
        headers=SPANISH,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for spanish in ("Vista previa de", "Qué hace cargarla", "Pasa a ser la <strong>versión 2",
                    "Traducciones al es: textos 1 cambiados.",
                    "Como la verán los observadores/as", "Cargar como versión 2",
                    "Las y los estudiantes explican"):  # fmt: skip
        assert spanish in page, spanish
    assert "What loading it does" not in page and "Load as version" not in page
