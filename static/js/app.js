// The tablet app: start-up, the screens, and the service worker's update prompt.
import * as store from "./store.js";
import * as sync from "./sync.js";
import { ago, ask, banner, html, minutes, render, when } from "./ui.js";
import { visitInput, visitPanel } from "./visit.js";

const main = document.getElementById("main");
const SAVE_DELAY = 300; // milliseconds: every tap reaches IndexedDB at most this late
let user = null;
let leaveScreen = () => {};

// ---- start-up ------------------------------------------------------------------------------

async function start() {
  const remembered = JSON.parse(localStorage.getItem("observe.user") || "null");
  let session = null;
  try {
    session = await sync.fetchSession();
  } catch (error) {
    // The server said nobody is signed in: never fall back to whoever used the app last (a
    // shared tablet would show the next person the last one's walkthroughs). Only when the
    // server cannot be reached does the tablet carry on as the last signed-in observer.
    if (error.message === "signed out") {
      localStorage.removeItem("observe.user");
      return goSignIn();
    }
    if (!remembered) {
      render(main, html`<section class="panel narrow"><h1>observe is offline</h1>
        <p>Sign in once while connected; after that this tablet records walkthroughs with no network.</p></section>`);
      return;
    }
  }
  user = session ? session.user : remembered;
  localStorage.setItem("observe.user", JSON.stringify(user));
  store.useDatabase(user.id);
  noteOwner(user, null);
  store.onVersionChange(async () => {
    // A newer app opened the database in another tab: save what this tab holds, then reload
    // into the newer app rather than fail every save that follows.
    await saveNow();
    banner("reloading", html`<p>observe changed in another tab (an update, or a sign-out); reloading.</p>`);
    setTimeout(() => location.reload(), 50);
  });
  if (!(await store.getMeta("cursor"))) {
    try {
      await sync.bootstrap();
    } catch {
      render(main, html`<section class="panel narrow"><h1>Almost ready</h1>
        <p>observe needs the network once to fetch your rubric and schools. Connect and reload.</p></section>`);
      return;
    }
  } else if ((await store.getMeta("bootstrap_format", 1)) < sync.BOOTSTRAP_FORMAT) {
    // This tablet was set up by an older app that did not keep everything bootstrap now
    // sends (calibration sessions); fetch it again when the network allows.
    sync.bootstrap().catch(() => {});
  }
  askForPersistentStorage();
  registerServiceWorker();
  wireHeader();
  window.addEventListener("hashchange", route);
  window.addEventListener("observe:sync", showSyncState);
  window.addEventListener("observe:changed", (event) => {
    if (event.detail !== "draft" && currentScreen === "home") route();
  });
  await route();
  sync.startSyncing();
}

function goSignIn() {
  location.assign("/sign-in?next=" + encodeURIComponent("/app/" + location.hash));
}

async function askForPersistentStorage() {
  if (!navigator.storage?.persist) return store.setMeta("persisted", "unsupported");
  const persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  await store.setMeta("persisted", persisted ? "yes" : "no");
}

// Who has a database on this tablet, and how much of theirs is not on the server: names and
// counts only, kept outside the databases so the next person's app can say whose work waits.
function owners() {
  try { return JSON.parse(localStorage.getItem("observe.owners") || "{}"); } catch { return {}; }
}

