"""The calibration charts for a Spanish reader: titles, legends, the target line and the text
alternative in Spanish, percentages written the Spanish way, undefined as "indefinido", and a
long look-for wrapped whole, never cut short with "[...]"."""

from __future__ import annotations

from observe.calibration import charts
from tests.calibration.test_charts import TEAM, svgs, text_of

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
LONG = (
    "Los estudiantes examinan el contenido desde más de una perspectiva, incluidas las "
    "perspectivas de comunidades como la suya, y lo relacionan con su propia experiencia"
)


def report() -> dict:
    return {
        "thresholds": {"within_one": 0.8},
        "criteria": [
            {"text": LONG, "percent_within_one": 0.5, "percent_exact": 0.25, "flag": "discuss"},
            {"text": "Corto", "percent_within_one": 1.0, "percent_exact": 0.75, "flag": None},
        ],
    }


def test_the_agreement_chart_in_spanish(app):
    with app.test_request_context(headers=SPANISH):
        svg = str(charts.agreement(report()))
    assert text_of(svg, "title") == "Concordancia por indicador"
    description = text_of(svg, "desc")
    assert description.startswith(f"{LONG}: 50\u00a0% dentro de un nivel, 25\u00a0% exacta")
    assert "(para discutir)" in description and "within one" not in description
    for words in ("Concordancia por indicador, de menor a mayor", "Meta: 80\u00a0% dentro de un",
                  "Dentro de un nivel, para discutir", "Exacta"):  # fmt: skip
        assert words in svg, words
    # The whole look-for is on the chart: its last word is there, and nothing was cut.
    assert "experiencia" in svg and "[...]" not in svg


def test_the_trend_charts_in_spanish(app):
    with app.test_request_context(headers=SPANISH):
        svg = str(charts.team_agreement(TEAM, 0.8, "chart-team-1"))
    assert (
        text_of(svg, "title") == "Concordancia a lo largo del tiempo, Riverside instructional team"
    )
    description = text_of(svg, "desc")
    assert description.startswith("Meta: 80\u00a0% dentro de un nivel. 2026-09-01 Number talk:")
    assert "Nobody rated: indefinido dentro de un nivel, indefinido exacta" in description
    assert "concordancia sesión por sesión" in svg
    assert list(svgs(svg)) == ["chart-team-1"]
