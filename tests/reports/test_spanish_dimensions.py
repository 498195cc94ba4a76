"""What a Spanish reader still saw in English, now in Spanish: the equity dimensions' names (the
rubric glossary's translated term, else observe's catalog) on the summary (page, PDF, charts,
headline) and the rubric page; the goal chart; the observer adjustment's refusal and its
points; the school-year confirmations and flashes; the export page's problems; the goal form's
type-ahead. English readers see what they always did, and the JSON keeps its keys."""

from __future__ import annotations

import re

from flask_babel import force_locale, gettext

from observe.calibration.raters import TOO_FEW_LINKED, TOO_LITTLE_COVERED, refusal_words
from observe.core.formatting import percent
from observe.reports import charts
from observe.rubrics.format import parse_rubric
from observe.rubrics.translations import dimension_name, wording
from tests.calibration.test_charts import svgs, text_of
from tests.reports import raters_district
from tests.reports.test_charts import PROGRESS
from tests.reports.test_goals import goal_body, visits  # noqa: F401 (fixture)
from tests.reports.test_headline import gaps_district  # noqa: F401 (fixture)
from tests.reports.test_pdf import pdf_text
from tests.reports.test_years import _goal_row, school_years  # noqa: F401 (fixture)
from tests.rubrics.test_wording import PORTRAIT

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
DIMENSIONS_ES = ("Identidad", "Poder", "Acceso", "Logro")
DIMENSIONS_EN = ("Identity", "Power", "Access", "Achievement")
GOAL_STATES_ES = ("En camino", "Atrasada", "No está claro", "Es pronto para saberlo", "Cumplida",
                  "No cumplida")  # fmt: skip


def words(text: str) -> str:
    return " ".join(text.split())


def headers_of(page: str, table_id: str) -> list[str]:
    """The column headers of the table after the heading ``table_id``."""
    section = page[page.index(f'id="{table_id}"') :]
    table = section[: section.index("</table>")]
    return re.findall(r'<th scope="(?:col|row)"[^>]*>([^<]+)<', table)


def test_a_dimension_is_named_by_the_glossary_else_by_the_catalog(app):
    document = parse_rubric(PORTRAIT, "portrait.yaml").document
    # The district's own term wins: "Power" translated as the file translates it.
    for entry in document["glossary"]:
        if entry["term"] == "Power":
            entry["translations"]["es"]["term"] = "Poder compartido"
    said = wording(document, "es")
    assert said.dimension("power") == "Poder compartido"
    assert said.dimension("identity") == "Identidad"  # the glossary's translation
    # Flask-Babel keeps a request's language on the app context: force it for each check.
    with force_locale("es"):
        assert wording({"languages": ["en"], **_bare()}, "es").dimension("access") == "Acceso"
        assert dimension_name("achievement") == "Logro"  # the catalog, no rubric at hand
    with force_locale("en"):
        assert dimension_name("achievement") == "Achievement"
        assert wording(document, "en").dimension("power") == "Power"


def _bare() -> dict:
    return {"title": "T", "competencies": [], "glossary": []}


def test_the_summary_names_the_dimensions_in_spanish(
    client,
    sign_in,
    bearer,
    admin,
    gaps_district,  # noqa: F811
    tmp_path,
):
    sign_in(admin)
    page = client.get("/reports/summary?by=course_level", headers=SPANISH).get_data(as_text=True)
    assert set(DIMENSIONS_ES) <= set(headers_of(page, "dimensions-heading"))
    assert set(DIMENSIONS_ES) <= set(headers_of(page, "groups-heading"))
    chart = svgs(page)["chart-dimensions"]
    # Only look-fors of power and achievement are rated in this district.
    assert ">Poder<" in chart and ">Logro<" in chart and ">Power<" not in chart
    assert text_of(chart, "desc").startswith("poder: 50\u00a0% en Competente o más")
    # A look-for's row lists its dimensions in the reader's words.
    assert re.search(r"Pensador crítico · [a-zíó, ]*(identidad|poder|acceso|logro)", page)
    for english in DIMENSIONS_EN:
        assert f">{english}<" not in page, english

    pdf = client.get("/reports/summary.pdf?by=course_level", headers=SPANISH)
    assert pdf.status_code == 200
    text = words(pdf_text(pdf.data, tmp_path))
    for spanish in DIMENSIONS_ES:
        assert spanish in text, spanish
    assert "Identity" not in text and "Achievement" not in text

    # English readers: as before; the JSON keeps its keys and says the names for people.
    english = client.get("/reports/summary?by=course_level").get_data(as_text=True)
    assert set(DIMENSIONS_EN) <= set(headers_of(english, "dimensions-heading"))
    spanish_json = client.get(
        "/api/v1/reports/summary?by=course_level", headers={**bearer(admin), **SPANISH}
    ).get_json()
    assert [d["name"] for d in spanish_json["dimensions"]] == [
        "identity", "power", "access", "achievement"
    ]  # fmt: skip
    assert spanish_json["scope"]["dimension_labels"]["achievement"] == "Logro"