function noteOwner(who, waiting) {
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

// ---- header: sync indicator, sync now, sign out ----------------------------------------------

function wireHeader() {
  document.getElementById("sync-now").addEventListener("click", () => sync.syncNow());
  document.getElementById("sign-out").addEventListener("click", signOut);
}

function showSyncState() {
  const s = sync.state;
  const indicator = document.getElementById("sync-indicator");
  const waiting = s.waiting ? `${s.waiting} waiting` : "";
  let text;
  if (s.phase === "syncing") text = "Syncing…";
  else if (s.phase === "offline") text = `Offline — saved on this tablet${waiting ? ` · ${waiting}` : ""}`;
  else if (s.phase === "signed-out") text = `Signed out — nothing is lost${waiting ? ` · ${waiting}` : ""}`;
  else if (s.phase === "failed") text = `Sync failed — retrying in ${Math.max(1, Math.round((s.retryAt - Date.now()) / 1000))} s${waiting ? ` · ${waiting}` : ""}`;
  else if (s.waiting) text = `${waiting}`;
  else text = `All saved to the server · ${ago(s.lastSync)}`;
  indicator.textContent = text;
  indicator.dataset.phase = s.phase;
  if (s.phase !== "syncing") store.unsyncedCount().then((n) => noteOwner(user, n)).catch(() => {});
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

// Someone else signed in on this tablet (in another tab): this tab stops showing this user's
// walkthroughs and syncing them until this user signs in again.
let lockedFor = null;

async function lockForOtherUser(other) {
  lockedFor = other;
  await saveNow();
  await leaveScreen();
  leaveScreen = () => {};
  currentScreen = "locked";
  banner("signed-out", null);
  render(main, html`<section class="panel narrow" aria-labelledby="locked-heading">
    <h1 id="locked-heading">${other} is signed in on this tablet now</h1>
    <p>${user.name}'s walkthroughs stay safe on this tablet and are sent only when ${user.name} signs in again.</p>
    <a class="button button-primary" href="/app/">Open the app as ${other}</a></section>`);
}

async function signOut() {
  if (!(await saveNow())) return;
  const pending = await store.unsyncedCount();
  const exportedAt = await store.getMeta("exported_at");
  const lastChange = await store.getMeta("last_change");
  if (pending && !(exportedAt && lastChange && exportedAt >= lastChange)) {
    const choice = await ask(
      "Not everything is on the server yet",
      html`<p>${pending} walkthrough version${pending === 1 ? " is" : "s are"} only on this tablet.
        Signing out now could lose ${pending === 1 ? "it" : "them"}. Sync when you are online, or export them to a file first.</p>`,
      [{ label: "Export unsynced data", value: "export", primary: true },
        { label: "Keep it here until I sign in again", value: "keep" }, { label: "Stay signed in", value: "stay" }],
    );
    if (choice !== "export" && choice !== "keep") return;
    if (choice === "export") await sync.exportUnsynced(user);
  }
  if (!sync.state.csrf) {
    await ask("You are offline", html`<p>Signing out needs the network. Your work is saved on this tablet.</p>`,
      [{ label: "OK", value: "ok", primary: true }]);
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
    Object.assign(cleared, { type: "hidden", name: "cleared_database", value: (await store.getMeta("device_id")) || "" });
    form.append(cleared);
    await store.deleteDatabase(user.id);
    forgetOwner(user.id);
  } else noteOwner(user, pending);
  localStorage.removeItem("observe.user");
  form.submit();
}

// ---- routing -------------------------------------------------------------------------------

let currentScreen = null;

async function route() {
  if (lockedFor) return lockForOtherUser(lockedFor); // no screen of this user's until they sign in
  await leaveScreen();
  leaveScreen = () => {};
  const [screen, id] = location.hash.replace(/^#\/?/, "").split("/");
  currentScreen = screen || "home";
  const screens = { home, start: startScreen, observe: formScreen, review: reviewScreen, view: viewScreen };
  await (screens[currentScreen] || home)(id);
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

const go = (hash) => { location.hash = hash; };

// ---- home ----------------------------------------------------------------------------------

async function lookups() {
  const [schools, rubrics, sessions] = await Promise.all([store.all("schools"), store.all("rubrics"), store.all("sessions")]);
  const classrooms = new Map();
  for (const school of schools) for (const c of school.classrooms) classrooms.set(c.id, c);
  return {
    schools: new Map(schools.map((s) => [s.id, s])),
    rubrics: new Map(rubrics.map((r) => [r.id, r])),
    sessions: new Map(sessions.map((s) => [s.id, s])),
    classrooms,
  };
}

function placeOf(o, look) {
  const session = o.calibration_session_id ? look.sessions.get(o.calibration_session_id) : null;
  if (session) return `Calibration · ${session.title}`;
  const school = look.schools.get(o.school_id);
  const classroom = o.classroom_id ? look.classrooms.get(o.classroom_id) : null;
  return `${classroom ? classroom.name : "Whole school"} · ${school ? school.name : "a school"}`;
}

function ratedCount(o, rubric) {
  const total = rubric ? rubric.criteria.length : 0;
  const rated = Object.values(o.ratings).filter((r) => r.level !== null || r.not_observed).length;
  return `${rated} of ${total} rated`;
}

async function home() {
  const [observations, attention, look, persisted, eviction] = await Promise.all([
    store.all("observations"), store.all("attention"), lookups(), store.getMeta("persisted"), store.getMeta("eviction"),
  ]);
  observations.sort((a, b) => (b.observed_at || "").localeCompare(a.observed_at || ""));
  const by = (status) => observations.filter((o) => o.status === status);
  const others = Object.entries(owners()).filter(([id, o]) => Number(id) !== user.id && o.waiting > 0).map(([id, o]) => ({ id, name: o.name }));
  const recent = by("synced").sort((a, b) => (b.synced_at || "").localeCompare(a.synced_at || "")).slice(0, 15);
  const reasons = new Map();
  for (const item of attention) {
    reasons.set(item.observation_id, [...(reasons.get(item.observation_id) || []), item]);
  }
  const item = (o, target, extra = "") => html`<li><a class="item" href="#/${target}/${o.id}">
      <span class="item-title">${placeOf(o, look)}</span>
      <span class="item-meta">${when(o.observed_at)} · ${ratedCount(o, look.rubrics.get(o.rubric_version_id))}${o.has_conflict ? " · edited on two devices" : ""}</span>
      ${extra}</a></li>`;
  const list = (title, id, items, empty) => html`<section class="panel" aria-labelledby="${id}">
      <h2 id="${id}">${title} <span class="count">${items.length}</span></h2>
      ${items.length ? html`<ul class="items">${items}</ul>` : html`<p class="muted">${empty}</p>`}</section>`;
  const sessions = [...look.sessions.values()].sort((a, b) => b.held_on.localeCompare(a.held_on));
  const mine = new Map(observations.filter((o) => o.calibration_session_id).map((o) => [o.calibration_session_id, o]));
  const sessionItem = (session) => {
    const own = mine.get(session.id);
    const where = `${session.classroom_name || session.lesson_reference || "Whole school"} · ${session.school_name}`;
    let action;
    let state = "Scoring blind";
    if (session.state === "revealed") {
      action = html`<a class="button" href="/calibration/${session.id}">See the report</a>`;
      state = "Revealed";
    } else if (!own || own.status === "deleted") {
      action = html`<button type="button" class="button button-primary" data-score-session="${session.id}">Score this lesson</button>`;
    } else if (own.status === "draft") {
      action = html`<a class="button button-primary" href="#/observe/${own.id}">Continue scoring</a>`;
    } else {
      action = html`<a class="button" href="#/view/${own.id}">Your scores</a>`;
      state = {
        waiting: "Submitted · waiting to sync",
        attention: "The server did not accept your scores: open them to see why",
        synced: "Submitted · hidden from others until the reveal",
      }[own.status] || state;
    }
    return html`<li class="session-item"><div><span class="item-title">${session.title}</span>
      <span class="item-meta">${where} · ${session.held_on} · ${state}</span></div>${action}</li>`;
  };
  render(main, html`
    <div class="home-top">
      <h1>Walkthroughs</h1>
      <a class="button button-primary button-big" href="#/start">Start a walkthrough</a>
    </div>
    ${eviction ? evictionNotice(eviction) : ""}
    ${others.length ? html`<section class="panel" aria-labelledby="others-heading">
      <h2 id="others-heading">Also waiting on this tablet</h2>
      <p>Walkthroughs by ${others.map((o) => o.name).join(", ")} are on this tablet but not on the server yet. Only their own sign-in sends them.</p>
      <ul class="items">${others.map((o) => html`<li class="session-item"><span class="item-title">${o.name}</span>
        <button type="button" class="button" data-switch="${o.id}">Sign out so ${o.name} can sign in</button></li>`)}</ul></section>` : ""}
    ${sessions.length ? html`<section class="panel" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Calibration sessions <span class="count">${sessions.length}</span></h2>
      <p class="muted">Score the lesson on your own; nobody sees anyone's scores until the facilitator reveals them.</p>
      <ul class="items">${sessions.map(sessionItem)}</ul></section>` : ""}
    ${list("Drafts", "drafts", by("draft").map((o) => item(o, "observe")), "No drafts on this tablet.")}
    ${list("Waiting to sync", "waiting", by("waiting").map((o) => item(o, "view")), "Nothing is waiting.")}
    ${list("Needs attention", "attention", by("attention").map((o) => item(o, "view", html`<span class="item-reason">${(reasons.get(o.id) || []).flatMap((r) => r.errors.map((e) => `${e.field ? e.field + ": " : ""}${e.message}`)).join("; ")}</span>`)), "Nothing needs attention.")}
    ${list("Recently synced", "synced", recent.map((o) => item(o, "view")), "Nothing synced yet.")}
    <section class="panel tablet-facts">
      <p>Signed in as <strong>${user.name}</strong> · ${persisted === "yes" ? "the browser keeps this tablet's data even when space runs low" : "the browser may clear this tablet's data when space runs low — sync often"}.</p>
      ${homeScreenAdvice() ? html`<p id="add-to-home">On iPad, Safari clears a website's data after seven days without a visit — walkthroughs not yet sent would go with it. Add observe to the Home Screen (tap <strong>Share</strong>, then <strong>Add to Home Screen</strong>) and open it from there: Safari keeps the data of Home Screen apps.</p>` : ""}
      <button type="button" class="button" id="export">Export unsynced data</button>
    </section>`);
  main.onclick = async (event) => {
    if (event.target.closest("[data-switch]")) return signOut();
    if (event.target.closest("#eviction-dismiss")) {
      await store.remove("meta", "eviction");
      return route();
    }
    const button = event.target.closest("[data-score-session]");
    if (!button) return;
    const session = look.sessions.get(Number(button.dataset.scoreSession));
    begin({ school: session.school_id, classroom: session.classroom_id, rubric: session.rubric_version_id, context: {}, session: session.id });
  };
  leaveScreen = () => { main.onclick = null; };
  document.getElementById("export").addEventListener("click", async () => {
    const n = await sync.exportUnsynced(user);
    banner("exported", html`<p>Exported ${n} version${n === 1 ? "" : "s"} to a file. An admin can load it with <code>observe import-offline</code>.</p>`);
  });
}

// The browser deleted this user's database (Safari's seven-day rule, or a full disk): the
// server noticed at this start (sync.js registerDevice) and said what it had. Shown on the home
// screen until dismissed, with what keeps it from happening again.
function evictionNotice(e) {
  const n = e.acknowledged_count;
  const answer = { yes: "yes — it should keep observe's data from now on", no: "no — it may clear the data again when space runs low, so sync often", unsupported: "nothing: this browser cannot be asked, so sync often" };
  return html`<section class="panel notice" id="eviction" role="status" aria-labelledby="eviction-heading">
    <h2 id="eviction-heading">This tablet's storage was cleared</h2>
    <p>The browser deleted observe's data on this tablet (this was not a sign-out). What the server had received from this tablet is safe:
      <strong>${n} walkthrough version${n === 1 ? "" : "s"}</strong>${e.last_acknowledged_at ? html`, the last on <strong>${when(e.last_acknowledged_at)}</strong>` : ""};
      your walkthroughs of the last 120 days are back on the tablet. Anything recorded after that and never sent is gone.</p>
    ${homeScreenAdvice()
      ? html`<p>Safari clears a website's data after seven days without a visit. So that it does not happen again, add observe to the Home Screen: tap <strong>Share</strong>, then <strong>Add to Home Screen</strong>, and from now on open observe from its icon. Safari keeps the data of Home Screen apps.</p>`
      : html`<p>observe asks the browser to keep its data (persistent storage). This browser answered ${answer[e.persisted_now] || answer.unsupported}.${e.persisted && e.persisted !== e.persisted_now ? ` Before the data was cleared it had answered ${e.persisted}.` : ""}</p>`}
    <button type="button" class="button" id="eviction-dismiss">Got it</button></section>`;
}

// Safari on iPad (which says it is a Mac, with a touch screen) outside a Home Screen app.
function homeScreenAdvice() {
  const ios = /iPad|iPhone|iPod/.test(navigator.userAgent) || (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
  return ios && !navigator.standalone && !matchMedia("(display-mode: standalone)").matches;
}

// ---- start a walkthrough -------------------------------------------------------------------

async function startScreen() {
  const [schools, rubrics] = await Promise.all([store.all("schools"), store.all("rubrics")]);
  schools.sort((a, b) => a.name.localeCompare(b.name));
  // The newest version of each rubric; older ones stay stored for drafts that use them.
  const latest = new Map();
  for (const r of rubrics) if (!latest.has(r.rubric.id) || latest.get(r.rubric.id).id < r.id) latest.set(r.rubric.id, r);
  const choices = [...latest.values()];
  const pick = { school: schools.length === 1 ? schools[0].id : null, classroom: undefined, rubric: choices[0]?.id, context: {} };

  const draw = () => {
    const school = schools.find((s) => s.id === pick.school);
    const rubric = latest.get([...latest.keys()].find((k) => latest.get(k).id === pick.rubric));
    render(main, html`
      <h1>Start a walkthrough</h1>
      <section class="panel"><h2 id="school-heading">School</h2>
        <div class="chips" role="group" aria-labelledby="school-heading">${schools.map((s) => html`<button type="button" class="chip" data-school="${s.id}" aria-pressed="${s.id === pick.school}">${s.name}</button>`)}</div>
      </section>
      ${school ? html`<section class="panel"><h2 id="classroom-heading">Classroom</h2>
        <label for="classroom-search">Search by teacher, course or room</label>
        <input id="classroom-search" type="search" autocomplete="off" placeholder="e.g. Algebra, Lopez, honors">
        <div class="chips classrooms" role="group" aria-labelledby="classroom-heading">
          <button type="button" class="chip" data-classroom="" aria-pressed="${pick.classroom === null}">Whole school</button>
          ${school.classrooms.filter((c) => c.active).map((c) => html`<button type="button" class="chip" data-classroom="${c.id}" data-search="${[c.name, c.teacher?.name, c.subject, c.course_level, c.grade].join(" ").toLowerCase()}" aria-pressed="${c.id === pick.classroom}">${c.name}${c.teacher ? html`<small>${c.teacher.name}</small>` : ""}</button>`)}
        </div></section>` : ""}
      <section class="panel"><h2 id="rubric-heading">Rubric</h2>
        <div class="chips" role="group" aria-labelledby="rubric-heading">${choices.map((r) => html`<button type="button" class="chip" data-rubric="${r.id}" aria-pressed="${r.id === pick.rubric}">${r.title}</button>`)}</div>
      </section>
      ${rubric ? (rubric.document.context_fields || []).map((f) => html`<section class="panel"><h2 id="ctx-${f.key}">${f.label}${f.multiple ? html` <small class="muted">(any that apply)</small>` : ""}</h2>
        <div class="chips" role="group" aria-labelledby="ctx-${f.key}">${f.options.map((option) => html`<button type="button" class="chip" data-context="${f.key}" data-option="${option}" aria-pressed="${[].concat(pick.context[f.key] || []).includes(option)}">${option}</button>`)}</div></section>`) : ""}
      <div class="actions"><a class="button" href="#/">Cancel</a>
        <button type="button" class="button button-primary button-big" id="begin" ${pick.school && pick.classroom !== undefined && pick.rubric ? "" : "disabled"}>Begin</button></div>`);
  };
  draw();
  main.onclick = async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const d = button.dataset;
    if (d.school) { pick.school = Number(d.school); pick.classroom = undefined; }
    else if (d.classroom !== undefined) pick.classroom = d.classroom ? Number(d.classroom) : null;
    else if (d.rubric) { pick.rubric = Number(d.rubric); pick.context = {}; }
    else if (d.context) {
      const field = latestField(latest, pick.rubric, d.context);
      const chosen = [].concat(pick.context[d.context] || []);
      if (field.multiple) {
        pick.context[d.context] = chosen.includes(d.option) ? chosen.filter((o) => o !== d.option) : [...chosen, d.option];
      } else pick.context[d.context] = chosen.includes(d.option) ? [] : d.option;
    } else if (button.id === "begin") return begin(pick);
    else return;
    const search = document.getElementById("classroom-search")?.value || "";
    draw();
    const box = document.getElementById("classroom-search");
    if (box) { box.value = search; filterClassrooms(search); }
  };
  main.oninput = (event) => {
    if (event.target.id === "classroom-search") filterClassrooms(event.target.value);
  };
  leaveScreen = () => { main.onclick = null; main.oninput = null; };
}

function latestField(latest, rubricId, key) {
  const rubric = [...latest.values()].find((r) => r.id === rubricId);
  return rubric.document.context_fields.find((f) => f.key === key);
}

function filterClassrooms(text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  for (const chip of main.querySelectorAll("[data-search]")) {
    chip.hidden = !words.every((w) => chip.dataset.search.includes(w));
  }
}

async function begin(pick) {
  const context = Object.fromEntries(Object.entries(pick.context).filter(([, v]) => v && v.length));
  const observation = {
    id: crypto.randomUUID(),
    rubric_version_id: pick.rubric,
    school_id: pick.school,
    classroom_id: pick.classroom,
    calibration_session_id: pick.session || null,
    observed_at: new Date().toISOString(),
    context,
    ratings: {},
    notes: "",
    timer: { elapsed: 0, running_since: new Date().toISOString() },
    state: "draft",
    status: "draft",
    last_version_id: null,
    dirty: true,
    rev: 1,
  };
  await store.put("observations", observation);
  await store.setMeta("last_change", new Date().toISOString());
  go(`#/observe/${observation.id}`);
}

// ---- the form --------------------------------------------------------------------------------

// The form owns a draft's content (CONTENT below) and writes only that, merged into the stored
// walkthrough in one transaction; sync owns the rest (which version it was last queued as,
// its status). So neither ever puts back an older copy of what the other wrote. `rev` counts
// content changes: when a pull replaced the content under an open form, the form's edit is
// stored as made from the version it was really made from, and the server keeps both.
const CONTENT = ["ratings", "notes", "timer", "context", "observed_at", "classroom_id"];
let pendingSave = null;
let saveTimer = null;
let saving = Promise.resolve(true);
let failedSaves = 0;

function scheduleSave(observation) {
  pendingSave = observation;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveNow, SAVE_DELAY);
}

// Resolves true once nothing the form holds is unsaved; false if the save failed (the change
// stays in memory, a banner says why, and it is retried).
function saveNow() {
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
      if (current.status !== "draft") { refused = "it was submitted meanwhile"; return false; }
      if ((current.rev || 0) !== (observation.rev || 0) && current.replaced_from !== undefined) {
        current.last_version_id = current.replaced_from; // this edit was made from that version
      }
      delete current.replaced_from;
      for (const key of CONTENT) current[key] = structuredClone(observation[key]);
      current.dirty = true;
      current.rev = (current.rev || 0) + 1;
    });
    if (!stored) refused = refused || "it is no longer on this tablet";
    if (refused) {
      banner("not-saved", html`<p>Your last change was not saved: ${refused}.</p>`, "error");
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
    const reason = error?.name === "QuotaExceededError" ? "the tablet's storage is full" : String(error?.message || error);
    banner("not-saved", html`<p><strong>Not saved</strong> — ${reason}. Your change is kept in this tab and saving is retried in ${delay} s; do not close it.</p>`, "error");
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveNow, delay * 1000);
    return false;
  }
}

// A killed tab or a sleeping tablet: write what is pending before the page goes away.
window.addEventListener("pagehide", () => { saveNow(); });
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") saveNow();
});

