// Saving the open form's draft to IndexedDB: every tap is written at most SAVE_DELAY later, a
// failed write is kept in memory and retried, and whatever is pending is written before the
// page goes away.

import { t } from "./i18n.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { banner, html, th } from "./ui.js";

const SAVE_DELAY = 300; // milliseconds: every tap reaches IndexedDB at most this late

// The form owns a draft's content (CONTENT below) and writes only that, merged into the stored
// walkthrough in one transaction; sync owns the rest (which version it was last queued as,
// its status). So neither ever puts back an older copy of what the other wrote. `rev` counts
// content changes: when a pull replaced the content under an open form, the form's edit is
// stored as made from the version it was really made from, and the server keeps both.
const CONTENT = [
  "ratings",
  "notes",
  "strengths",
  "next_step",
  "timer",
  "context",
  "observed_at",
  "school_id",
  "classroom_id",
];
let pendingSave = null;
let saveTimer = null;
let saving = Promise.resolve(true);
let failedSaves = 0;

export function scheduleSave(observation) {
  pendingSave = observation;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveNow, SAVE_DELAY);
}

// Resolves true once nothing the form holds is unsaved; false if the save failed (the change
// stays in memory, a banner says why, and it is retried).
export function saveNow() {
  clearTimeout(saveTimer);
  saving = saving.then(writePending, writePending);
  return saving;
}

async function writePending() {
  const observation = pendingSave;
  if (!observation) return true;
  pendingSave = null;
  let refused = null;
  try {
    const stored = await store.update(observation.id, (current) => {
      if (current.status !== "draft") {
        refused = t("save.submitted_meanwhile");
        return false;
      }
      if ((current.rev || 0) !== (observation.rev || 0) && current.replaced_from !== undefined) {
        current.last_version_id = current.replaced_from; // this edit was made from that version
      }
      delete current.replaced_from;
      for (const key of CONTENT) current[key] = structuredClone(observation[key]);
      current.dirty = true;
      current.rev = (current.rev || 0) + 1;
    });
    if (!stored) refused = refused || t("save.gone");
    if (refused) {
      banner("not-saved", html`<p>${t("save.refused", { reason: refused })}</p>`, "error");
      return false;
    }
    observation.rev = stored.rev;
    await store.setMeta("last_change", new Date().toISOString());
    failedSaves = 0;
    banner("not-saved", null);
    sync.changed("draft");
    return true;
  } catch (error) {
    // Keep the change in memory (unless a newer one replaced it) and try again: a closed or
    // lost connection is reopened by the store; a full disk may free up.
    pendingSave = pendingSave || observation;
    failedSaves += 1;
    const delay = Math.min(30, 2 ** (failedSaves - 1));
    const reason = error?.name === "QuotaExceededError" ? t("save.full") : String(error?.message || error);
    banner("not-saved", html`<p>${th("save.failed", { reason, n: delay })}</p>`, "error");
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveNow, delay * 1000);
    return false;
  }
}

// A killed tab or a sleeping tablet: write what is pending before the page goes away.
window.addEventListener("pagehide", () => {
  saveNow();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") saveNow();
});
