"""The facilitator reminds a participant who has not scored, from the session page: a real
e-mail to a local SMTP server, "reminded at …", and no second e-mail within the hour."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_calibration import _session, _sign_in, team  # noqa: F401 (a fixture)
from tests.browser.test_sign_in import serious_violations


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_remind_a_participant_once_an_hour(
    page: Page,
    live_server,
    team,  # noqa: F811 (the fixture imported above)
    mailbox,
    screenshot_dir,
    orientation,
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    session = _session(team, "quick-look-fors.yaml")
    _sign_in(page, live_server, f"/calibration/{session.id}")
    progress = page.get_by_role(
        "table", name="Participants and whether they submitted their scores"
    )
    expect(progress.get_by_role("button", name="Remind Marcus Bell by e-mail")).to_be_visible()

    progress.get_by_role("button", name="Remind Marcus Bell by e-mail").click()
    expect(page.get_by_role("status").filter(has_text="Reminded Marcus Bell")).to_be_visible()
    expect(progress.get_by_role("row", name="Marcus Bell")).to_contain_text("reminded at")
    assert len(mailbox.messages) == 1
    assert (
        mailbox.messages[0]["Subject"] == "Calibration: please score “AP Calculus: related rates”"
    )
    assert mailbox.links() == ["https://observe.test/app/"]
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / f"calibration-remind-{orientation}.png", full_page=True)

    progress.get_by_role("button", name="Remind Marcus Bell by e-mail").click()
    expect(page.get_by_role("alert")).to_contain_text("reminders go at most once an hour")
    assert len(mailbox.messages) == 1
