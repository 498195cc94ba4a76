"""The ratings shortcut loads exactly what the nested schema loads, and fails exactly as it
fails, whatever a device sends."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from observe.sync.schemas import MAX_EVIDENCE, RatingList, RatingSchema


class Shortcut(Schema):
    ratings = RatingList()


class Nested(Schema):
    ratings = fields.List(fields.Nested(RatingSchema))


def outcome(schema: Schema, value: Any) -> tuple[str, Any]:
    try:
        return "loaded", schema.load({"ratings": value})
    except ValidationError as error:
        return "failed", error.messages


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 6),
    st.floats(allow_nan=False, width=16),
    st.text(max_size=3),
    st.sampled_from(["", "2", "true", "x" * 101, "e" * (MAX_EVIDENCE + 1)]),
    st.lists(st.integers(), max_size=2),
)
plausible = st.fixed_dictionaries(
    {"criterion": st.sampled_from(["ct-explain-reasoning", "a"])},
    optional={
        "level": st.one_of(st.none(), st.integers(0, 5), anything),
        "not_observed": st.one_of(st.booleans(), anything),
        "evidence": st.one_of(st.text(max_size=20), anything),
        "surprise": anything,
    },
)
rating = st.one_of(
    plausible,
    st.dictionaries(st.sampled_from(["criterion", "level", "not_observed", "x"]), anything),
    anything,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(rating, max_size=4), anything))
def test_the_shortcut_agrees_with_the_nested_schema(value):
    assert outcome(Shortcut(), value) == outcome(Nested(), value)


def test_plain_ratings_take_the_shortcut_with_the_schemas_defaults():
    loaded = Shortcut().load({"ratings": [{"criterion": "a", "level": 2}]})
    assert loaded == {
        "ratings": [{"criterion": "a", "level": 2, "not_observed": False, "evidence": ""}]
    }
