"""Retiring a rubric version: from the command line and the rubrics page (asked first), what
tablets are offered (bootstrap, pull), and walkthroughs begun on it still accepted."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from observe.audit.models import AuditEvent
from observe.core.permissions import SYSTEM
from observe.extensions import db
from observe.rubrics.models import RubricVersion
from observe.rubrics.operations import load_rubric_text, retire
from tests.rubrics import revision


@pytest.fixture
def two(setting):
    v1 = load_rubric_text(revision.text(1), "v1.yaml").version
    v2 = load_rubric_text(revision.text(2), "v2.yaml").version
    db.session.commit()
    return v1, v2


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["rubrics", *args])


def offered(client, headers) -> set[int]:
    data = client.get("/api/v1/bootstrap", headers=headers).get_json()
    return {v["id"] for v in data["rubric_versions"]}


def test_loading_version_2_does_not_retire_version_1_by_itself(client, bearer, setting, two):
    v1, v2 = two
    assert not v1.retired and v1.rubric.current.id == v2.id
    # Bootstrap offers the current version of each rubric (the sample and this one).
    assert offered(client, bearer(setting.observer)) == {setting.version.id, v2.id}


def test_retire_from_the_command_line_and_bring_it_back(run, client, bearer, setting, two):
    v1, v2 = two
    headers = bearer(setting.observer)
    cursor = client.get("/api/v1/bootstrap", headers=headers).get_json()["cursor"]
    result = run("retire", f"{revision.KEY}@2")
    assert result.exit_code == 0, result.output
    assert (
        "retired Revised walkthrough (v2); tablets offer Revised walkthrough (v1)" in result.output
    )
    # Version 1 is current again: a new tablet gets it, and one that holds v2 learns by pull.
    assert offered(client, headers) == {setting.version.id, v1.id}
    pulled = client.get(f"/api/v1/sync/pull?cursor={cursor}", headers=headers).get_json()
    [change] = [c for c in pulled["changes"] if c["kind"] == "rubric_version"]
    assert (change["rubric_version"]["id"], change["rubric_version"]["retired"]) == (v2.id, True)
    assert (
        run("retire", str(v2.id)).output.strip() == "Revised walkthrough (v2) was already retired."
    )
    assert "(retired)" in run("list").output
    result = run("unretire", f"{revision.KEY}@2")
    assert result.output.strip() == "Revised walkthrough (v2) is offered again"
    assert offered(client, headers) == {setting.version.id, v2.id}
    assert run("retire", "nope@9").exit_code == 1
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["rubric.retired", "rubric.unretired"]


def test_load_with_retire_previous(run, tmp_path, setting):
    load_rubric_text(revision.text(1), "v1.yaml")
    db.session.commit()
    path = tmp_path / "v2.yaml"
    path.write_text(revision.text(2), encoding="utf-8")
    result = run("load", "--retire-previous", str(path))
    assert result.exit_code == 0, result.output
    assert "retired Revised walkthrough (v1): tablets no longer offer it" in result.output
    revised = RubricVersion.title.like("Revised%")
    v1 = db.session.scalar(select(RubricVersion).where(RubricVersion.number == 1, revised))
    assert v1.retired


def test_walkthroughs_on_a_retired_version_are_still_accepted(push, make_version, setting, two):
    v1, _ = two
    draft = make_version(
        rubric_version_id=v1.id,
        state="draft",
        context={},
        ratings=[{"criterion": "lf-01", "level": 2}],
    )
    assert push(draft)["results"][0]["status"] == "applied"
    retire(v1, SYSTEM)
    db.session.commit()
    now = datetime.now(UTC)
    submitted = {
        **draft,
        "version_id": str(uuid.uuid4()),
        "base_version_id": draft["version_id"],
        "state": "submitted",
        "saved_at": (now - timedelta(minutes=1)).isoformat(),
    }
    assert push(submitted)["results"][0]["status"] == "applied"
    amended = {
        **submitted,
        "version_id": str(uuid.uuid4()),
        "base_version_id": submitted["version_id"],
        "saved_at": now.isoformat(),
        "ratings": [{"criterion": "lf-01", "level": 3}],
    }
    assert push(amended)["results"][0]["status"] == "applied"


def test_the_rubrics_page_retires_after_asking(client, admin, sign_in, setting, two):
    v1, _ = two
    sign_in(admin)
    page = html.unescape(client.get("/rubrics").get_data(as_text=True))
    assert f'href="/rubrics/{v1.id}/retire"' in page and "Retire" in page
    asked = client.get(f"/rubrics/{v1.id}/retire")
    text = html.unescape(asked.get_data(as_text=True))
    assert "Retire Revised walkthrough (v1)?" in text
    assert "they offer Revised walkthrough (v2) instead" in text
    assert "Drafts and amendments already begun on it are still accepted" in text
    # Posted without the confirmation's field (a stale form): asked again, nothing changes.
    unconfirmed = client.post_form(f"/rubrics/{v1.id}/retire", {}, token_from="/rubrics")
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["Location"].endswith(f"/rubrics/{v1.id}/retire")
    db.session.expire_all()
    assert not db.session.get(RubricVersion, v1.id).retired
    done = client.post_form(f"/rubrics/{v1.id}/retire", {"confirmed": "yes"},
                            token_from="/rubrics")  # fmt: skip
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(RubricVersion, v1.id).retired
    page = html.unescape(client.get("/rubrics").get_data(as_text=True))
    assert "Retired Revised walkthrough (v1)" in page
    assert f'href="/rubrics/{v1.id}/unretire"' in page
    back = client.post_form(f"/rubrics/{v1.id}/unretire", {"confirmed": "yes"},
                            token_from="/rubrics")  # fmt: skip
    assert back.status_code == 302
    db.session.expire_all()
    assert not db.session.get(RubricVersion, v1.id).retired


def test_observers_cannot_retire(client, sign_in, setting, two):
    v1, _ = two
    sign_in(setting.observer)
    assert client.get(f"/rubrics/{v1.id}/retire").status_code == 403
    page = client.get("/rubrics").get_data(as_text=True)
    assert "/retire" not in page
