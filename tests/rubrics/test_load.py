"""Storing rubric files as immutable versions, from Python and from ``observe rubrics``."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from observe import paths
from observe.extensions import db
from observe.roster.models import School
from observe.rubrics import operations
from observe.rubrics.format import RubricFileError
from observe.rubrics.models import (
    Competency,
    Criterion,
    CriterionDimension,
    CriterionKind,
    EquityDimension,
    Rubric,
    RubricVersion,
)
from observe.rubrics.operations import LoadResult, load_rubric_file, load_rubric_text
from tests.conftest import is_postgres
from tests.rubrics.conftest import VALID

SAMPLES = ("portrait-of-a-graduate.yaml", "quick-look-fors.yaml")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_stored() -> bool:
    return all(count(m) == 0 for m in (Rubric, RubricVersion, Competency, Criterion))


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["rubrics", *args])

    return invoke


def test_loading_stores_a_version_with_its_rows():
    result = load_rubric_text(VALID, "rubrics/test.yaml")
    db.session.commit()
    assert isinstance(result, LoadResult)
    assert result.created is True
    version = result.version
    assert (version.number, version.title, version.source_name) == (
        1,
        "Test Rubric",
        "rubrics/test.yaml",
    )
    assert version.source_text == VALID
    assert version.rubric.key == "test-rubric"
    assert [c.key for c in version.competencies] == ["thinker"]
    explain, ask = version.criteria
    assert (explain.key, explain.kind, explain.position) == ("explain", CriterionKind.STUDENT, 0)
    assert sorted(explain.dimension_names) == ["achievement", "power"]
    assert explain.allows_not_observed is True
    assert explain.levels[2] == {
        "value": 3,
        "label": "High",
        "descriptor": "Students explain without prompting.",
    }
    assert (ask.kind, ask.position, ask.allows_not_observed) == (CriterionKind.ADULT, 1, False)
    assert ask.levels[2]["descriptor"] == "Usually seen."
    assert (explain.required, ask.required) == (False, False)
    dimensions = db.session.scalars(
        select(CriterionDimension.dimension).where(CriterionDimension.criterion_id == ask.id)
    ).all()
    assert dimensions == [EquityDimension.ACCESS]


def test_loading_the_same_content_again_changes_nothing():
    first = load_rubric_text(VALID, "a.yaml")
    db.session.commit()
    again = load_rubric_text("# reformatted\n" + VALID.replace("title: ", "title:   "), "b.yaml")
    db.session.commit()
    assert again.created is False
    assert again.version.id == first.version.id
    assert again.version.source_name == "a.yaml"
    assert count(RubricVersion) == 1
    assert count(Criterion) == 2


def test_an_edited_file_is_a_new_version_and_the_old_one_stays_intact():
    first = load_rubric_text(VALID, "test.yaml").version
    db.session.commit()
    first_id, first_document = first.id, dict(first.document)
    edited = VALID.replace("Students explain their reasoning.", "Students justify their answers.")
    second = load_rubric_text(edited, "test.yaml")
    db.session.commit()
    assert second.created is True
    assert second.version.number == 2
    assert second.version.rubric_id == first.rubric_id
    assert count(Rubric) == 1

    db.session.expire_all()
    old = db.session.get(RubricVersion, first_id)
    assert old.document == first_document
    assert old.criteria[0].text == "Students explain their reasoning."
    assert second.version.criteria[0].text == "Students justify their answers."
    assert old.rubric.latest.id == second.version.id


def test_a_stored_version_refuses_to_change():
    version = load_rubric_text(VALID, "test.yaml").version
    db.session.commit()
    version.title = "Something else"
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()
    db.session.rollback()


def test_an_invalid_file_stores_nothing():
    with pytest.raises(RubricFileError):
        load_rubric_text(VALID.replace("kind: student", "kind: teacher"), "bad.yaml")
    db.session.commit()
    assert nothing_stored()


def test_a_lost_race_returns_the_winner_and_keeps_the_callers_work(monkeypatch):
    winner = load_rubric_text(VALID, "test.yaml").version
    db.session.commit()
    # The caller has unsaved work of its own in the same transaction.
    db.session.add(School(code="OAK", name="Oak School"))
    db.session.flush()

    # Another process stored the same content between our check and our insert: the check
    # misses it once, and the unique content_hash makes our flush fail.
    real = operations._stored
    calls = iter([None])
    monkeypatch.setattr(operations, "_stored", lambda h: next(calls, real(h)))

    result = load_rubric_text(VALID, "test.yaml")
    assert result.created is False
    assert result.version.id == winner.id
    db.session.commit()
    assert count(RubricVersion) == 1
    assert count(School) == 1


@pytest.mark.postgres_only
def test_two_loads_at_once_store_one_version(app):
    if not is_postgres(app):
        pytest.skip("SQLite allows one writer at a time; the race needs PostgreSQL")
    first = load_rubric_text(VALID, "test.yaml")  # flushed: holds the content_hash index entry
    outcome: dict[str, object] = {}

    def other_process() -> None:
        with app.app_context():
            try:
                result = load_rubric_text(VALID, "test.yaml")  # its flush waits for ours
                db.session.commit()
                outcome["created"], outcome["id"] = result.created, result.version.id
            except Exception as error:  # reported below, not lost in the thread
                outcome["error"] = error
            finally:
                db.session.remove()

    thread = threading.Thread(target=other_process)
    thread.start()
    time.sleep(0.5)
    db.session.commit()
    thread.join(timeout=10)
    assert "error" not in outcome, outcome
    assert outcome == {"created": False, "id": first.version.id}
    assert count(RubricVersion) == 1


def test_load_rubric_file_names_the_file_in_problems(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("format: nope\n", encoding="utf-8")
    with pytest.raises(RubricFileError) as caught:
        load_rubric_file(path)
    assert all(line.startswith(f"{path}: ") for line in caught.value.problems)

    path.write_bytes(b"title: caf\xe9\n")
    with pytest.raises(RubricFileError) as caught:
        load_rubric_file(path)
    assert caught.value.problems == [
        f"{path}: not UTF-8 text (at byte offset 10); save the file as UTF-8"
    ]


@pytest.mark.parametrize("name", SAMPLES)
def test_the_sample_files_load(name):
    result = load_rubric_file(paths.SAMPLE_RUBRICS / name)
    db.session.commit()
    assert result.created


def test_the_portrait_sample_is_a_complete_starting_point():
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    db.session.commit()
    document = version.document
    assert 5 <= len(version.competencies) <= 6
    assert 20 <= len(version.criteria) <= 30
    assert {c.kind for c in version.criteria} == {CriterionKind.STUDENT, CriterionKind.ADULT}
    assert {d for c in version.criteria for d in c.dimension_names} == {
        "identity",
        "power",
        "access",
        "achievement",
    }
    levels = document["scale"]["levels"]
    assert [level["value"] for level in levels] == [1, 2, 3, 4]
    assert all(level["descriptor"] for level in levels)
    assert any(c["descriptors"] for comp in document["competencies"] for c in comp["criteria"])
    assert all(c["evidence_prompt"] for comp in document["competencies"] for c in comp["criteria"])
    assert 2 <= len(document["context_fields"]) <= 3
    assert all(field["options"] for field in document["context_fields"])
    terms = {entry["term"].lower() for entry in document["glossary"]}
    assert {"identity", "power", "access", "achievement"} <= terms


def test_the_quick_sample_is_yes_or_no():
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").version
    db.session.commit()
    assert 6 <= len(version.criteria) <= 8
    for criterion in version.criteria:
        assert [(lv["value"], lv["label"]) for lv in criterion.levels] == [(0, "No"), (1, "Yes")]


# --- the command line -------------------------------------------------------------------------


def test_cli_loads_files_and_then_reports_them_unchanged(run, write_rubric):
    path = write_rubric("test.yaml", VALID)
    result = run("load", str(path))
    assert result.exit_code == 0, result.output
    assert result.output == "loaded Test Rubric as version 1\n"

    result = run("load", str(path))
    assert result.exit_code == 0, result.output
    assert result.output == "unchanged: Test Rubric (version 1)\n"

    path.write_text(VALID.replace("title: Test Rubric", "title: Test Rubric B"))
    assert run("load", str(path)).output == "loaded Test Rubric B as version 2\n"


def test_cli_loads_nothing_when_any_file_has_a_problem(run, write_rubric):
    good = write_rubric("good.yaml", VALID)
    bad = write_rubric(
        "bad.yaml",
        VALID.replace("key: test-rubric", "key: other").replace("kind: adult", "kind: coach"),
    )
    result = run("load", str(good), str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{bad}: competencies[0].criteria[1].kind (line 23): must be student or adult; got 'coach'",
        "Nothing was loaded: 1 problem in 1 of 2 files.",
    ]
    db.session.rollback()
    assert nothing_stored()


def test_cli_reports_problems_of_every_file(run, write_rubric):
    one = write_rubric("one.yaml", "")
    two = write_rubric("two.yaml", "- a list\n")
    result = run("load", str(one), str(two))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{one}: ")
    assert lines[1].startswith(f"{two}: ")
    assert lines[2] == "Nothing was loaded: 2 problems in 2 of 2 files."


def test_cli_without_paths_loads_the_configured_directory(app, run, write_rubric, monkeypatch):
    path = write_rubric("district.yml", VALID)
    write_rubric("notes.txt", "not a rubric")
    monkeypatch.setitem(app.config, "OBSERVE_RUBRICS_DIR", str(path.parent))
    result = run("load")
    assert result.exit_code == 0, result.output
    assert result.output == "loaded Test Rubric as version 1\n"


def test_cli_without_paths_or_configuration_loads_the_samples(app, run, monkeypatch):
    monkeypatch.setitem(app.config, "OBSERVE_RUBRICS_DIR", "")
    result = run("load")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "loaded Portrait of a Graduate Walkthrough as version 1\n"
        "loaded Quick Look-Fors as version 1\n"
    )
    assert run("load").output == (
        "unchanged: Portrait of a Graduate Walkthrough (version 1)\n"
        "unchanged: Quick Look-Fors (version 1)\n"
    )


def test_cli_refuses_an_empty_directory(run, tmp_path):
    result = run("load", str(tmp_path))
    assert result.exit_code == 1
    assert "no .yaml, .yml or .xlsx rubric files in" in result.stderr


def test_cli_lists_rubrics_newest_version_first(run, write_rubric):
    assert run("list").output == "No rubrics are loaded yet. Load one with: observe rubrics load\n"
    path = write_rubric("test.yaml", VALID)
    run("load", str(path))
    path.write_text(VALID.replace("title: Test Rubric", "title: Test Rubric B"))
    run("load", str(path))
    lines = run("list").output.splitlines()
    assert lines[0] == "test-rubric"
    assert lines[1].startswith("  version 2  Test Rubric B  id ")
    assert lines[2].startswith("  version 1  Test Rubric  id ")


def test_a_required_look_for_is_stored_on_its_criterion():
    text = VALID.replace(
        "        scale: {not_observed: false}\n",
        "        scale: {not_observed: false}\n        required: true\n",
    )
    version = load_rubric_text(text, "r.yaml").version
    db.session.commit()
    assert [(c.key, c.required) for c in version.criteria] == [("explain", False), ("ask", True)]
