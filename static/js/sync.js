// The outbox and the sync engine. Sync is driven by the page (Safari has no Background Sync):
// at start, when the network comes back, when the page becomes visible, on a timer with backoff,
// and on "Sync now". Nothing is ever deleted because a push failed: a 401 pauses the outbox,
// a rejected version moves to "needs attention" with the server's reasons.
import { deletePurged } from "./discard.js";
import { sendQueuedFeedback } from "./feedback-send.js";
import { lang, t } from "./i18n.js";
import * as store from "./store.js";

// What bootstrap sends that a tablet keeps: 2 added calibration sessions.
export const BOOTSTRAP_FORMAT = 2;
export const APP_VERSION = document.querySelector('meta[name="observe-version"]')?.content || "dev";
const BATCH = 50;
const PAGE = 500;
const IDLE_DELAY = 60; // seconds between syncs when all is well
const MAX_DELAY = 300; // the backoff cap: five minutes

export const state = {
  phase: "idle", // idle | syncing | offline | signed-out | failed
  waiting: 0,
  lastSync: null,
  retryAt: null,
  csrf: null,
  error: null,
};

// Steps other modules add to every sync, run once the outbox is pushed (photos.js).
const afterPushSteps = [];
export const afterPush = (step) => afterPushSteps.push(step);

let failures = 0;
let timer = null;
let running = null;
const channel = "BroadcastChannel" in self ? new BroadcastChannel("observe") : null;

export function changed(what = "data") {
  window.dispatchEvent(new CustomEvent("observe:changed", { detail: what }));
  channel?.postMessage(what);
}
channel?.addEventListener("message", (event) => {
  window.dispatchEvent(new CustomEvent("observe:changed", { detail: event.data }));
});

function setPhase(phase, extra = {}) {
  Object.assign(state, { phase, ...extra });
  window.dispatchEvent(new CustomEvent("observe:sync", { detail: state }));
}

// ---- building versions -------------------------------------------------------------------

export function payloadOf(observation, versionId, baseId, savedAt) {
  return {
    observation_id: observation.id,
    version_id: versionId,
    base_version_id: baseId,
    rubric_version_id: observation.rubric_version_id,
    school_id: observation.school_id,
    classroom_id: observation.classroom_id,
    observed_at: observation.observed_at,
    saved_at: savedAt,
    duration_seconds: durationOf(observation),
    state: observation.state,
    context: observation.context,
    ratings: Object.entries(observation.ratings)
      .filter(([, r]) => r.level !== null || r.not_observed || (r.evidence || "").trim())
      .map(([criterion, r]) => ({
        criterion,
        level: r.not_observed ? null : r.level,
        not_observed: Boolean(r.not_observed),
        evidence: (r.evidence || "").trim(),
      })),
    notes: observation.notes,
    strengths: (observation.strengths || "").trim(),
    next_step: (observation.next_step || "").trim(),
    language: lang, // which of the rubric's texts the observer saw (docs/rubric-format.md)
    // Only when set: a version without it hashes as it always did on the server.
    ...(observation.calibration_session_id ? { calibration_session_id: observation.calibration_session_id } : {}),
  };
}

export function durationOf(observation) {
  const timer = observation.timer || { elapsed: 0, running_since: null };
  let seconds = timer.elapsed;
  if (timer.running_since) seconds += (Date.now() - Date.parse(timer.running_since)) / 1000;
  return seconds > 0 ? Math.round(seconds) : null;
}

// Record a walkthrough's current content as a new version in the outbox, in one transaction
// that reads the walkthrough, lets change(o) adjust it (submit, say; returning false leaves it
// alone) and writes it back: nobody's save can land between the read and the write, so sync
// never writes back older content, and the form never puts back an older `last_version_id`.
// The version names the one it was made from. Strict durability: after this returns, the
// version survives a reload or a dead battery.
export async function queueVersion(id, change = () => true) {
  return store.transaction(
    ["observations", "outbox"],
    "readwrite",
    async (s) => {
      const observation = await store.done(s.observations.get(id));
      if (!observation || change(observation) === false) return null;
      const versionId = crypto.randomUUID();
      const payload = payloadOf(observation, versionId, observation.last_version_id || null, now().toISOString());
      observation.last_version_id = versionId;
      observation.dirty = false;
      await store.done(s.outbox.add({ observation_id: observation.id, version_id: versionId, payload }));
      await store.done(s.observations.put(observation));
      return payload;
    },
    { durability: "strict" },
  );
}

