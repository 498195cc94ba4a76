"""Randomized, bounded (issue 10, item 9): two tabs of one tablet type, sync, reload, get
killed and go offline in an order chosen by a fixed seed; the server ends with exactly the
walkthroughs typed, each once, with its last content, and no conflict flag."""

from __future__ import annotations

import random

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe.extensions import db
from observe.observations.models import Observation
from tests.browser.test_tablet_whole import begin, open_app, submit

SEEDS = [3, 17, 29]
STEPS = 12


@pytest.fixture
def district(riverbend):
    riverbend(english=False)


def settle(page: Page) -> None:
    expect(page.locator("#sync-indicator")).not_to_contain_text("Syncing")


def on_disk(tab: Page, walkthrough: str, notes: str) -> None:
    """Wait until the tablet's IndexedDB holds ``notes``: the form writes every change within
    its debounce (300 ms), which a loaded CI machine may stretch; a fixed wait would race.
    (Polled here: wait_for_function would take the predicate's promise itself as true.)"""
    read = """async (id) => {
        const store = await import("/static/js/store.js");
        return (await store.get("observations", id))?.notes ?? null;
    }"""
    for _ in range(200):
        if tab.evaluate(read, walkthrough) == notes:
            return
        tab.wait_for_timeout(50)
    raise AssertionError(f"the form did not save {notes!r} within 10 s")


@pytest.mark.parametrize("seed", SEEDS)
def test_two_tabs_typing_syncing_reloading_and_dying_keep_every_walkthrough_whole(
    context: BrowserContext, page: Page, live_server, district, seed
):
    rng = random.Random(seed)
    open_app(page, live_server)
    tabs: list[Page] = [page, context.new_page()]
    tabs[1].goto(live_server + "/app/")
    expect(tabs[1].get_by_role("heading", name="Walkthroughs")).to_be_visible()
    typed: dict[str, str] = {}  # walkthrough id -> the last notes typed
    offline = False

    for tab_no in (0, 1):  # each tab starts one walkthrough of its own
        tab = tabs[tab_no]
        begin(tab)
        walkthrough = tab.url.rsplit("/", 1)[-1]
        typed[walkthrough] = f"tab {tab_no} began."
        tab.get_by_label("Overall notes").fill(typed[walkthrough])
    owner = {walkthrough: i for i, walkthrough in enumerate(typed)}

    for step in range(STEPS):
        tab_no = rng.randrange(2)
        tab = tabs[tab_no]
        walkthrough = next(w for w, t in owner.items() if t == tab_no)
        action = rng.choice(["type", "type", "sync", "reload", "kill", "offline"])
        if action == "type":
            typed[walkthrough] += f" step {step}."
            tab.get_by_label("Overall notes").fill(typed[walkthrough])
        elif action == "sync":
            tab.wait_for_timeout(rng.choice([0, 100, 400]))  # sometimes mid-debounce
            tab.get_by_role("button", name="Sync now").click()
            settle(tab)
        elif action == "reload":
            on_disk(tab, walkthrough, typed[walkthrough])
            tab.reload()
            expect(tab.get_by_label("Overall notes")).to_have_value(typed[walkthrough])
        elif action == "kill":
            on_disk(tab, walkthrough, typed[walkthrough])
            tab.close()
            tab = tabs[tab_no] = context.new_page()
            tab.goto(f"{live_server}/app/#/observe/{walkthrough}")
            expect(tab.get_by_label("Overall notes")).to_have_value(typed[walkthrough])
            expect(tab.locator(".level").first).to_be_enabled()
        else:
            offline = not offline
            context.set_offline(offline)

    context.set_offline(False)
    for tab in tabs:
        submit(tab)
    for tab in tabs:
        tab.get_by_role("button", name="Sync now").click()
        expect(tab.locator("#sync-indicator")).to_contain_text("All saved to the server")

    db.session.rollback()
    stored = {o.id: o for o in db.session.scalars(select(Observation))}
    assert set(stored) == set(typed)
    for walkthrough, notes in typed.items():
        assert stored[walkthrough].notes == notes
        assert stored[walkthrough].state == "submitted"
        assert not stored[walkthrough].has_conflict
