"""The walkthrough list (observe/observations/listing.py) through its page and its JSON route:
who sees what, each filter, cursor pages that never repeat or skip a row, bad filters named;
and one walkthrough's page."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from sqlalchemy import event, select

from observe import paths
from observe.audit.models import AuditEvent
from observe.calibration.models import CalibrationSession
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation, ObservationState, Rating
from observe.roster.models import Teacher
from observe.rubrics.operations import load_rubric_file
from tests.conftest import is_postgres

MOMENT = datetime(2026, 10, 14, 14, 30, tzinfo=UTC)


@pytest.fixture
def walk(setting):
    """Store a walkthrough row directly (what a push leaves behind): fast for many rows."""

    def make(author=None, *, school=None, classroom="default", at=MOMENT, **fields: Any):
        if classroom == "default":
            classroom = setting.classroom
        observation = Observation(
            id=str(uuid.uuid4()),
            author_id=(author or setting.observer).id,
            rubric_version_id=fields.pop("rubric_version_id", setting.version.id),
            school_id=(school or (classroom.school if classroom else setting.school)).id,
            classroom_id=classroom.id if classroom else None,
            observed_at=at,
            state=fields.pop("state", ObservationState.SUBMITTED),
            # The teacher at the visit, as a push keeps it (observe/roster/profiles.py).
            teacher_id=fields.pop("teacher_id", classroom.teacher_id if classroom else None),
            **fields,
        )
        db.session.add(observation)
        db.session.commit()
        return observation

    return make


def listed(client, headers, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/observations?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [row["id"] for row in response.get_json()["observations"]]


@pytest.fixture
def people(create_user, setting):
    return {
        "leader_a": create_user(Role.SCHOOL_LEADER, name="Lea Leader", schools=[setting.school]),
        "leader_b": create_user(
            Role.SCHOOL_LEADER, name="Leb Leader", schools=[setting.other_school]
        ),
        "observer_b": create_user(Role.OBSERVER, name="Bob", schools=[setting.school]),
        "admin": create_user(Role.DISTRICT_ADMIN, name="Ada Admin"),
    }


def test_each_role_sees_its_scope(client, bearer, setting, people, walk):
    mine = walk()
    bobs = walk(people["observer_b"])
    in_b = walk(people["observer_b"], classroom=setting.elsewhere)
    leb_in_a = walk(people["leader_b"])  # school B's leader visiting school A
    everything = {mine.id, bobs.id, in_b.id, leb_in_a.id}
    assert set(listed(client, bearer(people["admin"]))) == everything
    assert set(listed(client, bearer(people["leader_a"]))) == {mine.id, bobs.id, leb_in_a.id}
    # School B's leader: school B, and their own walkthrough in A; none of A's others.
    assert set(listed(client, bearer(people["leader_b"]))) == {in_b.id, leb_in_a.id}
    assert listed(client, bearer(setting.observer)) == [mine.id]
    assert set(listed(client, bearer(people["observer_b"]))) == {bobs.id, in_b.id}


def test_calibration_scores_and_deleted_walkthroughs_are_never_listed(
    client, bearer, setting, people, walk
):
    session = CalibrationSession(
        title="Norming", rubric_version_id=setting.version.id, school_id=setting.school.id,
        held_on=date(2026, 10, 14), facilitator_id=people["leader_a"].id,
    )  # fmt: skip
    db.session.add(session)
    db.session.commit()
    kept = walk()
    walk(calibration_session_id=session.id)
    walk(deleted_at=MOMENT + timedelta(hours=1))
    for who in (people["admin"], people["leader_a"], setting.observer):
        assert listed(client, bearer(who)) == [kept.id]


def test_each_filter_narrows_the_list(client, bearer, create_classroom, setting, people, walk):
    teacher = Teacher(external_id="T-1", name="Tess Teacher")
    db.session.add(teacher)
    db.session.commit()
    taught = create_classroom("RVE-04", school=setting.school, name="Grade 4", teacher=teacher)
    quick = load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").version
    db.session.commit()
    day = timedelta(days=1)
    base = walk(at=MOMENT - 10 * day)
    in_taught = walk(people["observer_b"], classroom=taught, at=MOMENT - 5 * day)
    quick_one = walk(rubric_version_id=quick.id, at=MOMENT)
    draft = walk(state=ObservationState.DRAFT, at=MOMENT - 2 * day)
    conflict = walk(has_conflict=True, at=MOMENT - day)
    elsewhere = walk(classroom=setting.elsewhere, at=MOMENT - 3 * day)
    whole_school = walk(classroom=None, at=MOMENT - 4 * day)
    admin = bearer(people["admin"])
    assert set(listed(client, admin)) == {
        base.id, in_taught.id, quick_one.id, draft.id, conflict.id, elsewhere.id, whole_school.id
    }  # fmt: skip
    assert elsewhere.id not in listed(client, admin, f"school={setting.school.id}")
    assert listed(client, admin, f"school={setting.other_school.id}") == [elsewhere.id]
    assert listed(client, admin, f"classroom={taught.id}") == [in_taught.id]
    assert listed(client, admin, f"teacher={teacher.id}") == [in_taught.id]
    assert listed(client, admin, f"observer={people['observer_b'].id}") == [in_taught.id]
    assert listed(client, admin, f"rubric={quick.id}") == [quick_one.id]
    assert listed(client, admin, "state=draft") == [draft.id]
    assert listed(client, admin, "state=conflict") == [conflict.id]
    assert draft.id not in listed(client, admin, "state=submitted")
    # Dates are the district's days, both ends included.
    assert listed(client, admin, f"from={(MOMENT - day).date()}") == [quick_one.id, conflict.id]
    assert listed(client, admin, f"to={(MOMENT - 10 * day).date()}") == [base.id]
    assert listed(
        client, admin, f"from={(MOMENT - 4 * day).date()}&to={(MOMENT - 3 * day).date()}"
    ) == [elsewhere.id, whole_school.id]
    # Filters combine.
    assert listed(client, admin, f"school={setting.school.id}&state=draft") == [draft.id]


def test_pages_never_repeat_or_skip_a_row_sharing_a_timestamp(client, bearer, people, walk):
    made = [walk(at=MOMENT - timedelta(minutes=i % 3)) for i in range(23)]
    expected = [o.id for o in sorted(made, key=lambda o: (o.observed_at, o.id), reverse=True)]
    headers = bearer(people["admin"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=4" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v1/observations?{query}", headers=headers).get_json()
        seen += [row["id"] for row in body["observations"]]
        pages += 1
        cursor = body["next_cursor"]
        if pages == 2:
            walk(at=MOMENT + timedelta(hours=1))  # a new walkthrough arrives mid-way
        if cursor is None:
            break
    assert seen == expected
    assert pages == 6


def test_pages_do_not_depend_on_the_database_session_s_time_zone(app, client, bearer, people, walk):
    """The cursor's moment is compared as the column stores it (naive UTC). Bound as an aware
    timestamp, PostgreSQL compared it with the column read in the session's TimeZone (a server
    set up in New York: every row five hours later), so page 2 skipped five hours of rows."""
    made = [walk(at=MOMENT - timedelta(minutes=i)) for i in range(5)]
    expected = [o.id for o in sorted(made, key=lambda o: (o.observed_at, o.id), reverse=True)]

    def new_york(connection: Any, _record: Any) -> None:
        if is_postgres(app):
            with connection.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'America/New_York'")

    db.session.close()  # its connection back to the pool, which is then emptied
    db.engine.dispose()
    event.listen(db.engine, "connect", new_york)
    try:
        headers = bearer(people["admin"])
        first = client.get("/api/v1/observations?limit=2", headers=headers).get_json()
        seen = [row["id"] for row in first["observations"]]
        cursor = first["next_cursor"]
        while cursor:
            body = client.get(
                f"/api/v1/observations?limit=2&cursor={cursor}", headers=headers
            ).get_json()
            seen += [row["id"] for row in body["observations"]]
            cursor = body["next_cursor"]
            assert len(seen) <= len(made)  # a repeated page would loop for ever
    finally:
        event.remove(db.engine, "connect", new_york)
        db.session.close()
        db.engine.dispose()
    assert seen == expected


def test_the_json_shape(client, bearer, setting, people, walk):
    observation = walk()
    db.session.add_all(
        [
            Rating(observation_id=observation.id, criterion_id=c.id, level=2)
            for c in setting.version.criteria[:3]
        ]
        + [
            Rating(
                observation_id=observation.id,
                criterion_id=setting.version.criteria[3].id,
                not_observed=True,
            )
        ]
    )
    db.session.commit()
    body = client.get("/api/v1/observations", headers=bearer(people["admin"])).get_json()
    assert body["next_cursor"] is None and body["limit"] == 50
    [row] = body["observations"]
    assert row == {
        "id": observation.id,
        "observed_at": "2026-10-14T14:30:00.000Z",
        "school": {"id": setting.school.id, "name": "Riverside Elementary"},
        "classroom": {"id": setting.classroom.id, "name": "Grade 3"},
        "teacher": None,
        "observer": {"id": setting.observer.id, "name": setting.observer.name},
        "rubric_version": {
            "id": setting.version.id,
            "title": setting.version.title,
            "number": 1,
        },
        "state": "submitted",
        "has_conflict": False,
        "rated": 4,
        "look_fors": len(setting.version.criteria),
    }
    spec = client.get("/api/v1/openapi.json").get_json()
    page_schema = {
        **spec["components"]["schemas"]["ObservationPage"],
        "components": spec["components"],
    }
    jsonschema.validate(body, page_schema)
    error = client.get("/api/v1/observations?state=x", headers=bearer(people["admin"])).get_json()
    jsonschema.validate(
        error, {**spec["components"]["schemas"]["Error"], "components": spec["components"]}
    )


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("school=abc", "school"),
        ("school=-1", "school"),
        ("classroom=99999", "classroom"),
        ("teacher=12345", "teacher"),
        ("observer=99999", "observer"),
        ("rubric=99999", "rubric"),
        ("from=2026-13-01", "from"),
        ("from=0001-01-01", "from"),
        ("from=2026-10-02&to=2026-10-01", "to"),
        ("state=maybe", "state"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=²", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        # Well formed, but year 1 at +14:00 would overflow once in UTC; a time with no zone.
        (f"cursor={_b64('0001-01-01T00:00:00+14:00|x')}", "cursor"),
        (f"cursor={_b64('2026-01-01T00:00:00|x')}", "cursor"),
    ],
)
def test_bad_filters_are_named_and_nothing_is_listed(
    client, bearer, sign_in, setting, people, walk, query, field
):
    walk()
    response = client.get(f"/api/v1/observations?{query}", headers=bearer(people["leader_a"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["details"]
    assert error["message"].startswith("Nothing is listed: " + field)

    page = sign_in(people["leader_a"]).get(f"/walkthroughs/?{query}")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert f"<strong>{field}</strong>" in text and "Grade 3" not in text.split("</form>")[-1]


def test_another_schools_choices_are_refused_by_name(client, bearer, setting, people, walk):
    walk(people["observer_b"], classroom=setting.elsewhere)
    headers = bearer(people["leader_a"])
    for query, field in (
        (f"school={setting.other_school.id}", "school"),
        (f"classroom={setting.elsewhere.id}", "classroom"),
        (f"observer={people['observer_b'].id}", "observer"),  # seen in school B only
    ):
        response = client.get(f"/api/v1/observations?{query}", headers=headers)
        assert response.status_code == 422 and field in response.get_json()["error"]["details"]
    # An observer chooses only themselves.
    response = client.get(
        f"/api/v1/observations?observer={people['observer_b'].id}", headers=bearer(setting.observer)
    )
    assert response.status_code == 422


def test_the_page_lists_offers_choices_and_pages(client, sign_in, setting, people, walk):
    rows = [walk(at=MOMENT - timedelta(minutes=i)) for i in range(3)]
    walk(people["observer_b"], classroom=setting.elsewhere)
    browser = sign_in(people["leader_a"])
    text = browser.get("/walkthroughs/?limit=2").get_data(as_text=True)
    assert f'href="/walkthroughs/{rows[0].id}"' in text
    assert f'href="/walkthroughs/{rows[2].id}"' not in text
    assert "Southfield High" not in text  # school B: neither a row nor a choice
    assert f'<option value="{setting.classroom.id}"' in text  # their one school's classrooms
    assert "2026-10-14 14:30" in text  # UTC is the default district zone
    older = text.split('href="/walkthroughs/?cursor=')[1].split('"')[0]
    assert older.endswith("&amp;limit=2")  # the next page keeps the page size
    rest = browser.get(f"/walkthroughs/?cursor={older.replace('&amp;', '&')}")
    rest = rest.get_data(as_text=True)
    assert f'href="/walkthroughs/{rows[2].id}"' in rest
    assert f'href="/walkthroughs/{rows[0].id}"' not in rest
    assert "No more walkthroughs" not in rest and "Older walkthroughs" not in rest


def test_a_classroom_shows_its_visits_over_time_and_its_teacher(
    client, sign_in, create_classroom, setting, people, walk
):
    teacher = Teacher(external_id="T-9", name="Tess Teacher")
    db.session.add(teacher)
    db.session.commit()
    room = create_classroom("RVE-09", school=setting.school, name="Grade 5", teacher=teacher)
    for days in (0, 1, 40):
        walk(classroom=room, at=MOMENT - timedelta(days=days))
    walk()  # another classroom
    text = sign_in(people["leader_a"]).get(f"/walkthroughs/?classroom={room.id}")
    text = text.get_data(as_text=True)
    assert "<h1>Grade 5</h1>" in text
    assert f'href="/walkthroughs/?teacher={teacher.id}">Tess Teacher</a>' in text
    months = text.split("Visits over time")[1].split("</table>")[0]
    assert months.index("October 2026") < months.index("September 2026")
    assert '<td class="numeric">2</td>' in months and '<td class="numeric">1</td>' in months


def test_a_walkthrough_page_shows_its_history_to_those_who_may_read_it(
    client, sign_in, push, make_version, setting, people
):
    first = make_version(notes="First.")
    mine = {**first, "version_id": str(uuid.uuid4()), "base_version_id": first["version_id"]}
    theirs = {**first, "version_id": str(uuid.uuid4()), "base_version_id": first["version_id"]}
    push(first, mine, theirs)
    url = f"/walkthroughs/{first['observation_id']}"
    response = sign_in(people["leader_a"]).get(url)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert f'href="{url}/feedback"' in text and f'href="{url}/feedback.pdf"' in text
    assert f'href="{url}/reconcile"' in text  # in conflict: a person chooses
    assert text.count("<td>tablet-1</td>") == 3 and "Pairs argued." in text
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "walkthrough.history_viewed"
    assert event.object_id == first["observation_id"] and event.detail == {"page": "walkthrough"}

    client.post_form("/sign-out", {})
    assert sign_in(people["leader_b"]).get(url).status_code == 404
    observation = db.session.get(Observation, first["observation_id"])
    observation.deleted_at = MOMENT
    db.session.commit()
    client.post_form("/sign-out", {})
    assert sign_in(setting.observer).get(url).status_code == 404


def test_the_home_page_and_the_nav_lead_to_the_list(client, sign_in, setting):
    text = sign_in(setting.observer).get("/").get_data(as_text=True)
    nav = text.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert 'href="/walkthroughs/"' in nav
    body = text.split("</nav>")[1]
    assert '<a href="/walkthroughs/">Your walkthroughs</a>' in body