async function withLock(id, hold) {
  // Two tabs must not edit one draft: the second one only reads it.
  if (!navigator.locks) return hold(true);
  return navigator.locks.request(`observation-${id}`, { ifAvailable: true }, (lock) => hold(Boolean(lock)));
}

async function formScreen(id) {
  const observation = await store.get("observations", id);
  if (!observation) return notFound();
  if (observation.status !== "draft") return go(`#/view/${id}`);
  const rubric = await store.get("rubrics", observation.rubric_version_id);
  const look = await lookups();
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let owner = false;
  withLock(id, (got) => { owner = got; drawForm(observation, rubric, look, got); return got ? held : null; });
  await Promise.resolve();
  const tick = setInterval(() => updateTimer(observation), 1000);
  leaveScreen = async () => {
    clearInterval(tick);
    main.onclick = null;
    main.oninput = null;
    if (owner) {
      // The visit timer measures time in the classroom: leaving the form pauses it.
      if (observation.timer.running_since) {
        toggleTimer(observation);
        scheduleSave(observation);
      }
      await saveNow();
    }
    release();
  };
}

function levelButtons(criterion, rating) {
  return html`${criterion.levels.map((level) => html`<button type="button" class="level" data-criterion="${criterion.key}" data-level="${level.value}" aria-pressed="${rating.level === level.value && !rating.not_observed}"><span class="level-value">${level.value}</span> ${level.label}</button>`)}
    ${criterion.allows_not_observed ? html`<button type="button" class="level level-none" data-criterion="${criterion.key}" data-level="none" aria-pressed="${Boolean(rating.not_observed)}">Not observed</button>` : ""}`;
}

