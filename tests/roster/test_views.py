"""The schools pages and the schools API: who sees which school."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from observe.core.permissions import Role
from observe.extensions import db
from observe.roster.models import Classroom, School
from observe.roster.operations import import_roster


@pytest.fixture
def roster(simple, oneroster) -> dict[str, School]:
    """Lincoln, Oak Street, Riverside (simple files); Washington and Elm (OneRoster)."""
    import_roster([simple / "schools.csv", simple / "classrooms.csv", oneroster])
    db.session.commit()
    return {school.code: school for school in db.session.scalars(db.select(School))}


@pytest.fixture
def leader(create_user, roster):
    return create_user(
        Role.SCHOOL_LEADER, email="pat@example.org", name="Pat Kim", schools=[roster["LIN-HS"]]
    )


def test_a_school_leader_sees_only_their_schools(sign_in, leader):
    client = sign_in(leader)

    page = client.get("/schools")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Lincoln High School" in html
    assert "/schools/LIN-HS" in html
    for other in ("Oak Street Elementary", "Riverside Middle School", "Washington High School"):
        assert other not in html

    assert client.get("/schools/LIN-HS").status_code == 200
    refused = client.get("/schools/OAK-ES")  # another school: as if there were none
    assert refused.status_code == 404
    assert "Oak Street" not in refused.get_data(as_text=True)


def test_a_district_admin_sees_every_school(sign_in, admin, roster):
    html = sign_in(admin).get("/schools").get_data(as_text=True)
    for name in ("Lincoln High School", "Oak Street Elementary", "Washington High School"):
        assert name in html
    # District attributes and the active classroom count (one Washington class is inactive).
    assert "feeder pattern: Lincoln" in html
    assert '<td class="numeric">4</td>' in html


def test_a_school_page_lists_its_classrooms(sign_in, admin, roster):
    page = sign_in(admin).get("/schools/LIN-HS")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in (
        "Algebra 1 (P4)",
        "Aisha Bello",
        "Mathematics",
        "Special education inclusion",
        "English learners",
        "co taught: yes",
        "AP Biology (P3)",
        "<dt>Feeder pattern</dt><dd>Lincoln</dd>",
    ):
        assert text in html
    # The CSP forbids inline styles and scripts: the page must not need them.
    assert "style=" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", html) == []  # no inline script


def test_an_inactive_classroom_is_marked(sign_in, admin, roster):
    html = sign_in(admin).get("/schools/org-wash-hs").get_data(as_text=True)
    assert '<span class="tag">inactive</span>' in html
    assert "Ravi Patel" in html


def test_an_unknown_school_is_not_found(sign_in, admin):
    assert sign_in(admin).get("/schools/NOPE").status_code == 404


def test_the_schools_page_needs_sign_in(client):
    response = client.get("/schools")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_empty_roster_explains_how_to_import(sign_in, admin):
    html = sign_in(admin).get("/schools").get_data(as_text=True)
    assert "observe roster import" in html


def test_api_lists_visible_schools_with_classrooms(client, bearer, leader):
    response = client.get("/api/v1/schools", headers=bearer(leader))
    assert response.status_code == 200
    schools = response.get_json()["schools"]
    assert [s["code"] for s in schools] == ["LIN-HS"]
    lincoln = schools[0]
    assert lincoln["attributes"] == {"feeder_pattern": "Lincoln", "grade_band": "9-12"}
    assert (lincoln["level"], lincoln["region"], lincoln["title_i"]) == ("high", "North", False)
    assert lincoln["id"] == db.session.scalar(select(School.id).where(School.code == "LIN-HS"))
    algebra = next(c for c in lincoln["classrooms"] if c["external_id"] == "LIN-ALG1-4")
    assert algebra == {
        "id": db.session.scalar(select(Classroom.id).where(Classroom.external_id == "LIN-ALG1-4")),
        "external_id": "LIN-ALG1-4",
        "name": "Algebra 1 (P4)",
        "teacher": {"id": "T102", "name": "Aisha Bello"},
        "grade": "9",
        "subject": "Mathematics",
        "course_level": "general",
        "programs": ["English learners", "Special education inclusion"],
        "attributes": {"co_taught": "yes", "period": "4"},
        "students": None,
        "active": True,
    }


def test_api_gives_a_district_admin_every_school(client, bearer, admin, roster):
    schools = client.get("/api/v1/schools", headers=bearer(admin)).get_json()["schools"]
    assert [s["code"] for s in schools] == sorted(roster)
    washington = next(s for s in schools if s["code"] == "org-wash-hs")
    assert len(washington["classrooms"]) == 6
    assert sum(1 for c in washington["classrooms"] if not c["active"]) == 1


def test_api_needs_a_token(client):
    response = client.get("/api/v1/schools")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
