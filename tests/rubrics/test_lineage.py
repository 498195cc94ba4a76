"""Lineage: which look-fors of a rubric's versions are one measure, ``continues`` in files
(YAML and workbook, kept on a round trip), and a bad ``continues`` refused by name."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import func, select

from observe.extensions import db
from observe.rubrics.export import to_yaml
from observe.rubrics.format import RubricFileError, parse_rubric
from observe.rubrics.lineage import check_continues, links, rubric_lineage
from observe.rubrics.models import Criterion, RubricVersion
from observe.rubrics.operations import load_rubric_text
from observe.rubrics.spreadsheet import read_workbook, write_workbook
from tests.rubrics import revision
from tests.rubrics.revision import ADDED, REMOVED, REWORDED_NEW, REWORDED_OLD, UNCHANGED


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(RubricVersion))


def test_unchanged_keys_and_a_declared_continuation_link_versions():
    found = links(revision.document(1), revision.document(2))
    assert set(found) == {*UNCHANGED, REWORDED_NEW}
    assert not any(found[key].reworded for key in UNCHANGED)
    talk = found[REWORDED_NEW]
    assert (talk.previous_key, talk.reworded) == (REWORDED_OLD, True)
    assert (talk.previous_text, talk.text) == (revision.OLD_TEXT, revision.NEW_TEXT)
    assert REMOVED not in {link.previous_key for link in found.values()}
    assert ADDED not in found


def test_a_key_kept_with_new_wording_and_nothing_declared_is_a_new_measure():
    new = revision.document(1)
    new["competencies"][0]["criteria"][0]["text"] = "Something else entirely."
    assert UNCHANGED[0] not in links(revision.document(1), new)
    # A descriptor is wording too.
    new = revision.document(1)
    new["competencies"][0]["criteria"][1]["descriptors"] = {"3": "Most students, most of it."}
    assert UNCHANGED[1] not in links(revision.document(1), new)
    # ... and continues with its own key joins it, marked as a break.
    new["competencies"][0]["criteria"][1]["continues"] = UNCHANGED[1]
    assert check_continues(revision.document(1), new) == []
    assert links(revision.document(1), new)[UNCHANGED[1]].reworded


def test_bad_continues_are_named():
    v1 = revision.document(1)
    assert check_continues(v1, revision.document(2)) == []
    wrong = check_continues(v1, revision.document(2, continues="talk-move"), "Revised (v1)")
    assert wrong == [
        f"look-for {REWORDED_NEW!r} continues 'talk-move', which is not a look-for of Revised (v1)"
    ]
    first = check_continues(None, revision.document(2))
    assert len(first) == 1 and "first version" in first[0] and REWORDED_NEW in first[0]
    # Two look-fors claiming one: refused.
    twice = revision.document(2)
    twice["competencies"][1]["criteria"][-1]["continues"] = REWORDED_OLD
    assert check_continues(v1, twice) == [
        f"look-fors {REWORDED_NEW!r} and {ADDED!r} both continue {REWORDED_OLD!r}; "
        "a look-for is continued by one look-for at most"
    ]
    # Claiming a look-for the version keeps unchanged: refused.
    kept = revision.document(2)
    kept["competencies"][1]["criteria"][-1]["continues"] = UNCHANGED[-1]
    assert "keeps unchanged" in check_continues(v1, kept)[0]


def test_continues_must_be_a_key():
    with pytest.raises(RubricFileError) as error:
        parse_rubric(revision.text(2, continues="Talk Moves"), "v2.yaml")
    assert "continues" in error.value.problems[0] and "slug" in error.value.problems[0]


def test_loading_a_bad_continues_stores_nothing_and_names_it():
    load_rubric_text(revision.text(1), "v1.yaml")
    db.session.commit()
    with pytest.raises(RubricFileError) as error:
        load_rubric_text(revision.text(2, continues="talk-move"), "v2.yaml")
    db.session.rollback()
    assert error.value.problems == [
        "v2.yaml: look-for 'academic-talk' continues 'talk-move', which is not a look-for of "
        "Revised walkthrough (v1)"
    ]
    assert versions() == 1


def test_the_command_line_refuses_a_bad_continues(app, tmp_path):
    load_rubric_text(revision.text(1), "v1.yaml")
    db.session.commit()
    path = tmp_path / "v2.yaml"
    path.write_text(revision.text(2, continues="talk-move"), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["rubrics", "load", str(path)])
    assert result.exit_code == 1
    assert "'academic-talk' continues 'talk-move'" in result.output
    assert "Nothing was loaded." in result.output
    assert versions() == 1


def test_the_upload_page_refuses_a_bad_continues(client, admin, sign_in):
    load_rubric_text(revision.text(1), "v1.yaml")
    db.session.commit()
    sign_in(admin)
    data = revision.text(2, continues="talk-move").encode()
    response = client.post_form(
        "/rubrics/load", {"file": (io.BytesIO(data), "v2.yaml")}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "'academic-talk' continues 'talk-move'" in page
    assert versions() == 1


def test_continues_survives_the_yaml_and_workbook_round_trips():
    parsed = parse_rubric(revision.text(2), "v2.yaml")
    assert parsed.document["competencies"][1]["criteria"][-2]["continues"] == REWORDED_OLD
    again = parse_rubric(to_yaml(parsed.document), "again.yaml")
    assert again.content_hash == parsed.content_hash
    workbook = read_workbook(write_workbook(parsed.document), "v2.xlsx")
    assert workbook.content_hash == parsed.content_hash


def test_stored_versions_follow_their_lineage():
    v1 = load_rubric_text(revision.text(1), "v1.yaml").version
    v2 = load_rubric_text(revision.text(2), "v2.yaml").version
    db.session.commit()
    ids = {(c.rubric_version_id, c.key): c.id for c in db.session.scalars(select(Criterion)).all()}
    lineage = rubric_lineage(v1.rubric_id)
    assert lineage.version_ids == [v1.id, v2.id]
    fold = lineage.fold_map(v2.id)
    for key in UNCHANGED:
        assert fold[ids[(v1.id, key)]] == ids[(v2.id, key)]
    assert fold[ids[(v1.id, REWORDED_OLD)]] == ids[(v2.id, REWORDED_NEW)]
    assert ids[(v1.id, REMOVED)] not in fold
    assert fold[ids[(v2.id, ADDED)]] == ids[(v2.id, ADDED)]
    assert len(fold) == 25 * 2 + 2 + 1
    # From version 1's side, the same lineages in reverse; the added look-for has none there.
    back = lineage.fold_map(v1.id)
    assert back[ids[(v2.id, REWORDED_NEW)]] == ids[(v1.id, REWORDED_OLD)]
    assert ids[(v2.id, ADDED)] not in back
    [only] = lineage.breaks
    assert (only.number, only.key, only.previous_key) == (2, REWORDED_NEW, REWORDED_OLD)
    assert lineage.breaks_for(v2.id) == {ids[(v2.id, REWORDED_NEW)]: [only]}