function drawForm(observation, rubric, look, editable) {
  const byCompetency = new Map(rubric.competencies.map((c) => [c.id, { ...c, criteria: [] }]));
  const documentCriteria = new Map();
  for (const competency of rubric.document.competencies) {
    for (const c of competency.criteria) documentCriteria.set(c.key, c);
  }
  for (const c of rubric.criteria) byCompetency.get(c.competency_id).criteria.push(c);
  const rating = (key) => observation.ratings[key] || { level: null, not_observed: false, evidence: "" };
  render(main, html`
    <div class="form-bar">
      <div><strong id="form-place">${placeOf(observation, look)}</strong><br><span class="muted">${rubric.title}</span></div>
      <div class="form-bar-tools">
        <span id="progress" class="progress">${ratedCount(observation, rubric)}</span>
        <button type="button" class="button" id="timer" aria-live="off">${timerLabel(observation)}</button>
        <a class="button button-primary" href="#/review/${observation.id}">Review</a>
      </div>
    </div>
    ${editable ? "" : html`<p class="banner banner-error" role="alert">This walkthrough is open in another tab. Close that tab to edit it here.</p>`}
    ${observation.calibration_session_id ? html`<p class="banner banner-info" role="note">Calibration: score what you see, on your own. Nobody sees your scores until the facilitator reveals them, and you cannot change them after that.</p>` : ""}
    <fieldset class="form" ${editable ? "" : "disabled"}>
    <legend class="visually-hidden">Ratings</legend>
    ${visitPanel(observation, look, [...(observation.fix_reasons || []), ...sync.problems(observation, look.schools)])}
    ${[...byCompetency.values()].map((competency) => html`<section class="competency" aria-labelledby="comp-${competency.key}">
      <h2 id="comp-${competency.key}">${competency.name}</h2>
      ${competency.criteria.map((c) => {
        const r = rating(c.key);
        const doc = documentCriteria.get(c.key) || {};
        return html`<article class="criterion" id="c-${c.key}">
          <p class="criterion-text" id="t-${c.key}">${doc.text || c.key}</p>
          <p class="criterion-tags"><span class="tag tag-${c.kind}">${c.kind === "student" ? "Student" : "Adult"}</span>${c.dimensions.map((d) => html`<span class="tag tag-dimension">${d}</span>`)}</p>
          <div class="levels" role="group" aria-labelledby="t-${c.key}">${levelButtons(c, r)}</div>
          <details class="descriptors"><summary>Level descriptors</summary><dl>${c.levels.map((l) => html`<dt>${l.value} · ${l.label}</dt><dd>${l.descriptor || ""}</dd>`)}</dl></details>
          <label class="evidence-label" for="e-${c.key}">Evidence</label>
          <textarea id="e-${c.key}" data-evidence="${c.key}" rows="2" maxlength="4000" placeholder="${doc.evidence_prompt || "What did you see or hear?"}">${r.evidence || ""}</textarea>
        </article>`;
      })}</section>`)}
    <section class="competency"><h2><label for="notes">Overall notes</label></h2>
      <textarea id="notes" rows="4" maxlength="20000" placeholder="Patterns, questions, what to share with the teacher">${observation.notes}</textarea></section>
    </fieldset>
    <div class="actions"><a class="button" href="#/">Save and go home</a><a class="button button-primary button-big" href="#/review/${observation.id}">Review and submit</a></div>`);
  if (!editable) return;
  main.onclick = (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.id === "timer" || button.id === "timer-reset") {
      if (button.id === "timer") toggleTimer(observation);
      else observation.timer = { elapsed: 0, running_since: null };
      document.getElementById("timer").textContent = timerLabel(observation);
      document.getElementById("visit-length").value = Math.round((sync.durationOf(observation) || 0) / 60);
      return scheduleSave(observation);
    }
    const key = button.dataset.criterion;
    if (!key) return;
    const r = { ...rating(key) };
    if (button.dataset.level === "none") {
      r.not_observed = !r.not_observed;
      r.level = null;
    } else {
      const value = Number(button.dataset.level);
      r.level = r.level === value && !r.not_observed ? null : value;
      r.not_observed = false;
    }
    observation.ratings[key] = r;
    for (const b of main.querySelectorAll(`[data-criterion="${CSS.escape(key)}"]`)) {
      const on = b.dataset.level === "none" ? r.not_observed : Number(b.dataset.level) === r.level && !r.not_observed;
      b.setAttribute("aria-pressed", String(on));
    }
    document.getElementById("progress").textContent = ratedCount(observation, rubric);
    scheduleSave(observation);
  };
  main.oninput = (event) => {
    const target = event.target;
    if (target.dataset.evidence) {
      observation.ratings[target.dataset.evidence] = { ...rating(target.dataset.evidence), evidence: target.value };
    } else if (target.id === "notes") observation.notes = target.value;
    else if (visitInput(observation, target)) {
      document.getElementById("timer").textContent = timerLabel(observation);
      document.getElementById("form-place").textContent = placeOf(observation, look);
    } else return;
    scheduleSave(observation);
  };
}