def test_the_headline_names_a_dimension_in_spanish():
    from observe.reports.headline import bright_spots

    report = {
        "scope": {"dimension_labels": {"power": "Poder"}},
        "dimensions": [{"name": "power", "share": 0.5, "se": 0.02, "classrooms": 20}],
        "groups": {
            "label": "course level",
            "adjustment": {},
            "rows": [
                {
                    "label": "AP",
                    "suppressed": False,
                    "dimensions": {
                        "power": {"share": 0.9, "se": 0.02, "classrooms": 20, "rated": 200}
                    },
                }
            ],
        },
    }
    found = bright_spots(report, "Competente")
    assert found and "is ahead on poder" in found[0].text


def test_the_rubric_page_tags_dimensions_in_spanish(client, sign_in, admin, team):
    sign_in(admin)
    path = f"/rubrics/{team.version.id}"
    page = client.get(path, headers=SPANISH).get_data(as_text=True)
    tags = re.findall(r'class="tag tag-dimension[^"]*"[^>]*>([^<]+)<', page)
    assert tags and set(tags) <= set(DIMENSIONS_ES), set(tags)
    english = client.get(path).get_data(as_text=True)
    assert set(re.findall(r'class="tag tag-dimension[^"]*"[^>]*>([^<]+)<', english)) <= set(
        DIMENSIONS_EN
    )


def test_a_goals_chart_in_spanish(app):
    with app.test_request_context(headers=SPANISH), force_locale("es"):
        svg = str(charts.goal(PROGRESS))
    assert text_of(svg, "title") == "Every student explains their reasoning: proporción mes a mes"
    assert text_of(svg, "desc") == (
        "Meta: 70\u00a0% en Proficient o más. "
        "2026-10: 75\u00a0% de las valoraciones, 12 visitas al aula, meta cumplida; "
        "2026-11: 50\u00a0% de las valoraciones, 14 visitas al aula, por debajo de la meta. "
        "2 meses no se muestran: menos de 10 visitas al aula."
    )
    assert "En la meta o por encima" in svg and "Por debajo de la meta" in svg
    assert "Meta 70\u00a0%" in svg and "mes a mes" in svg
    assert "Target" not in svg and "Below the target" not in svg


def test_the_goal_status_and_chart_on_the_spanish_summary(
    client,
    bearer,
    sign_in,
    team,
    visits,  # noqa: F811
):
    goal = client.post("/api/v1/goals", json=goal_body(team), headers=bearer(team.facilitator))
    goal_id = goal.get_json()["id"]
    sign_in(team.facilitator)
    query = f"rubric_version_id={team.version.id}"
    page = client.get(f"/reports/summary?{query}", headers=SPANISH).get_data(as_text=True)
    svg = svgs(page)[f"chart-goal-{goal_id}"]
    assert "de las valoraciones" in text_of(svg, "desc")
    assert "proporción mes a mes" in text_of(svg, "title")
    states = re.findall(r'class="goal-state[^"]*">([^<]+)<', page)
    assert states and set(states) <= set(GOAL_STATES_ES), states
    assert "of ratings" not in text_of(svg, "desc")


def test_a_stored_refusal_is_shown_in_spanish(app):
    stored = TOO_FEW_LINKED % {"observers": 2, "shared": 3}
    with app.test_request_context(), force_locale("es"):
        said = refusal_words(stored, gettext)
    assert said.startswith("Los observadores coinciden demasiado poco: menos de 2 ")
    assert "al menos 3 aulas" in said
    covered = TOO_LITTLE_COVERED % {"covered": 40, "total": 100, "share": "50%"}
    with app.test_request_context(), force_locale("es"):
        said = refusal_words(covered, gettext, percent)
    assert "hicieron 40 de las 100 visitas al aula, menos del 50\u00a0%;" in said
    with app.test_request_context(), force_locale("en"):
        assert refusal_words(stored, gettext) == stored  # English as stored
        assert refusal_words("An older reason.", gettext) == "An older reason."


