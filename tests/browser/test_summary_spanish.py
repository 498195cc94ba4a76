"""The summary report in Spanish in a real browser (locale es-ES, so Accept-Language asks for
Spanish): headings, charts' names and figures in Spanish, no serious axe violation, nothing pushed
past the tablet's edge (Spanish runs about 25 % longer), looked at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_summary import biology_by_level
from tests.conftest import PASSWORD


@pytest.fixture
def browser_context_args() -> dict:
    return {"viewport": {"width": 1024, "height": 768}, "locale": "es-ES"}


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_a_spanish_leader_reads_the_summary(
    page: Page, live_server, create_school, create_classroom, create_user, screenshot_dir,
    orientation,
):  # fmt: skip
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    biology_by_level(create_school, create_classroom, create_user)

    page.goto(live_server + "/sign-in?next=/reports/summary")
    page.get_by_label("Correo electrónico").fill("lead@example.org")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.get_by_label("Dividir por").select_option("course_level")
    page.get_by_role("button", name="Mostrar").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Lo que muestran las visitas al aula")).to_be_visible()
    expect(page.get_by_role("heading", name="Por grupo: Nivel del curso")).to_be_visible()
    expect(page.get_by_role("heading", name="Dimensiones de equidad")).to_be_visible()
    expect(page.get_by_role("heading", name="Cómo leer estas cifras")).to_be_visible()
    expect(
        page.get_by_role("img", name="Niveles observados por dimensión de equidad")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Indicadores por Nivel del curso")).to_be_visible()
    expect(page.get_by_role("region", name="Lo que destaca")).to_be_visible()
    assert "\u00a0%" in page.locator("#competencies-heading + table").inner_text()
    # The equity dimensions by their Spanish names, in the table and on its chart.
    dimensions = page.locator("section[aria-labelledby=dimensions-heading]").inner_text()
    assert any(name in dimensions for name in ("Identidad", "Poder", "Acceso", "Logro"))
    assert not any(name in dimensions for name in ("Identity", "Power", "Access", "Achievement"))
    # Nothing wider than the tablet but the tables that say they scroll sideways — measured
    # once the page has loaded whole (its stylesheets too: a chart's width comes from them).
    page.wait_for_load_state("load")
    wider = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > innerWidth + 1)
            .map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 40))"""
    )
    assert wider == []
    assert serious_violations(page) == [], "summary in Spanish"
    page.screenshot(path=screenshot_dir / f"summary-es-{orientation}.png", full_page=True)
    page.get_by_role("region", name="Lo que destaca").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / f"summary-es-top-{orientation}.png")
