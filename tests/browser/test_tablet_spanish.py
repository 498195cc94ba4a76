"""The whole tablet flow in Spanish: a browser whose language is Spanish gets the app and the
sample rubric in Spanish — sign in, start, score, review, submit, offline and back, sync —
with the words checked, screenshots at both tablet sizes, and nothing that overflows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from observe.extensions import db
from observe.observations.models import Observation
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD

EMAIL = "coach@example.org"


@pytest.fixture
def spanish(browser: Browser, riverbend) -> Iterator[BrowserContext]:
    riverbend()
    context = browser.new_context(locale="es-ES", viewport={"width": 1024, "height": 768})
    yield context
    context.close()


def sign_in(page: Page, base: str) -> None:
    page.goto(base + "/app/")
    # The sign-in page is the server's (its words are the server catalog's): its fields by name.
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", name="Visitas al aula")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.locator("#sync-indicator")).to_contain_text("Todo guardado en el servidor")


OVERFLOW = """(selector) => {
  const found = [];
  const page = document.documentElement.scrollWidth;
  if (page > window.innerWidth + 1) found.push(`page ${page}px wide`);
  for (const el of document.querySelectorAll(selector)) {
    if (!el.offsetParent) continue;
    const name = `${el.tagName} "${el.innerText.trim()}"`;
    if (el.scrollWidth > el.clientWidth + 1) found.push(`${name} runs past its box`);
    if (el.getBoundingClientRect().right > window.innerWidth + 1) found.push(`${name} off screen`);
  }
  return found;
}"""


def no_overflow(page: Page) -> list[str]:
    """Elements whose text runs past their box or the page (Spanish runs ~25 % longer)."""
    return page.evaluate(OVERFLOW, "button, a.button, .chip, .tag, label, h1, h2, .sync-indicator")


def look(page: Page, shots, name: str) -> None:
    """Screenshots at both tablet sizes, each checked for overflow and axe's serious issues."""
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=shots / f"app-es-{name}-{orientation}.png", full_page=True)
        assert no_overflow(page) == [], f"{name} ({orientation})"
        assert serious_violations(page) == [], f"{name} ({orientation})"
    page.set_viewport_size({"width": 1024, "height": 768})


def score(page: Page) -> None:
    """Start a walkthrough of AP Calculus in small groups and rate three look-fors."""
    page.get_by_role("link", name="Iniciar una visita al aula").click()
    expect(page.get_by_role("heading", name="Iniciar una visita al aula")).to_be_visible()
    page.get_by_role("button", name="AP Calculus").click()
    expect(page.get_by_role("heading", name="Agrupación de los estudiantes")).to_be_visible()
    page.get_by_role("button", name="Grupos pequeños").click()
    page.get_by_role("button", name="Comenzar").click()
    criteria = page.locator(".criterion")
    expect(criteria.first).to_contain_text(
        "El objetivo de aprendizaje está publicado o se enuncia en un lenguaje accesible"
    )
    criteria.nth(0).get_by_role("button", name="Sí").click()
    criteria.nth(1).get_by_role("button", name="No").click()
    criteria.nth(2).get_by_role("button", name="Sí").click()
    page.get_by_label("Evidencia").first.fill(
        "Objetivo en la pizarra, repetido por los estudiantes."
    )
    page.get_by_label("Notas generales").fill("Buen comienzo.")
    expect(page.locator("#progress")).to_have_text("3 de 7 calificados")