// Drafts are backed up to the server too, one version per sync, not one per keystroke. An
// amendment of a submitted walkthrough is not: half an amendment must not replace what the
// reports count; it goes when the observer submits it.
async function queueDirtyDrafts() {
  const [observations, schoolList] = await Promise.all([store.all("observations"), store.all("schools")]);
  const schools = new Map(schoolList.map((school) => [school.id, school]));
  for (const { id } of observations) {
    // A draft the server would refuse stays here until the observer fixes it on the form.
    // A discarded draft is never sent (discard.js).
    await queueVersion(
      id,
      (o) => o.status === "draft" && o.dirty && !o.amending && !o.discarded_at && !problems(o, schools).length,
    );
  }
}

// ---- talking to the server ---------------------------------------------------------------

class SignedOut extends Error {}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { Accept: "application/json", ...(options.headers || {}) },
    ...options,
  });
  if (response.status === 401) throw new SignedOut("signed out");
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

// The server's clock minus this tablet's, learned at every session check: a tablet whose
// clock reset to 1970 or runs days ahead still stamps versions the server accepts.
// Kept across reloads, so a tablet with a wrong clock that starts offline still knows it.
let clockOffset = Number(localStorage.getItem("observe.clockOffset")) || 0;
export const now = () => new Date(Date.now() + clockOffset);

export async function fetchSession() {
  const sent = Date.now();
  const response = await fetch("/api/v1/session", {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (response.status === 401) throw new SignedOut("signed out");
  if (!response.ok) throw new Error(`/api/v1/session answered ${response.status}`);
  const server = Date.parse(response.headers.get("Date") || "");
  // The Date header has whole seconds; only a difference of more than a minute is corrected.
  if (!Number.isNaN(server)) {
    const offset = server - (sent + Date.now()) / 2;
    clockOffset = Math.abs(offset) > 60_000 ? offset : 0;
    localStorage.setItem("observe.clockOffset", String(clockOffset));
  }
  const session = await response.json();
  state.csrf = session.csrf_token;
  return session;
}

// What the server would refuse in a walkthrough that the observer can fix on the form (the
// rules of observe/sync/checks.py and the push schema), so it is caught before it
// is queued. Everything else the server checks (rubric, levels, context) the app cannot get
// wrong: it only offers what bootstrap sent.
export const MAX_DURATION = 28_800; // seconds: observe/sync/schemas.py MAX_DURATION
const CLOCK_SKEW = 10 * 60 * 1000;
const EARLIEST = Date.parse("2000-01-01T00:00:00Z");

export function problems(observation, schools) {
  const found = [];
  const at = Date.parse(observation.observed_at);
  if (Number.isNaN(at)) found.push({ field: "observed_at", message: t("problem.time_missing") });
  else if (at > now().getTime() + CLOCK_SKEW) found.push({ field: "observed_at", message: t("problem.time_future") });
  else if (at < EARLIEST) found.push({ field: "observed_at", message: t("problem.time_early") });
  const seconds = durationOf(observation) || 0;
  if (seconds > MAX_DURATION)
    found.push({
      field: "duration_seconds",
      message: t("problem.too_long", { n: MAX_DURATION / 3600 }),
    });
  const { placed } = observation;
  // Where the server keeps the visit (sync.placeOf): staying there is accepted even after the
  // classroom moved to another school, as the server's check does.
  const keptPlace =
    placed && placed.school_id === observation.school_id && placed.classroom_id === observation.classroom_id;
  if (observation.classroom_id !== null && schools && !observation.calibration_session_id && !keptPlace) {
    const school = schools.get(observation.school_id);
    if (school && !school.classrooms.some((c) => c.id === observation.classroom_id)) {
      found.push({
        field: "classroom_id",
        message: t("problem.classroom_moved", { school: school.name }),
      });
    }
  }
  return found;
}

// The tablet's database belongs to one user. A session for anyone else (another observer
// signed in on this shared tablet, in another tab) must never push this user's walkthroughs
// as theirs, nor pull theirs into this database: the outbox pauses as signed out.
async function ownSession() {
  const session = await fetchSession();
  const owner = store.currentUserId();
  if (!session.user || session.user.id !== owner) {
    throw new SignedOut("signed out", { cause: session.user?.name || null });
  }
  return session;
}

export async function bootstrap() {
  const data = await api("/api/v1/bootstrap");
  await store.transaction(["rubrics", "schools", "sessions", "observations", "outbox", "meta"], "readwrite", (s) =>
    Promise.all([
      ...data.rubric_versions.map((v) => store.done(s.rubrics.put(v))),
      ...data.schools.map((school) => store.done(s.schools.put(school))),
      ...(data.calibration_sessions || []).map((session) => store.done(s.sessions.put(session))),
      ...data.observations.map((o) => applyObservation(s, o)),
      store.done(s.meta.put({ key: "user", value: data.user })),
      store.done(s.meta.put({ key: "cursor", value: data.cursor })),
      store.done(s.meta.put({ key: "bootstrap_format", value: BOOTSTRAP_FORMAT })),
    ]),
  );
  changed("bootstrap");
}

// The database's own id, made once with it (in one transaction, so two tabs agree): the push
// envelope's device_id, and how the server tells this database from one that replaced it.
export function deviceId() {
  return store.transaction("meta", "readwrite", async (s) => {
    const row = await store.done(s.meta.get("device_id"));
    if (row?.value) return row.value;
    const id = crypto.randomUUID();
    await store.done(s.meta.put({ key: "device_id", value: id }));
    return id;
  });
}

export async function persistedAnswer() {
  if (!navigator.storage?.persisted) return "unsupported";
  return (await navigator.storage.persisted()) ? "yes" : "no";
}

// Once per page: tell the server which database this browser holds for this user. The server
// remembers the browser by an HttpOnly cookie, which Safari's seven-day rule does not delete;
// when this database is not the one it acknowledged versions to, the browser lost that one,
// and the answer says what was safe on the server. Kept here until the observer dismisses it.
let registered = false;
async function registerDevice() {
  if (registered) return;
  const persisted = await persistedAnswer();
  const body = JSON.stringify({ database_id: await deviceId(), persisted });
  const send = () =>
    fetch("/api/v1/device", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": state.csrf || "" },
      body,
    });
  let response = await send();
  // Just after a sign-in, a request that began before the session had its CSRF secret can
  // write the session back without it: fetch the token afresh and try once more.
  if (response.status === 400) {
    await ownSession();
    response = await send();
  }
  if (response.status === 401) throw new SignedOut("signed out");
  if (!response.ok) throw new Error(`the server answered ${response.status} to /api/v1/device`);
  const answer = await response.json();
  if (answer.evicted) {
    await store.setMeta("eviction", {
      ...answer.evicted,
      persisted_now: persisted,
      noticed_at: new Date().toISOString(),
    });
    changed("eviction");
  }
  registered = true;
}

async function pushOutbox() {
  const device = await deviceId();
  for (;;) {
    const queued = await store.transaction("outbox", "readonly", (s) => store.done(s.outbox.getAll(null, BATCH)));
    if (!queued.length) return;
    const response = await fetch("/api/v1/sync/push", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": state.csrf || "",
      },
      body: JSON.stringify({
        device_id: device,
        app_version: APP_VERSION,
        versions: queued.map((item) => item.payload),
      }),
    });
    if (response.status === 401) throw new SignedOut("signed out");
    if (!response.ok) throw new Error(`the server answered ${response.status} to a push`);
    const answer = await response.json().catch(() => null);
    await applyResults(queued, answer);
  }
}