function timerLabel(observation) {
  const running = Boolean(observation.timer.running_since);
  return `${running ? "Pause" : "Resume"} timer · ${minutes(sync.durationOf(observation))}`;
}

function toggleTimer(observation) {
  const t = observation.timer;
  if (t.running_since) {
    t.elapsed += (Date.now() - Date.parse(t.running_since)) / 1000;
    t.running_since = null;
  } else t.running_since = new Date().toISOString();
}

function updateTimer(observation) {
  const button = document.getElementById("timer");
  if (button && observation.timer.running_since) button.textContent = timerLabel(observation);
}

// ---- review and submit; a submitted walkthrough --------------------------------------------

function summary(observation, rubric) {
  const docs = new Map();
  for (const competency of rubric.document.competencies) for (const c of competency.criteria) docs.set(c.key, c);
  return html`${rubric.competencies.map((competency) => html`<section class="panel"><h2>${competency.name}</h2><dl class="summary">
    ${rubric.criteria.filter((c) => c.competency_id === competency.id).map((c) => {
      const r = observation.ratings[c.key];
      const level = r && r.level !== null ? c.levels.find((l) => l.value === r.level) : null;
      const shown = r?.not_observed ? "Not observed" : level ? `${level.value} · ${level.label}` : "Not rated";
      return html`<dt>${docs.get(c.key)?.text || c.key}</dt><dd class="${level || r?.not_observed ? "" : "unrated"}">${shown}${r?.evidence ? html`<br><span class="muted">${r.evidence}</span>` : ""}</dd>`;
    })}</dl></section>`)}
    ${observation.notes ? html`<section class="panel"><h2>Overall notes</h2><p class="notes">${observation.notes}</p></section>` : ""}`;
}

