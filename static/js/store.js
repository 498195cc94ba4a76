// IndexedDB, the tablet's own copy of everything: what the server sent (rubrics, schools),
// the observer's walkthroughs, and the outbox of versions waiting to be pushed.
// iPad Safari may close the database under memory pressure; every call reopens it if so.

const STORES = {
  meta: { keyPath: "key" }, // user, device id, cursor, last sync …
  rubrics: { keyPath: "id" }, // rubric versions
  schools: { keyPath: "id" },
  observations: { keyPath: "id" }, // the walkthroughs on this tablet
  outbox: { keyPath: "seq", autoIncrement: true }, // versions waiting to be pushed, in order
  attention: { keyPath: "version_id" }, // versions the server rejected, with its reasons
  sessions: { keyPath: "id" }, // calibration sessions the user takes part in (version 2)
};

let dbName = null;
let opening = null;

export function useDatabase(userId) {
  const name = `observe-user-${userId}`;
  if (name !== dbName) {
    dbName = name;
    opening = null;
  }
}

function open() {
  if (!dbName) return Promise.reject(new Error("no user chosen for the local database"));
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    const request = indexedDB.open(dbName, 2); // 2 added the sessions store
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const [name, options] of Object.entries(STORES)) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, options);
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      // The browser closed it (memory pressure, storage cleared): open afresh next time.
      db.onclose = () => { opening = null; };
      db.onversionchange = () => { db.close(); opening = null; };
      resolve(db);
    };
    request.onerror = () => { opening = null; reject(request.error); };
    request.onblocked = () => reject(new Error("the local database is blocked by another tab"));
  });
  return opening;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Run fn(stores) in one transaction; retried once on a database the browser closed.
export async function transaction(names, mode, fn) {
  for (let attempt = 0; ; attempt += 1) {
    let db;
    try {
      db = await open();
      const tx = db.transaction(names, mode);
      const finished = new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
      });
      finished.catch(() => {}); // awaited below; this only silences an early abort
      const stores = Object.fromEntries([].concat(names).map((n) => [n, tx.objectStore(n)]));
      const result = await fn(stores);
      await finished;
      return result;
    } catch (error) {
      if (attempt === 0 && error && error.name === "InvalidStateError") {
        opening = null;
        continue;
      }
      throw error;
    }
  }
}

export const get = (store, key) => transaction(store, "readonly", (s) => done(s[store].get(key)));
export const all = (store) => transaction(store, "readonly", (s) => done(s[store].getAll()));
export const put = (store, value) => transaction(store, "readwrite", (s) => done(s[store].put(value)));
export const remove = (store, key) => transaction(store, "readwrite", (s) => done(s[store].delete(key)));
export const count = (store) => transaction(store, "readonly", (s) => done(s[store].count()));

export async function getMeta(key, fallback = null) {
  const row = await get("meta", key);
  return row ? row.value : fallback;
}

export const setMeta = (key, value) => put("meta", { key, value });

export async function clearAll() {
  await transaction(Object.keys(STORES), "readwrite", (s) =>
    Promise.all(Object.values(s).map((store) => done(store.clear()))),
  );
}

export { done };
