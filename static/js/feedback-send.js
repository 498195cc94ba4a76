// "Send feedback to the teacher" from the tablet: the request waits in a queue of its own (rows
// of the meta store keyed "feedback:<walkthrough id>", so the database needs no new store) and
// goes from sync.js once the walkthrough's version is on the server. The send id is made here,
// once: a request replayed after a lost answer is recognised by the server and sends nothing
// twice (POST /api/v1/observations/{id}/send-feedback). The server's "mail down" (503) leaves
// it queued for the next sync; a refusal (no teacher e-mail, deleted) is kept with its reason.
import * as store from "./store.js";

const PREFIX = "feedback:";
const FINAL = new Set(["sent", "refused"]);

const keyOf = (observationId) => PREFIX + observationId;

// What this tablet knows of the walkthrough's feedback send, or null.
export const feedbackOf = (observationId) => store.getMeta(keyOf(observationId));

// Queue a send (strict: it survives a reload or a dead battery); a second tap while one is
// queued or sent queues nothing new.
export async function queueFeedback(observationId) {
  return store.transaction(
    "meta",
    "readwrite",
    async (s) => {
      const row = await store.done(s.meta.get(keyOf(observationId)));
      if (row?.value && row.value.status !== "refused") return row.value;
      const item = {
        send_id: crypto.randomUUID(),
        observation_id: observationId,
        status: "queued",
        queued_at: new Date().toISOString(),
        error: null,
      };
      await store.done(s.meta.put({ key: keyOf(observationId), value: item }));
      return item;
    },
    { durability: "strict" },
  );
}

async function waiting() {
  const rows = await store.all("meta");
  return rows.filter((r) => String(r.key).startsWith(PREFIX) && !FINAL.has(r.value?.status)).map((r) => r.value);
}

// Whether the walkthrough's current version is on the server: synced, nothing in the outbox.
async function onServer(observationId) {
  return store.transaction(["observations", "outbox"], "readonly", async (s) => {
    const observation = await store.done(s.observations.get(observationId));
    if (observation?.status !== "synced") return false;
    const queued = await store.done(s.outbox.getAll());
    return !queued.some((q) => q.observation_id === observationId);
  });
}

const save = (item) => store.setMeta(keyOf(item.observation_id), item);

// Called by sync.js after the outbox is pushed. Returns false when the server could not be
// asked (offline, signed out, mail down): what is queued stays queued for the next sync.
export async function sendQueuedFeedback(csrf) {
  for (const item of await waiting()) {
    if (!(await onServer(item.observation_id))) continue;
    let response;
    try {
      response = await fetch(`/api/v1/observations/${encodeURIComponent(item.observation_id)}/send-feedback`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf || "" },
        body: JSON.stringify({ send_id: item.send_id }),
      });
    } catch {
      return false; // the network: try again at the next sync
    }
    const answer = await response.json().catch(() => null);
    const said = answer?.error?.message || `the server answered ${response.status}`;
    if (response.ok) {
      await save({ ...item, status: "sent", error: null, sent_at: answer?.sent_at, teacher: answer?.teacher?.name });
    } else if (response.status === 401 || response.status === 400 || response.status >= 500) {
      // Signed out, a stale CSRF token, the mail server down: nothing was sent; later.
      await save({ ...item, error: said, tried_at: new Date().toISOString() });
      return false;
    } else {
      await save({ ...item, status: "refused", error: said });
    }
  }
  return true;
}

// What the teacher did (read it, replied), asked of the server when online; null otherwise.
export async function teacherReply(observationId) {
  if (!navigator.onLine) return null;
  try {
    const response = await fetch(`/api/v1/observations/${encodeURIComponent(observationId)}/feedback-sends`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return null;
    return (await response.json()).sends;
  } catch {
    return null;
  }
}
