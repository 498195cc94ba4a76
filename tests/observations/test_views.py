"""Walkthrough pages: deleting one from its page is asked first, and only its author or an
admin may."""

from __future__ import annotations

from observe.extensions import db
from observe.observations.models import Observation


def test_deleting_a_walkthrough_from_its_page_is_asked_first(
    client, sign_in, setting, push, make_version
):
    version = make_version()
    push(version)
    sign_in(setting.observer)
    page = f"/walkthroughs/{version['observation_id']}"
    assert f'href="{page}/delete"' in client.get(page).get_data(as_text=True)
    asked = client.get(f"{page}/delete").get_data(as_text=True)
    assert "Delete the walkthrough of Grade 3" in asked and "cannot be undone" in asked
    unconfirmed = client.post_form(f"{page}/delete", {}, token_from=page)
    assert unconfirmed.status_code == 303
    db.session.rollback()
    assert db.session.get(Observation, version["observation_id"]).deleted_at is None
    done = client.post_form(f"{page}/delete", {"confirmed": "yes"}, token_from=page)
    assert done.status_code == 302 and done.headers["Location"].endswith("/walkthroughs/")
    db.session.rollback()
    assert db.session.get(Observation, version["observation_id"]).deleted_at is not None
    assert client.get(page).status_code == 404
