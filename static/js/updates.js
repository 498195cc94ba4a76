// The service worker and its update prompt: an update never reloads over unsaved work.
import { saveNow } from "./drafts.js";
import { banner, th } from "./ui.js";

export function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading) location.reload();
  });
  const offer = (worker) => {
    const element = banner("update", th("update.ready"));
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
