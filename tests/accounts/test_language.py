"""A person's language (docs/languages.md): their setting, else the browser's, else English."""

from __future__ import annotations

import pytest

from observe.accounts.models import User
from observe.extensions import db


def language_of(user: User) -> str | None:
    db.session.expire_all()
    return db.session.get(User, user.id).language


def test_english_with_no_setting_and_no_browser_language(client, create_user, sign_in):
    sign_in(create_user(name="Maya Lopez"))
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Welcome, Maya" in page


def test_the_browser_language_is_the_default(client, create_user, sign_in):
    sign_in(create_user(name="Maya Lopez"))
    page = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    text = page.get_data(as_text=True)
    assert '<html lang="es">' in text
    assert "Hola, Maya" in text
    assert "Visitas al aula" in text
    # A language observe does not speak falls back to English.
    text = client.get("/", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert '<html lang="en">' in text


def test_the_sign_in_page_follows_the_browser(client):
    page = client.get("/sign-in", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Iniciar sesión" in page
    assert '<html lang="es">' in page


def test_a_person_chooses_spanish_over_their_browser(client, create_user, sign_in):
    user = create_user(name="Maya Lopez")
    sign_in(user)
    page = client.get("/settings").get_data(as_text=True)
    assert '<option value="es" lang="es" >Español</option>' in page
    response = client.post_form("/settings/language", {"language": "es"}, token_from="/settings")
    assert response.status_code == 302
    assert language_of(user) == "es"
    settings = client.get("/settings", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert '<html lang="es">' in settings
    assert "Se guardó su idioma." in settings
    assert '<option value="es" lang="es" selected>Español</option>' in settings
    # Back to the browser's language.
    client.post_form("/settings/language", {"language": ""}, token_from="/settings")
    assert language_of(user) is None
    page = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_english_chosen_over_a_spanish_browser(client, create_user, sign_in):
    user = create_user()
    sign_in(user)
    client.post_form("/settings/language", {"language": "en"}, token_from="/settings")
    assert language_of(user) == "en"
    page = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in page


@pytest.mark.parametrize("value", ["fr", "ES", "es-MX", "x" * 300, "english"])
def test_a_language_observe_does_not_speak_is_refused(client, create_user, sign_in, value):
    user = create_user()
    sign_in(user)
    client.post_form("/settings/language", {"language": "es"}, token_from="/settings")
    response = client.post_form("/settings/language", {"language": value}, token_from="/settings")
    assert response.status_code == 302
    assert language_of(user) == "es"  # unchanged
    page = client.get("/settings").get_data(as_text=True)
    # In the reader's language, naming the value and the choices.
    assert "No se cambió el idioma: language: «" in page
    assert value[:20] in page
    assert "no es un idioma que observe hable; elija en (English), es (Español)" in page


def test_the_refusal_in_english(client, create_user, sign_in):
    user = create_user()
    sign_in(user)
    client.post_form("/settings/language", {"language": "klingon"}, token_from="/settings")
    page = client.get("/settings").get_data(as_text=True)
    assert (
        "The language was not changed: language: “klingon” is not a language observe speaks; "
        "choose one of en (English), es (Español), or the browser&#39;s language."
    ) in page
    assert language_of(user) is None


def test_a_spanish_reader_gets_spanish_errors(client, create_user, sign_in):
    user = create_user()
    sign_in(user)
    client.post_form("/settings/language", {"language": "es"}, token_from="/settings")
    response = client.get("/walkthroughs/999999")
    assert response.status_code == 404
    assert "No encontrado" in response.get_data(as_text=True)


def test_the_setting_is_in_the_api_for_the_tablet_app(client, create_user, sign_in):
    user = create_user()
    sign_in(user)
    assert client.get("/api/v1/me").get_json()["language"] is None
    client.post_form("/settings/language", {"language": "es"}, token_from="/settings")
    assert client.get("/api/v1/me").get_json()["language"] == "es"
    assert client.get("/api/v1/session").get_json()["user"]["language"] == "es"


def test_error_pages_in_spanish_and_the_api_in_english(client, create_user, sign_in):
    user = create_user()
    sign_in(user)
    client.post_form("/settings/language", {"language": "es"}, token_from="/settings")
    page = client.get("/no-such-page")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "No hay ninguna página en esta dirección." in text and '<html lang="es">' in text
    # An expired form, in the reader's language.
    refused = client.post("/settings/language", data={"language": "en", "csrf_token": "stale"})
    assert refused.status_code == 400
    assert "Este formulario venció" in refused.get_data(as_text=True)
    assert language_of(user) == "es"
    # JSON errors keep Werkzeug's English: they are for programs (docs/languages.md).
    answer = client.get("/api/v1/no-such-route")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"
    assert "requested URL was not found" in answer.get_json()["error"]["message"]
