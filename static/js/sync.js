// The outbox and the sync engine. Sync is driven by the page (Safari has no Background Sync):
// at start, when the network comes back, when the page becomes visible, on a timer with backoff,
// and on "Sync now". Nothing is ever deleted because a push failed: a 401 pauses the outbox,
// a rejected version moves to "needs attention" with the server's reasons.
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

// Record the observation's current content as a new version in the outbox, atomically with
// the observation itself: after this returns, the version survives a reload or a dead battery.
export async function queueVersion(observation) {
  const versionId = crypto.randomUUID();
  const savedAt = new Date().toISOString();
  const payload = payloadOf(observation, versionId, observation.last_version_id || null, savedAt);
  observation.last_version_id = versionId;
  observation.dirty = false;
  await store.transaction(["observations", "outbox"], "readwrite", (s) =>
    Promise.all([
      store.done(s.outbox.add({ observation_id: observation.id, version_id: versionId, payload })),
      store.done(s.observations.put(observation)),
    ]),
  );
  return payload;
}

// Drafts are backed up to the server too, one version per sync, not one per keystroke. An
// amendment of a submitted walkthrough is not: half an amendment must not replace what the
// reports count; it goes when the observer submits it (or into an export).
async function queueDirtyDrafts({ amendments = false } = {}) {
  const observations = await store.all("observations");
  for (const observation of observations) {
    if (observation.status === "draft" && observation.dirty && (amendments || !observation.amending)) {
      await queueVersion(observation);
    }
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

export async function fetchSession() {
  const session = await api("/api/v1/session");
  state.csrf = session.csrf_token;
  return session;
}

export async function bootstrap() {
  const data = await api("/api/v1/bootstrap");
  await store.transaction(["rubrics", "schools", "sessions", "observations", "meta"], "readwrite", (s) =>
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

async function deviceId() {
  let id = await store.getMeta("device_id");
  if (!id) {
    id = crypto.randomUUID();
    await store.setMeta("device_id", id);
  }
  return id;
}

async function pushOutbox() {
  const device = await deviceId();
  for (;;) {
    const queued = await store.transaction("outbox", "readonly", (s) =>
      store.done(s.outbox.getAll(null, BATCH)),
    );
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
    const { results } = await response.json();
    await applyResults(queued, results);
  }
}

async function applyResults(queued, results) {
  const now = new Date().toISOString();
  await store.transaction(["outbox", "observations", "attention"], "readwrite", async (s) => {
    for (let i = 0; i < queued.length; i += 1) {
      const item = queued[i];
      const result = results[i];
      store.done(s.outbox.delete(item.seq));
      const observation = await store.done(s.observations.get(item.observation_id));
      if (result.status === "rejected") {
        store.done(s.attention.put({
          version_id: item.version_id,
          observation_id: item.observation_id,
          code: result.code,
          errors: result.errors,
          payload: item.payload,
          at: now,
        }));
        if (observation) {
          observation.status = "attention";
          store.done(s.observations.put(observation));
        }
        continue;
      }
      if (!observation) continue;
      observation.server_head = result.head_version_id;
      observation.has_conflict = result.has_conflict;
      observation.pushed_at = now;
      const more = queued.slice(i + 1).some((q) => q.observation_id === item.observation_id);
      if (!more && observation.status === "waiting" && observation.last_version_id === item.version_id) {
        observation.status = "synced";
        observation.synced_at = now;
      }
      store.done(s.observations.put(observation));
    }
  });
}

async function pull() {
  let cursor = (await store.getMeta("cursor")) || "0";
  for (;;) {
    const page = await api(`/api/v1/sync/pull?cursor=${encodeURIComponent(cursor)}&limit=${PAGE}`);
    await store.transaction(["rubrics", "schools", "sessions", "observations", "outbox", "meta"], "readwrite", async (s) => {
      for (const change of page.changes) {
        if (change.kind === "calibration_session") {
          store.done(s.rubrics.put(change.rubric_version));
          store.done(s.sessions.put(change.calibration_session));
        } else if (change.kind === "rubric_version") store.done(s.rubrics.put(change.rubric_version));
        else if (change.kind === "school") store.done(s.schools.put(change.school));
        else if (change.kind === "observation") await applyObservation(s, change.observation);
      }
      store.done(s.meta.put({ key: "cursor", value: page.cursor }));
    });
    cursor = page.cursor;
    if (page.changes.length) changed("pull");
    if (!page.has_more) return;
  }
}

async function applyObservation(s, remote) {
  const local = await store.done(s.observations.get(remote.id));
  if (remote.deleted) {
    if (local) {
      local.status = "deleted";
      store.done(s.observations.put(local));
    }
    return;
  }
  const version = remote.version;
  if (!version) return;
  // Local work not yet on the server wins on this tablet; the server keeps both and flags it.
  if (local && (local.dirty || local.status === "waiting" || local.status === "attention")) return;
  if (local && local.server_head === remote.head_version_id && local.last_version_id === remote.head_version_id) return;
  store.done(s.observations.put(fromVersion(version, remote, local)));
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
    calibration_session_id: version.calibration_session_id || null,
    observed_at: version.observed_at,
    context: version.context,
    ratings,
    notes: version.notes,
    timer: { elapsed: version.duration_seconds || 0, running_since: null },
    state: version.state,
    status: version.state === "submitted" ? "synced" : "draft",
    last_version_id: remote.head_version_id,
    server_head: remote.head_version_id,
    has_conflict: remote.has_conflict,
    dirty: false,
    synced_at: new Date().toISOString(),
  };
}

// ---- running it --------------------------------------------------------------------------

export async function countWaiting() {
  const [queued, observations] = await Promise.all([store.count("outbox"), store.all("observations")]);
  return queued + observations.filter((o) => o.status === "draft" && o.dirty).length;
}

async function runOnce() {
  if (!navigator.onLine) {
    setPhase("offline", { waiting: await countWaiting() });
    return IDLE_DELAY;
  }
  setPhase("syncing");
  try {
    await fetchSession();
    await queueDirtyDrafts();
    await pushOutbox();
    await pull();
    failures = 0;
    const lastSync = new Date().toISOString();
    await store.setMeta("last_sync", lastSync);
    setPhase("idle", { lastSync, waiting: await countWaiting(), error: null });
    changed("sync");
    return IDLE_DELAY;
  } catch (error) {
    const waiting = await countWaiting().catch(() => state.waiting);
    if (error instanceof SignedOut) {
      setPhase("signed-out", { waiting });
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

export function syncNow() {
  if (running) return running;
  clearTimeout(timer);
  const work = async () => {
    const delay = await runOnce();
    if (delay !== null) timer = setTimeout(syncNow, delay * 1000);
  };
  // One tab syncs at a time; the others wait their turn (pushing twice would be harmless).
  const locked = navigator.locks ? navigator.locks.request("observe-sync", work) : work();
  running = locked.finally(() => { running = null; });
  return running;
}

export function startSyncing() {
  window.addEventListener("online", () => syncNow());
  window.addEventListener("offline", async () => setPhase("offline", { waiting: await countWaiting() }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") syncNow();
  });
  store.getMeta("last_sync").then((lastSync) => { state.lastSync = lastSync; });
  return syncNow();
}

// ---- the escape hatch --------------------------------------------------------------------

export async function exportUnsynced(user) {
  await queueDirtyDrafts({ amendments: true });
  const [queued, rejected] = await Promise.all([store.all("outbox"), store.all("attention")]);
  const body = {
    format: "observe-unsynced/1",
    exported_at: new Date().toISOString(),
    user: { email: user.email, name: user.name },
    device_id: await deviceId(),
    app_version: APP_VERSION,
    versions: [...queued.map((q) => q.payload), ...rejected.map((r) => r.payload)],
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
