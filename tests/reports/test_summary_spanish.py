"""The summary report for a Spanish reader: the page and its PDF in Spanish (chosen by the
browser or by the person's setting), percentages written the Spanish way, hidden figures saying
why in Spanish — while the JSON keeps its machine values, and a reader with no language set
still gets English."""

from __future__ import annotations

import re

import pytest

from observe.extensions import db
from tests.reports.test_headline import gaps_district  # noqa: F401 (fixture)
from tests.reports.test_pdf import pdf_text

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
SPANISH_HEADINGS = (
    "Lo que muestran las visitas al aula",  # already translated: the page's h1
    "Dimensiones de equidad",
    "Competencias",
    "Todos los indicadores",
    "Mes a mes",
    "Cómo leer estas cifras",
    "Por grupo: Nivel del curso",
)


@pytest.fixture
def with_a_small_group(gaps_district, push_as, team, create_classroom):  # noqa: F811
    """One honors room with a single visit: its group is hidden for too few walkthroughs (and
    the next smallest as cover)."""
    room = create_classroom("honors-1", school=team.school, name="honors 1", course_level="honors")
    push_as(team.observers[0], {"classroom_id": room.id,
            "observed_at": "2026-10-20T15:00:00+00:00",
            "ratings": [{"criterion": "ct-explain-reasoning", "level": 3}]})  # fmt: skip


def words(text: str) -> str:
    return " ".join(text.split())  # also splits on the no-break space before "%"


def test_a_spanish_browser_gets_the_summary_page_in_spanish(
    client, sign_in, admin, with_a_small_group
):
    sign_in(admin)
    page = client.get("/reports/summary?by=course_level", headers=SPANISH).get_data(as_text=True)
    assert '<html lang="es">' in page
    for heading in SPANISH_HEADINGS:
        assert heading in page, heading
    assert "Dividir por" in page and "Contar las valoraciones en o por encima de" in page
    assert "Esta rúbrica, todas las versiones" in page
    assert "Visitas al aula" in page and "Valoraciones" in page and "No observado" in page
    # A hidden group says why in Spanish, and the group note is Spanish.
    assert "no se muestra: muy pocas visitas al aula" in page
    assert (
        "2 grupos no se muestran: 1 con muy pocas visitas al aula; 1 oculto para que no se pueda "
        "deducir una cifra menor." in page
    )
    assert "Entregue las copias impresas solo a quienes" in page  # the printed note
    # Percentages the Spanish way: a no-break space before the sign.
    assert re.search(r">\d{1,3}\u00a0%<", page)
    assert not re.search(r">\d{1,3}%<", page)
    # The charts' titles too.
    assert "Niveles observados por dimensión de equidad" in page
    # No English left in the headings and labels this report shows.
    for english in ("Equity dimensions", "Every look-for", "Reading these figures",
                    "Split by", "not shown:", "too few walkthroughs", "Levels given"):  # fmt: skip
        assert english not in page, english


def test_the_json_keeps_its_machine_values_for_a_spanish_reader(
    client, bearer, admin, with_a_small_group
):
    body = client.get(
        "/api/v1/reports/summary?by=course_level", headers={**bearer(admin), **SPANISH}
    ).get_json()
    hidden = [row for row in body["groups"]["rows"] if row["suppressed"]]
    assert sorted(row["reason"] for row in hidden) == [
        "hidden so that a smaller figure cannot be worked out",
        "too few walkthroughs",
    ]
    assert body["groups"]["note"].startswith("2 grupos no se muestran")  # words, not values
    assert body["scope"]["by"] == "course_level"


def test_the_spanish_pdf(client, sign_in, admin, with_a_small_group, tmp_path):
    sign_in(admin)
    response = client.get("/reports/summary.pdf?by=course_level", headers=SPANISH)
    assert response.status_code == 200
    text = words(pdf_text(response.data, tmp_path))
    assert "Resumen de las visitas al aula:" in text  # the title and the running footer
    assert "por Nivel del curso" in text  # the running header's scope
    for heading in SPANISH_HEADINGS[1:]:
        assert heading in text, heading
    assert "Lo que destaca" in text
    assert "no se muestra: muy pocas visitas al aula" in text
    assert re.search(r"\b\d{1,3} %", text)  # 42 % (the no-break space read as a space)
    # Figures in the text and the tables with their space: "52 %". (pdftotext drops the no-break
    # space inside the charts' SVG text, so the charts are checked on the page, not here.)
    assert len(re.findall(r"\b\d{1,3} %", text)) >= 10
    assert "1. general: 8 % de las valoraciones" in text  # the headline's figure
    assert "Página 1 de" in text and "Page 1 of" not in text  # the page numbers
    for english in ("Equity dimensions", "Reading these figures", "Walkthrough summary"):
        assert english not in text, english


def test_the_persons_own_setting_wins_over_the_browser(client, sign_in, admin, with_a_small_group):
    admin.language = "es"
    db.session.commit()
    sign_in(admin)
    page = client.get(
        "/reports/summary?by=course_level", headers={"Accept-Language": "en-US"}
    ).get_data(as_text=True)
    assert "Dimensiones de equidad" in page and "Cómo leer estas cifras" in page


def test_with_no_language_the_summary_stays_english(client, sign_in, admin, with_a_small_group):
    sign_in(admin)
    page = client.get("/reports/summary?by=course_level").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Equity dimensions" in page and "not shown: too few walkthroughs" in page
    assert (
        "2 groups not shown: 1 with too few walkthroughs; 1 hidden so that a smaller figure "
        "cannot be worked out." in page
    )
    assert re.search(r">\d{1,3}%<", page)
    assert "Dimensiones de equidad" not in page
