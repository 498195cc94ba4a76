"""observe/sync/checks.py: the sync rules, on plain facts — no database, no app."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from observe.sync import checks
from observe.sync.checks import (
    ClassroomFacts,
    CriterionFacts,
    Facts,
    Rejection,
    RubricFacts,
    SchoolFacts,
    SessionFacts,
    StoredWalkthrough,
)

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)
RUBRIC = RubricFacts(
    id=3,
    criteria={
        "voice": CriterionFacts(11, (1, 2, 3, 4), True),
        "rigor": CriterionFacts(12, (1, 2, 3, 4), False),
    },
    context_fields=({"key": "grouping", "options": ["whole", "small"]},),
)
FACTS = Facts(
    now=NOW,
    visible_schools=frozenset({1}),
    stored=None,
    rubric=RUBRIC,
    school=SchoolFacts(1, "Riverbend High"),
    classroom=ClassroomFacts(7, "English 9", 1),
    session=None,
    base_owner=None,
)


def version(**changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    payload: dict[str, Any] = {
        "observation_id": "o-1",
        "version_id": "v-1",
        "base_version_id": None,
        "rubric_version_id": 3,
        "school_id": 1,
        "classroom_id": 7,
        "state": "submitted",
    }
    data: dict[str, Any] = {
        "ratings": [{"criterion": "voice", "level": 3, "not_observed": False}],
        "context": {"grouping": "small"},
        "observed_at": NOW - timedelta(hours=1),
        "saved_at": NOW,
    }
    for key, value in changes.items():
        (data if key in data else payload)[key] = value
    return payload, data


def refused(facts: Facts = FACTS, **changes: Any) -> dict[str, str]:
    errors = refusals(facts, **changes)
    assert len({field for field, _ in errors}) == len(errors), errors
    return dict(errors)


def refusals(facts: Facts = FACTS, **changes: Any) -> list[tuple[str, str]]:
    payload, data = version(**changes)
    with pytest.raises(Rejection) as raised:
        checks.check(payload, data, facts)
    assert raised.value.code == checks.INVALID
    return [(e["field"], e["message"]) for e in raised.value.errors]


def test_a_version_that_keeps_every_rule_passes() -> None:
    checks.check(*version(), FACTS)


def test_each_broken_rule_is_named_at_once() -> None:
    problems = refused(
        ratings=[
            {"criterion": "voice", "level": 9, "not_observed": False},
            {"criterion": "rigor", "level": None, "not_observed": True},
            {"criterion": "voice", "level": 1, "not_observed": False},
            {"criterion": "kindness", "level": 1, "not_observed": False},
        ],
        context={"grouping": "pairs", "weather": "sunny"},
        observed_at=NOW + timedelta(hours=1),
        saved_at=datetime(1999, 1, 1, tzinfo=UTC),
    )
    assert problems == {
        "ratings[0].level": "9 is not a level of 'voice' (levels: 1, 2, 3, 4)",
        "ratings[1].not_observed": "'rigor' cannot be marked not observed",
        "ratings[2].criterion": "'voice' is rated twice",
        "ratings[3].criterion": "'kindness' is not in this rubric version",
        "context.grouping": "'pairs' is not an option (options: whole, small)",
        "context.weather": "unknown context field (known: grouping)",
        "observed_at": "2026-10-01T13:00:00.000Z is in the future; check the clock",
        "saved_at": "1999-01-01T00:00:00.000Z is before 2000",
    }


def test_a_few_minutes_of_clock_drift_is_allowed() -> None:
    checks.check(*version(saved_at=NOW + checks.CLOCK_SKEW), FACTS)
    assert "saved_at" in refused(saved_at=NOW + checks.CLOCK_SKEW + timedelta(seconds=1))


def test_another_schools_classroom_is_named_by_id_only() -> None:
    facts = replace(
        FACTS, school=SchoolFacts(2, "Southfield"), classroom=ClassroomFacts(8, "Room 8", 2)
    )
    assert refused(facts, school_id=2, classroom_id=8) == {
        "school_id": "school 2 is not one of your schools",
        "classroom_id": "classroom 8 is not one of your schools' classrooms (moved or removed?): "
        "pick the classroom again",
    }


def test_a_classroom_of_another_visible_school_is_named() -> None:
    facts = replace(FACTS, visible_schools=None, classroom=ClassroomFacts(8, "Room 8", 2))
    assert refused(facts, classroom_id=8) == {"classroom_id": "Room 8 is not in Riverbend High"}


def test_a_walkthrough_keeps_its_rubric_version_and_session() -> None:
    facts = replace(FACTS, stored=StoredWalkthrough(2, 5))
    assert refused(facts) == {
        "rubric_version_id": "an observation keeps the rubric version it was started with (2)",
        "calibration_session_id": "this walkthrough belongs to calibration session 5",
    }


def test_a_base_version_must_belong_to_the_walkthrough() -> None:
    facts = replace(FACTS, base_owner="o-2")
    assert refused(facts, base_version_id="v-0") == {
        "base_version_id": "no such version of this observation on the server"
    }
    checks.check(*version(base_version_id="v-0"), replace(FACTS, base_owner="o-1"))


SESSION = SessionFacts(
    id=4,
    title="October team",
    is_participant=True,
    is_revealed=False,
    rubric_version_id=3,
    school_id=2,
    classroom_id=None,
    other_score=None,
)


def test_a_calibration_score_is_a_participants_own_of_the_sessions_lesson() -> None:
    facts = replace(FACTS, session=SESSION, school=SchoolFacts(2, "Southfield"))
    # Of another school than one's own: taking part is what counts.
    checks.check(*version(calibration_session_id=4, school_id=2, classroom_id=None), facts)
    assert refusals(facts, calibration_session_id=4, school_id=2) == [
        ("classroom_id", "the session's lesson is in no classroom"),
        ("classroom_id", "English 9 is not in Southfield"),
    ]
    outsider = replace(facts, session=replace(SESSION, is_participant=False))
    assert refused(outsider, calibration_session_id=4, school_id=2, classroom_id=None) == {
        "calibration_session_id": "you are not a participant of calibration session 4"
    }
    again = replace(facts, session=replace(SESSION, other_score="o-9"))
    assert refused(again, calibration_session_id=4, school_id=2, classroom_id=None) == {
        "calibration_session_id": "you already scored this session in walkthrough o-9; "
        "amend that one"
    }


def test_scoring_closes_at_the_reveal_with_its_own_code() -> None:
    facts = replace(FACTS, session=replace(SESSION, is_revealed=True))
    payload, data = version(calibration_session_id=4, school_id=2, classroom_id=None)
    with pytest.raises(Rejection) as raised:
        checks.check(payload, data, facts)
    assert raised.value.code == checks.SESSION_REVEALED


def test_an_amendment_stays_where_the_visit_happened_after_its_classroom_moved() -> None:
    # English 9 moved from Riverbend High (1) to Southfield (2) after the visit.
    moved = replace(FACTS, classroom=ClassroomFacts(7, "English 9", 2))
    stored = StoredWalkthrough(3, None, school_id=1, classroom_id=7)
    amended = replace(moved, stored=stored, base_owner="o-1")
    checks.check(*version(base_version_id="v-0"), amended)
    # A new walkthrough there, or an amendment that moves the visit, is checked as ever.
    gone = {
        "classroom_id": "classroom 7 is not one of your schools' classrooms (moved or removed?): "
        "pick the classroom again"
    }
    assert refused(moved) == gone
    assert refused(replace(amended, stored=replace(stored, classroom_id=8))) == gone
    # Keeping the place never widens whose walkthrough it is: the school is still checked.
    outsider = replace(amended, visible_schools=frozenset({2}))
    assert refused(outsider, base_version_id="v-0")["school_id"] == (
        "school 1 is not one of your schools"
    )


REQUIRED = replace(
    RUBRIC,
    criteria={
        "voice": CriterionFacts(11, (1, 2, 3, 4), True, required=True, text="Students speak."),
        "rigor": CriterionFacts(12, (1, 2, 3, 4), False, required=True, text="Rigorous task."),
        "joy": CriterionFacts(13, (1, 2), True),
    },
)


def incomplete(facts: Facts = FACTS, **changes: Any) -> list[str]:
    payload, data = version(**changes)
    with pytest.raises(Rejection) as raised:
        checks.check(payload, data, facts)
    assert raised.value.code == checks.INCOMPLETE
    assert {e["field"] for e in raised.value.errors} == {"ratings"}
    return [e["message"] for e in raised.value.errors]


def rated(key: str, level: int | None = 2, not_observed: bool = False) -> dict[str, Any]:
    return {"criterion": key, "level": level, "not_observed": not_observed}


def test_a_submitted_walkthrough_that_rates_nothing_is_incomplete() -> None:
    unrated = [rated("voice", None), rated("rigor", None)]
    assert incomplete(ratings=[]) == [checks.NOTHING_RATED]
    assert incomplete(ratings=unrated) == [checks.NOTHING_RATED]
    # A mark of "not observed" is an answer; a draft may rate nothing; so may a calibration
    # score's draft — the rule is the state's, whatever the walkthrough.
    checks.check(*version(ratings=[rated("voice", None, not_observed=True)]), FACTS)
    checks.check(*version(ratings=[], state="draft"), FACTS)


def test_each_required_look_for_left_unrated_is_named_in_rubric_order() -> None:
    facts = replace(FACTS, rubric=REQUIRED)
    assert incomplete(facts, ratings=[rated("joy")]) == [
        "'voice' (Students speak.) is required: rate it or mark it not observed before submitting",
        "'rigor' (Rigorous task.) is required: rate it before submitting",
    ]
    assert incomplete(facts, ratings=[rated("rigor", 3), rated("voice", None)]) == [
        "'voice' (Students speak.) is required: rate it or mark it not observed before submitting"
    ]
    checks.check(*version(ratings=[rated("rigor", 3), rated("voice", None, True)]), facts)
    checks.check(*version(ratings=[rated("joy")], state="draft"), facts)


def test_a_rubric_without_required_look_fors_asks_only_for_something_rated() -> None:
    checks.check(*version(ratings=[rated("rigor", 1)]), FACTS)


def test_a_long_look_for_is_shortened_in_the_message() -> None:
    long = replace(
        RUBRIC,
        criteria={"voice": CriterionFacts(11, (1, 2), True, required=True, text="x" * 200)},
    )
    (message,) = incomplete(replace(FACTS, rubric=long), ratings=[], state="submitted")[1:]
    assert "'voice' (" + "x" * 79 + "…) is required" in message


def test_other_problems_are_invalid_and_still_name_what_is_missing() -> None:
    facts = replace(FACTS, rubric=REQUIRED)
    problems = refusals(facts, ratings=[rated("rigor", 9)])
    assert problems == [
        ("ratings[0].level", "9 is not a level of 'rigor' (levels: 1, 2, 3, 4)"),
        (
            "ratings",
            "'voice' (Students speak.) is required: rate it or mark it not observed before "
            "submitting",
        ),
    ]