def test_the_adjustment_refusal_on_the_spanish_summary(client, create_user, sign_in):
    district = raters_district.build(create_user, overlap=False)
    sign_in(district.admin)
    page = client.get("/reports/summary?by=school", headers=SPANISH).get_data(as_text=True)
    assert "Los observadores coinciden demasiado poco" in page
    assert "Too little overlap" not in page


def test_lean_points_use_the_spanish_decimal_sign(client, create_user, sign_in):
    district = raters_district.build(create_user, walkthroughs_per_school=120)
    sign_in(district.admin)
    page = client.get("/reports/summary?by=school", headers=SPANISH).get_data(as_text=True)
    points = re.findall(r"([+\u2212]?\d+,\d) p\. p\.", page)
    assert points, "no lean in points on the Spanish page"
    assert not re.search(r"\d+\.\d pts", page)
    english = client.get("/reports/summary?by=school").get_data(as_text=True)
    assert re.search(r"[+\u2212]?\d+\.\d pts", english)


def test_closing_and_carrying_a_year_in_spanish(
    client,
    sign_in,
    admin,
    team,
    school_years,  # noqa: F811
):
    from observe.extensions import db
    from observe.reports.models import Goal

    db.session.add(Goal(**_goal_row(team)))
    db.session.commit()
    sign_in(admin)
    last_id, this_id = school_years[0].id, school_years[1].id
    confirm = client.get(f"/reports/years/{last_id}/close", headers=SPANISH).get_data(as_text=True)
    assert "¿Cerrar el año escolar 2025-26?" in confirm
    assert "Su 1 meta conserva desde ahora su resultado final" in confirm
    assert "Mantenerlo abierto" in confirm and "Keep it open" not in confirm
    token = client.csrf_token(f"/reports/years/{last_id}/close")
    client.post(f"/reports/years/{last_id}/close",
                data={"csrf_token": token, "confirmed": "yes"}, headers=SPANISH)  # fmt: skip
    goals_page = client.get(f"/reports/goals?year={last_id}", headers=SPANISH)
    assert "2025-26 está cerrado; 1 meta(s) conservan su resultado final." in (
        goals_page.get_data(as_text=True)
    )
    again = client.get(f"/reports/years/{last_id}/close", headers=SPANISH)
    assert again.status_code == 422 and "2025-26 ya está cerrado" in again.get_data(as_text=True)

    carry = client.get(f"/reports/years/{this_id}/carry", headers=SPANISH).get_data(as_text=True)
    assert "¿Empezar las metas de 2026-27 a partir de las de 2025-26?" in carry
    assert "Empezar las metas" in carry and "Start the goals" not in carry
    client.post(f"/reports/years/{this_id}/carry",
                data={"csrf_token": token, "confirmed": "yes"}, headers=SPANISH)  # fmt: skip
    page = client.get(f"/reports/goals?year={this_id}", headers=SPANISH).get_data(as_text=True)
    assert "1 meta creada en 2026-27." in page and "Creada «" in page


def test_the_export_page_names_its_problems_in_spanish(client, sign_in, admin):
    sign_in(admin)
    response = client.get(
        "/reports/export/download?format=xml&from=2026-13-01&school=NOPE", headers=SPANISH
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "debe ser csv o json, no &#39;xml&#39;" in page
    assert "&#39;2026-13-01&#39; no es una fecha (AAAA-MM-DD)" in page
    assert "no es una de sus escuelas: NOPE" in page
    assert "must be csv or json" not in page


def test_the_goal_forms_type_ahead_in_spanish(client, sign_in, team):
    sign_in(team.facilitator)
    page = client.get("/reports/goals", headers=SPANISH).get_data(as_text=True)
    offered = dict(re.findall(r'<option value="([^"]+)" label="([^"]+)">', page))
    assert offered["power"] == "Dimensión de equidad: poder"
    assert offered["ct-explain-reasoning"].startswith(
        "Indicador: Los estudiantes explican su razonamiento"
    )
    assert any(label.startswith("Competencia: Pensador crítico") for label in offered.values())
    assert not any(label.startswith(("Competency: ", "Look-for: ")) for label in offered.values())
