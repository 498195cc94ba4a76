// The tablet app's start: who is signed in, their database, the screens, then sync. Each screen
// is a module of its own under screens/; see docs/development.md for the map.
import { saveNow } from "./drafts.js";
import { showSyncState, wireHeader } from "./header.js";
import { followHeaderHeight } from "./header-height.js";
import { t } from "./i18n.js";
import { addScreens, currentScreen, main, route } from "./router.js";
import { formScreen } from "./screens/form.js";
import { home } from "./screens/home.js";
import { reviewScreen } from "./screens/review.js";
import { startScreen } from "./screens/start.js";
import { viewScreen } from "./screens/view.js";
import { forgetUser, goSignIn, noteOwner, rememberedUser, rememberUser } from "./session.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { banner, html, render } from "./ui.js";
import { registerServiceWorker } from "./updates.js";

// The page's own words (the header), from the tables like every other message.
for (const element of document.querySelectorAll("[data-t]")) element.textContent = t(element.dataset.t);

addScreens({ home, start: startScreen, observe: formScreen, review: reviewScreen, view: viewScreen });

async function start() {
  const remembered = rememberedUser();
  let session = null;
  try {
    session = await sync.fetchSession();
  } catch (error) {
    // The server said nobody is signed in: never fall back to whoever used the app last (a
    // shared tablet would show the next person the last one's walkthroughs). Only when the
    // server cannot be reached does the tablet carry on as the last signed-in observer.
    if (error.message === "signed out") {
      forgetUser();
      return goSignIn();
    }
    if (!remembered) {
      render(
        main,
        html`<section class="panel narrow"><h1>${t("start.offline_title")}</h1>
        <p>${t("start.offline_body")}</p></section>`,
      );
      return;
    }
  }
  const user = session ? session.user : remembered;
  rememberUser(user);
  store.useDatabase(user.id);
  noteOwner(user, null);
  store.onVersionChange(async () => {
    // A newer app opened the database in another tab: save what this tab holds, then reload
    // into the newer app rather than fail every save that follows.
    await saveNow();
    banner("reloading", html`<p>${t("start.reloading")}</p>`);
    setTimeout(() => location.reload(), 50);
  });
  if (!(await store.getMeta("cursor"))) {
    try {
      await sync.bootstrap();
    } catch {
      render(
        main,
        html`<section class="panel narrow"><h1>${t("start.almost_title")}</h1>
        <p>${t("start.almost_body")}</p></section>`,
      );
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
  followHeaderHeight();
  window.addEventListener("hashchange", route);
  window.addEventListener("observe:sync", showSyncState);
  window.addEventListener("observe:changed", (event) => {
    if (event.detail !== "draft" && currentScreen() === "home") route();
  });
  await route();
  sync.startSyncing();
}

async function askForPersistentStorage() {
  if (!navigator.storage?.persist) return store.setMeta("persisted", "unsupported");
  const persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  await store.setMeta("persisted", persisted ? "yes" : "no");
}

start().catch((error) => {
  render(
    main,
    html`<section class="panel narrow"><h1>${t("start.failed")}</h1><p>${error.message || error}</p></section>`,
  );
});
