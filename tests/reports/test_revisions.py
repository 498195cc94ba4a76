"""Reports across a rubric revision: version 1 (27 look-fors) and version 2 (25 kept as they
were, one reworded with ``continues``, one removed, one added). November's 14 walkthroughs used
version 1, December's 12 version 2. The summary opens on version 2 and counts both; goals on
version 1 follow their look-for into December; the reworded look-for's break is said."""

from __future__ import annotations

import csv
import html
import io
import uuid
from datetime import date, timedelta

import pytest

from observe.extensions import db
from observe.rubrics.operations import load_rubric_text
from tests.reports.test_pdf import pdf_text
from tests.rubrics import revision
from tests.rubrics.revision import ADDED, REMOVED, REWORDED_NEW, REWORDED_OLD, UNCHANGED

BREAK = "wording changed in v2 from 2026-12-01 (was talk-moves)"


def walkthrough(team, version, day: str, ratings: dict[str, int]) -> dict:
    return {
        "observation_id": str(uuid.uuid4()),
        "version_id": str(uuid.uuid4()),
        "rubric_version_id": version.id,
        "school_id": team.school.id,
        "classroom_id": team.classroom.id,
        "observed_at": f"{day}T15:00:00+00:00",
        "saved_at": f"{day}T15:20:00+00:00",
        "state": "submitted",
        "ratings": [{"criterion": key, "level": level} for key, level in ratings.items()],
    }


@pytest.fixture
def revised(client, bearer, team):
    """Versions 1 and 2, and the walkthroughs: 14 in November on v1, 12 in December on v2."""
    v1 = load_rubric_text(revision.text(1), "v1.yaml").version
    v2 = load_rubric_text(revision.text(2), "v2.yaml").version
    db.session.commit()
    kept = dict.fromkeys(UNCHANGED, 3)
    batch = [
        walkthrough(team, v1, f"2026-11-{day:02d}", {**kept, REWORDED_OLD: 4, REMOVED: 2})
        for day in range(2, 16)
    ] + [
        walkthrough(team, v2, f"2026-12-{1 + day % 2:02d}", {**kept, REWORDED_NEW: 1, ADDED: 2})
        for day in range(12)
    ]
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": "t", "versions": batch},
        headers=bearer(team.observers[0]),
    )
    assert {r["status"] for r in response.get_json()["results"]} == {"applied"}
    return v1, v2


