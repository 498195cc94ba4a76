// The home screen: start a walkthrough; drafts, what waits to sync, what needs attention and
// what was synced; calibration sessions; other observers' work waiting on a shared tablet; a
// notice when the browser cleared this tablet's storage; the "export unsynced data" escape hatch.

import { discardedPanel, isDiscarded, purge, restore } from "../discard.js";
import { main, onLeave, route } from "../router.js";
import { owners, signOut, user } from "../session.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { banner, html, render, when } from "../ui.js";
import { scoreSession, sessionsPanel } from "./calibration.js";
import { lookups, placeOf, ratedCount } from "./shared.js";
import { dismissSubmitted, submittedNotice } from "./submitted.js";

export async function home() {
  await purge();
  const [observations, attention, look, persisted, eviction] = await Promise.all([
    store.all("observations"),
    store.all("attention"),
    lookups(),
    store.getMeta("persisted"),
    store.getMeta("eviction"),
  ]);
  observations.sort((a, b) => (b.observed_at || "").localeCompare(a.observed_at || ""));
  const by = (status) => observations.filter((o) => o.status === status && !isDiscarded(o));
  const recent = by("synced")
    .sort((a, b) => (b.synced_at || "").localeCompare(a.synced_at || ""))
    .slice(0, 15);
  const reasons = new Map();
  for (const item of attention) {
    reasons.set(item.observation_id, [...(reasons.get(item.observation_id) || []), item]);
  }
  const item = (o, target, extra = "") => {
    const rated = ratedCount(o, look.rubrics.get(o.rubric_version_id));
    const conflict = o.has_conflict ? " · edited on two devices" : "";
    return html`<li><a class="item" href="#/${target}/${o.id}">
      <span class="item-title">${placeOf(o, look)}</span>
      <span class="item-meta">${when(o.observed_at)} · ${rated}${conflict}</span>
      ${extra}</a></li>`;
  };
  // What the server said about a walkthrough it refused, on one line.
  const refused = (o) => {
    const errors = (reasons.get(o.id) || []).flatMap((r) => r.errors);
    const text = errors.map((e) => `${e.field ? `${e.field}: ` : ""}${e.message}`).join("; ");
    return item(o, "view", html`<span class="item-reason">${text}</span>`);
  };
  const list = (title, id, items, empty) => html`<section class="panel" aria-labelledby="${id}">
      <h2 id="${id}">${title} <span class="count">${items.length}</span></h2>
      ${items.length ? html`<ul class="items">${items}</ul>` : html`<p class="muted">${empty}</p>`}</section>`;
  const where = (o) => placeOf(o, look);
  const notice = await submittedNotice(observations, where);
  const keeps =
    persisted === "yes"
      ? "the browser keeps this tablet's data even when space runs low"
      : "the browser may clear this tablet's data when space runs low — sync often";
  render(
    main,
    html`
    <div class="home-top">
      <h1>Walkthroughs</h1>
      <a class="button button-primary button-big" href="#/start">Start a walkthrough</a>
    </div>
    ${notice}
    ${eviction ? evictionNotice(eviction) : ""}
    ${othersPanel()}
    ${sessionsPanel(look, observations)}
    ${list(
      "Drafts",
      "drafts",
      by("draft").map((o) => item(o, "observe")),
      "No drafts on this tablet.",
    )}
    ${list(
      "Waiting to sync",
      "waiting",
      by("waiting").map((o) => item(o, "view")),
      "Nothing is waiting.",
    )}
    ${list("Needs attention", "attention", by("attention").map(refused), "Nothing needs attention.")}
    ${list(
      "Recently synced",
      "synced",
      recent.map((o) => item(o, "view")),
      "Nothing synced yet.",
    )}
    ${discardedPanel(observations.filter(isDiscarded), where)}
    <section class="panel tablet-facts">
      <p>Signed in as <strong>${user.name}</strong> · ${keeps}.</p>
      ${homeScreenAdvice() ? ADD_TO_HOME : ""}
      <button type="button" class="button" id="export">Export unsynced data</button>
    </section>`,
  );
  main.onclick = async (event) => {
    if (event.target.closest("[data-switch]")) return signOut();
    if (event.target.closest("#submitted-dismiss")) {
      await dismissSubmitted();
      return route();
    }
    const restoring = event.target.closest("[data-restore]");
    if (restoring) {
      await restore(restoring.dataset.restore);
      sync.changed("restored");
      return route();
    }
    if (event.target.closest("#eviction-dismiss")) {
      await store.remove("meta", "eviction");
      return route();
    }
    const button = event.target.closest("[data-score-session]");
    if (!button) return;
    scoreSession(button, look);
  };
  onLeave(() => {
    main.onclick = null;
  });
  document.getElementById("export").addEventListener("click", async () => {
    const n = await sync.exportUnsynced(user);
    banner(
      "exported",
      html`<p>Exported ${n} version${n === 1 ? "" : "s"} to a file. An admin can load it
        with <code>observe import-offline</code>.</p>`,
    );
  });
}