async function reviewScreen(id) {
  const observation = await store.get("observations", id);
  if (!observation) return notFound();
  const rubric = await store.get("rubrics", observation.rubric_version_id);
  const look = await lookups();
  const unrated = rubric.criteria.length - Object.values(observation.ratings).filter((r) => r.level !== null || r.not_observed).length;
  const blocking = sync.problems(observation, look.schools);
  render(main, html`<h1>Review</h1>
    <p class="lede">${placeOf(observation, look)} · ${when(observation.observed_at)} · visit timer ${minutes(sync.durationOf(observation))}</p>
    ${unrated ? html`<p class="banner banner-info" role="status">${unrated} look-for${unrated === 1 ? " is" : "s are"} not rated. You can submit anyway, or go back.</p>` : ""}
    ${blocking.length ? html`<div class="banner banner-error" role="alert"><p>The server would not accept this walkthrough yet:</p>
      <ul>${blocking.map((p) => html`<li>${p.message}</li>`)}</ul><p><a class="button" href="#/observe/${id}">Fix it on the form</a> (under <em>Visit</em>)</p></div>` : ""}
    ${summary(observation, rubric)}
    <div class="actions"><a class="button" href="#/observe/${id}">Back to the form</a>
      <button type="button" class="button button-primary button-big" id="submit" ${blocking.length ? "disabled" : ""}>Submit</button></div>`);
  document.getElementById("submit").addEventListener("click", async () => {
    if (!(await saveNow())) return;
    // One strict transaction: the walkthrough becomes submitted and its version enters the
    // outbox together, on disk before the app says so.
    const queued = await sync.queueVersion(id, (fresh) => {
      if (fresh.status !== "draft") return false;
      if (fresh.timer.running_since) toggleTimer(fresh);
      if (sync.problems(fresh, look.schools).length) return false;
      delete fresh.fix_reasons;
      fresh.state = "submitted";
      fresh.status = "waiting";
      fresh.amending = false;
    });
    if (!queued) return go(`#/view/${id}`);
    await store.setMeta("last_change", new Date().toISOString());
    sync.changed("submitted");
    go("#/");
    sync.syncNow();
  });
}