def summary(client, bearer, user, **args):
    response = client.get("/api/v1/reports/summary", query_string=args, headers=bearer(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_key(report):
    return {c["key"]: c for c in report["criteria"]}


def test_the_summary_opens_on_the_current_version_and_counts_every_version(
    client, bearer, team, revised
):
    _, v2 = revised
    report = summary(client, bearer, team.facilitator)
    # Version 1 has more walkthroughs (14 to 12), but version 2 is the current one.
    assert report["scope"]["rubric_version_id"] == v2.id
    assert report["scope"]["versions"] == "all"
    assert report["scope"]["counted_versions"] == [1, 2]
    assert report["observations"] == 26
    criteria = by_key(report)
    assert len(criteria) == 27 and REMOVED not in criteria
    # Kept look-fors count both months; the reworded one too, across its new key.
    assert criteria[UNCHANGED[0]]["rated"] == 26
    talk = criteria[REWORDED_NEW]
    assert talk["rated"] == 26
    assert talk["distribution"] == {"1": 12, "2": 0, "3": 0, "4": 14}
    assert [b["note"] for b in talk["wording_changed"]] == [BREAK]
    assert "wording_changed" not in criteria[UNCHANGED[0]]
    assert criteria[ADDED]["rated"] == 12
    # The trend spans both versions, and says where the wording changed.
    assert [(m["month"], m["observations"]) for m in report["trend"]] == [
        ("2026-11", 14),
        ("2026-12", 12),
    ]
    assert "breaks" not in report["trend"][0]
    assert report["trend"][1]["breaks"] == [f"“{revision.NEW_TEXT}”: {BREAK}"]
    [only] = report["scope"]["breaks"]
    assert (only["key"], only["version"], only["from"]) == (REWORDED_NEW, 2, "2026-12-01")
    assert only["previous_text"] == revision.OLD_TEXT


def test_walkthroughs_counted_directly_fold_the_same_as_the_rollups(client, bearer, team, revised):
    # An observer team is counted from the walkthroughs (the rollups keep no observer); a
    # date that is not a month's first day too.
    direct = summary(client, bearer, team.facilitator, observer=team.observers[0].email,
                     **{"from": "2026-11-02"})  # fmt: skip
    rolled = summary(client, bearer, team.facilitator)
    assert direct["observations"] == rolled["observations"] == 26
    for key in (REWORDED_NEW, UNCHANGED[3], ADDED):
        assert by_key(direct)[key]["distribution"] == by_key(rolled)[key]["distribution"]
    assert direct["trend"] == rolled["trend"]


def test_this_version_only_and_the_version_picker(client, bearer, team, revised):
    v1, _ = revised
    only = summary(client, bearer, team.facilitator, versions="this")
    assert only["observations"] == 12 and only["scope"]["counted_versions"] == [2]
    assert by_key(only)[REWORDED_NEW]["rated"] == 12
    assert only["scope"]["breaks"] == []
    # Version 1 chosen: its own look-fors, the removed one with its November ratings, and
    # the reworded one followed forward into December.
    old = summary(client, bearer, team.facilitator, rubric_version_id=v1.id)
    assert old["observations"] == 26
    assert by_key(old)[REMOVED]["rated"] == 14
    assert by_key(old)[REWORDED_OLD]["rated"] == 26
    assert ADDED not in by_key(old)
    bad = client.get(
        "/api/v1/reports/summary?versions=some", headers=bearer(team.facilitator)
    ).get_json()
    assert bad["error"]["details"] == {"versions": "must be all or this, not 'some'"}


def test_a_report_that_ends_before_the_break_does_not_mention_it(client, bearer, team, revised):
    """November's figures are all on the old wording: a report of November (or of version 1
    up to then) reads as it did before version 2 was used, with no break."""
    v1, _ = revised
    for version_id in (v1.id, None):
        args = {"from": "2026-11-01", "to": "2026-11-30"}
        if version_id:
            args["rubric_version_id"] = version_id
        november = summary(client, bearer, team.facilitator, **args)
        assert november["observations"] == 14 and november["scope"]["breaks"] == []
        assert not any("wording_changed" in c for c in november["criteria"])
        assert not any("breaks" in m for m in november["trend"])
    # Up to the break's first day, it is said.
    through = summary(
        client, bearer, team.facilitator, **{"from": "2026-11-01", "to": "2026-12-01"}
    )
    assert [b["from"] for b in through["scope"]["breaks"]] == ["2026-12-01"]


def test_the_page_and_the_pdf_say_where_the_wording_changed(
    client, sign_in, team, revised, tmp_path
):
    sign_in(team.facilitator)
    page = html.unescape(client.get("/reports/summary").get_data(as_text=True))
    assert BREAK in page
    assert "counting the walkthroughs of versions 1, 2" in page
    assert 'name="versions"' in page
    pdf = client.get("/reports/summary.pdf")
    assert pdf.status_code == 200
    text = " ".join(pdf_text(pdf.data, tmp_path).split())
    assert "wording changed in v2 from 2026-12-01" in text


def goal(client, bearer, user, **fields):
    body = {
        "title": "Students talk",
        "target_kind": "criterion",
        "at_least": 3,
        "target_share": 0.7,
        "school_code": "RVE",
        "starts_on": "2026-11-01",
        "deadline": (date.today() + timedelta(days=200)).isoformat(),
        **fields,
    }
    response = client.post("/api/v1/goals", json=body, headers=bearer(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def months_of(goal_json: dict) -> list[dict]:
    """A goal's months: walkthroughs and share (each month also carries its interval)."""
    return [{k: m[k] for k in ("month", "observations", "share")} for m in goal_json["months"]]


def test_a_goal_on_version_1_follows_its_look_for_into_version_2(client, bearer, team, revised):
    v1, _ = revised
    made = goal(client, bearer, team.facilitator, rubric_version_id=v1.id,
                target_key=REWORDED_OLD)  # fmt: skip
    assert months_of(made) == [
        {"month": "2026-11", "observations": 14, "share": 1.0},
        {"month": "2026-12", "observations": 12, "share": 0.0},
    ]
    assert made["removed"] is None and made["met"] is False
    # The summary of version 2 lists it: it is a goal of this rubric.
    report = summary(client, bearer, team.facilitator)
    assert [g["id"] for g in report["goals"]] == [made["id"]]


def test_a_goal_on_a_removed_look_for_says_so(client, bearer, team, revised):
    v1, v2 = revised
    made = goal(client, bearer, team.facilitator, rubric_version_id=v1.id,
                target_key=REMOVED, at_least=2)  # fmt: skip
    assert months_of(made) == [
        {"month": "2026-11", "observations": 14, "share": 1.0},
        {"month": "2026-12", "observations": 12, "share": None},
    ]
    assert made["removed"] == (
        "Removed in v2 (from 2026-12-01): walkthroughs on v2 and later do not rate it, so they "
        "do not count toward this goal."
    )
    # Asked of version 2, which no longer has it: set on version 1, not refused.
    again = goal(client, bearer, team.facilitator, rubric_version_id=v2.id, target_key=REMOVED)
    assert again["rubric_version_id"] == v1.id and again["removed"] == made["removed"]
    # A key no version has is still refused, by name.
    response = client.post(
        "/api/v1/goals",
        json={
            "title": "x",
            "rubric_version_id": v2.id,
            "target_kind": "criterion",
            "target_key": "no-such",
            "at_least": 3,
            "target_share": 0.5,
            "school_code": "RVE",
            "deadline": "2027-06-01",
        },
        headers=bearer(team.facilitator),
    )
    assert response.status_code == 422
    assert "no-such" in response.get_json()["error"]["details"]["target_key"]


def test_the_goals_page_shows_the_removal(client, sign_in, bearer, team, revised):
    v1, _ = revised
    goal(client, bearer, team.facilitator, rubric_version_id=v1.id, target_key=REMOVED,
         at_least=2)  # fmt: skip
    sign_in(team.facilitator)
    page = html.unescape(client.get("/reports/goals").get_data(as_text=True))
    assert "Removed in v2 (from 2026-12-01)" in page
    assert "none of them rated it" in page


def test_the_hardest_look_fors_list_each_lineage_once(
    client, bearer, team, new_session, score, revised
):
    v1, v2 = revised
    headers = bearer(team.facilitator)
    for version, held_on, talk in (
        (v1, "2026-11-05", REWORDED_OLD),
        (v2, "2026-12-02", REWORDED_NEW),
    ):
        session = new_session(rubric_version_id=version.id, held_on=held_on)
        for n, observer in enumerate(team.observers):
            score(observer, session, {talk: 1 + 3 * (n % 2), UNCHANGED[0]: 3})
        reveal = client.post(
            f"/api/v1/calibration/sessions/{session['id']}/reveal", headers=headers
        )
        assert reveal.status_code == 200, reveal.get_json()
    hardest = client.get("/api/v1/calibration/trends", headers=headers).get_json()[
        "hardest_criteria"
    ]
    keys = [entry["criterion"] for entry in hardest]
    assert sorted(keys) == sorted([REWORDED_NEW, UNCHANGED[0]])
    talk = next(e for e in hardest if e["criterion"] == REWORDED_NEW)
    assert talk["sessions"] == 2 and talk["text"] == revision.NEW_TEXT
    assert talk["rubric_version_id"] == v2.id


def test_the_export_carries_each_walkthroughs_wording(client, bearer, admin, team, revised):
    response = client.get("/api/v1/exports/observations?format=csv", headers=bearer(admin))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    november = next(r for r in rows if r["criterion"] == REWORDED_OLD)
    assert (november["rubric_version"], november["criterion_text"]) == ("1", revision.OLD_TEXT)
    assert (november["level"], november["level_label"], november["level_descriptor"]) == (
        "4", "Exemplary", "Seen for nearly all."
    )  # fmt: skip
    december = next(r for r in rows if r["criterion"] == REWORDED_NEW)
    assert (december["rubric_version"], december["criterion_text"]) == ("2", revision.NEW_TEXT)
    assert december["level_descriptor"] == "Seen rarely."
    as_json = client.get("/api/v1/exports/observations?format=json", headers=bearer(admin))
    first = as_json.get_json()[0]
    assert first["criterion_text"] and first["level_descriptor"]