const SETTLED = new Set(["applied", "duplicate", "conflict"]);

// Each queued version is matched to the result that names its version_id; a version the
// answer does not account for (a short, reordered or malformed answer) stays in the outbox.
// An item leaves the outbox only through its own result, in the same strict transaction that
// records what the result says.
async function applyResults(queued, answer) {
  const results = Array.isArray(answer?.results) ? answer.results : [];
  const byVersion = new Map();
  for (const r of results) if (r && typeof r.version_id === "string") byVersion.set(r.version_id.toLowerCase(), r);
  const now = new Date().toISOString();
  let settled = 0;
  await store.transaction(
    ["outbox", "observations", "attention"],
    "readwrite",
    async (s) => {
      for (let i = 0; i < queued.length; i += 1) {
        const item = queued[i];
        const result = byVersion.get(String(item.version_id).toLowerCase());
        if (!result || !(SETTLED.has(result.status) || result.status === "rejected")) continue;
        settled += 1;
        await store.done(s.outbox.delete(item.seq));
        const observation = await store.done(s.observations.get(item.observation_id));
        if (result.status === "rejected") {
          await store.done(
            s.attention.put({
              version_id: item.version_id,
              observation_id: item.observation_id,
              code: result.code,
              errors: Array.isArray(result.errors)
                ? result.errors
                : [{ field: null, message: String(result.code || "rejected") }],
              payload: item.payload,
              at: now,
            }),
          );
          if (observation) {
            observation.status = "attention";
            await store.done(s.observations.put(observation));
          }
          continue;
        }
        if (!observation) continue;
        if (result.head_version_id) observation.server_head = result.head_version_id;
        if (result.head_version_id === item.version_id) observation.placed = placeOf(item.payload);
        observation.has_conflict = Boolean(result.has_conflict);
        observation.pushed_at = now;
        const more = queued.slice(i + 1).some((q) => q.observation_id === item.observation_id);
        if (!more && observation.status === "waiting" && observation.last_version_id === item.version_id) {
          observation.status = "synced";
          observation.synced_at = now;
        }
        await store.done(s.observations.put(observation));
      }
    },
    { durability: "strict" },
  );
  if (settled < queued.length) {
    throw new Error(`the server answered for ${settled} of ${queued.length} versions; the rest stay in the outbox`);
  }
}

