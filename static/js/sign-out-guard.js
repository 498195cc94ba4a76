// On the server's pages: signing out while the tablet app holds walkthroughs that are not on
// the server would strand them, so the sign-out button sends the observer to the app instead.
import * as store from "./store.js";

const form = document.querySelector("form.sign-out");
const remembered = JSON.parse(localStorage.getItem("observe.user") || "null");

async function unsynced() {
  store.useDatabase(remembered.id);
  const [queued, attention, observations] = await Promise.all([
    store.count("outbox"), store.count("attention"), store.all("observations"),
  ]);
  return queued + attention + observations.filter((o) => o.status === "draft" && o.dirty).length;
}

if (form && remembered && "indexedDB" in window) {
  form.addEventListener("submit", async (event) => {
    if (form.dataset.checked) return;
    event.preventDefault();
    const pending = await unsynced().catch(() => 0);
    if (!pending) {
      form.dataset.checked = "yes";
      form.requestSubmit();
      return;
    }
    const note = document.createElement("p");
    note.className = "flash flash-error";
    note.setAttribute("role", "alert");
    note.innerHTML = `${pending} walkthrough version${pending === 1 ? " is" : "s are"} on this device but not on the server yet.
      <a href="/app/">Open the walkthrough app</a> to sync them or export them before you sign out.`;
    document.getElementById("main").prepend(note);
  });
}