async function viewScreen(id) {
  const observation = await store.get("observations", id);
  if (!observation) return notFound();
  if (observation.status === "draft") return go(`#/observe/${id}`);
  const rubric = await store.get("rubrics", observation.rubric_version_id);
  const look = await lookups();
  const attention = (await store.all("attention")).filter((a) => a.observation_id === id);
  const statusText = {
    waiting: "Submitted · waiting to sync",
    synced: `Submitted · on the server since ${ago(observation.synced_at)}`,
    attention: "The server did not accept this version",
    deleted: "Deleted on the server",
  }[observation.status];
  render(main, html`<h1>${placeOf(observation, look)}</h1>
    <p class="lede">${when(observation.observed_at)} · ${statusText}${observation.has_conflict ? " · edited on two devices: a leader will reconcile the versions" : ""}</p>
    ${attention.length ? html`<section class="panel attention"><h2>What the server said</h2><ul>${attention.flatMap((a) => a.errors.map((e) => html`<li><strong>${e.field || "walkthrough"}</strong>: ${e.message}</li>`))}</ul></section>` : ""}
    ${summary(observation, rubric)}
    <div class="actions"><a class="button" href="#/">Home</a>
      ${observation.status === "synced" && !observation.calibration_session_id ? html`<a class="button" href="/walkthroughs/${observation.id}/feedback">Feedback for the teacher</a>` : ""}
      ${observation.status === "deleted" ? "" : html`<button type="button" class="button button-primary" id="reopen">${observation.status === "attention" ? "Edit and send again" : "Reopen to amend"}</button>`}</div>`);
  document.getElementById("reopen")?.addEventListener("click", async () => {
    await store.transaction(["observations", "attention"], "readwrite", async (s) => {
      const fresh = await store.done(s.observations.get(id));
      if (fresh.status === "attention") {
        // The next version builds on the last one the server accepted.
        fresh.last_version_id = fresh.server_head || null;
        for (const a of attention) await store.done(s.attention.delete(a.version_id));
        fresh.fix_reasons = attention.flatMap((a) => a.errors); // shown on the form until sent again
        fresh.dirty = true; // what was rejected is not on the server: it waits until sent again
      }
      fresh.amending = fresh.state === "submitted";
      fresh.status = "draft";
      fresh.rev = (fresh.rev || 0) + 1;
      await store.done(s.observations.put(fresh));
    }, { durability: "strict" });
    go(`#/observe/${id}`);
  });
}

function notFound() {
  render(main, html`<section class="panel narrow"><h1>Not on this tablet</h1><p>This walkthrough is not stored here.</p><a class="button" href="#/">Home</a></section>`);
}

// ---- updates -------------------------------------------------------------------------------

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading) location.reload();
  });
  const offer = (worker) => {
    const element = banner("update", html`<p>An update of observe is ready. Your work is saved; updating reloads the app.
      <button type="button" class="button button-primary" id="update-now">Update now</button></p>`);
    element.querySelector("#update-now").addEventListener("click", async () => {
      if (!(await saveNow())) return; // never reload over unsaved work
      reloading = true;
      worker.postMessage("skip-waiting");
    });
  };
  navigator.serviceWorker.register("/sw.js").then((registration) => {
    if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
      });
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") registration.update().catch(() => {});
    });
  });
}

start().catch((error) => {
  render(main, html`<section class="panel narrow"><h1>observe could not start</h1><p>${error.message || error}</p></section>`);
});