// A shared tablet: other observers whose walkthroughs wait here, each with a way to sign out
// so they can sign in and send them. Nothing when there are none.
function othersPanel() {
  const others = Object.entries(owners())
    .filter(([id, o]) => Number(id) !== user.id && o.waiting > 0)
    .map(([id, o]) => ({ id, name: o.name }));
  if (!others.length) return "";
  const names = others.map((o) => o.name).join(", ");
  const other = (o) => html`<li class="session-item"><span class="item-title">${o.name}</span>
        <button type="button" class="button" data-switch="${o.id}">Sign out so ${o.name} can sign in</button></li>`;
  return html`<section class="panel" aria-labelledby="others-heading">
      <h2 id="others-heading">Also waiting on this tablet</h2>
      <p>Walkthroughs by ${names} are on this tablet but not on the server yet. Only their own
        sign-in sends them.</p>
      <ul class="items">${others.map(other)}</ul></section>`;
}

const ADD_TO_HOME = html`<p id="add-to-home">On iPad, Safari clears a website's data after seven days without a
  visit — walkthroughs not yet sent would go with it. Add observe to the Home Screen (tap <strong>Share</strong>, then
  <strong>Add to Home Screen</strong>) and open it from there: Safari keeps the data of Home Screen apps.</p>`;

const ADD_TO_HOME_AFTER_EVICTION = html`<p>Safari clears a website's data after seven days without a visit. So that it
  does not happen again, add observe to the Home Screen: tap <strong>Share</strong>, then
  <strong>Add to Home Screen</strong>, and from now on open observe from its icon. Safari keeps the data of Home
  Screen apps.</p>`;

const ANSWERS = {
  yes: "yes — it should keep observe's data from now on",
  no: "no — it may clear the data again when space runs low, so sync often",
  unsupported: "nothing: this browser cannot be asked, so sync often",
};

// The browser deleted this user's database (Safari's seven-day rule, or a full disk): the
// server noticed at this start (sync.js registerDevice) and said what it had. Shown on the home
// screen until dismissed, with what keeps it from happening again.
function evictionNotice(e) {
  const n = e.acknowledged_count;
  const last = e.last_acknowledged_at ? html`, the last on <strong>${when(e.last_acknowledged_at)}</strong>` : "";
  const before =
    e.persisted && e.persisted !== e.persisted_now
      ? ` Before the data was cleared it had answered ${e.persisted}.`
      : "";
  const answer = ANSWERS[e.persisted_now] || ANSWERS.unsupported;
  const asked = html`<p>observe asks the browser to keep its data (persistent storage).
    This browser answered ${answer}.${before}</p>`;
  return html`<section class="panel notice" id="eviction" role="status" aria-labelledby="eviction-heading">
    <h2 id="eviction-heading">This tablet's storage was cleared</h2>
    <p>The browser deleted observe's data on this tablet (this was not a sign-out). What the server had received
      from this tablet is safe:
      <strong>${n} walkthrough version${n === 1 ? "" : "s"}</strong>${last};
      your walkthroughs of the last 120 days are back on the tablet. Anything recorded after that and never sent
      is gone.</p>
    ${homeScreenAdvice() ? ADD_TO_HOME_AFTER_EVICTION : asked}
    <button type="button" class="button" id="eviction-dismiss">Got it</button></section>`;
}

// Safari on iPad (which says it is a Mac, with a touch screen) outside a Home Screen app.
function homeScreenAdvice() {
  const ios =
    /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
  return ios && !navigator.standalone && !matchMedia("(display-mode: standalone)").matches;
}
