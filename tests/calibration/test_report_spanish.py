"""The calibration report and trends in Spanish (docs/languages.md): the explanations and the
reference follow the request's language in the page and in the JSON, while the JSON's keys and
machine values (leanings, flags, alpha labels) stay the same in every language."""

from __future__ import annotations

from tests.calibration.test_sessions import _scored_and_revealed

SPANISH = {"Accept-Language": "es-MX,es;q=0.9"}


def test_the_reports_json_explains_itself_in_the_readers_language(
    client, bearer, new_session, score, team
):
    session = _scored_and_revealed(client, bearer, new_session, score, team)
    path = f"/api/v1/calibration/sessions/{session['id']}/report"
    english = client.get(path, headers=bearer(team.observers[0])).get_json()
    spanish = client.get(path, headers={**bearer(team.observers[0]), **SPANISH}).get_json()

    assert english["reference"] == "the rest of the team"
    assert spanish["reference"] == "el resto del equipo"
    assert set(spanish["explanations"]) == set(english["explanations"])
    assert "kappa" in english["explanations"]["paradox"]
    assert spanish["explanations"]["paradox"].startswith("¿Por qué puede ser alta la concordancia")
    # The placeholders are filled in both: no "%(units)s" left for a reader to see.
    assert "%(" not in spanish["explanations"]["per_criterion"]
    assert "±0.25" in english["explanations"]["leaning"]
    # Everything a program reads is the same in both languages; what the rubric says (the
    # look-for, its competency, its levels' names) is in the reader's, as the rubric gives it.
    for key in ("agenda", "thresholds", "overall"):
        assert spanish[key] == english[key]

    def machine(rows: list[dict]) -> list[dict]:
        return [
            {**r, "text": None, "competency": None, "levels": [lv["value"] for lv in r["levels"]]}
            for r in rows
        ]

    assert machine(spanish["criteria"]) == machine(english["criteria"])
    first = {r["key"]: r for r in spanish["criteria"]}["ct-explain-reasoning"]
    assert first["text"].startswith("Los estudiantes explican su razonamiento")
    assert first["competency"] == "Pensador crítico"
    assert [lv["label"] for lv in first["levels"]] == [
        "Inicial", "En desarrollo", "Competente", "Ejemplar"
    ]  # fmt: skip
    english_row = {r["key"]: r for r in english["criteria"]}["ct-explain-reasoning"]
    assert english_row["text"].startswith("Students explain their reasoning")
    assert [o["leaning"] for o in spanish["observers"]] == [
        o["leaning"] for o in english["observers"]
    ]
    assert "lenient" in [o["leaning"] for o in spanish["observers"]]


def test_the_session_page_and_trends_read_in_spanish(
    client, bearer, sign_in, new_session, score, team
):
    session = _scored_and_revealed(client, bearer, new_session, score, team)
    sign_in(team.facilitator)
    page = client.get(f"/calibration/{session['id']}", headers=SPANISH).get_data(as_text=True)
    for words in (
        "Concordancia general",
        "Temas para la discusión",
        "Todas las puntuaciones",
        "Cada observador/a",
        "Comparado con el resto del equipo",
        "Indulgente",  # Di Dunn's lean, named in Spanish though the JSON says "lenient"
        "Qué significan estas cifras",
        "¿Por qué puede ser alta la concordancia",
    ):
        assert words in page, words
    assert "Overall agreement" not in page and "What these figures mean" not in page
    english = client.get(f"/calibration/{session['id']}").get_data(as_text=True)
    assert "Overall agreement" in english and "↑ Lenient" in english

    trends = client.get("/calibration/trends", headers=SPANISH).get_data(as_text=True)
    assert "La calibración a lo largo del tiempo" in trends
    assert "Concordancia por sesión de" in trends and "Dentro de un nivel" in trends
