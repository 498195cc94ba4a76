"""POST /api/v1/sync/push: applied, duplicate, conflict, rejected — one result per item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from observe import paths
from observe.extensions import db
from observe.observations.models import (
    Observation,
    ObservationVersion,
    Rating,
    RejectedVersion,
)
from observe.rubrics.operations import load_rubric_file, load_rubric_text
from observe.sync.checks import NOTHING_RATED
from tests.conftest import edit_of, new_id


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_new_observation_is_applied_and_mirrored(push, make_version, setting):
    version = make_version()
    results = push(version)["results"]
    assert results == [
        {
            "version_id": version["version_id"],
            "status": "applied",
            "observation_id": version["observation_id"],
            "head_version_id": version["version_id"],
            "has_conflict": False,
        }
    ]
    observation = db.session.get(Observation, version["observation_id"])
    assert observation.author_id == setting.observer.id
    assert observation.classroom_id == setting.classroom.id
    assert observation.state.value == "submitted"
    assert observation.notes == "Strong opening."
    assert observation.context == {"grouping": ["Small groups"]}
    ratings = {r.criterion.key: (r.level, r.not_observed, r.evidence) for r in observation.ratings}
    assert ratings == {
        "ct-explain-reasoning": (3, False, "Pairs argued."),
        "ct-rigorous-task": (None, True, ""),
    }
    stored = db.session.get(ObservationVersion, version["version_id"])
    assert (stored.device_id, stored.app_version, stored.user_agent) == (
        "tablet-1",
        "1.0.0",
        "TestTablet/1.0",
    )


def test_a_retry_is_a_duplicate_and_changes_nothing(push, make_version):
    version = make_version()
    first = push(version)["results"][0]
    again = push(version)["results"][0]
    assert again == {**first, "status": "duplicate", "original_status": "applied"}
    assert count(ObservationVersion) == 1
    assert count(Observation) == 1


def test_the_same_content_with_keys_in_another_order_is_still_a_duplicate(push, make_version):
    version = make_version()
    push(version)
    reordered = dict(reversed(list(version.items())))
    reordered["ratings"] = list(reversed(version["ratings"]))
    assert push(reordered)["results"][0]["status"] == "duplicate"


def test_an_edit_becomes_the_head(push, make_version):
    first = make_version()
    second = edit_of(
        first, ratings=[{"criterion": "ct-explain-reasoning", "level": 4}], notes="Amended."
    )
    results = push(first, second)["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    observation = db.session.get(Observation, first["observation_id"])
    assert observation.head_version_id == second["version_id"]
    assert observation.notes == "Amended."
    assert [(r.criterion.key, r.level) for r in observation.ratings] == [
        ("ct-explain-reasoning", 4)
    ]
    assert count(ObservationVersion) == 2  # every version is kept


def test_two_edits_of_one_base_conflict_and_both_are_kept(push, make_version):
    base = make_version()
    push(base)
    ours = edit_of(base, notes="From the tablet.")
    theirs = edit_of(base, notes="From the laptop.")
    theirs["saved_at"] = (
        datetime.fromisoformat(ours["saved_at"]) + timedelta(seconds=5)
    ).isoformat()
    assert push(ours, device_id="tablet")["results"][0]["status"] == "applied"
    result = push(theirs, device_id="laptop")["results"][0]
    assert result["status"] == "conflict"
    assert result["has_conflict"] is True
    observation = db.session.get(Observation, base["observation_id"])
    assert observation.has_conflict
    # The head is the later save, whichever arrived last.
    assert observation.head_version_id == theirs["version_id"]
    assert observation.notes == "From the laptop."
    assert count(ObservationVersion) == 3


def test_the_head_does_not_depend_on_arrival_order(push, make_version, client, bearer, setting):
    base = make_version()
    early = edit_of(base, notes="early")
    late = edit_of(base, notes="late")
    late["saved_at"] = (
        datetime.fromisoformat(early["saved_at"]) + timedelta(seconds=1)
    ).isoformat()
    push(base, late, early)
    observation = db.session.get(Observation, base["observation_id"])
    assert observation.head_version_id == late["version_id"]


def test_a_version_id_reused_for_other_content_is_rejected_and_kept(push, make_version):
    version = make_version()
    push(version)
    tampered = {**version, "notes": "Something else"}
    result = push(tampered)["results"][0]
    assert result == {
        "version_id": version["version_id"],
        "status": "rejected",
        "code": "version_id_reused",
        "errors": [
            {
                "field": "version_id",
                "message": "this version id was already used for different content",
            }
        ],
    }
    kept = db.session.scalars(select(RejectedVersion)).one()
    assert kept.payload["notes"] == "Something else"
    assert kept.code == "version_id_reused"
    assert db.session.get(Observation, version["observation_id"]).notes == "Strong opening."


def test_one_bad_item_never_blocks_the_others(push, make_version):
    good1, good2 = make_version(), make_version()
    bad = make_version(rubric_version_id=999_999)
    results = push(good1, bad, "not an object", good2)["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert results[2] == {
        "version_id": "",
        "status": "rejected",
        "code": "invalid",
        "errors": [{"field": "", "message": "each version must be a JSON object"}],
    }
    assert count(Observation) == 2
    assert count(RejectedVersion) == 2


def rejected_errors(push, version) -> list[dict[str, str]]:
    result = push(version)["results"][0]
    assert result["status"] == "rejected", result
    assert result["code"] == "invalid"
    return result["errors"]


def test_validation_names_each_field(push, make_version, setting):
    future = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    version = make_version(
        school_id=setting.other_school.id,
        classroom_id=setting.elsewhere.id,
        observed_at=future.isoformat(),
        ratings=[
            {"criterion": "no-such-look-for", "level": 2},
            {"criterion": "ct-explain-reasoning", "level": 7},
            {"criterion": "ct-learning-target", "not_observed": True},
        ],
        context={"grouping": ["Circus"], "weather": "sunny"},
    )
    errors = rejected_errors(push, version)
    assert [(e["field"], e["message"]) for e in errors] == [
        ("ratings[0].criterion", "'no-such-look-for' is not in this rubric version"),
        ("ratings[1].level", "7 is not a level of 'ct-explain-reasoning' (levels: 1, 2, 3, 4)"),
        ("ratings[2].not_observed", "'ct-learning-target' cannot be marked not observed"),
        (
            "context.grouping",
            "'Circus' is not an option "
            "(options: Whole class, Small groups, Pairs, Individual work)",
        ),
        ("context.weather", "unknown context field (known: grouping, activity, visit-part)"),
        # By id only: another school's names are not the observer's to learn.
        ("school_id", f"school {setting.other_school.id} is not one of your schools"),
        (
            "classroom_id",
            f"classroom {setting.elsewhere.id} is not one of your schools' classrooms "
            "(moved or removed?): pick the classroom again",
        ),
        (
            "observed_at",
            future.isoformat().replace("+00:00", ".000Z") + " is in the future; check the clock",
        ),
    ]
    assert count(Observation) == 0


def test_a_classroom_must_be_in_the_school(
    push, make_version, setting, create_school, create_classroom
):
    # Another school's classroom is unknown, by id: its name and school's are not the
    # observer's to learn (issue 11).
    errors = rejected_errors(push, make_version(classroom_id=setting.elsewhere.id))
    assert errors == [
        {
            "field": "classroom_id",
            "message": f"classroom {setting.elsewhere.id} is not one of your schools' classrooms "
            "(moved or removed?): pick the classroom again",
        }
    ]
    second = create_school("OAK", "Oak Middle")
    db.session.add(setting.observer)
    setting.observer.schools.append(second)
    db.session.commit()
    room = create_classroom("OAK-1", school=second, name="Oak Room")
    errors = rejected_errors(push, make_version(classroom_id=room.id))
    assert errors == [
        {"field": "classroom_id", "message": "Oak Room is not in Riverside Elementary"}
    ]


def test_malformed_fields_are_named(push, make_version):
    version = make_version(
        observation_id="not-a-uuid",
        rubric_version_id="1",
        notes="x" * 20_001,
        surprise=True,
    )
    del version["saved_at"]
    errors = {e["field"]: e["message"] for e in rejected_errors(push, version)}
    assert errors == {
        "observation_id": "Not a valid UUID.",
        "rubric_version_id": "Not a valid integer.",
        "notes": "must be at most 20000 characters",
        "saved_at": "Missing data for required field.",
        "surprise": "Unknown field.",
    }


def test_unknown_rubric_version_and_base(push, make_version):
    errors = rejected_errors(push, make_version(rubric_version_id=424242, base_version_id=new_id()))
    assert [(e["field"], e["message"]) for e in errors] == [
        ("rubric_version_id", "unknown rubric version 424242"),
        ("base_version_id", "no such version of this observation on the server"),
    ]


def test_an_observation_keeps_its_rubric_version(push, make_version, setting):
    quick = load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").version
    db.session.commit()
    first = make_version()
    push(first)
    errors = rejected_errors(push, edit_of(first, rubric_version_id=quick.id, ratings=[]))
    assert errors == [
        {
            "field": "rubric_version_id",
            "message": f"an observation keeps the rubric version it was started with "
            f"({setting.version.id})",
        }
    ]


def test_a_level_and_not_observed_together_is_refused(push, make_version):
    version = make_version(
        ratings=[{"criterion": "ct-explain-reasoning", "level": 2, "not_observed": True}]
    )
    assert rejected_errors(push, version) == [
        {"field": "ratings[0].level", "message": "give a level or mark it not observed, not both"}
    ]


def test_someone_elses_observation_cannot_be_changed(
    push, make_version, client, bearer, create_user, setting
):
    version = make_version()
    push(version)
    intruder = create_user(email="other@example.org", schools=[setting.school])
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": "x", "versions": [edit_of(version, notes="mine now")]},
        headers=bearer(intruder),
    )
    result = response.get_json()["results"][0]
    assert result["code"] == "not_yours"
    assert db.session.get(Observation, version["observation_id"]).notes == "Strong opening."


def test_drafts_are_kept_but_not_submitted(push, make_version):
    draft = make_version(state="draft")
    push(draft)
    observation = db.session.get(Observation, draft["observation_id"])
    assert observation.state.value == "draft"
    assert observation.submitted_at is None
    push(edit_of(draft, state="submitted"))
    db.session.expire_all()
    assert db.session.get(Observation, draft["observation_id"]).submitted_at is not None


def test_a_bad_envelope_is_refused_whole(client, bearer, setting):
    headers = bearer(setting.observer)
    response = client.post("/api/v1/sync/push", json={"versions": "nope"}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "validation_failed",
        "message": "The request is not valid: device_id: Missing data for required field.; "
        "versions: Not a valid list.",
        "details": {
            "device_id": "Missing data for required field.",
            "versions": "Not a valid list.",
        },
    }
    response = client.post(
        "/api/v1/sync/push", data="[]", headers=headers, content_type="application/json"
    )
    assert response.get_json()["error"]["message"] == "The request body must be a JSON object."
    too_many = {"device_id": "d", "versions": [{}] * 201}
    response = client.post("/api/v1/sync/push", json=too_many, headers=headers)
    assert response.get_json()["error"]["details"] == {"versions": "at most 200 versions per push"}
    assert count(RejectedVersion) == 0


def test_push_needs_a_user(client, make_version):
    response = client.post("/api/v1/sync/push", json={"device_id": "d", "versions": []})
    assert response.status_code == 401  # no credentials: 401 before any CSRF check
    assert response.get_json()["error"]["code"] == "unauthorized"
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": "d", "versions": []},
        headers={"Authorization": "Bearer obs_expired"},
    )
    assert response.status_code == 401
    assert count(Rating) == 0


def test_a_walkthrough_stays_amendable_in_its_school_after_its_classroom_moved(
    push, make_version, setting
):
    """Issue 13: a classroom moved to another school made its old walkthroughs impossible to
    amend. The amendment is accepted and the walkthrough stays in the school of the visit."""
    version = make_version()
    assert push(version)["results"][0]["status"] == "applied"
    setting.classroom.school = setting.other_school  # the roster moves Grade 3 to Southfield
    db.session.commit()
    amended = edit_of(version, notes="Added after the debrief.")
    assert push(amended)["results"][0]["status"] == "applied"
    stored = db.session.get(Observation, version["observation_id"])
    db.session.refresh(stored)
    assert (stored.school_id, stored.notes) == (setting.school.id, "Added after the debrief.")
    # A new walkthrough of that classroom is recorded where the classroom is now.
    refused = push(make_version())["results"][0]
    assert refused["status"] == "rejected"
    assert refused["errors"][0]["field"] == "classroom_id"


# ---- the feedback fields: strengths and one next step ---------------------------------------


def observation_fields(observation: Observation) -> tuple[str, str]:
    return observation.strengths, observation.next_step


def test_strengths_and_next_step_travel_with_the_version(
    client, bearer, push, make_version, setting
):
    version = make_version(strengths="Every pair explained.", next_step="Try a turn-and-talk.")
    assert push(version)["results"][0]["status"] == "applied"
    observation = db.session.get(Observation, version["observation_id"])
    assert (observation.strengths, observation.next_step) == (
        "Every pair explained.",
        "Try a turn-and-talk.",
    )
    stored = db.session.get(ObservationVersion, version["version_id"]).payload
    assert (stored["strengths"], stored["next_step"]) == observation_fields(observation)
    assert push(version)["results"][0]["status"] == "duplicate"  # a retry is recognised
    # The API's walkthrough JSON carries them, at the top and in the head version.
    url = f"/api/v1/observations/{version['observation_id']}"
    walkthrough = client.get(url, headers=bearer(setting.observer)).get_json()
    assert walkthrough["strengths"] == "Every pair explained."
    assert walkthrough["next_step"] == "Try a turn-and-talk."
    assert walkthrough["version"]["next_step"] == "Try a turn-and-talk."


def test_the_language_the_observer_saw_is_kept(push, make_version):
    """Which text of the rubric the observer saw: its version, in this language
    (docs/rubric-format.md, Languages). Apps from before it say nothing: the default text."""
    spanish = make_version(language="es")
    silent = make_version()
    assert [r["status"] for r in push(spanish, silent)["results"]] == ["applied", "applied"]
    assert db.session.get(Observation, spanish["observation_id"]).language == "es"
    assert db.session.get(Observation, silent["observation_id"]).language is None
    assert "language" not in db.session.get(ObservationVersion, silent["version_id"]).payload
    assert push(spanish)["results"][0]["status"] == "duplicate"
    amended = edit_of(spanish, notes="Amended in English.", language="en")
    push(amended)
    assert db.session.get(Observation, spanish["observation_id"]).language == "en"


def test_a_language_that_is_not_a_code_is_refused(push, make_version):
    for wrong in ("Spanish", "ES", "es-", "e"):
        result = push(make_version(language=wrong))["results"][0]
        assert result["status"] == "rejected", wrong
        assert result["errors"] == [
            {
                "field": "language",
                "message": "must be a language code in lowercase letters, such as en or es",
            }
        ]
    assert count(Observation) == 0


def test_an_amendment_keeps_or_changes_them(push, make_version):
    first = make_version(strengths="Every pair explained.", next_step="Try a turn-and-talk.")
    # An amendment that changes the ratings only sends them again, as the tablet does.
    kept = edit_of(first, notes="Amended.")
    changed = edit_of(kept, next_step="Post the sentence frames.")
    cleared = edit_of(changed, strengths="", next_step="")
    assert [r["status"] for r in push(first, kept)["results"]] == ["applied", "applied"]
    observation = db.session.get(Observation, first["observation_id"])
    assert observation_fields(observation) == ("Every pair explained.", "Try a turn-and-talk.")
    push(changed)
    db.session.refresh(observation)
    assert observation_fields(observation) == ("Every pair explained.", "Post the sentence frames.")
    push(cleared)
    db.session.refresh(observation)
    assert observation_fields(observation) == ("", "")
    # Every version keeps what it said.
    assert db.session.get(ObservationVersion, changed["version_id"]).payload["strengths"] == (
        "Every pair explained."
    )


def test_too_long_is_refused_by_name_and_stores_nothing(push, make_version):
    too_long = make_version(strengths="s" * 501, next_step="n" * 500)
    fine = make_version()
    results = push(too_long, fine)["results"]
    assert results[0] == {
        "version_id": too_long["version_id"],
        "status": "rejected",
        "code": "invalid",
        "errors": [{"field": "strengths", "message": "must be at most 500 characters"}],
    }
    assert results[1]["status"] == "applied"  # one bad version never blocks the others
    assert db.session.get(Observation, too_long["observation_id"]) is None
    assert db.session.get(ObservationVersion, too_long["version_id"]) is None
    assert count(Observation) == 1 and count(Rating) == 2

    # An amendment that is too long leaves the walkthrough as it was, head and all.
    first = make_version(strengths="Every pair explained.")
    push(first)
    amended = edit_of(first, next_step="n" * 501, notes="Changed.")
    result = push(amended)["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"] == [{"field": "next_step", "message": "must be at most 500 characters"}]
    observation = db.session.get(Observation, first["observation_id"])
    assert observation.head_version_id == first["version_id"]
    assert (observation.notes, observation.strengths, observation.next_step) == (
        "Strong opening.",
        "Every pair explained.",
        "",
    )
    assert db.session.get(ObservationVersion, amended["version_id"]) is None


def test_a_version_from_an_app_without_them_is_accepted_and_hashes_as_before(push, make_version):
    """Older app versions send neither field: the version is applied, the fields are empty,
    and its stored form (and so its hash, which recognises a retry) is what it was before
    the fields existed."""
    old = make_version()
    assert "strengths" not in old and "next_step" not in old
    assert push(old)["results"][0]["status"] == "applied"
    observation = db.session.get(Observation, old["observation_id"])
    assert observation_fields(observation) == ("", "")
    stored = db.session.get(ObservationVersion, old["version_id"])
    assert "strengths" not in stored.payload and "next_step" not in stored.payload
    # Empty fields sent by a newer app are the same content: a retry is a duplicate.
    same = {**old, "strengths": "", "next_step": ""}
    assert push(same)["results"][0]["status"] == "duplicate"


def required_version():
    """The portrait rubric with two look-fors marked required (its next version)."""
    text = (paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").read_text(encoding="utf-8")
    for key in ("ct-rigorous-task", "ct-student-questions"):
        marker = f"      - key: {key}\n"
        assert text.count(marker) == 1
        text = text.replace(marker, f"{marker}        required: true\n")
    version = load_rubric_text(text, "required.yaml").version
    db.session.commit()
    return version


def incomplete_errors(push, version) -> list[dict[str, str]]:
    result = push(version)["results"][0]
    assert result["status"] == "rejected", result
    assert result["code"] == "incomplete"
    return result["errors"]


def test_a_submitted_walkthrough_missing_a_required_look_for_is_refused(push, make_version):
    rubric = required_version()
    version = make_version(rubric_version_id=rubric.id)  # rates one, marks rigorous-task
    assert incomplete_errors(push, version) == [
        {
            "field": "ratings",
            "message": "'ct-student-questions' (Students ask their own questions about the "
            "content and pursue them.) is required: rate it or mark it not observed before "
            "submitting",
        }
    ]
    assert count(Observation) == 0
    assert db.session.scalar(select(RejectedVersion.code)) == "incomplete"


def test_a_draft_may_leave_required_look_fors_for_later(push, make_version):
    rubric = required_version()
    draft = make_version(rubric_version_id=rubric.id, state="draft", ratings=[])
    assert push(draft)["results"][0]["status"] == "applied"
    finished = edit_of(
        draft,
        state="submitted",
        ratings=[
            {"criterion": "ct-rigorous-task", "level": 2},
            {"criterion": "ct-student-questions", "level": None, "not_observed": True},
        ],
    )
    assert push(finished)["results"][0]["status"] == "applied"
    assert db.session.get(Observation, draft["observation_id"]).state.value == "submitted"


def test_an_older_rubric_version_requires_nothing(push, make_version, setting):
    required_version()  # a newer version requires two look-fors; the draft keeps its own
    version = make_version(rubric_version_id=setting.version.id)
    assert push(version)["results"][0]["status"] == "applied"


def test_a_submitted_walkthrough_that_rates_nothing_is_refused(push, make_version):
    unrated = [{"criterion": "ct-explain-reasoning", "level": None, "evidence": "Noted."}]
    for ratings in ([], unrated):
        assert incomplete_errors(push, make_version(ratings=ratings)) == [
            {"field": "ratings", "message": NOTHING_RATED}
        ]
    # An amendment cannot empty a submitted walkthrough either, and a batch goes on past it.
    first = make_version()
    good = make_version()
    results = push(first, edit_of(first, ratings=[]), good)["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["code"] == "incomplete"
    assert count(Observation) == 2
