"""What the rubric says — its title, competencies, look-fors and levels — in the reader's
language on the summary (page, PDF, JSON), the goals page and a walkthrough's page, when the
rubric carries that language (the sample rubric carries Spanish); and the goal form's messages
in Spanish. Keys and level values stay the same in every language."""

from __future__ import annotations

from datetime import date, timedelta

from tests.reports.test_goals import visits  # noqa: F401 (fixture)
from tests.reports.test_headline import gaps_district  # noqa: F401 (fixture)
from tests.reports.test_pdf import pdf_text

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
LOOK_FOR_ES = "Los estudiantes explican su razonamiento"
LOOK_FOR_EN = "Students explain their reasoning"


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_summary_page_and_pdf_say_the_rubric_in_spanish(
    client,
    sign_in,
    admin,
    gaps_district,  # noqa: F811
    tmp_path,
):
    sign_in(admin)
    page = client.get("/reports/summary?by=course_level", headers=SPANISH).get_data(as_text=True)
    for spanish in (LOOK_FOR_ES, "Pensador crítico", "Comunicador eficaz", "Competente",
                    "Visita al aula: Perfil del Egresado (v1)"):  # fmt: skip
        assert spanish in page, spanish
    for english in (LOOK_FOR_EN, "Critical Thinker", "Effective Communicator", "Proficient"):
        assert english not in page, english
    # The headline quotes the look-for as the reader reads it.
    assert f"«{LOOK_FOR_ES}" in page or f"“{LOOK_FOR_ES}" in page

    pdf = client.get("/reports/summary.pdf?by=course_level", headers=SPANISH)
    assert pdf.status_code == 200
    text = words(pdf_text(pdf.data, tmp_path))
    assert "Pensador crítico" in text and "Competente" in text
    assert words(LOOK_FOR_ES) in text
    assert "Critical Thinker" not in text and LOOK_FOR_EN not in text

    english = client.get("/reports/summary?by=course_level").get_data(as_text=True)
    assert LOOK_FOR_EN in english and "Critical Thinker" in english
    assert LOOK_FOR_ES not in english


def test_the_summary_json_keeps_keys_and_values_in_every_language(
    client,
    bearer,
    admin,
    gaps_district,  # noqa: F811
):
    path = "/api/v1/reports/summary"
    english = client.get(path, headers=bearer(admin)).get_json()
    spanish = client.get(path, headers={**bearer(admin), **SPANISH}).get_json()
    assert [c["key"] for c in spanish["criteria"]] == [c["key"] for c in english["criteria"]]
    assert [lv["value"] for lv in spanish["levels"]] == [lv["value"] for lv in english["levels"]]
    row = {c["key"]: c for c in spanish["criteria"]}["ct-explain-reasoning"]
    assert row["text"].startswith(LOOK_FOR_ES) and row["competency"] == "Pensador crítico"
    assert {c["name"] for c in spanish["competencies"]} >= {"Pensador crítico"}
    assert spanish["scope"]["at_least_label"] == "Competente"
    assert english["scope"]["at_least_label"] == "Proficient"


def test_the_goals_page_says_its_target_and_level_in_spanish(
    client,
    sign_in,
    team,
    visits,  # noqa: F811
):
    sign_in(team.facilitator)
    response = client.post_form("/reports/goals", {
        "title": "Razonamiento", "rubric_version_id": str(team.version.id),
        "target_kind": "criterion", "target_key": "ct-explain-reasoning", "at_least": "3",
        "target_percent": "80", "school_code": "RVE", "starts_on": "2026-09-01",
        "deadline": (date.today() + timedelta(days=100)).isoformat(),
    }, token_from="/reports/goals", headers=SPANISH)  # fmt: skip
    assert response.status_code == 302
    page = client.get("/reports/goals", headers=SPANISH).get_data(as_text=True)
    assert f"«{LOOK_FOR_ES}" in page
    assert "Competente" in page
    assert LOOK_FOR_EN not in page.split("<main")[1].split('id="new-goal"')[0]


def test_the_goal_forms_messages_in_spanish(client, sign_in, team, visits):  # noqa: F811
    sign_in(team.facilitator)
    bad = client.post_form("/reports/goals", {
        "title": "Razonamiento", "rubric_version_id": str(team.version.id),
        "target_kind": "competency", "target_key": "no-such", "at_least": "9",
        "target_percent": "80", "school_code": "RVE", "starts_on": "2026-09-01",
        "deadline": "2026-08-01",
    }, token_from="/reports/goals", headers=SPANISH)  # fmt: skip
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "no es una competencia de" in page
    assert "9 no es un nivel (niveles: [1, 2, 3, 4])" in page
    assert "la fecha límite debe ser posterior al inicio" in page
    assert "is not a competency" not in page and "must come after" not in page


def test_a_walkthroughs_page_says_the_rubric_in_spanish(
    client, sign_in, setting, push, make_version
):
    version = make_version()
    push(version)
    sign_in(setting.observer)
    path = f"/walkthroughs/{version['observation_id']}"
    page = client.get(path, headers=SPANISH).get_data(as_text=True)
    for spanish in (LOOK_FOR_ES, "Pensador crítico", "Competente", "Grupos pequeños",
                    "Agrupación de los estudiantes"):  # fmt: skip
        assert spanish in page, spanish
    for english in (LOOK_FOR_EN, "Critical Thinker", "Proficient", "Small groups"):
        assert english not in page, english
    english_page = client.get(path).get_data(as_text=True)
    assert LOOK_FOR_EN in english_page and "Small groups" in english_page


def test_pages_say_their_language_follows_the_header_and_the_person(
    client, sign_in, admin, setting
):
    signed_out = client.get("/sign-in", headers=SPANISH)
    assert {"Accept-Language", "Cookie"} <= set(signed_out.vary)
    sign_in(admin)
    for path in (f"/rubrics/{setting.version.id}", "/reports/goals"):
        response = client.get(path)
        assert {"Accept-Language", "Cookie"} <= set(response.vary), path
    # The tablet app's shell is the same for every reader (it picks its own words).
    assert "Accept-Language" not in client.get("/app/").vary
