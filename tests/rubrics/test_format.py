"""Parsing and validating rubric files: every rule, with the exact message a district sees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from observe.rubrics.format import (
    RubricFileError,
    content_hash,
    effective_scale,
    flatten_messages,
    format_path,
    parse_rubric,
)
from tests.rubrics.conftest import VALID


def problems(text: str) -> list[str]:
    with pytest.raises(RubricFileError) as caught:
        parse_rubric(text, "x.yaml")
    return caught.value.problems


def edit(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_a_valid_file_is_normalised_with_every_default():
    parsed = parse_rubric(VALID, "x.yaml")
    document = parsed.document
    assert parsed.key == "test-rubric"
    assert document["scale"]["not_observed"] is True
    assert document["description"] == ""
    assert document["context_fields"] == [
        {
            "key": "grouping",
            "label": "Grouping",
            "options": ["Whole class", "Pairs"],
            "multiple": False,
            "required": False,
        }
    ]
    explain, ask = document["competencies"][0]["criteria"]
    assert explain["descriptors"] == {"3": "Students explain without prompting."}
    assert explain["scale"] == {}
    assert explain["evidence_prompt"] == ""
    assert ask["scale"] == {"not_observed": False}


def test_effective_scale_substitutes_descriptors_and_overrides():
    document = parse_rubric(VALID, "x.yaml").document
    explain, ask = document["competencies"][0]["criteria"]
    levels, not_observed = effective_scale(document, explain)
    assert not_observed is True
    assert levels == [
        {"value": 1, "label": "Low", "descriptor": "Rarely seen."},
        {"value": 2, "label": "Mid", "descriptor": "Sometimes seen."},
        {"value": 3, "label": "High", "descriptor": "Students explain without prompting."},
    ]
    assert effective_scale(document, ask)[1] is False


def test_a_criterion_may_bring_its_own_levels():
    text = edit(
        "        scale: {not_observed: false}\n",
        "        scale:\n"
        "          levels: [{value: 0, label: 'No'}, {value: 1, label: 'Yes'}]\n"
        "        descriptors: {1: Seen.}\n",
    )
    document = parse_rubric(text, "x.yaml").document
    levels, not_observed = effective_scale(document, document["competencies"][0]["criteria"][1])
    assert not_observed is True
    assert levels == [
        {"value": 0, "label": "No", "descriptor": ""},
        {"value": 1, "label": "Yes", "descriptor": "Seen."},
    ]


def test_yes_and_no_stay_words():
    # YAML 1.1 would read an unquoted No as false; a level label must stay a label.
    text = edit("label: Low", "label: No")
    assert parse_rubric(text, "x.yaml").document["scale"]["levels"][0]["label"] == "No"


def test_comment_and_layout_edits_keep_the_content_hash():
    original = parse_rubric(VALID, "x.yaml")
    reformatted = edit("title: Test Rubric\n", "# a comment\ntitle:   'Test Rubric'\n\n")
    assert parse_rubric(reformatted, "y.yaml").content_hash == original.content_hash
    changed = edit("title: Test Rubric", "title: Test Rubric 2")
    assert parse_rubric(changed, "x.yaml").content_hash != original.content_hash
    assert len(original.content_hash) == 64
    assert content_hash({"b": 1, "a": [1, "é"]}) == content_hash({"a": [1, "é"], "b": 1})


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "format: observe-rubric/1\n",
            "",
            "x.yaml: format (line 1): required key is missing; "
            "the first line should be: format: observe-rubric/1",
        ),
        (
            "format: observe-rubric/1",
            "format: observe-rubric/2",
            "x.yaml: format (line 1): must be exactly observe-rubric/1; got 'observe-rubric/2'",
        ),
        (
            "key: test-rubric",
            "key: Test Rubric",
            "x.yaml: key (line 2): must be a slug of lowercase letters, digits and hyphens, "
            "starting with a letter or digit; got 'Test Rubric'",
        ),
        (
            "title: Test Rubric\n",
            "title: Test Rubric\ncolour: blue\n",
            "x.yaml: colour (line 4): unknown key 'colour'; allowed keys here: format, key, "
            "languages, title, description, scale, context_fields, glossary, competencies",
        ),
        (
            "        text: Students explain their reasoning.\n",
            "",
            "x.yaml: competencies[0].criteria[0].text (line 17): required key is missing",
        ),
        (
            "title: Test Rubric",
            "title: [Test]",
            "x.yaml: title (line 3): must be text",
        ),
        (
            "kind: student",
            "kind: teacher",
            "x.yaml: competencies[0].criteria[0].kind (line 18): "
            "must be student or adult; got 'teacher'",
        ),
        (
            "value: 3, label: High",
            "value: 2, label: High",
            "x.yaml: scale.levels[2].value (line 8): level value 2 is repeated",
        ),
        (
            "value: 3, label: High",
            "value: 0, label: High",
            "x.yaml: scale.levels[2].value (line 8): levels must be listed lowest first with "
            "increasing values; 0 follows 2",
        ),
        (
            "value: 3, label: High",
            "value: 2.5, label: High",
            "x.yaml: scale.levels[2].value (line 8): must be a whole number",
        ),
        (
            "label: Mid",
            "label: low",
            "x.yaml: scale.levels[1].label (line 7): label 'low' is already used by levels[0]",
        ),
        (
            "dimensions: [access]",
            "dimensions: [access, equity]",
            "x.yaml: competencies[0].criteria[1].dimensions[1] (line 25): unknown equity "
            "dimension 'equity'; use identity, power, access, achievement",
        ),
        (
            "dimensions: [access]",
            "dimensions: [access, access]",
            "x.yaml: competencies[0].criteria[1].dimensions[1] (line 25): 'access' is listed twice",
        ),
        (
            "dimensions: [access]",
            "dimensions: []",
            "x.yaml: competencies[0].criteria[1].dimensions (line 25): "
            "must list at least one equity dimension",
        ),
        (
            "descriptors: {3: Students explain without prompting.}",
            "descriptors: {4: Students explain without prompting.}",
            "x.yaml: competencies[0].criteria[0].descriptors[4] (line 21): "
            "4 is not a level value on this criterion's scale (1, 2, 3)",
        ),
        (
            "descriptors: {3: Students explain without prompting.}",
            "descriptors: {high: Students explain without prompting.}",
            "x.yaml: competencies[0].criteria[0].descriptors.high (line 21): "
            "descriptor keys must be level values (whole numbers); got 'high'",
        ),
        (
            "      - key: ask",
            "      - key: explain",
            "x.yaml: competencies[0].criteria[1].key (line 22): criterion key 'explain' is "
            "repeated (keys must be unique across the rubric); first used at "
            "competencies[0].criteria[0] (line 17)",
        ),
        (
            "options: [Whole class, Pairs]",
            "options: []",
            "x.yaml: context_fields[0].options (line 10): must list at least one option",
        ),
        (
            "  - {key: grouping, label: Grouping, options: [Whole class, Pairs]}\n",
            "  - {key: grouping, label: Grouping, options: [Whole class, Pairs]}\n"
            "  - {key: grouping, label: Again, options: [Pairs, Groups]}\n",
            "x.yaml: context_fields[1].key (line 11): context field key 'grouping' is repeated; "
            "first used at context_fields[0] (line 10)",
        ),
        (
            "  - {term: Power, definition: Students have voice.}\n",
            "  - {term: Power, definition: Students have voice.}\n"
            "  - {term: power, definition: Again.}\n",
            "x.yaml: glossary[1].term (line 13): term 'power' is defined twice; "
            "first used at glossary[0] (line 12)",
        ),
        (
            "scale: {not_observed: false}",
            "scale: {not_observed: nope}",
            "x.yaml: competencies[0].criteria[1].scale.not_observed (line 26): "
            "must be true or false",
        ),
        (
            "scale: {not_observed: false}",
            "scale: {levels: [{value: 1, label: Only}]}",
            "x.yaml: competencies[0].criteria[1].scale.levels (line 26): "
            "a scale needs at least 2 levels; found 1",
        ),
        (
            "    name: Thinker\n",
            "    name: Thinker\n    name: Thinker again\n",
            "x.yaml: competencies[0].name (line 16): key 'name' appears twice in the same "
            "mapping (first on line 15); remove one",
        ),
    ],
)
def test_each_rule_has_a_clear_message(old, new, expected):
    assert problems(edit(old, new)) == [expected]


def test_a_misspelt_key_is_unknown_and_the_right_one_missing():
    text = edit(
        "        text: Students explain their reasoning.\n",
        "        txt: Students explain their reasoning.\n",
    )
    assert problems(text) == [
        "x.yaml: competencies[0].criteria[0].text (line 17): required key is missing",
        "x.yaml: competencies[0].criteria[0].txt (line 19): unknown key 'txt'; allowed keys "
        "here: key, kind, text, dimensions, evidence_prompt, descriptors, scale, required, "
        "continues",
    ]


def test_a_competency_needs_criteria_and_the_rubric_needs_competencies():
    start = VALID.index("    criteria:\n")
    assert problems(VALID[:start] + "    criteria: []\n") == [
        "x.yaml: competencies[0].criteria (line 16): must list at least one criterion"
    ]
    start = VALID.index("competencies:\n")
    assert problems(VALID[:start] + "competencies: []\n") == [
        "x.yaml: competencies (line 13): must list at least one competency"
    ]


def test_every_problem_is_reported_in_line_order():
    text = edit("key: test-rubric", "key: Bad")
    text = edit("kind: student", "kind: teacher", text)
    text = edit("dimensions: [access]", "dimensions: [access, access]", text)
    text = edit("      - key: ask", "      - key: explain", text)
    found = problems(text)
    assert [line.split(" (line ")[0] for line in found] == [
        "x.yaml: key",
        "x.yaml: competencies[0].criteria[0].kind",
        "x.yaml: competencies[0].criteria[1].key",
        "x.yaml: competencies[0].criteria[1].dimensions[1]",
    ]


def test_a_structure_error_and_a_domain_error_are_both_reported():
    text = edit("title: Test Rubric\n", "title: Test Rubric\nextra: 1\n")
    text = edit("      - key: ask", "      - key: explain", text)
    assert len(problems(text)) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "x.yaml: the file is empty; a rubric file starts with: format: observe-rubric/1"),
        ("# only a comment\n", "x.yaml: the file is empty; a rubric file starts with: "
         "format: observe-rubric/1"),
        ("- a\n- b\n", "x.yaml: line 1: a rubric file must be a mapping of keys (format, key, "
         "title, scale, competencies, …); this one holds a list"),
        ("just words\n", "x.yaml: line 1: a rubric file must be a mapping of keys (format, key, "
         "title, scale, competencies, …); this one holds the single value 'just words'"),
        ("format: x\nkey: a: b\n", "x.yaml: line 2, column 7: not valid YAML: "
         "mapping values are not allowed here"),
        ("title: [unclosed\n", "x.yaml: line 2, column 1: not valid YAML: "
         "expected ',' or ']', but got '<stream end>'"),
    ],
)  # fmt: skip
def test_unreadable_files(text, expected):
    assert problems(text) == [expected]


def test_the_error_is_a_validation_failure_with_the_problems_as_details():
    with pytest.raises(RubricFileError) as caught:
        parse_rubric("", "x.yaml")
    error = caught.value
    assert error.status == 422
    assert error.code == "validation_failed"
    assert error.details == {"problems": error.problems}
    assert error.message == "The rubric file has 1 problem; nothing was loaded."


def test_format_path():
    assert format_path(()) == ""
    assert format_path(("competencies", 2, "criteria", 0, "scale", "levels", 1, "value")) == (
        "competencies[2].criteria[0].scale.levels[1].value"
    )


_keys = st.from_regex(r"[a-z_]{1,8}", fullmatch=True)
_messages = st.recursive(
    st.lists(st.text(min_size=1, max_size=10).filter(lambda s: "{" not in s), min_size=1),
    lambda inner: st.dictionaries(_keys | st.integers(0, 9), inner, min_size=1),
    max_leaves=20,
)


def _leaves(messages) -> int:
    if isinstance(messages, dict):
        return sum(_leaves(v) for v in messages.values())
    return len(messages)


@given(_messages)
def test_flattening_keeps_every_message_with_a_path_that_leads_to_it(messages):
    flat = flatten_messages(messages)
    assert len(flat) == _leaves(messages)
    for path, message in flat:
        node = messages
        for part in path:
            node = node[part]
        assert message in node
        rendered = format_path(path)
        assert not rendered.startswith(".")
        assert rendered.count("[") == sum(isinstance(p, int) for p in path)


def test_flattening_folds_schema_errors_into_their_parent():
    assert flatten_messages({"a": {"_schema": ["bad"]}, "_schema": ["worse"]}) == [
        (("a",), "bad"),
        ((), "worse"),
    ]


def test_anchors_and_aliases_are_refused_before_expanding():
    # Issue 11: a 924-byte file of nested aliases gave 216,058 problems in 1.5 s.
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    assert problems(laughs) == [
        "x.yaml: line 1, column 4: anchors and aliases (&a, *a) are not allowed in a rubric "
        "file; write each value out"
    ]
    aliased = edit("format: ", "shared: &s x\nother: *s\nformat: ")
    assert len(problems(aliased)) == 1 and "anchors and aliases" in problems(aliased)[0]


REQUIRED = edit(
    "        descriptors: {3: Students explain without prompting.}\n",
    "        descriptors: {3: Students explain without prompting.}\n        required: true\n",
)


def test_a_look_for_may_be_required_and_the_default_is_left_out_of_the_hash():
    explain, ask = parse_rubric(REQUIRED, "x.yaml").document["competencies"][0]["criteria"]
    assert explain["required"] is True
    assert "required" not in ask
    # Files written before the key existed keep their version: false is the default, and
    # writing it out is no change.
    written_out = edit(
        "        scale: {not_observed: false}\n",
        "        scale: {not_observed: false}\n        required: false\n",
    )
    assert parse_rubric(written_out, "x.yaml").content_hash == parse_rubric(VALID, "x").content_hash
    assert parse_rubric(REQUIRED, "x.yaml").content_hash != parse_rubric(VALID, "x").content_hash


def test_required_must_be_true_or_false():
    assert problems(REQUIRED.replace("required: true", "required: yes")) == [
        "x.yaml: competencies[0].criteria[0].required (line 22): must be true or false"
    ]
