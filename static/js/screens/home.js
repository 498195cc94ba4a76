// The home screen: start a walkthrough; drafts, what waits to sync, what needs attention and
// what was synced; calibration sessions; other observers' work waiting on a shared tablet; a
// notice when the browser cleared this tablet's storage; the "export unsynced data" escape hatch.

import { discardedPanel, isDiscarded, purge, restore } from "../discard.js";
import { t } from "../i18n.js";
import { main, onLeave, route } from "../router.js";
import { owners, signOut, user } from "../session.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { banner, html, render, th, when } from "../ui.js";
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
    const conflict = o.has_conflict ? ` · ${t("home.two_devices")}` : "";
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
  const keeps = persisted === "yes" ? t("home.persisted_yes") : t("home.persisted_no");
  render(
    main,
    html`
    <div class="home-top">
      <h1>${t("home.title")}</h1>
      <a class="button button-primary button-big" href="#/start">${t("home.start")}</a>
    </div>
    ${notice}
    ${eviction ? evictionNotice(eviction) : ""}
    ${othersPanel()}
    ${sessionsPanel(look, observations)}
    ${list(
      t("home.drafts"),
      "drafts",
      by("draft").map((o) => item(o, "observe")),
      t("home.no_drafts"),
    )}
    ${list(
      t("home.waiting"),
      "waiting",
      by("waiting").map((o) => item(o, "view")),
      t("home.no_waiting"),
    )}
    ${list(t("home.attention"), "attention", by("attention").map(refused), t("home.no_attention"))}
    ${list(
      t("home.synced"),
      "synced",
      recent.map((o) => item(o, "view")),
      t("home.no_synced"),
    )}
    ${discardedPanel(observations.filter(isDiscarded), where)}
    <section class="panel tablet-facts">
      <p>${th("home.signed_in_as", { name: user.name })} · ${keeps}.</p>
      ${homeScreenAdvice() ? th("home.add_to_home") : ""}
      <button type="button" class="button" id="export">${t("home.export")}</button>
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
    banner("exported", th("home.exported", { n }));
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
        <button type="button" class="button" data-switch="${o.id}">${t("others.switch", { name: o.name })}</button>
        </li>`;
  return html`<section class="panel" aria-labelledby="others-heading">
      <h2 id="others-heading">${t("others.title")}</h2>
      <p>${t("others.body", { names })}</p>
      <ul class="items">${others.map(other)}</ul></section>`;
}

const ANSWERS = {
  yes: "eviction.answer_yes",
  no: "eviction.answer_no",
  unsupported: "eviction.answer_unsupported",
};

// The browser deleted this user's database (Safari's seven-day rule, or a full disk): the
// server noticed at this start (sync.js registerDevice) and said what it had. Shown on the home
// screen until dismissed, with what keeps it from happening again.
function evictionNotice(e) {
  const n = e.acknowledged_count;
  const last = e.last_acknowledged_at ? th("eviction.last", { when: when(e.last_acknowledged_at) }) : "";
  const before =
    e.persisted && e.persisted !== e.persisted_now ? ` ${t("eviction.before", { answer: e.persisted })}` : "";
  const answer = t(ANSWERS[e.persisted_now] || ANSWERS.unsupported);
  const asked = html`<p>${t("eviction.asked", { answer })}${before}</p>`;
  return html`<section class="panel notice" id="eviction" role="status" aria-labelledby="eviction-heading">
    <h2 id="eviction-heading">${t("eviction.title")}</h2>
    <p>${th("eviction.body", { versions: th("eviction.versions", { n }), last })}</p>
    ${homeScreenAdvice() ? th("eviction.add_to_home") : asked}
    <button type="button" class="button" id="eviction-dismiss">${t("common.got_it")}</button></section>`;
}

// Safari on iPad (which says it is a Mac, with a touch screen) outside a Home Screen app.
function homeScreenAdvice() {
  const ios =
    /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
  return ios && !navigator.standalone && !matchMedia("(display-mode: standalone)").matches;
}
