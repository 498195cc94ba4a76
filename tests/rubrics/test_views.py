"""The rubric pages and the rubric API."""

from __future__ import annotations

import re

import pytest
from flask import current_app

from observe import paths
from observe.core.permissions import Role
from observe.errors import error_response
from observe.extensions import db
from observe.rubrics.format import RubricFileError, parse_rubric
from observe.rubrics.operations import load_rubric_file, load_rubric_text
from tests.rubrics.conftest import VALID


@pytest.fixture
def portrait():
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    db.session.commit()
    return version


@pytest.fixture
def observer(create_user, sign_in):
    user = create_user(Role.OBSERVER)
    sign_in(user)
    return user


def test_pages_need_sign_in(client, portrait):
    for path in ("/rubrics", f"/rubrics/{portrait.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/sign-in?next={path}"


def test_index_lists_each_rubric_with_its_versions_newest_first(client, observer):
    load_rubric_text(VALID, "rubrics/test.yaml")
    load_rubric_text(VALID.replace("title: Test Rubric", "title: Test Rubric B"), "test.yaml")
    db.session.commit()
    page = client.get("/rubrics").get_data(as_text=True)
    assert "Test Rubric B" in page
    assert page.index("Version 2") < page.index("Version 1")
    assert "rubrics/<wbr>test.yaml" in page


def test_index_says_how_to_load_when_empty(client, observer):
    assert "observe rubrics load" in client.get("/rubrics").get_data(as_text=True)


def test_the_rubric_page_shows_it_as_observers_will_use_it(client, observer, portrait):
    response = client.get(f"/rubrics/{portrait.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    document = portrait.document
    for competency in document["competencies"]:
        assert competency["name"] in page
        for criterion in competency["criteria"]:
            assert f'id="criterion-{criterion["key"]}"' in page
    for level in document["scale"]["levels"]:
        assert level["label"] in page
    # A criterion-specific descriptor, and the rubric-wide ones it stands beside.
    assert "The teacher talks almost all of the time; students answer in single words." in page
    assert "Not seen, or seen for very few students; the opportunity was absent." in page
    assert "What did students say or write to justify an answer?" in page
    assert 'class="tag tag-student"' in page and 'class="tag tag-adult"' in page
    for dimension in ("identity", "power", "access", "achievement"):
        assert f"tag-dimension tag-{dimension}" in page
    assert "“Not observed” is not an option for this look-for" in page
    assert "Part of the lesson observed" in page and "<li>Closing</li>" in page
    assert "Productive struggle" in page and 'id="glossary"' in page
    assert 'href="#term-identity"' in page
    assert portrait.content_hash in page
    # The CSP forbids inline styles and scripts; the page must not rely on them.
    assert not re.search(r"\sstyle=", page)
    # No inline script: every <script> loads a file from this server (the CSP allows no other).
    assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", page) == []
    assert "css/rubric.css" in page


def test_an_earlier_version_points_to_the_latest(client, observer):
    first = load_rubric_text(VALID, "test.yaml").version
    second = load_rubric_text(VALID.replace("Test Rubric", "Test Rubric B"), "test.yaml").version
    db.session.commit()
    page = client.get(f"/rubrics/{first.id}").get_data(as_text=True)
    assert "This is an earlier version." in page
    assert f'href="/rubrics/{second.id}">version 2</a>' in page
    assert "This is an earlier version." not in client.get(f"/rubrics/{second.id}").get_data(
        as_text=True
    )


def test_an_unknown_version_is_not_found(client, observer):
    response = client.get("/rubrics/999")
    assert response.status_code == 404
    assert "There is no rubric version 999." in response.get_data(as_text=True)


# --- API --------------------------------------------------------------------------------------


def test_api_lists_rubrics_with_versions(client, create_user, bearer):
    first = load_rubric_text(VALID, "test.yaml").version
    second = load_rubric_text(VALID.replace("Test Rubric", "Test Rubric B"), "test.yaml").version
    db.session.commit()
    headers = bearer(create_user(Role.OBSERVER))
    body = client.get("/api/v1/rubrics", headers=headers).get_json()
    assert len(body["rubrics"]) == 1
    rubric = body["rubrics"][0]
    assert rubric["key"] == "test-rubric"
    assert [v["id"] for v in rubric["versions"]] == [second.id, first.id]
    latest = rubric["versions"][0]
    assert set(latest) == {"id", "number", "title", "content_hash", "loaded_at", "retired"}
    assert (latest["number"], latest["title"]) == (2, "Test Rubric B")
    assert latest["content_hash"] == second.content_hash
    assert latest["loaded_at"].endswith("+00:00")


def test_api_returns_a_version_with_its_document_and_ids(client, create_user, bearer):
    version = load_rubric_text(VALID, "test.yaml").version
    db.session.commit()
    headers = bearer(create_user(Role.OBSERVER))
    body = client.get(f"/api/v1/rubric-versions/{version.id}", headers=headers).get_json()
    assert body["id"] == version.id
    assert body["rubric"] == {"id": version.rubric_id, "key": "test-rubric"}
    assert body["document"] == version.document
    assert body["document"]["competencies"][0]["criteria"][0]["key"] == "explain"
    explain, ask = body["criteria"]
    assert explain["id"] == version.criteria[0].id
    assert explain["competency_id"] == body["competencies"][0]["id"]
    assert explain["levels"][2]["descriptor"] == "Students explain without prompting."
    assert ask["allows_not_observed"] is False
    assert ask["dimensions"] == ["access"]


def test_api_unknown_version_is_a_json_404(client, create_user, bearer):
    headers = bearer(create_user(Role.OBSERVER))
    response = client.get("/api/v1/rubric-versions/999", headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": "There is no rubric version 999."}
    }


def test_api_needs_a_token_or_session(client):
    response = client.get("/api/v1/rubrics")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_rubric_file_error_is_a_422_for_the_api():
    with pytest.raises(RubricFileError) as caught:
        parse_rubric("", "x.yaml")
    with current_app.test_request_context("/api/v1/anything"):
        error = caught.value
        response, status = error_response(error.status, error.code, error.message, error.details)
    assert status == 422
    assert response.get_json()["error"] == {
        "code": "validation_failed",
        "message": "The rubric file has 1 problem; nothing was loaded.",
        "details": {"problems": [error.problems[0]]},
    }


def test_a_required_look_for_is_tagged_on_the_page_and_sent_to_tablets(client, observer, bearer):
    text = VALID.replace("dimensions: [access]", "dimensions: [access]\n        required: true")
    version = load_rubric_text(text, "required.yaml").version
    db.session.commit()
    page = client.get(f"/rubrics/{version.id}").get_data(as_text=True)
    assert page.count('class="tag tag-required"') == 1
    explain_at, ask_at = page.index("criterion-explain"), page.index("criterion-ask")
    assert ask_at < page.index("tag-required")  # on "ask", the second look-for
    assert explain_at < ask_at
    body = client.get(f"/api/v1/rubric-versions/{version.id}", headers=bearer(observer)).get_json()
    assert [(c["key"], c["required"]) for c in body["criteria"]] == [
        ("explain", False),
        ("ask", True),
    ]
