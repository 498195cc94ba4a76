"""The server's pages in Spanish (docs/languages.md): a district admin whose setting is Spanish
reads every page with ``lang="es"``, in Spanish where the page is translated, with no serious
axe violation and nothing pushed past the tablet's edge (Spanish runs about 25 % longer)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from observe.accounts.models import User
from observe.extensions import db
from tests.browser import axe
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_accessibility import (
    ADMIN,
    SERVER_PAGES,
    _sideways,
    _sign_in,
    demo_district,  # noqa: F401 (a fixture)
)

# What each translated page must say in Spanish (its main heading, or a line of it).
SPANISH = {
    "home": "Hola, ",
    "walkthrough list": "Visitas al aula",
    "walkthrough page": "Historial",
    "feedback": "Retroalimentación de la visita al aula",
    "conflicts": "Visitas al aula por conciliar",
    "calibration sessions": "Calibración",
    "calibration session, scoring": "Quién ha enviado sus puntuaciones",
    "calibration report": "Concordancia general",
    "calibration trends": "La calibración a lo largo del tiempo",
    "goals": "Qué proporción de valoraciones",
    "confirm a deletion": "¿Eliminar la visita al aula de",
    "new calibration session": "Nueva sesión de calibración",
    "rubrics": "Rúbricas",
    "rubric": "Acerca de esta versión",
    "load a rubric": "Cargar un archivo de rúbrica",
    "schools (roster)": "Escuelas",
    "a school's classrooms": "Acerca de esta escuela",
    "audit log": "Registro de auditoría",
    "people": "Personas",
    "settings": "Configuración",
}


@pytest.fixture
def spanish_admin(demo_district) -> dict[str, object]:  # noqa: F811 (the fixture above)
    admin = db.session.scalars(select(User).where(User.email == ADMIN)).one()
    admin.language = "es"
    db.session.commit()
    return demo_district


def test_a_spanish_reader_walks_home_walkthroughs_and_settings(
    page: Page, live_server, spanish_admin, screenshot_dir
):
    # The browser asks for English: the person's own setting wins.
    _sign_in(page, live_server, ADMIN, "/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hola, ")
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Visitas al aula"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Visitas al aula")
    expect(page.get_by_role("button", name="Mostrar")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Observador/a")).to_be_visible()
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshot_dir / f"es-walkthroughs-{orientation}.png", full_page=True)
    page.get_by_role("link", name="Configuración").click()
    expect(page.get_by_label("El idioma en que observe le habla")).to_have_value("es")
    assert axe.violations(page, "settings in Spanish") == []
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshot_dir / f"es-settings-{orientation}.png", full_page=True)

    # Back to the browser's language: English again, from the next page on.
    page.get_by_label("El idioma en que observe le habla").select_option("")
    page.get_by_role("button", name="Guardar el idioma").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("status")).to_have_text("Your language is saved.")


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_every_server_page_in_spanish(
    page: Page, live_server, spanish_admin, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    _sign_in(page, live_server, ADMIN, "/")
    found = []
    for name, path in SERVER_PAGES.items():
        response = page.goto(live_server + path.format(**spanish_admin))
        assert response and response.ok, f"{name}: {response and response.status}"
        expect(page.locator("html")).to_have_attribute("lang", "es")
        if name in SPANISH:
            expect(page.locator("main")).to_contain_text(SPANISH[name])
        found += axe.violations(page, f"{name} (es)")
        found += _sideways(page, f"{name} (es)")
        shot = "".join(c for c in name if c.isalnum() or c == " ").replace(" ", "-")
        page.screenshot(path=screenshot_dir / f"es-{shot}-{orientation}.png", full_page=True)
    assert found == []