def test_the_whole_tablet_flow_in_spanish(spanish: BrowserContext, live_server, screenshot_dir):
    page = spanish.new_page()
    sign_in(page, live_server)
    assert page.evaluate("document.documentElement.lang") == "es"
    expect(page.get_by_role("button", name="Sincronizar", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Borradores")).to_contain_text(
        "No hay borradores en esta tableta."
    )
    look(page, screenshot_dir, "home")

    page.get_by_role("link", name="Iniciar una visita al aula").click()
    expect(page.get_by_role("button", name="Indicadores rápidos")).to_contain_text(
        "7 indicadores · unos 3 minutos"
    )
    expect(page.get_by_label("Buscar por aula, docente, curso o código")).to_be_visible()
    look(page, screenshot_dir, "start")
    page.get_by_role("link", name="Cancelar").click()

    score(page)
    form = page.locator("main")
    expect(form).to_contain_text("Ambiente de aprendizaje")
    expect(form).to_contain_text("Participación de los estudiantes")
    expect(form).to_contain_text("Indicadores rápidos")
    expect(page.locator(".criterion").nth(6)).to_contain_text(
        "Los estudiantes recurren a sus propias experiencias, culturas o lenguas en el trabajo."
    )
    expect(page.locator(".criterion").first.locator(".tag").first).to_have_text("Adultos")
    expect(page.get_by_role("button", name="Pausar cronómetro")).to_be_visible()
    # The look-for's own evidence prompt, translated; the others ask the app's question.
    expect(page.locator("#e-ql-own-experience")).to_have_attribute(
        "placeholder", "¿Qué aportó un estudiante desde fuera de la escuela?"
    )
    expect(page.locator("#e-ql-names")).to_have_attribute("placeholder", "¿Qué vio o escuchó?")
    page.locator(".criterion").first.locator("summary").click()  # the level descriptors
    expect(page.locator(".criterion").first.locator("dl")).to_contain_text(
        "1 · Sí" + "Se vio o se escuchó durante la visita."
    )
    look(page, screenshot_dir, "form")
    # The longest state the header shows, so its words wrap at both sizes.
    spanish.set_offline(True)
    expect(page.locator("#sync-indicator")).to_contain_text(
        "Sin conexión — guardado en esta tableta"
    )
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        # Scrolled down, the sticky bar shows whole below the header however its words wrap.
        page.set_viewport_size({"width": width, "height": height})
        page.locator("#notes").scroll_into_view_if_needed()
        covered = page.evaluate(
            """() => document.querySelector(".site-header").getBoundingClientRect().bottom
              - document.querySelector(".form-bar").getBoundingClientRect().top"""
        )
        assert covered <= 1, f"the header covers {covered}px of the form bar ({orientation})"
        expect(page.get_by_role("link", name="Revisar", exact=True)).to_be_visible()
    page.set_viewport_size({"width": 1024, "height": 768})
    spanish.set_offline(False)

    page.get_by_role("link", name="Revisar y enviar").click()
    expect(page.get_by_role("heading", name="Revisar", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "4 indicadores no están calificados. Puede enviar de todos modos o volver."
    )
    expect(page.locator("main")).to_contain_text("Retroalimentación para el docente")
    expect(page.locator("dl.summary").first).to_contain_text("Sí")
    page.get_by_label("Fortalezas").fill("Los grupos explicaron su razonamiento.")
    look(page, screenshot_dir, "review")
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.get_by_role("heading", name="Visitas al aula")).to_be_visible()
    expect(page.locator("#submitted")).to_contain_text("AP Calculus")
    expect(page.locator("#sync-indicator")).to_contain_text("Todo guardado en el servidor")
    expect(page.locator("#submitted")).to_contain_text("Enviada y en el servidor")

    # Offline, from a cold start: the app and its Spanish come from the service worker's cache.
    page.close()
    spanish.set_offline(True)
    cold = spanish.new_page()
    cold.goto(live_server + "/app/")
    expect(cold.get_by_role("heading", name="Visitas al aula")).to_be_visible()
    expect(cold.locator("#sync-indicator")).to_contain_text(
        "Sin conexión — guardado en esta tableta"
    )
    score(cold)
    cold.get_by_role("link", name="Revisar y enviar").click()
    cold.get_by_role("button", name="Enviar", exact=True).click()
    expect(cold.locator("#sync-indicator")).to_contain_text("1 en espera")
    expect(cold.get_by_role("region", name="En espera de sincronizar")).to_contain_text(
        "AP Calculus"
    )
    expect(cold.locator("#submitted")).to_contain_text("Está guardada en esta tableta")
    look(cold, screenshot_dir, "offline-waiting")

    spanish.set_offline(False)
    cold.get_by_role("button", name="Sincronizar", exact=True).click()
    expect(cold.locator("#sync-indicator")).to_contain_text("Todo guardado en el servidor")
    expect(cold.get_by_role("region", name="Sincronizadas recientemente")).to_contain_text(
        "AP Calculus"
    )
    db.session.rollback()
    stored = list(db.session.scalars(select(Observation)))
    assert len(stored) == 2
    assert {o.language for o in stored} == {"es"}
    # The option the observer tapped in Spanish is stored as the rubric's own (default) text.
    assert {tuple(o.context["grouping"]) for o in stored} == {("Small groups",)}


def test_an_english_browser_still_gets_english(
    context: BrowserContext, page: Page, live_server, riverbend
):
    riverbend()
    page.goto(live_server + "/app/")
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    page.get_by_role("link", name="Start a walkthrough").click()
    expect(page.get_by_role("button", name="Quick Look-Fors")).to_contain_text(
        "7 look-fors · about 3 minutes"
    )
    page.get_by_role("button", name="AP Calculus").click()
    page.get_by_role("button", name="Begin").click()
    expect(page.locator(".criterion").first).to_contain_text(
        "The learning target is posted or stated in student-friendly language."
    )
