"""A visit that fits in three minutes (issue 15, item 3): rubric sizes and the remembered
choice on the start screen, today's focus, the competency index and folding on the form, and
required look-fors (and an empty walkthrough) refused on the review screen with what is missing."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe import paths
from observe.extensions import db
from observe.observations.models import Observation
from observe.rubrics.operations import load_rubric_file, load_rubric_text
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_tablet import open_app
from tests.browser.test_tablet_whole import EMAIL, sign_in

PORTRAIT = "Portrait of a Graduate Walkthrough"
BEN = "ben@example.org"
# Two look-fors marked required: one in Critical Thinker, one in Engaged Citizen.
REQUIRED = {
    "ct-rigorous-task": "Students work on a task that asks them to analyse, evaluate or create",
    "ec-take-action": "",
}


@pytest.fixture
def district(riverbend):
    riverbend()
    load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml")
    db.session.commit()


@pytest.fixture
def required_district(riverbend):
    """The portrait rubric's next version, with two look-fors required."""
    riverbend()
    text = (paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").read_text(encoding="utf-8")
    for key in REQUIRED:
        marker = f"      - key: {key}\n"
        assert text.count(marker) == 1, key
        text = text.replace(marker, f"{marker}        required: true\n")
    load_rubric_text(text, "required.yaml")
    db.session.commit()


def start(page: Page, rubric: str | None = PORTRAIT, focus: tuple[str, ...] = ()) -> None:
    page.get_by_role("link", name="Start a walkthrough").click()
    page.get_by_role("button", name="AP Calculus").click()
    if rubric:
        page.get_by_role("button", name=rubric).click()
    for name in focus:
        page.get_by_role("group", name="Today's focus").get_by_role("button", name=name).click()


def heights(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def folded(page: Page) -> list[str]:
    toggles = page.locator(".competency-toggle[aria-expanded='false'] > span:first-child")
    return toggles.all_inner_texts()


def test_the_start_screen_names_each_rubrics_size_and_the_quick_one(
    page: Page, live_server, district
):
    open_app(page, live_server)
    page.get_by_role("link", name="Start a walkthrough").click()
    rubrics = page.get_by_role("group", name="Rubric").get_by_role("button")
    # Smallest first, the quick one marked and chosen for a first visit.
    expect(rubrics).to_have_count(2)
    expect(rubrics.nth(0)).to_have_accessible_name(
        "Quick Look-Fors Quick 7 look-fors · about 3 minutes"
    )
    expect(rubrics.nth(0)).to_have_attribute("aria-pressed", "true")
    expect(rubrics.nth(1)).to_have_accessible_name(f"{PORTRAIT} 27 look-fors · about 12 minutes")


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_the_full_rubric_is_a_short_page_with_an_index_and_folds(
    page: Page, live_server, district, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, live_server)
    start(page)
    expect(page.locator("#focus-size")).to_have_text("(27 look-fors · about 12 minutes)")
    assert serious_violations(page) == [], "start"
    page.screenshot(path=screenshot_dir / f"app-start-sizes-{orientation}.png", full_page=True)
    page.get_by_role("button", name="Begin").click()
    expect(page.locator(".criterion")).to_have_count(27)
    whole = heights(page)
    print(f"\nform height, whole portrait rubric, {width}x{height}: {whole}px")
    if orientation == "landscape":
        assert whole < 6500  # it was 10,103 pixels (issue 15)

    # The index stays on screen and jumps to a competency below the sticky bar.
    index = page.get_by_role("navigation", name="Jump to a competency")
    index.get_by_role("button", name="Creative Problem Solver").click()
    heading = page.locator("#comp-creative-problem-solver")
    page.wait_for_function(
        "() => { const bar = document.querySelector('.form-bar').getBoundingClientRect();"
        " const top = document.querySelector('#comp-creative-problem-solver')"
        "   .getBoundingClientRect().top;"
        " return top >= bar.bottom && top < bar.bottom + 40; }"
    )
    expect(index).to_be_in_viewport()
    expect(heading.get_by_role("button", name="Creative Problem Solver")).to_be_focused()
    page.screenshot(path=screenshot_dir / f"app-form-index-{orientation}.png")

    # Folding a competency hides its look-fors; rating updates its count and the index's.
    toggle = page.get_by_role("button", name="Critical Thinker 0/5 rated")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#c-ct-explain-reasoning")).to_be_hidden()
    assert heights(page) < whole
    toggle.click()
    page.locator("#c-ct-explain-reasoning").get_by_role("button", name="Proficient").click()
    expect(page.get_by_role("button", name="Critical Thinker 1/5 rated")).to_be_visible()
    expect(index.get_by_role("button", name="Critical Thinker")).to_contain_text("1/5")

    # Evidence: one line until tapped; what was typed shows whole after a reload.
    box = page.get_by_label("Evidence", exact=True).first
    assert box.bounding_box()["height"] < 50
    box.fill("Pairs justified their answers with the data table.")
    page.wait_for_timeout(400)
    page.reload()
    expect(page.get_by_label("Evidence", exact=True).first).to_have_value(
        "Pairs justified their answers with the data table."
    )
    assert page.get_by_label("Evidence", exact=True).first.bounding_box()["height"] > 80
    assert page.get_by_label("Evidence", exact=True).nth(1).bounding_box()["height"] < 50
    assert serious_violations(page) == [], "form"
    page.screenshot(path=screenshot_dir / f"app-form-folded-{orientation}.png", full_page=True)


def test_focus_is_kept_with_the_draft_offline_and_remembered_for_the_next_visit(
    context: BrowserContext, page: Page, live_server, district
):
    open_app(page, live_server)
    context.set_offline(True)
    start(page, focus=("Critical Thinker", "Collaborator"))
    expect(page.locator("#focus-size")).to_have_text("(9 look-fors · about 4 minutes)")
    page.get_by_role("button", name="Begin").click()
    others = [
        "Effective Communicator",
        "Creative Problem Solver",
        "Self-Directed Learner",
        "Engaged Citizen",
    ]
    expect(page.locator(".competency-out")).to_have_count(4)
    assert folded(page) == others
    focused_height = heights(page)
    print(f"\nform height, focus on 2 of 6 competencies, 1024x768: {focused_height}px")
    page.locator("#c-cl-shared-task").get_by_role("button", name="Developing").click()
    page.wait_for_timeout(400)

    page.reload()  # offline: the service worker serves the app, IndexedDB the draft
    expect(page.locator("#progress")).to_have_text("1 of 27 rated")
    assert folded(page) == others
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")

    # The next walkthrough starts with the same rubric and focus, still offline.
    page.get_by_role("link", name="Start a walkthrough").click()
    rubrics = page.get_by_role("group", name="Rubric")
    expect(rubrics.get_by_role("button", name=PORTRAIT)).to_have_attribute("aria-pressed", "true")
    focus = page.get_by_role("group", name="Today's focus")
    for name, pressed in (("Critical Thinker", "true"), ("Collaborator", "true"),
                          ("Engaged Citizen", "false"), ("Whole rubric", "false")):  # fmt: skip
        expect(focus.get_by_role("button", name=name)).to_have_attribute("aria-pressed", pressed)

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    db.session.rollback()
    observation = db.session.scalars(select(Observation)).one()
    # The folded competencies stay unrated: nothing is marked "not observed" for them.
    assert [(r.criterion.key, r.level, r.not_observed) for r in observation.ratings] == [
        ("cl-shared-task", 2, False)
    ]


@pytest.mark.parametrize("orientation", TABLET_VIEWPORTS)
def test_required_look_fors_are_listed_until_rated(
    page: Page, live_server, required_district, screenshot_dir, orientation
):
    width, height = TABLET_VIEWPORTS[orientation]
    page.set_viewport_size({"width": width, "height": height})
    open_app(page, live_server)
    start(page, focus=("Collaborator",))
    focus = page.get_by_role("group", name="Today's focus")
    # Competencies with a required look-for are always in the focus.
    for name in ("Critical Thinker", "Engaged Citizen", "Collaborator"):
        expect(focus.get_by_role("button", name=name)).to_have_attribute("aria-pressed", "true")
    expect(focus.get_by_role("button", name="Critical Thinker")).to_contain_text("required")
    page.get_by_role("button", name="Begin").click()
    expect(page.locator("#c-ct-rigorous-task .tag-required")).to_have_text("Required")
    page.locator("#c-cl-shared-task").get_by_role("button", name="Developing").click()

    page.get_by_role("link", name="Review and submit").click()
    missing = page.locator("#missing")
    expect(missing).to_contain_text("These 2 look-fors are required before you submit")
    links = missing.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_contain_text(REQUIRED["ct-rigorous-task"])
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    assert serious_violations(page) == [], "review"
    page.screenshot(path=screenshot_dir / f"app-review-required-{orientation}.png", full_page=True)

    # Each link opens the form at its look-for.
    links.nth(1).click()
    target = page.locator("#c-ec-take-action")
    expect(target.locator(".level").first).to_be_focused()
    expect(target).to_be_in_viewport()
    target.get_by_role("button", name="Not observed").click()
    page.get_by_role("link", name="Review and submit").click()
    expect(missing.get_by_role("link")).to_have_count(1)
    missing.get_by_role("link").click()
    page.locator("#c-ct-rigorous-task").get_by_role("button", name="Beginning").click()
    page.get_by_role("link", name="Review and submit").click()
    expect(page.locator("#missing")).to_have_count(0)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("region", name="Recently synced")).to_contain_text("AP Calculus")
    db.session.rollback()
    assert db.session.scalars(select(Observation)).one().state.value == "submitted"


def test_a_walkthrough_with_nothing_rated_cannot_be_submitted(page: Page, live_server, district):
    open_app(page, live_server)
    start(page, rubric=None)  # the quick rubric
    page.get_by_role("button", name="Begin").click()
    page.get_by_label("Evidence", exact=True).first.fill("Noted, not yet rated.")
    page.get_by_role("link", name="Review and submit").click()
    expect(page.locator("#missing")).to_contain_text("Nothing is rated yet")
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    page.get_by_role("link", name="Back to the form").first.click()
    page.locator(".criterion").first.get_by_role("button", name="Yes").click()
    page.get_by_role("link", name="Review and submit").click()
    expect(page.locator("#missing")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit")).to_be_enabled()


def test_each_observer_on_a_shared_tablet_starts_with_their_own_last_choice(
    page: Page, live_server, riverbend
):
    riverbend({EMAIL: "Aisha Grant", BEN: "Ben Ortiz"})
    load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml")
    db.session.commit()

    def chosen() -> tuple[str, list[str]]:
        page.get_by_role("link", name="Start a walkthrough").click()
        rubric = page.get_by_role("group", name="Rubric").locator("[aria-pressed='true']")
        focus = page.get_by_role("group", name="Today's focus").locator("[aria-pressed='true']")
        title = rubric.evaluate("chip => chip.firstChild.textContent.trim()")
        return title, focus.all_inner_texts()

    def sign_out_and_in(email: str) -> None:
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_label("Email")).to_be_visible()
        sign_in(page, live_server, email)
        page.goto(live_server + "/app/")
        expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")

    open_app(page, live_server)
    start(page, focus=("Collaborator",))
    page.get_by_role("button", name="Begin").click()
    page.locator("#c-cl-roles").get_by_role("button", name="Proficient").click()
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("region", name="Recently synced")).to_contain_text("AP Calculus")

    # Signing out forgets Aisha's walkthroughs on this tablet, not her usual choice.
    sign_out_and_in(BEN)
    assert chosen() == ("Quick Look-Fors", ["Whole rubric"])
    page.get_by_role("link", name="Cancel").click()
    sign_out_and_in(EMAIL)
    assert chosen() == (PORTRAIT, ["Collaborator\n4 look-fors"])
