// Discarding a draft, and taking it back. A discarded draft stays in the drafts store with
// `discarded_at` for DISCARD_DAYS, listed under "Discarded" on the home screen with Restore;
// then it is deleted from this tablet. While discarded it is never pushed (sync.js skips it)
// nor counted as only on this tablet (store.unsyncedCount): what it had in the outbox waits
// on the walkthrough itself (`discarded_queue`) and goes back, in order, when it is restored,
// so a restored draft resumes exactly as it was. A purged draft the server had a backup of is
// deleted there too, at the next sync (`purged_drafts` in meta).

import { t } from "./i18n.js";
import * as store from "./store.js";
import { ask, html, th } from "./ui.js";

export const DISCARD_DAYS = 30;
const DAY = 24 * 60 * 60 * 1000;

// Only a draft never submitted: an amendment's earlier version counts in the reports, and
// belongs to the server's delete (the walkthrough page), not to the tablet's wastebasket.
export const canDiscard = (o) => o.status === "draft" && !o.amending && !o.discarded_at;

export const isDiscarded = (o) => Boolean(o.discarded_at) && o.status === "draft";

export function askToDiscard(place, rated) {
  return ask(
    t("discard.ask"),
    html`<p><strong>${place}</strong> · ${rated}.</p>
      <p>${th("discard.explain", { n: DISCARD_DAYS })}</p>`,
    [
      { label: t("discard.keep"), value: "keep" },
      { label: t("discard.discard"), value: "discard", primary: true },
    ],
  ).then((choice) => choice === "discard");
}

// One strict transaction: the draft is marked discarded and its queued versions leave the
// outbox together, so a sync that starts now finds nothing of it to send.
export function discard(id, at = new Date()) {
  return store.transaction(
    ["observations", "outbox"],
    "readwrite",
    async (s) => {
      const o = await store.done(s.observations.get(id));
      if (!o || !canDiscard(o)) return false;
      const queued = (await store.done(s.outbox.getAll())).filter((q) => q.observation_id === id);
      for (const q of queued) await store.done(s.outbox.delete(q.seq));
      o.discarded_queue = queued.map(({ seq, ...item }) => item);
      o.discarded_at = at.toISOString();
      await store.done(s.observations.put(o));
      return true;
    },
    { durability: "strict" },
  );
}

export function restore(id) {
  return store.transaction(
    ["observations", "outbox"],
    "readwrite",
    async (s) => {
      const o = await store.done(s.observations.get(id));
      if (!o?.discarded_at) return false;
      for (const item of o.discarded_queue || []) await store.done(s.outbox.add(item));
      delete o.discarded_queue;
      delete o.discarded_at;
      await store.done(s.observations.put(o));
      return true;
    },
    { durability: "strict" },
  );
}

// Deletes the drafts discarded more than DISCARD_DAYS ago; those the server may hold a backup
// of (a version was made) are noted for the next sync to delete there. Returns how many.
export function purge(now = Date.now()) {
  return store.transaction(
    ["observations", "meta"],
    "readwrite",
    async (s) => {
      // Only a draft still discarded and never submitted: one another device submitted since
      // came back by the pull, and deleting its "backup" would delete a walkthrough.
      const expired = (await store.done(s.observations.getAll())).filter(
        (o) => isDiscarded(o) && !o.amending && now - Date.parse(o.discarded_at) > DISCARD_DAYS * DAY,
      );
      if (!expired.length) return 0;
      const noted = (await store.done(s.meta.get("purged_drafts")))?.value || [];
      const backedUp = expired.filter((o) => o.last_version_id || o.server_head).map((o) => o.id);
      for (const o of expired) await store.done(s.observations.delete(o.id));
      await store.done(s.meta.put({ key: "purged_drafts", value: [...noted, ...backedUp] }));
      return expired.length;
    },
    { durability: "strict" },
  );
}

// At sync: delete on the server the backups of purged drafts. A 404 means it never got one
// (or it is gone already); anything else is tried again at the next sync.
export async function deletePurged(csrf) {
  const ids = (await store.getMeta("purged_drafts")) || [];
  const done = [];
  for (const id of ids) {
    const response = await fetch(`/api/v1/observations/${encodeURIComponent(id)}`, {
      method: "DELETE",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf || "" },
    });
    if (response.ok || response.status === 404) done.push(id);
    else break;
  }
  if (!done.length) return;
  await store.transaction("meta", "readwrite", async (s) => {
    const now = (await store.done(s.meta.get("purged_drafts")))?.value || [];
    await store.done(s.meta.put({ key: "purged_drafts", value: now.filter((id) => !done.includes(id)) }));
  });
}

// The home screen's "Discarded" section: each draft, when it goes for good, and Restore.
export function discardedPanel(drafts, placeOf) {
  if (!drafts.length) return "";
  const left = (o) => {
    const days = Math.ceil((Date.parse(o.discarded_at) + DISCARD_DAYS * DAY - Date.now()) / DAY);
    return days <= 1 ? t("discard.within_a_day") : t("discard.in_days", { n: days });
  };
  const item = (o) => html`<li class="session-item"><div><span class="item-title">${placeOf(o)}</span>
      <span class="item-meta">${t("discard.title")} · ${left(o)}</span></div>
      <button type="button" class="button" data-restore="${o.id}"
        aria-label="${t("discard.restore_label", { place: placeOf(o) })}">${t("discard.restore")}</button></li>`;
  return html`<section class="panel" aria-labelledby="discarded">
    <h2 id="discarded">${t("discard.title")} <span class="count">${drafts.length}</span></h2>
    <p class="muted">${t("discard.kept", { n: DISCARD_DAYS })}</p>
    <ul class="items">${drafts.map(item)}</ul></section>`;
}
