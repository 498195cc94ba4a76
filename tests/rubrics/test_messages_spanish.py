"""An admin reading Spanish loads and retires rubrics in Spanish: the upload's refusals, the
confirmations and the flash messages (observe/rubrics/views.py, operations.py). The command line
and English readers keep the English words (tests/rubrics/test_upload.py, test_retire.py)."""

from __future__ import annotations

import html
import io

import pytest

from observe.rubrics import operations, views
from observe.rubrics.operations import RubricFileError, read_rubric_bytes
from tests.rubrics.test_retire import two  # noqa: F401 (fixture)
from tests.rubrics.test_upload import PORTRAIT, hidden

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


def upload(client, data: bytes, name: str):
    return client.post_form(
        "/rubrics/load",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=SPANISH,
    )


def confirm(client, page: str, **override: str):
    fields = {"upload": hidden(page, "upload"), "content_hash": hidden(page, "content_hash")}
    fields.update(override)
    return client.post_form(
        "/rubrics/load/confirm", fields, token_from="/rubrics/load", headers=SPANISH
    )


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"format: observe-rubric/1\n", "notes.txt",
         "notes.txt: un archivo de rúbrica termina en .yaml, .yml o .xlsx"),
        (b"x" * 1001, "big.yaml",
         "big.yaml: el archivo ocupa 1,001 bytes; un archivo de rúbrica debe ocupar menos de 2 MB"),
        (b"title: caf\xe9\n", "bad.yml",
         "bad.yml: no es texto UTF-8 (en el byte 10); guarde el archivo como UTF-8"),
    ],
)  # fmt: skip
def test_an_upload_is_refused_in_spanish(client, admin, sign_in, monkeypatch, data, name, message):
    monkeypatch.setattr(operations, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(views, "MAX_FILE_BYTES", 1000)
    sign_in(admin)
    response = upload(client, data, name)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    nothing = client.post_form("/rubrics/load", {}, content_type="multipart/form-data",
                               headers=SPANISH)  # fmt: skip
    assert "Elija un archivo de rúbrica (.yaml, .yml o .xlsx) para cargar." in html.unescape(
        nothing.get_data(as_text=True)
    )


def test_the_command_line_keeps_english():
    with pytest.raises(RubricFileError) as refused:
        read_rubric_bytes(b"title: caf\xe9\n", "bad.yml")
    assert refused.value.problems == [
        "bad.yml: not UTF-8 text (at byte offset 10); save the file as UTF-8"
    ]


def test_loading_flashes_in_spanish_with_the_rubrics_spanish_title(client, admin, sign_in):
    sign_in(admin)
    preview = upload(client, PORTRAIT.encode(), "portrait.yaml").get_data(as_text=True)
    stale = confirm(client, preview, upload=hidden(preview, "upload") + "x")
    assert "Esta confirmación no proviene de una vista previa" in stale.get_data(as_text=True)
    done = confirm(client, preview)
    assert done.status_code == 302
    page = client.get(done.headers["Location"], headers=SPANISH).get_data(as_text=True)
    assert "Se cargó Visita al aula: Perfil del Egresado como versión 1." in html.unescape(page)


def test_retiring_and_offering_again_in_spanish(client, admin, sign_in, setting, two):  # noqa: F811
    v1, _ = two
    sign_in(admin)
    asked = html.unescape(client.get(f"/rubrics/{v1.id}/retire", headers=SPANISH).get_data(
        as_text=True))  # fmt: skip
    assert "¿Retirar Revised walkthrough (v1)?" in asked
    assert "en su lugar ofrecen Revised walkthrough (v2)" in asked
    assert "Retirar la versión 1" in asked and "Volver a las rúbricas" in asked
    assert "Tablets stop offering" not in asked
    client.post_form(f"/rubrics/{v1.id}/retire", {"confirmed": "yes"}, token_from="/rubrics",
                     headers=SPANISH)  # fmt: skip
    page = html.unescape(client.get("/rubrics", headers=SPANISH).get_data(as_text=True))
    assert "Se retiró Revised walkthrough (v1): las tabletas ya no empiezan visitas" in page
    offer = html.unescape(client.get(f"/rubrics/{v1.id}/unretire", headers=SPANISH).get_data(
        as_text=True))  # fmt: skip
    assert "¿Volver a ofrecer Revised walkthrough (v1)?" in offer
    assert "se sigue ofreciendo una versión más reciente" in offer
    client.post_form(f"/rubrics/{v1.id}/unretire", {"confirmed": "yes"}, token_from="/rubrics",
                     headers=SPANISH)  # fmt: skip
    page = html.unescape(client.get("/rubrics", headers=SPANISH).get_data(as_text=True))
    assert "Revised walkthrough (v1) ya no está retirada." in page
