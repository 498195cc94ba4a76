"""Loading a rubric file from the browser: preview, what changes, confirmation."""

from __future__ import annotations

import html
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from observe import paths
from observe.core.permissions import Role
from observe.extensions import db
from observe.rubrics import operations, views
from observe.rubrics.changes import compare
from observe.rubrics.format import parse_rubric
from observe.rubrics.models import RubricVersion
from observe.rubrics.operations import load_rubric_text
from observe.rubrics.spreadsheet import read_workbook, write_workbook
from tests.rubrics.conftest import VALID

PORTRAIT = (paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").read_text(encoding="utf-8")


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(RubricVersion))


@pytest.fixture
def as_admin(client, admin, sign_in):
    sign_in(admin)
    return client


def upload(client, data: bytes, name: str):
    return client.post_form(
        "/rubrics/load",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} field"
    return html.unescape(match.group(1))


def confirm(client, page: str, **override: str):
    fields = {"upload": hidden(page, "upload"), "content_hash": hidden(page, "content_hash")}
    fields.update(override)
    return client.post_form("/rubrics/load/confirm", fields, token_from="/rubrics/load")


def test_preview_shows_the_rubric_as_observers_will_and_loads_nothing(as_admin):
    response = upload(as_admin, PORTRAIT.encode(), "portrait.yaml")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "A new rubric, key <code>portrait-of-a-graduate</code>" in page
    # The rubric page's own rendering: competencies, look-fors, levels, glossary.
    assert 'id="criterion-ct-explain-reasoning"' in page
    assert "Students explain their reasoning, aloud or in writing" in page
    assert "for this look-for" in page
    assert 'id="glossary"' in page
    assert "Load as version 1" in page
    assert versions() == 0


def test_confirming_loads_exactly_the_previewed_file(as_admin):
    page = upload(as_admin, write_workbook(parse_rubric(VALID, "t").document), "ours.xlsx")
    page = page.get_data(as_text=True)
    response = confirm(as_admin, page)
    assert response.status_code == 302
    version = db.session.scalar(select(RubricVersion))
    assert response.headers["Location"] == f"/rubrics/{version.id}"
    assert version.source_name == "ours.xlsx"
    assert version.content_hash == parse_rubric(VALID, "t").content_hash
    shown = as_admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Loaded Test Rubric as version 1." in shown


def test_preview_shows_what_changes_from_the_current_version(as_admin):
    load_rubric_text(VALID, "test.yaml")
    db.session.commit()
    edited = (
        VALID.replace("Students explain their reasoning.", "Students justify their reasoning.")
        .replace("      - key: ask\n", "      - key: ask-open\n")
        .replace("dimensions: [access]", "dimensions: [access, power]")
    )
    page = upload(as_admin, edited.encode(), "test.yaml").get_data(as_text=True)
    assert "It becomes <strong>version 2</strong>" in page
    added = page[page.index("1 look-for added") : page.index("1 look-for removed")]
    assert "<code>ask-open</code>" in added
    removed = page[page.index("1 look-for removed") : page.index("1 look-for reworded")]
    assert "<code>ask</code>" in removed
    reworded = page[page.index("1 look-for reworded") :]
    assert '<del><span class="visually-hidden">was: </span>Students explain' in reworded
    assert '<ins><span class="visually-hidden">now: </span>Students justify' in reworded
    assert "Load as version 2" in page
    assert versions() == 1


def test_compare_by_key():
    old = parse_rubric(VALID, "t").document
    new = parse_rubric(
        VALID.replace("dimensions: [power, achievement]", "dimensions: [power]").replace(
            "title: Test Rubric", "title: Test Rubric 2"
        ),
        "t",
    ).document
    changes = compare(old, new)
    assert (changes.added, changes.removed, changes.reworded) == ([], [], [])
    assert changes.altered == {"explain": ["equity dimensions"]}
    assert changes.general == ["The title changes from “Test Rubric” to “Test Rubric 2”."]
    assert compare(old, old).empty
    required = parse_rubric(
        VALID.replace("dimensions: [access]", "dimensions: [access]\n        required: true"), "t"
    )
    assert compare(old, required.document).altered == {"ask": ["whether it is required"]}


def test_content_already_stored_offers_no_load(as_admin):
    load_rubric_text(VALID, "test.yaml")
    db.session.commit()
    page = upload(as_admin, VALID.encode(), "again.yaml").get_data(as_text=True)
    assert "This content is already stored as" in page
    assert 'name="upload"' not in page


def test_a_hash_that_is_not_the_previewed_one_is_refused(as_admin):
    page = upload(as_admin, VALID.encode(), "test.yaml").get_data(as_text=True)
    other = parse_rubric(VALID.replace("Test Rubric", "Other"), "t").content_hash
    response = confirm(as_admin, page, content_hash=other)
    assert response.status_code == 400
    assert "does not match the previewed file" in response.get_data(as_text=True)
    assert versions() == 0


