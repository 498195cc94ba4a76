// The header: the sync indicator, "Sync now", "Sign out", and the banner when the session ended.
import { lockForOtherUser, noteOwner, signOut, user } from "./session.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { ago, banner, html } from "./ui.js";

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
  const waiting = s.waiting ? `${s.waiting} waiting` : "";
  const andWaiting = waiting ? ` · ${waiting}` : "";
  let text;
  if (s.phase === "syncing") text = "Syncing…";
  else if (s.phase === "offline") text = `Offline — saved on this tablet${andWaiting}`;
  else if (s.phase === "signed-out") text = `Signed out — nothing is lost${andWaiting}`;
  else if (s.phase === "failed") {
    const seconds = Math.max(1, Math.round((s.retryAt - Date.now()) / 1000));
    text = `Sync failed — retrying in ${seconds} s${andWaiting}`;
  } else if (s.waiting) text = `${waiting}`;
  else text = `All saved to the server · ${ago(s.lastSync)}`;
  indicator.textContent = text;
  indicator.dataset.phase = s.phase;
  if (s.phase !== "syncing") {
    store
      .unsyncedCount()
      .then((n) => noteOwner(user, n))
      .catch(() => {});
  }
  if (s.phase === "signed-out" && s.otherUser) return lockForOtherUser(s.otherUser);
  banner(
    "signed-out",
    s.phase === "signed-out"
      ? html`<p>Your session has ended. Everything you recorded is safe on this tablet and waits in the outbox.
          <a class="button button-primary" href="/sign-in?next=/app/">Sign in again</a></p>`
      : null,
    "error",
  );
}