async function pull() {
  let cursor = (await store.getMeta("cursor")) || "0";
  for (;;) {
    const page = await api(`/api/v1/sync/pull?cursor=${encodeURIComponent(cursor)}&limit=${PAGE}`);
    await store.transaction(
      ["rubrics", "schools", "sessions", "observations", "outbox", "meta"],
      "readwrite",
      async (s) => {
        for (const change of page.changes) {
          if (change.kind === "calibration_session") {
            store.done(s.rubrics.put(change.rubric_version));
            store.done(s.sessions.put(change.calibration_session));
          } else if (change.kind === "rubric_version") store.done(s.rubrics.put(change.rubric_version));
          else if (change.kind === "school") store.done(s.schools.put(change.school));
          else if (change.kind === "access") {
            // The user's schools changed: theirs now replace every roster this tablet holds.
            store.done(s.schools.clear());
            for (const school of change.schools) store.done(s.schools.put(school));
          } else if (change.kind === "observation") await applyObservation(s, change.observation);
        }
        store.done(s.meta.put({ key: "cursor", value: page.cursor }));
      },
    );
    cursor = page.cursor;
    if (page.changes.length) changed("pull");
    if (!page.has_more) return;
  }
}

async function applyObservation(s, remote) {
  const local = await store.done(s.observations.get(remote.id));
  // Local work not yet on the server wins on this tablet; the server keeps both and flags it,
  // or rejects it as deleted, and the observer sees that under "needs attention".
  const unsent =
    local &&
    (local.dirty ||
      local.status === "waiting" ||
      local.status === "attention" ||
      (await store.done(s.outbox.getAll())).some((q) => q.observation_id === local.id));
  if (remote.deleted) {
    if (local && !unsent) {
      local.status = "deleted";
      await store.done(s.observations.put(local));
    } else if (local) {
      local.deleted_on_server = true;
      await store.done(s.observations.put(local));
    }
    return;
  }
  const version = remote.version;
  if (!version || unsent) return;
  if (local && local.server_head === remote.head_version_id && local.last_version_id === remote.head_version_id) return;
  await store.done(s.observations.put(fromVersion(version, remote, local)));
}

// The school and classroom of a version the server accepted as a walkthrough's head.
function placeOf(version) {
  return { school_id: version.school_id, classroom_id: version.classroom_id };
}

export function fromVersion(version, remote, local = null) {
  const ratings = {};
  for (const r of version.ratings) {
    ratings[r.criterion] = { level: r.level, not_observed: r.not_observed, evidence: r.evidence };
  }
  return {
    ...(local || {}),
    id: version.observation_id,
    rubric_version_id: version.rubric_version_id,
    school_id: version.school_id,
    classroom_id: version.classroom_id,
    placed: placeOf(version),
    calibration_session_id: version.calibration_session_id || null,
    observed_at: version.observed_at,
    context: version.context,
    ratings,
    notes: version.notes,
    strengths: version.strengths || "", // left out of a version when empty
    next_step: version.next_step || "",
    timer: { elapsed: version.duration_seconds || 0, running_since: null },
    state: version.state,
    status: version.state === "submitted" ? "synced" : "draft",
    // Submitted on another device: no longer a discarded draft here (discard.js purges those).
    discarded_at: version.state === "submitted" ? null : (local?.discarded_at ?? null),
    rev: (local?.rev || 0) + 1,
    // What this tablet's content was made from before the pull replaced it: a form still open
    // on the old content saves its edit as made from this (see drafts.js writePending).
    replaced_from: local ? (local.replaced_from ?? local.last_version_id ?? null) : undefined,
    last_version_id: remote.head_version_id,
    server_head: remote.head_version_id,
    has_conflict: remote.has_conflict,
    dirty: false,
    synced_at: new Date().toISOString(),
  };
}

