// IndexedDB, the tablet's own copy of everything: what the server sent (rubrics, schools),
// the observer's walkthroughs, and the outbox of versions waiting to be pushed.
// iPad Safari may close the database under memory pressure; every call reopens it if so.
// One database per user (`observe-user-<id>`): a tablet shared by several observers never
// mixes their walkthroughs.

const STORES = {
  meta: { keyPath: "key" }, // user, device id, cursor, last sync …
  rubrics: { keyPath: "id" }, // rubric versions
  schools: { keyPath: "id" },
  observations: { keyPath: "id" }, // the walkthroughs on this tablet
  outbox: { keyPath: "seq", autoIncrement: true }, // versions waiting to be pushed, in order
  attention: { keyPath: "version_id" }, // versions the server rejected, with its reasons
  sessions: { keyPath: "id" }, // calibration sessions the user takes part in (version 2)
  photos: { keyPath: ["observation_id", "sha256"] }, // photos not yet on the server (version 3)
};
const VERSION = 3; // 2 added the sessions store, 3 the photos store

let dbName = null;
let opening = null;
let beforeVersionChange = null;

export const databaseName = (userId) => `observe-user-${userId}`;

export function useDatabase(userId) {
  const name = databaseName(userId);
  if (name !== dbName) {
    dbName = name;
    opening = null;
  }
}

export const currentUserId = () => (dbName ? Number(dbName.slice("observe-user-".length)) : null);

// Another tab opened a newer version of the database (a newer app): this tab must let go of
// its connection. The page gets a chance to save what it holds first (see app.js).
export function onVersionChange(callback) {
  beforeVersionChange = callback;
}

function open() {
  if (!dbName) return Promise.reject(new Error("no user chosen for the local database"));
  if (opening) return opening;
  const attempt = new Promise((resolve, reject) => {
    let settled = false;
    const request = indexedDB.open(dbName, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const [name, options] of Object.entries(STORES)) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, options);
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      if (settled) {
        db.close(); // it was blocked and given up on: let go of it
        return;
      }
      settled = true;
      // The browser closed it (memory pressure, storage cleared): open afresh next time.
      db.onclose = () => {
        if (opening === attempt) opening = null;
      };
      db.onversionchange = () => {
        const close = () => {
          db.close();
          if (opening === attempt) opening = null;
        };
        // Transactions started before close() still finish: the page saves, then closes.
        if (beforeVersionChange) Promise.resolve(beforeVersionChange()).finally(close);
        else close();
      };
      resolve(db);
    };
    request.onerror = () => {
      settled = true;
      if (opening === attempt) opening = null;
      reject(request.error);
    };
    request.onblocked = () => {
      settled = true;
      if (opening === attempt) opening = null; // the next call tries again
      reject(
        Object.assign(new Error("the local database is held by another tab of an older app; close it or reload"), {
          name: "BlockedError",
        }),
      );
    };
  });
  opening = attempt;
  return attempt;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Errors after which a fresh connection may work: the browser closed the database (Safari
// under memory pressure: InvalidStateError, "UnknownError: Connection to Indexed Database
// server lost"), or a newer app's upgrade took it away.
const REOPEN = new Set(["InvalidStateError", "UnknownError"]);

// Run fn(stores) in one transaction; all of it or nothing: if fn throws (or one of its
// requests fails) the transaction is aborted and the error rethrown. Retried once on a
// connection the browser closed. `durability: "strict"` for what must survive a power cut:
// Chromium, Firefox and Safari all default to "relaxed", where `complete` fires before the
// data reaches the disk.
export async function transaction(names, mode, fn, { durability = "default" } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    let tx = null;
    try {
      const db = await open();
      tx = db.transaction(names, mode, { durability });
      const finished = new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
      });
      finished.catch(() => {}); // awaited below; this only silences an early abort
      const stores = Object.fromEntries([].concat(names).map((n) => [n, tx.objectStore(n)]));
      let result;
      try {
        result = await fn(stores);
      } catch (error) {
        try {
          tx.abort();
        } catch {
          /* already finished or aborted */
        }
        throw error;
      }
      await finished;
      return result;
    } catch (error) {
      if (attempt === 0 && error && REOPEN.has(error.name)) {
        opening = null;
        continue;
      }
      throw error;
    }
  }
}

const STRICT = { durability: "strict" };
export const get = (store, key) => transaction(store, "readonly", (s) => done(s[store].get(key)));
export const all = (store) => transaction(store, "readonly", (s) => done(s[store].getAll()));
export const put = (store, value) => transaction(store, "readwrite", (s) => done(s[store].put(value)));
export const remove = (store, key) => transaction(store, "readwrite", (s) => done(s[store].delete(key)));
export const count = (store) => transaction(store, "readonly", (s) => done(s[store].count()));

// Read, change and write one walkthrough in one transaction, so nobody's write lands between
// the read and the write. change(o) returns false to leave it as it is.
export function update(id, change, options = {}) {
  return transaction(
    ["observations"],
    "readwrite",
    async (s) => {
      const observation = await done(s.observations.get(id));
      if (!observation || change(observation) === false) return observation || null;
      await done(s.observations.put(observation));
      return observation;
    },
    options,
  );
}

export async function getMeta(key, fallback = null) {
  const row = await get("meta", key);
  return row ? row.value : fallback;
}

export const setMeta = (key, value) => put("meta", { key, value });

export async function clearAll() {
  await transaction(
    Object.keys(STORES),
    "readwrite",
    (s) => Promise.all(Object.values(s).map((store) => done(store.clear()))),
    STRICT,
  );
}

// What of this user's exists only on this tablet: versions in the outbox, rejected versions,
// drafts (amendments too) changed since they were last queued — never a discarded draft — and
// photos not yet sent, feedback sends still queued (feedback-send.js: meta rows "feedback:…"; sent
// and refused ones are done). The one count the header, sign-out and the server pages' sign-out
// guard all show.
export async function unsyncedCount() {
  const sends = IDBKeyRange.bound("feedback:", "feedback:\uffff");
  return transaction(["outbox", "attention", "observations", "photos", "meta"], "readonly", async (s) => {
    const [queued, attention, observations, photos, feedback] = await Promise.all([
      done(s.outbox.count()),
      done(s.attention.count()),
      done(s.observations.getAll()),
      done(s.photos.count()),
      done(s.meta.getAll(sends)),
    ]);
    const unsent = feedback.filter((row) => !["sent", "refused"].includes(row.value?.status)).length;
    return queued + attention + observations.filter((o) => o.dirty && !o.discarded_at).length + photos + unsent;
  });
}

// Forget this user's database entirely (sign-out with nothing unsynced).
export async function deleteDatabase(userId) {
  const name = databaseName(userId);
  if (name === dbName) {
    // Close this tab's own connection first, so the deletion does not reach it as a
    // versionchange (which would save and reload the page).
    const closing = opening;
    opening = null;
    dbName = null;
    if (closing)
      await closing.then(
        (db) => db.close(),
        () => {},
      );
  }
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
    request.onblocked = () => resolve(); // finishes when the other tabs let go
  });
}

export { done };
