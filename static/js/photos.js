// Photos of student work or the board, as evidence for a look-for or for the walkthrough.
// Taken offline: made smaller on the tablet (a photo straight from the camera is 3–12 MB),
// kept in IndexedDB (the `photos` store, keyed by walkthrough and SHA-256, so the same picture
// twice is one photo), and sent once the walkthrough's submitted version is on the server:
// one idempotent PUT per photo, named by its hash, so a send cut short is simply sent again
// and the server still keeps one. A photo leaves the tablet only when the server has it.

import { t } from "./i18n.js";
import * as store from "./store.js";
import { afterPush, changed } from "./sync.js";
import { html, render } from "./ui.js";

// OBSERVE_PHOTOS=off on the server: no camera anywhere in the app.
export const ENABLED = document.querySelector('meta[name="observe-photos"]')?.content !== "off";
const LONGEST = 1600; // pixels on the longest side: the board stays readable
const QUALITY = 0.8;
const THUMB = 160;
export const MAX_PER_WALKTHROUGH = 20; // observe/photos/operations.py MAX_PER_WALKTHROUGH

const range = (id) => IDBKeyRange.bound([id, ""], [id, "\uffff"]);

export function photosOf(observationId) {
  return store.transaction("photos", "readonly", (s) => store.done(s.photos.getAll(range(observationId))));
}

// What the camera or the library gave, as a JPEG of at most LONGEST pixels a side, and a
// thumbnail as a data: URL (the app's CSP allows data: images, not blob: ones). Drawing on a
// canvas also drops the file's metadata, the place it was taken included.
async function shrink(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  try {
    const fit = (longest) => {
      const scale = Math.min(1, longest / Math.max(bitmap.width, bitmap.height));
      return [Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale))];
    };
    const draw = ([width, height]) => {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
      return canvas;
    };
    const [width, height] = fit(LONGEST);
    const blob = await new Promise((resolve, reject) =>
      draw([width, height]).toBlob(
        (b) => (b ? resolve(b) : reject(new Error("the photo could not be made smaller"))),
        "image/jpeg",
        QUALITY,
      ),
    );
    const thumb = draw(fit(THUMB)).toDataURL("image/jpeg", 0.7);
    return { data: await blob.arrayBuffer(), width, height, thumb };
  } finally {
    bitmap.close();
  }
}