// ---- running it --------------------------------------------------------------------------

// The header's count is sign-out's: what exists only on this tablet (store.js).
export const countWaiting = () => store.unsyncedCount();

async function runOnce() {
  if (!navigator.onLine) {
    setPhase("offline", { waiting: await countWaiting() });
    return IDLE_DELAY;
  }
  setPhase("syncing");
  try {
    await ownSession();
    await registerDevice();
    await queueDirtyDrafts();
    await pushOutbox();
    for (const step of afterPushSteps) await step(state);
    await sendQueuedFeedback(state.csrf); // after the versions it is about are on the server
    await deletePurged(state.csrf); // the server's backups of drafts discarded 30 days ago
    await ownSession(); // the session may have changed hands while the push ran
    await pull();
    failures = 0;
    const lastSync = new Date().toISOString();
    await store.setMeta("last_sync", lastSync);
    setPhase("idle", { lastSync, waiting: await countWaiting(), error: null, otherUser: null });
    changed("sync");
    return IDLE_DELAY;
  } catch (error) {
    const waiting = await countWaiting().catch(() => state.waiting);
    if (error instanceof SignedOut) {
      setPhase("signed-out", { waiting, otherUser: error.cause || null });
      return null; // paused until the observer signs in again
    }
    failures += 1;
    // Exponential backoff with jitter, so a fleet of tablets does not retry in step.
    const base = Math.min(MAX_DELAY, 5 * 2 ** (failures - 1));
    const delay = base * (0.8 + Math.random() * 0.4);
    const offline = !navigator.onLine || error instanceof TypeError;
    setPhase(offline ? "offline" : "failed", {
      waiting,
      error: String(error.message || error),
      retryAt: Date.now() + delay * 1000,
    });
    return delay;
  }
}

let again = false;

export function syncNow() {
  // Asked while a sync runs (which may have queued its drafts before the latest save): run
  // once more when it ends, so "Sync now" always sends what is on the tablet now.
  if (running) {
    again = true;
    return running;
  }
  clearTimeout(timer);
  const work = async () => {
    const delay = await runOnce();
    if (delay !== null) timer = setTimeout(syncNow, delay * 1000);
  };
  // One tab syncs at a time; the others wait their turn (pushing twice would be harmless).
  const locked = navigator.locks ? navigator.locks.request("observe-sync", work) : work();
  running = locked.finally(() => {
    running = null;
    if (again) {
      again = false;
      syncNow();
    }
  });
  return running;
}

export function startSyncing() {
  window.addEventListener("online", () => syncNow());
  window.addEventListener("offline", async () => setPhase("offline", { waiting: await countWaiting() }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") syncNow();
  });
  store.getMeta("last_sync").then((lastSync) => {
    state.lastSync = lastSync;
  });
  return syncNow();
}

// ---- the escape hatch --------------------------------------------------------------------

// Read-only: exporting queues nothing and changes no walkthrough. What is in the outbox or
// was rejected goes as it was sent; a draft changed since it was queued, and an amendment
// still open, go as a `draft` version made from the last version this tablet knows, so an
// import never makes half an amendment the version that counts.
export async function exportUnsynced(user) {
  const { queued, rejected, drafts } = await store.transaction(
    ["outbox", "attention", "observations"],
    "readonly",
    async (s) => {
      const [queued, rejected, observations] = await Promise.all([
        store.done(s.outbox.getAll()),
        store.done(s.attention.getAll()),
        store.done(s.observations.getAll()),
      ]);
      const savedAt = now().toISOString();
      const drafts = observations
        .filter((o) => o.status === "draft" && (o.dirty || o.amending) && !o.discarded_at)
        .map((o) => payloadOf({ ...o, state: "draft" }, crypto.randomUUID(), o.last_version_id || null, savedAt));
      return { queued, rejected, drafts };
    },
  );
  const body = {
    format: "observe-unsynced/1",
    exported_at: new Date().toISOString(),
    user: { email: user.email, name: user.name },
    device_id: await deviceId(),
    app_version: APP_VERSION,
    versions: [...queued.map((q) => q.payload), ...rejected.map((r) => r.payload), ...drafts],
  };
  const blob = new Blob([JSON.stringify(body, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `observe-unsynced-${body.exported_at.slice(0, 19).replaceAll(":", "")}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  await store.setMeta("exported_at", body.exported_at);
  return body.versions.length;
}
