"""Every screen of the tablet app and every server page passes axe (no serious or critical
violation) at both tablet sizes, on the demo district, where every page has something to show.

The screens are two lists, SERVER_PAGES and TABLET_SCREENS: a new page or screen is one line
there. A failure names the rule, the page and the element.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe.accounts.models import User
from observe.calibration.models import CalibrationSession
from observe.demo import EMAIL_DOMAIN, build_demo
from observe.extensions import db
from observe.observations.models import Observation
from observe.roster.models import School
from observe.rubrics.models import RubricVersion
from tests.browser import axe
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.conftest import PASSWORD

ADMIN = f"admin@{EMAIL_DOMAIN}"
OBSERVER = f"coach.north@{EMAIL_DOMAIN}"  # takes part in the demo's open calibration session

# Server pages, read as the district admin (who sees every one): {…} is filled from the demo.
SERVER_PAGES = {
    "home": "/",
    "walkthrough list": "/walkthroughs/",
    "walkthrough page": "/walkthroughs/{walkthrough}",
    "feedback": "/walkthroughs/{walkthrough}/feedback",
    "conflicts": "/walkthroughs/conflicts",
    "summary": "/reports/summary?rubric_version_id={rubric}&by=course_level",
    "goals": "/reports/goals",
    "coverage": "/reports/coverage",
    "reports export": "/reports/export",
    "calibration sessions": "/calibration/",
    "calibration session, scoring": "/calibration/{open_session}",
    "calibration report": "/calibration/{revealed_session}",
    "confirm a reveal": "/calibration/{open_session}/reveal",
    "confirm a deletion": "/walkthroughs/{walkthrough}/delete",
    "new calibration session": "/calibration/new",
    "calibration trends": "/calibration/trends",
    "rubrics": "/rubrics",
    "rubric": "/rubrics/{rubric}",
    "confirm retiring a rubric version": "/rubrics/{rubric}/retire",
    "load a rubric": "/rubrics/load",
    "schools (roster)": "/schools",
    "a school's classrooms": "/schools/{school}",
    "audit log": "/admin/audit",
    "people": "/admin/people",
    "a person": "/admin/people/{person}",
    "settings": "/settings",
}
SIGNED_OUT_PAGES = {"sign-in": "/sign-in"}


def _signed_out(page: Page) -> None:
    """The session ends on the server: the app says so, and keeps everything."""
    page.context.clear_cookies()
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).to_contain_text("Signed out")


def _locked(page: Page) -> None:
    """Another observer signed in on this tablet: the screen that replaces every other."""
    page.evaluate(
        """async () => {
          const session = await import("/static/js/session.js");
          await session.lockForOtherUser("Tom Becker");
        }"""
    )
    expect(page.locator("main h1")).to_contain_text("Tom Becker is signed in on this tablet now")


# The tablet app's screens, in this order (the last two end the session): a hash route — {…}
# from the walkthroughs the test made — or a function that brings the screen up.
TABLET_SCREENS: dict[str, str | Callable[[Page], None]] = {
    "home": "#/",
    "start": "#/start",
    "form": "#/observe/{draft}",
    "review": "#/review/{draft}",
    "view": "#/view/{synced}",
    "calibration scoring": "#/observe/{scoring}",
    "signed out": _signed_out,
    "locked": _locked,
}


@pytest.fixture
def demo_district() -> dict[str, object]:
    build_demo(random.Random(2026), 120, PASSWORD)
    db.session.commit()
    sessions = db.session.scalars(select(CalibrationSession).order_by(CalibrationSession.id))
    by_state = {s.is_revealed: s.id for s in sessions}
    mine = select(Observation).where(Observation.calibration_session_id.is_(None))
    return {
        "walkthrough": db.session.scalars(mine.order_by(Observation.id)).first().id,
        "rubric": db.session.scalars(select(RubricVersion.id).order_by(RubricVersion.id)).first(),
        "open_session": by_state[False],
        "revealed_session": by_state[True],
        "school": db.session.scalars(select(School.code).where(School.code == "RHS")).one(),
        "person": db.session.scalars(select(User.id).where(User.email == OBSERVER)).one(),
    }


def _sideways(page: Page, where: str) -> list[str]:
    """The page itself must not scroll sideways (a wide table scrolls in its own region): the
    outermost elements that reach past the window's right edge."""
    wide = page.evaluate(
        """() => {
          const edge = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= edge) return [];
          const past = [...document.body.querySelectorAll("*")].filter(
            (e) => e.getBoundingClientRect().right > edge + 1);
          const name = (e) => e.tagName.toLowerCase() + (e.id ? `#${e.id}` : "")
            + (typeof e.className === "string" && e.className ? `.${e.className.split(" ")[0]}`
              : "");
          return past.filter((e) => !past.includes(e.parentElement)).map(name);
        }"""
    )
    return [f"scrolls sideways on {where}: {element}" for element in wide]


