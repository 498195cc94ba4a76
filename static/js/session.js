// Who uses the app on this tablet: the signed-in observer, the other observers whose work waits
// here (a shared tablet), signing out, and the screen shown when someone else signs in.
import { saveNow } from "./drafts.js";
import { t } from "./i18n.js";
import { leave, lockTo, main } from "./router.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { ask, banner, html, render, th } from "./ui.js";

// The signed-in observer, as the server last described them ({id, name, …}).
export let user = null;

export function rememberedUser() {
  return JSON.parse(localStorage.getItem("observe.user") || "null");
}

export function rememberUser(who) {
  user = who;
  localStorage.setItem("observe.user", JSON.stringify(user));
}

export function forgetUser() {
  localStorage.removeItem("observe.user");
}

export function goSignIn() {
  location.assign(`/sign-in?next=${encodeURIComponent(`/app/${location.hash}`)}`);
}

// Who has a database on this tablet, and how much of theirs is not on the server: names and
// counts only, kept outside the databases so the next person's app can say whose work waits.
export function owners() {
  try {
    return JSON.parse(localStorage.getItem("observe.owners") || "{}");
  } catch {
    return {};
  }
}

export function noteOwner(who, waiting) {
  const all = owners();
  const before = all[who.id] || {};
  all[who.id] = { name: who.name, waiting: waiting === null ? before.waiting || 0 : waiting };
  localStorage.setItem("observe.owners", JSON.stringify(all));
}

function forgetOwner(id) {
  const all = owners();
  delete all[id];
  localStorage.setItem("observe.owners", JSON.stringify(all));
}

// Someone else signed in on this tablet (in another tab): this tab stops showing this user's
// walkthroughs and syncing them until this user signs in again.
export async function lockForOtherUser(other) {
  lockTo(() => lockForOtherUser(other));
  await saveNow();
  await leave("locked");
  banner("signed-out", null);
  render(
    main,
    html`<section class="panel narrow" aria-labelledby="locked-heading">
    <h1 id="locked-heading">${t("locked.title", { other })}</h1>
    <p>${t("locked.body", { name: user.name })}</p>
    <a class="button button-primary" href="/app/">${t("locked.open", { other })}</a></section>`,
  );
}

export async function signOut() {
  if (!(await saveNow())) return;
  const pending = await store.unsyncedCount();
  const exportedAt = await store.getMeta("exported_at");
  const lastChange = await store.getMeta("last_change");
  if (pending && !(exportedAt && lastChange && exportedAt >= lastChange)) {
    const choice = await ask(t("sign_out.unsynced_title"), th("sign_out.unsynced_body", { n: pending }), [
      { label: t("home.export"), value: "export", primary: true },
      { label: t("sign_out.keep"), value: "keep" },
      { label: t("sign_out.stay"), value: "stay" },
    ]);
    if (choice !== "export" && choice !== "keep") return;
    if (choice === "export") await sync.exportUnsynced(user);
  }
  if (!sync.state.csrf) {
    await ask(t("sign_out.offline_title"), html`<p>${t("sign_out.offline_body")}</p>`, [
      { label: t("common.ok"), value: "ok", primary: true },
    ]);
    return;
  }
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/sign-out";
  const token = document.createElement("input");
  Object.assign(token, { type: "hidden", name: "csrf_token", value: sync.state.csrf });
  form.append(token);
  document.body.append(form);
  // Nothing of this user's is only here: the tablet forgets it all. Otherwise the database
  // stays, and the next person's app names whose work is waiting (never what it says).
  if (!pending) {
    // Cleared on purpose: the server is told which database, so it is not taken for an eviction.
    const cleared = document.createElement("input");
    Object.assign(cleared, {
      type: "hidden",
      name: "cleared_database",
      value: (await store.getMeta("device_id")) || "",
    });
    form.append(cleared);
    await store.deleteDatabase(user.id);
    forgetOwner(user.id);
  } else noteOwner(user, pending);
  forgetUser();
  form.submit();
}
