"""The tablet keeps every walkthrough whole (issue 10): one writer per draft, results matched
by version, failures visible and retried, durable where it matters, read-only exports.

Each test is the regression test of one scenario of the issue and fails on the app as it was.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe.accounts.models import User
from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion
from observe.observations.operations import delete_observation
from tests.conftest import PASSWORD

EMAIL = "coach@example.org"


@pytest.fixture
def district(riverbend):
    riverbend()


def sign_in(page: Page, base: str, email: str = EMAIL) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def open_app(page: Page, base: str, email: str = EMAIL) -> None:
    page.goto(base + "/app/")
    sign_in(page, base, email)
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")


def begin(page: Page, classroom: str = "AP Calculus") -> None:
    page.get_by_role("link", name="Start a walkthrough").click()
    page.get_by_role("button", name=classroom).click()
    page.get_by_role("button", name="Begin").click()
    expect(page.locator(".criterion").first).to_be_visible()


def submit(page: Page) -> None:
    # A walkthrough that rates nothing cannot be submitted (issue 15): rate one if none is.
    if page.locator("#progress").inner_text().startswith("0 of"):
        page.locator(".criterion").first.get_by_role("button", name="Yes").click()
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()


def sync_now(page: Page) -> None:
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).not_to_contain_text("Syncing")


def wait_for_tablet(page: Page, script: str, failure: str) -> None:
    """Wait (up to 10 s) until ``script`` — an async function over the tablet's stores — says
    true: the sync indicator can settle while a pull is still storing what it brought."""
    for _ in range(100):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    assert page.evaluate(script), failure


def server_walkthroughs() -> list[Observation]:
    db.session.rollback()  # a fresh snapshot: what the server has committed by now
    return list(db.session.scalars(select(Observation)))


def server_versions() -> list[ObservationVersion]:
    db.session.rollback()
    return list(db.session.scalars(select(ObservationVersion)))


def local_walkthroughs(page: Page) -> list[dict]:
    return page.evaluate(
        """async () => {
          const store = await import('/static/js/store.js');
          return store.all('observations');
        }"""
    )


# ---- item 7: results matched by version; a failing transaction aborts -----------------------


def test_a_short_answer_to_a_push_removes_nothing_from_the_outbox(
    page: Page, live_server, district
):
    """Scenario 7: a 200 answer of {"results": []} emptied the outbox and lost the walkthrough."""
    open_app(page, live_server)
    page.route(
        "**/api/v1/sync/push",
        lambda route: route.fulfill(
            status=200, body='{"results": []}', content_type="application/json"
        ),
    )
    begin(page)
    page.get_by_label("Overall notes").fill("Kept until the server has it.")
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("Sync failed")
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")
    assert server_walkthroughs() == []

    page.unroute("**/api/v1/sync/push")
    sync_now(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    [stored] = server_walkthroughs()
    assert stored.notes == "Kept until the server has it."


def test_results_are_matched_by_version_id_not_by_position(page: Page, live_server, district):
    """An answer in another order, or for only some versions, settles only what it names."""
    open_app(page, live_server)
    page.context.set_offline(True)
    for note in ("First.", "Second."):
        begin(page)
        page.get_by_label("Overall notes").fill(note)
        submit(page)

    def only_the_last(route):
        sent = json.loads(route.request.post_data)["versions"]
        answer = route.fetch(
            post_data=json.dumps({**json.loads(route.request.post_data), "versions": sent[1:]})
        )
        route.fulfill(response=answer)  # the server stored and answered only the second

    # Intercepted before the network returns: the app syncs as soon as it is back online, and
    # a push that went out first would be answered whole.
    page.route("**/api/v1/sync/push", only_the_last)
    page.context.set_offline(False)
    sync_now(page)
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")
    assert [o.notes for o in server_walkthroughs()] == ["Second."]

    page.unroute("**/api/v1/sync/push")
    sync_now(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert sorted(o.notes for o in server_walkthroughs()) == ["First.", "Second."]


def test_a_transaction_whose_work_throws_writes_nothing(page: Page, live_server, district):
    open_app(page, live_server)
    written = page.evaluate(
        """async () => {
          const store = await import('/static/js/store.js');
          const failed = await store.transaction(['meta'], 'readwrite', async (s) => {
            s.meta.put({ key: 'half', value: 1 });
            throw new Error('half-way');
          }).then(() => 'completed', (error) => error.message);
          return [failed, await store.getMeta('half')];
        }"""
    )
    assert written == ["half-way", None]


# ---- item 1: one writer per draft ----------------------------------------------------------


def test_a_long_visit_synced_several_times_never_conflicts_with_itself(
    page: Page, live_server, district
):
    """Scenario 1: one tablet, one walkthrough edited across two syncs then submitted."""
    open_app(page, live_server)
    begin(page)
    notes = page.get_by_label("Overall notes")
    for text in ("Opening.", "Opening. Group work.", "Opening. Group work. Exit ticket."):
        notes.fill(text)
        page.wait_for_timeout(400)  # past the autosave debounce
        sync_now(page)
        expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    expect(page.get_by_role("region", name="Recently synced")).not_to_contain_text("two devices")

    [stored] = server_walkthroughs()
    assert not stored.has_conflict
    assert stored.notes == "Opening. Group work. Exit ticket."
    versions = server_versions()
    assert len(versions) == 4
    # One chain: every version but the first was made from another of them.
    ids = {v.id for v in versions}
    assert sum(v.base_version_id is None for v in versions) == 1
    assert all(v.base_version_id in ids for v in versions if v.base_version_id is not None)


HOLD_SYNCS_READ = """() => {
  // Hold the answer to the next read of every walkthrough (sync's) until window.releaseRead().
  const getAll = IDBObjectStore.prototype.getAll;
  window.holdNextRead = true;
  IDBObjectStore.prototype.getAll = function (...args) {
    const request = getAll.apply(this, args);
    if (this.name !== 'observations' || !window.holdNextRead) return request;
    window.holdNextRead = false;
    let handler = null;
    Object.defineProperty(request, 'onsuccess', {
      set(h) { handler = h; }, get() { return handler; },
    });
    request.addEventListener('success', (event) => {
      window.readHeld = true;
      window.releaseRead = () => handler && handler.call(request, event);
    });
    return request;
  };
}"""


def test_a_save_between_syncs_read_and_write_is_never_undone(page: Page, live_server, district):
    """Scenario 2: sync wrote back the content it had read, marked clean; the edit was lost."""
    open_app(page, live_server)
    begin(page)
    notes = page.get_by_label("Overall notes")
    notes.fill("Before the sync.")
    page.wait_for_timeout(400)
    page.evaluate(HOLD_SYNCS_READ)
    page.get_by_role("button", name="Sync now").click()
    for _ in range(100):  # polled from here: the page's CSP forbids wait_for_function's eval
        if page.evaluate("window.readHeld === true"):
            break
        page.wait_for_timeout(50)
    assert page.evaluate("window.readHeld === true")
    notes.fill("Before the sync. Typed while it ran.")
    page.wait_for_timeout(400)  # saved while sync holds what it read
    page.evaluate("window.releaseRead()")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    page.get_by_role("link", name="Save and go home").click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()

    [local] = local_walkthroughs(page)
    assert local["notes"] == "Before the sync. Typed while it ran."
    page.get_by_role("region", name="Drafts").get_by_role("link").click()
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    [stored] = server_walkthroughs()
    assert stored.notes == "Before the sync. Typed while it ran."
    assert not stored.has_conflict


def test_leaving_the_form_pauses_the_visit_timer(page: Page, live_server, district):
    open_app(page, live_server)
    begin(page)
    expect(page.locator("#timer")).to_contain_text("Pause timer")
    page.get_by_role("link", name="Save and go home").click()
    page.get_by_role("region", name="Drafts").get_by_role("link").click()
    expect(page.locator("#timer")).to_contain_text("Resume timer")
    [local] = local_walkthroughs(page)
    assert local["timer"]["running_since"] is None


# ---- item 5: failures are visible and recoverable ---------------------------------------------


def test_a_failed_save_says_not_saved_keeps_the_change_and_retries(
    page: Page, live_server, district
):
    """Scenario 5: QuotaExceededError dropped the pending save with an unhandled rejection."""
    open_app(page, live_server)
    begin(page)
    page.evaluate(
        """() => {
          const put = IDBObjectStore.prototype.put;
          let failures = 1;
          IDBObjectStore.prototype.put = function (value, ...rest) {
            const full = value && value.notes === 'Typed on a full disk.';
            if (this.name === 'observations' && full && failures) {
              failures -= 1;
              throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
            }
            return put.call(this, value, ...rest);
          };
        }"""
    )
    page.get_by_label("Overall notes").fill("Typed on a full disk.")
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    expect(page.get_by_role("alert")).to_contain_text("storage is full")
    expect(page.get_by_role("alert")).to_have_count(0, timeout=5000)  # the retry succeeded
    [local] = local_walkthroughs(page)
    assert local["notes"] == "Typed on a full disk."


def test_a_newer_app_in_another_tab_never_loses_what_this_tab_holds(
    context: BrowserContext, page: Page, live_server, district
):
    """Scenario 5: versionchange closed the database and the pending save failed silently."""
    open_app(page, live_server)
    begin(page)
    user_id = page.evaluate("JSON.parse(localStorage.getItem('observe.user')).id")
    page.get_by_label("Overall notes").fill("Typed just before the update.")
    other = context.new_page()
    other.goto(live_server + "/static/icons/observe.svg")  # same origin, no app
    notes = other.evaluate(
        """(name) => new Promise((resolve, reject) => {
          const request = indexedDB.open(name, 4);  // a newer app than store.js (3) upgrades it
          request.onupgradeneeded = () => {};
          request.onsuccess = () => {
            const db = request.result;
            const read = db.transaction('observations').objectStore('observations').getAll();
            read.onsuccess = () => { resolve(read.result.map((o) => o.notes)); db.close(); };
          };
          request.onerror = () => reject(request.error);
        })""",
        f"observe-user-{user_id}",
    )
    assert notes == ["Typed just before the update."]


# ---- item 4: durable where it matters -------------------------------------------------------


def test_submitting_and_acknowledging_use_strict_durability(page: Page, live_server, district):
    """Scenario 8: a battery that dies just after Submit must not lose the walkthrough."""
    open_app(page, live_server)
    page.evaluate(
        """() => {
          // What each write to the outbox, and each keystroke save, ran with.
          window.writes = [];
          for (const method of ['add', 'put', 'delete']) {
            const original = IDBObjectStore.prototype[method];
            IDBObjectStore.prototype[method] = function (...args) {
              window.writes.push([this.name, method, this.transaction.durability]);
              return original.apply(this, args);
            };
          }
        }"""
    )
    begin(page)
    page.get_by_label("Overall notes").fill("Strict.")
    page.wait_for_timeout(400)
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    writes = [tuple(w) for w in page.evaluate("window.writes")]
    outbox = [w for w in writes if w[0] == "outbox"]
    assert ("outbox", "add", "strict") in outbox  # the submit fills the outbox ...
    assert ("outbox", "delete", "strict") in outbox  # ... and the acknowledgement empties it
    assert all(durability == "strict" for _, _, durability in outbox)
    saves = [w for w in writes if w[0] == "observations"]
    assert ("observations", "put", "relaxed") in saves or (
        "observations",
        "put",
        "default",
    ) in saves


# ---- item 6: exports are read-only ------------------------------------------------------------


def test_exporting_an_open_amendment_queues_nothing_and_calls_it_a_draft(
    page: Page, live_server, district
):
    """Scenario 6: the export queued the half-done amendment as submitted; the next sync made
    it the version that counts."""
    open_app(page, live_server)
    begin(page)
    page.get_by_label("Overall notes").fill("As submitted.")
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")

    page.get_by_role("region", name="Recently synced").get_by_role("link").click()
    page.get_by_role("button", name="Reopen to amend").click()
    page.get_by_label("Overall notes").fill("As submitted. Half an amend")
    page.get_by_role("link", name="Save and go home").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export unsynced data").click()
    exported = json.loads(download.value.path().read_text())
    [version] = exported["versions"]
    assert version["state"] == "draft"
    assert version["notes"] == "As submitted. Half an amend"

    sync_now(page)
    [stored] = server_walkthroughs()
    assert stored.notes == "As submitted."
    assert stored.state == "submitted"
    assert len(server_versions()) == 1


# ---- item 10: a pulled deletion never hides unsent work ---------------------------------------


def test_a_deletion_pulled_from_the_server_keeps_an_unsent_edit_counted(
    page: Page, live_server, district
):
    open_app(page, live_server)
    begin(page)
    page.get_by_label("Overall notes").fill("Submitted.")
    submit(page)
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    page.get_by_role("region", name="Recently synced").get_by_role("link").click()
    page.get_by_role("button", name="Reopen to amend").click()
    page.get_by_label("Overall notes").fill("Submitted. Amended, not sent.")
    page.get_by_role("link", name="Save and go home").click()

    [stored] = server_walkthroughs()
    author = db.session.scalars(select(User).where(User.email == EMAIL)).one()
    delete_observation(author, stored.id)
    db.session.commit()
    sync_now(page)
    expect(page.locator("#sync-indicator")).to_contain_text("1 waiting")
    [local] = local_walkthroughs(page)
    assert local["notes"] == "Submitted. Amended, not sent."
    assert local["status"] == "draft"
