// On the server's pages: signing out while the tablet app holds walkthroughs that are not on
// the server would strand them, so the sign-out button sends the observer to the app instead.
// With nothing unsynced, signing out here forgets the tablet's copy, as the app's own sign-out
// does: the next person to open the app on a shared tablet sees nothing of this one's.
import { t } from "./i18n.js";
import * as store from "./store.js";

const form = document.querySelector("form.sign-out");
const remembered = JSON.parse(localStorage.getItem("observe.user") || "null");

function forget(id) {
  localStorage.removeItem("observe.user");
  try {
    const owners = JSON.parse(localStorage.getItem("observe.owners") || "{}");
    delete owners[id];
    localStorage.setItem("observe.owners", JSON.stringify(owners));
  } catch {
    /* nothing remembered */
  }
}

// Only the signed-in user's own copy: another observer's work on a shared tablet is theirs
// to send, and never blocks or is cleared by this sign-out.
if (form && remembered && String(remembered.id) === form.dataset.user && "indexedDB" in window) {
  form.addEventListener("submit", async (event) => {
    if (form.dataset.checked) return;
    event.preventDefault();
    store.useDatabase(remembered.id);
    let pending;
    try {
      pending = await store.unsyncedCount();
    } catch {
      pending = 1; // unreadable: keep it rather than guess it is empty
    }
    if (!pending) {
      // Cleared on purpose: the server is told which database, so it is not taken for an eviction.
      const cleared = document.createElement("input");
      Object.assign(cleared, {
        type: "hidden",
        name: "cleared_database",
        value: (await store.getMeta("device_id").catch(() => null)) || "",
      });
      form.append(cleared);
      await store.deleteDatabase(remembered.id).catch(() => {});
      forget(remembered.id);
      form.dataset.checked = "yes";
      form.requestSubmit();
      return;
    }
    const note = document.createElement("p");
    note.className = "flash flash-error";
    note.setAttribute("role", "alert");
    note.innerHTML = t("guard.unsynced", { n: pending });
    document.getElementById("main").prepend(note);
  });
}
