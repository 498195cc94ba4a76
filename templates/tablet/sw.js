// observe service worker {{ app_version }}: the app's files, cached so it starts with no network.
// It answers GET requests only; pushes go from the page (Safari has no Background Sync and
// mishandles POSTs routed through a service worker).
const VERSION = {{ app_version | tojson }};
const PREFIX = "observe-app-";
const CACHE = PREFIX + VERSION;
const SHELL = {{ url_for("tablet.app") | tojson }};
const PRECACHE = {{ precache | tojson }};

self.addEventListener("install", (event) => {
  // cache: "reload" skips the HTTP cache, so a new version never precaches stale files.
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))),
    ),
  );
  // No skipWaiting here: the page decides when to switch, so an update never reloads over
  // a form someone is filling in.
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) =>
      Promise.all(
        keys.filter((key) => key.startsWith(PREFIX) && key !== CACHE).map((key) => caches.delete(key)),
      ),
    ).then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;

  if (request.mode === "navigate") {
    // The app's page from the cache; any other page from the network, or the app when offline.
    if (url.pathname === SHELL) {
      event.respondWith(caches.match(SHELL).then((hit) => hit || fetch(request)));
    } else {
      event.respondWith(fetch(request).catch(() => caches.match(SHELL)));
    }
    return;
  }
  event.respondWith(
    caches.match(request, { ignoreSearch: true }).then((hit) => hit || fetch(request)),
  );
});