def test_a_forged_or_altered_upload_is_refused(as_admin):
    page = upload(as_admin, VALID.encode(), "test.yaml").get_data(as_text=True)
    token = hidden(page, "upload")
    response = confirm(
        as_admin, page, upload=token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    )
    assert response.status_code == 400
    assert "did not come from a preview" in response.get_data(as_text=True)
    assert versions() == 0


def test_a_preview_belongs_to_the_admin_who_made_it(client, as_admin, create_user, sign_in):
    page = upload(as_admin, VALID.encode(), "test.yaml").get_data(as_text=True)
    as_admin.post_form("/sign-out", {}, token_from="/rubrics")
    sign_in(create_user(Role.DISTRICT_ADMIN, email="other@example.org"))
    response = confirm(client, page)
    assert response.status_code == 400
    assert "made for another account" in response.get_data(as_text=True)
    assert versions() == 0


def test_a_version_loaded_since_the_preview_is_shown_again(as_admin):
    page = upload(as_admin, VALID.encode(), "test.yaml").get_data(as_text=True)
    load_rubric_text(VALID.replace("Test Rubric", "Test Rubric B"), "b.yaml")
    db.session.commit()
    response = confirm(as_admin, page)
    assert response.status_code == 409
    again = response.get_data(as_text=True)
    assert "Another version of this rubric was loaded since your preview" in again
    assert versions() == 1
    assert confirm(as_admin, again).status_code == 302
    assert versions() == 2


def test_a_bad_file_shows_every_problem_and_changes_nothing(as_admin):
    workbook = openpyxl.load_workbook(io.BytesIO(write_workbook(parse_rubric(VALID, "t").document)))
    workbook["look-fors"]["C2"] = "teacher"
    workbook["look-fors"]["E3"] = "=A1"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(as_admin, buffer.getvalue(), "ours.xlsx")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was loaded: the file has 2 problems." in page
    assert "ours.xlsx: look-fors!C2: must be student or adult; got &#39;teacher&#39;" in page
    assert "ours.xlsx: look-fors!E3: holds a formula" in page
    assert 'name="upload"' not in page
    assert versions() == 0


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"format: observe-rubric/1\n", "notes.txt", "notes.txt: a rubric file ends in .yaml"),
        # The limit is lowered: the test client leaks a temporary file for bodies over 500 kB.
        (b"x" * 1001, "big.yaml", "big.yaml: the file is 1,001 bytes"),
        (b"title: caf\xe9\n", "bad.yml", "bad.yml: not UTF-8 text"),
    ],
)
def test_files_that_are_not_rubrics_are_refused(as_admin, monkeypatch, data, name, message):
    monkeypatch.setattr(operations, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(views, "MAX_FILE_BYTES", 1000)
    response = upload(as_admin, data, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert versions() == 0


def test_no_file_chosen(as_admin):
    response = as_admin.post_form("/rubrics/load", {}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a rubric file" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.OBSERVER, Role.SCHOOL_LEADER])
def test_only_district_admins_may_load(client, create_user, create_school, sign_in, role):
    sign_in(create_user(role, schools=[create_school()]))
    assert client.get("/rubrics/load").status_code == 403
    token = client.csrf_token("/rubrics")
    response = client.post(
        "/rubrics/load",
        data={"csrf_token": token, "file": (io.BytesIO(VALID.encode()), "t.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    response = client.post(
        "/rubrics/load/confirm", data={"csrf_token": token, "upload": "x", "content_hash": "y"}
    )
    assert response.status_code == 403
    assert versions() == 0
    assert "Load a rubric file" not in client.get("/rubrics").get_data(as_text=True)


def test_the_upload_needs_the_csrf_token(as_admin):
    response = as_admin.post(
        "/rubrics/load",
        data={"file": (io.BytesIO(VALID.encode()), "t.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert versions() == 0


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/rubrics/load").status_code == 302
    assert client.get("/rubrics/template.xlsx").status_code == 302


# --- downloads -------------------------------------------------------------------------------


def test_the_template_workbook_is_the_sample_rubric(client, create_user, sign_in):
    sign_in(create_user(Role.OBSERVER))
    response = client.get("/rubrics/template.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="rubric-template.xlsx"'
    read = read_workbook(response.data, "template.xlsx")
    assert read.content_hash == parse_rubric(PORTRAIT, "p").content_hash


def test_a_version_downloads_as_workbook_and_yaml(client, create_user, sign_in):
    version = load_rubric_text(VALID, "test.yaml").version
    db.session.commit()
    sign_in(create_user(Role.OBSERVER))
    response = client.get(f"/rubrics/{version.id}/download.xlsx")
    assert response.status_code == 200
    assert 'filename="test-rubric-v1.xlsx"' in response.headers["Content-Disposition"]
    assert read_workbook(response.data, "x.xlsx").content_hash == version.content_hash
    response = client.get(f"/rubrics/{version.id}/download.yaml")
    assert parse_rubric(response.get_data(as_text=True), "x").content_hash == version.content_hash
    assert client.get(f"/rubrics/{version.id}/download.pdf").status_code == 404
    assert client.get(f"/rubrics/{version.id + 1}/download.yaml").status_code == 404
