"""Moving a walkthrough: a later version (a draft's, or an amendment's) may name another classroom
or school. It is checked as a new walkthrough is — the observer must work in the school, the
classroom must be in it — and the walkthrough's row, its ratings and the report rollups follow."""

from __future__ import annotations

from observe.extensions import db
from observe.observations.models import Observation
from observe.reports import summary
from tests.conftest import edit_of
from tests.reports.test_rollups import assert_rollups_agree


def test_a_draft_moves_to_another_classroom_of_its_school(
    push, make_version, setting, create_classroom
):
    other_room = create_classroom("RVE-04", school=setting.school, name="Grade 4")
    draft = make_version(state="draft")
    assert push(draft)["results"][0]["status"] == "applied"
    moved = edit_of(draft, classroom_id=other_room.id)
    result = push(moved)["results"][0]
    assert result["status"] == "applied", result
    observation = db.session.get(Observation, draft["observation_id"])
    assert observation.classroom_id == other_room.id
    assert observation.head_version_id == moved["version_id"]
    whole_school = edit_of(moved, classroom_id=None, state="submitted")
    assert push(whole_school)["results"][0]["status"] == "applied"
    db.session.refresh(observation)
    assert observation.classroom_id is None


def test_an_amendment_moves_to_another_school_of_the_observer(
    app, push, make_version, setting, create_classroom
):
    summary._ensure_rollups()
    db.session.add(setting.observer)
    setting.observer.schools.append(setting.other_school)
    db.session.commit()
    submitted = make_version()
    assert push(submitted)["results"][0]["status"] == "applied"
    amended = edit_of(
        submitted, school_id=setting.other_school.id, classroom_id=setting.elsewhere.id
    )
    result = push(amended)["results"][0]
    assert result["status"] == "applied", result
    observation = db.session.get(Observation, submitted["observation_id"])
    assert (observation.school_id, observation.classroom_id) == (
        setting.other_school.id,
        setting.elsewhere.id,
    )
    assert {r.criterion.key for r in observation.ratings} == {
        "ct-explain-reasoning",
        "ct-rigorous-task",
    }
    assert_rollups_agree()  # counted in the new school, no longer in the old


def test_a_move_is_refused_as_a_new_walkthrough_would_be(push, make_version, setting):
    submitted = make_version()
    push(submitted)
    # A school the observer does not work in, by its classroom or by itself.
    into_elsewhere = edit_of(submitted, classroom_id=setting.elsewhere.id)
    result = push(into_elsewhere)["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"] == [
        {
            "field": "classroom_id",
            "message": f"classroom {setting.elsewhere.id} is not one of your schools' classrooms "
            "(moved or removed?): pick the classroom again",
        }
    ]
    into_other_school = edit_of(submitted, school_id=setting.other_school.id, classroom_id=None)
    result = push(into_other_school)["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"] == [
        {
            "field": "school_id",
            "message": f"school {setting.other_school.id} is not one of your schools",
        }
    ]
    observation = db.session.get(Observation, submitted["observation_id"])
    assert observation.head_version_id == submitted["version_id"]
    assert (observation.school_id, observation.classroom_id) == (
        setting.school.id,
        setting.classroom.id,
    )