def _sign_in(page: Page, base: str, email: str, path: str) -> None:
    page.goto(f"{base}/sign-in?next={path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_axe_finds_what_it_should(page: Page):
    """The check can fail: an unnamed button and an unlabelled field are serious or critical,
    named with the rule, the page and the element."""
    page.set_content('<main><h1>Form</h1><button id="go"></button><input id="who"></main>')
    found = axe.violations(page, "a bad page")
    assert "button-name on a bad page: #go — Buttons must have discernible text" in found
    assert any(v.startswith("label on a bad page: #who") for v in found)


def test_every_server_page_passes_axe_and_never_scrolls_sideways(
    page: Page, live_server, demo_district, screenshot_dir
):
    # Both tablet sizes in one test: the demo district is built once for both.
    found = []
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.context.clear_cookies()
        page.set_viewport_size({"width": width, "height": height})
        for name, path in SIGNED_OUT_PAGES.items():
            page.goto(live_server + path)
            found += axe.violations(page, f"{name} ({orientation})")
        _sign_in(page, live_server, ADMIN, "/")
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        for name, path in SERVER_PAGES.items():
            response = page.goto(live_server + path.format(**demo_district))
            assert response and response.ok, f"{name}: {response and response.status}"
            where = f"{name} ({orientation})"
            found += axe.violations(page, where)
            found += _sideways(page, where)
            shot = "".join(c for c in name if c.isalnum() or c == " ").replace(" ", "-")
            page.screenshot(path=screenshot_dir / f"axe-{shot}-{orientation}.png", full_page=True)
    assert found == []


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_every_tablet_screen_passes_axe_and_never_scrolls_sideways(
    context: BrowserContext, page: Page, live_server, demo_district, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    _sign_in(page, live_server, OBSERVER, "/app/")
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    ids = {"synced": page.locator('a.item[href^="#/view/"]').first.get_attribute("href")[7:]}
    # A calibration draft ("Score this lesson") and a walkthrough draft, begun as people do.
    page.get_by_role("button", name="Score this lesson").first.click()
    expect(page.locator(".criterion").first).to_be_visible()
    ids["scoring"] = page.evaluate("location.hash").removeprefix("#/observe/")
    page.goto(live_server + "/app/#/start")
    page.locator("[data-school]").first.click()
    page.locator("[data-classroom]:not([data-classroom=''])").first.click()
    page.locator("#begin").click()
    expect(page.locator(".criterion").first).to_be_visible()
    page.locator(".criterion .level").first.click()
    ids["draft"] = page.evaluate("location.hash").removeprefix("#/observe/")

    found = []
    for name, where in TABLET_SCREENS.items():
        if callable(where):
            where(page)
        else:
            # The router focuses <main> once the screen is drawn (router.js, route()).
            page.evaluate(f"document.activeElement.blur(); location.hash = {where.format(**ids)!r}")
            page.wait_for_function(
                "() => document.activeElement === document.getElementById('main')"
            )
            page.wait_for_load_state("networkidle")
        found += axe.violations(page, f"app {name}")
        found += _sideways(page, f"app {name}")
        shot = name.replace(" ", "-")
        page.screenshot(path=screenshot_dir / f"axe-app-{shot}-{orientation}.png", full_page=True)
    assert found == []