async function sha256(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Keep a photo for a walkthrough (criterion: a look-for's key, or null for the walkthrough).
// Strict durability: once this returns, the photo survives a reload or a dead battery.
export async function addPhoto(observationId, criterion, file) {
  const made = await shrink(file);
  const hash = await sha256(made.data);
  return store.transaction(
    "photos",
    "readwrite",
    async (s) => {
      if (await store.done(s.photos.get([observationId, hash]))) return { added: false, reason: t("photo.already") };
      if ((await store.done(s.photos.count(range(observationId)))) >= MAX_PER_WALKTHROUGH)
        return { added: false, reason: t("photo.at_most", { n: MAX_PER_WALKTHROUGH }) };
      await store.done(
        s.photos.put({
          observation_id: observationId,
          sha256: hash,
          criterion: criterion || null,
          type: "image/jpeg",
          bytes: made.data.byteLength,
          width: made.width,
          height: made.height,
          data: made.data,
          thumb: made.thumb,
          taken_at: new Date().toISOString(),
        }),
      );
      return { added: true };
    },
    { durability: "strict" },
  );
}

export const removePhoto = (observationId, hash) =>
  store.transaction("photos", "readwrite", (s) => store.done(s.photos.delete([observationId, hash])), {
    durability: "strict",
  });

// ---- on the form --------------------------------------------------------------------------

// Where a look-for's photos go (key) or the walkthrough's (no key); mountPhotos fills it.
export const photoSlot = (key = "") => html`<div class="photos" data-photos="${key}"></div>`;

function slotContent(slot, photos, label) {
  const key = slot.dataset.photos;
  const id = `photo-${key || "walkthrough"}`;
  // In the order they were taken.
  const mine = photos.filter((p) => (p.criterion || "") === key).sort((a, b) => a.taken_at.localeCompare(b.taken_at));
  const item = (p, i) => html`<li class="photo">
    <img src="${p.thumb}" alt="${t("photo.alt", { n: i + 1, label })}" width="${Math.round((p.width / p.height) * 72)}"
      height="72">
    <span class="photo-side"><span class="photo-state">${t("photo.until_sent")}</span>
    <button type="button" class="button" data-remove-photo="${p.sha256}"
      aria-label="${t("photo.remove_label", { n: i + 1, label })}">${t("photo.remove")}</button></span></li>`;
  return html`${mine.length ? html`<ul class="photo-list">${mine.map(item)}</ul>` : ""}
    <div class="photo-add-row">
      <label class="button photo-add" for="${id}">${t("photo.add")}</label>
      <input type="file" id="${id}" class="photo-input" accept="image/*" capture="environment"
        aria-describedby="${id}-note${key ? ` t-${key}` : ""}">
      <span class="photo-note" id="${id}-note">${t("photo.note")}</span>
    </div>
    <p class="photo-message" role="status" aria-live="polite"></p>`;
}

// Fill every photo slot under root with the walkthrough's photos and its camera button.
export async function mountPhotos(root, observation, { editable = true } = {}) {
  const slots = [...root.querySelectorAll("[data-photos]")];
  if (!ENABLED || !editable || observation.calibration_session_id) {
    for (const slot of slots) slot.remove();
    return;
  }
  const draw = async () => {
    const photos = await photosOf(observation.id);
    for (const slot of slots) {
      const label = slot.dataset.photos ? t("photo.of_look_for") : t("photo.of_walkthrough");
      render(slot, slotContent(slot, photos, label));
    }
  };
  for (const slot of slots) {
    // Events stop here: the form's own handlers never see the camera's input or buttons.
    slot.addEventListener("input", (event) => event.stopPropagation());
    slot.addEventListener("change", async (event) => {
      event.stopPropagation();
      const input = event.target;
      const file = input.files?.[0];
      if (!file) return;
      const say = (text) => {
        slot.querySelector(".photo-message").textContent = text;
      };
      say(t("photo.saving"));
      try {
        const result = await addPhoto(observation.id, slot.dataset.photos || null, file);
        await draw();
        slot.querySelector(".photo-message").textContent = result.added
          ? t("photo.saved")
          : t("photo.not_added", { reason: result.reason });
        changed("photos");
      } catch (error) {
        say(t("photo.unreadable", { error: error.message || error }));
      }
    });
    slot.addEventListener("click", async (event) => {
      const button = event.target.closest("[data-remove-photo]");
      if (!button) return;
      event.stopPropagation();
      await removePhoto(observation.id, button.dataset.removePhoto);
      await draw();
      slot.querySelector(".photo-message").textContent = t("photo.removed");
      changed("photos");
    });
  }
  await draw();
}

// ---- sending ------------------------------------------------------------------------------

// Run by sync after the outbox is pushed. A photo goes once its walkthrough is "synced" (the
// submitted version the observer last made is on the server); a draft's photos wait for its
// submission, so a photo removed before submit never reaches the server.
export async function pushPhotos({ csrf }) {
  const keys = await store.transaction("photos", "readonly", (s) => store.done(s.photos.getAllKeys()));
  for (const key of keys) {
    const [observationId, hash] = key;
    const observation = await store.get("observations", observationId);
    if (!observation || observation.status === "deleted") {
      await removePhoto(observationId, hash); // deleted on the server: so are its photos
      continue;
    }
    if (observation.status !== "synced" || !ENABLED) continue;
    const photo = await store.get("photos", key);
    if (!photo) continue;
    const query = photo.criterion ? `?criterion=${encodeURIComponent(photo.criterion)}` : "";
    const response = await fetch(`/api/v1/observations/${observationId}/photos/${hash}${query}`, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": photo.type, Accept: "application/json", "X-CSRFToken": csrf || "" },
      body: photo.data,
    });
    if (response.ok) {
      await removePhoto(observationId, hash); // the server has it: 201 stored, 200 already had it
      changed("photos");
      continue;
    }
    const answer = await response.json().catch(() => null);
    const code = answer?.error?.code;
    if (response.status === 401 || code === "photos_off") return; // the next sync tries again
    if (response.status === 404) continue; // the server does not have the walkthrough yet
    if ([403, 409, 413, 415, 422].includes(response.status)) {
      // The server will never take this one: say so on the walkthrough, and let it go.
      const message = answer?.error?.message || `the server answered ${response.status}`;
      await store.update(observationId, (o) => {
        o.photo_problems = [...(o.photo_problems || []), message];
      });
      await removePhoto(observationId, hash);
      changed("photos");
      continue;
    }
    throw new Error(`the server answered ${response.status} to a photo`);
  }
}

afterPush(pushPhotos);

// On a submitted walkthrough's screen: photos still to send, and any the server refused.
export async function photoStatus(observation) {
  const waiting = ENABLED ? (await photosOf(observation.id)).length : 0;
  const problems = observation.photo_problems || [];
  if (!waiting && !problems.length) return "";
  return html`<section class="panel" aria-labelledby="photo-status">
    <h2 id="photo-status">${t("photo.title")}</h2>
    ${waiting ? html`<p>${t("photo.waiting", { n: waiting })}</p>` : ""}
    ${
      problems.length
        ? html`<ul>${problems.map((m) => html`<li>${t("photo.not_kept", { reason: m })}</li>`)}
      </ul>`
        : ""
    }
  </section>`;
}
