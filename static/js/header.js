// The header: the sync indicator, "Sync now", "Sign out", and the banner when the session ended.

import { t } from "./i18n.js";
import { lockForOtherUser, noteOwner, signOut, user } from "./session.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { ago, banner, th } from "./ui.js";

export function wireHeader() {
  document.getElementById("sync-now").addEventListener("click", () => sync.syncNow());
  document.getElementById("sign-out").addEventListener("click", signOut);
  // A draft edited, discarded or restored changes what is only on this tablet: the count is
  // redrawn then, not at the next sync, so it always says what sign-out would.
  window.addEventListener("observe:changed", recount);
}

async function recount() {
  if (sync.state.phase === "syncing") return; // the sync sets it when it ends
  const waiting = await store.unsyncedCount().catch(() => sync.state.waiting);
  if (waiting === sync.state.waiting) return;
  sync.state.waiting = waiting;
  showSyncState();
}

export function showSyncState() {
  const s = sync.state;
  const indicator = document.getElementById("sync-indicator");
  const waiting = s.waiting ? t("sync.waiting", { n: s.waiting }) : "";
  const andWaiting = waiting ? ` · ${waiting}` : "";
  let text;
  if (s.phase === "syncing") text = t("sync.syncing");
  else if (s.phase === "offline") text = t("sync.offline") + andWaiting;
  else if (s.phase === "signed-out") text = t("sync.signed_out") + andWaiting;
  else if (s.phase === "failed") {
    const seconds = Math.max(1, Math.round((s.retryAt - Date.now()) / 1000));
    text = t("sync.failed", { n: seconds }) + andWaiting;
  } else if (s.waiting) text = `${waiting}`;
  else text = t("sync.all_saved", { when: ago(s.lastSync) });
  indicator.textContent = text;
  indicator.dataset.phase = s.phase;
  if (s.phase !== "syncing") {
    store
      .unsyncedCount()
      .then((n) => noteOwner(user, n))
      .catch(() => {});
  }
  if (s.phase === "signed-out" && s.otherUser) return lockForOtherUser(s.otherUser);
  banner("signed-out", s.phase === "signed-out" ? th("sync.session_ended") : null, "error");
}
