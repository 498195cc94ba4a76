"""Coverage and the equity goals in Spanish (docs/languages.md): the groups' labels and notes
follow the request's language in the JSON and on the pages; keys, flags and statuses do not."""

from __future__ import annotations

from datetime import date, timedelta

from tests.reports.test_coverage import (  # noqa: F401 (fixtures)
    OCTOBER,
    district,
    report,
    rows,
    small,
    visit,
)
from tests.reports.test_goals import visits  # noqa: F401 (a fixture)

SPANISH = {"Accept-Language": "es"}


def test_coverage_names_its_groups_in_the_readers_language(
    client,
    bearer,
    admin,
    district,  # noqa: F811 (the fixture imported above)
):
    english = report(client, bearer, admin)
    response = client.get(
        f"/api/v1/reports/coverage{OCTOBER}", headers={**bearer(admin), **SPANISH}
    )
    spanish = response.get_json()
    assert [g["label"] for g in english["groups"]] == [
        "School", "Course level", "Program", "Grade band",
    ]  # fmt: skip
    assert [g["label"] for g in spanish["groups"]] == [
        "Escuela", "Nivel del curso", "Programa", "Tramo de grados",
    ]  # fmt: skip
    assert [g["dimension"] for g in spanish["groups"]] == [
        g["dimension"] for g in english["groups"]
    ]
    levels, note = rows(spanish, "course_level")
    assert levels["Sin registrar"]["suppressed"] is True and levels["Sin registrar"]["key"] is None
    assert note == "No se muestran 2 grupos con menos de 3 aulas activas."
    programs, _ = rows(spanish, "program")
    assert "Sin programa" in programs
    _, school_note = rows(spanish, "school")
    assert "ni tampoco otros" in school_note
    # The figures themselves are the same in both languages.
    assert spanish["overall"] == english["overall"]
    assert spanish["tests"] == english["tests"]


def test_the_coverage_page_in_spanish(client, sign_in, admin, district):  # noqa: F811
    sign_in(admin)
    page = client.get(f"/reports/coverage{OCTOBER}", headers=SPANISH).get_data(as_text=True)
    for words in (
        "Alcance",
        "En todo el alcance",
        "Cómo leer la comparación",
        "Equidad de la atención",
        "Por tramo de grados",
        "no se muestra: muy pocas aulas",
    ):
        assert words in page, words
    assert "0,83" in page  # 10 visits over 12 classrooms, with the Spanish decimal comma
    assert "How to read the comparison" not in page


def test_the_goals_page_in_spanish(client, sign_in, team, visits):  # noqa: F811
    sign_in(team.facilitator)
    refused = client.post_form(
        "/reports/goals", {"title": "", "target_percent": "x"},
        token_from="/reports/goals", headers=SPANISH,
    )  # fmt: skip
    assert refused.status_code == 422
    assert "No se fijó la meta." in refused.get_data(as_text=True)
    response = client.post_form("/reports/goals", {
        "title": "Razonamiento", "rubric_version_id": str(team.version.id),
        "target_kind": "criterion", "target_key": "ct-explain-reasoning", "at_least": "3",
        "target_percent": "80", "school_code": "RVE", "starts_on": "2026-09-01",
        "deadline": (date.today() + timedelta(days=100)).isoformat(),
    }, token_from="/reports/goals")  # fmt: skip
    assert response.status_code == 302
    page = client.get("/reports/goals", headers=SPANISH).get_data(as_text=True)
    for words in (
        "Metas de equidad",
        "80\u00a0% de valoraciones en",  # a no-break space before the sign
        "faltan 80 puntos",
        "Fijar una meta",
        "Fecha límite",
        "Quitar esta meta",
    ):
        assert words in page, words
    assert "points to go" not in page and "Set a goal" not in page
