// The observer's feedback for the teacher: strengths and one next step, two short fields on the
// review screen, saved with the draft as they are typed (drafts.js: within 300 ms, offline),
// sent with the walkthrough's version, and read back on a submitted walkthrough. The teacher
// reads them at the top of the one-page feedback.
import { saveNow, scheduleSave } from "./drafts.js";
import { t } from "./i18n.js";
import { html } from "./ui.js";

// As the server's MAX_FEEDBACK (observe/sync/schemas.py): longer is refused there, and the
// feedback would no longer fit on one page.
export const MAX_FEEDBACK = 500;
const LOCK_WAIT = 2000; // milliseconds to wait for a draft's lock that the last screen is letting go

const FIELDS = [
  { key: "strengths", id: "strengths", label: "feedback.strengths", hint: "feedback.strengths_hint" },
  { key: "next_step", id: "next-step", label: "feedback.next_step", hint: "feedback.next_step_hint" },
];

const openElsewhere = () => html`<p class="banner banner-error" role="alert">${t("feedback.open_elsewhere")}</p>`;

const counted = (text) => t("feedback.count", { n: (text || "").length, max: MAX_FEEDBACK });

// The two fields (not for a calibration score: practice, not a visit); read-only unless this
// tab holds the draft (holdDraft).
export function feedbackFields(observation, editable = true) {
  if (observation.calibration_session_id) return "";
  const field = (f) => html`<label for="${f.id}">${t(f.label)}</label>
    <p class="field-hint" id="${f.id}-hint">${t(f.hint)} <span class="field-count"
      id="${f.id}-count">${counted(observation[f.key])}</span></p>
    <textarea id="${f.id}" data-feedback="${f.key}" rows="3" maxlength="${MAX_FEEDBACK}"
      aria-describedby="${f.id}-hint">${observation[f.key] || ""}</textarea>`;
  return html`<section class="panel feedback-fields" aria-labelledby="feedback-heading">
    <h2 id="feedback-heading">${t("feedback.title")}</h2>
    <p class="muted">${t("feedback.intro")}</p>
    ${!editable && observation.status === "draft" ? openElsewhere() : ""}
    <fieldset class="feedback-fieldset" ${editable ? "" : "disabled"}>
      <legend class="visually-hidden">${t("feedback.title")}</legend>
      ${FIELDS.map(field)}
    </fieldset></section>`;
}

// Saves what is typed into the fields under `container` to the draft `observation`.
export function editFeedback(container, observation) {
  const onInput = (event) => {
    const key = event.target.dataset?.feedback;
    if (!key) return;
    observation[key] = event.target.value;
    const count = document.getElementById(`${event.target.id}-count`);
    if (count) count.textContent = counted(event.target.value);
    scheduleSave(observation);
  };
  container.addEventListener("input", onInput);
  // What leaving the screen runs: stop listening, and write what is pending.
  return async () => {
    container.removeEventListener("input", onInput);
    return saveNow();
  };
}

// One tab at a time edits a draft, with the form's Web Lock. Resolves to whether this tab holds
// it (never for a walkthrough that is not a draft); `release()` resolves once the lock is free,
// so the next screen can take it. It waits a moment: the screen just left may still be letting
// it go.
export function holdDraft(observation) {
  const free = async () => {};
  if (observation.status !== "draft") return Promise.resolve({ held: false, release: free });
  if (!navigator.locks) return Promise.resolve({ held: true, release: free });
  return new Promise((resolve) => {
    const options = { signal: AbortSignal.timeout(LOCK_WAIT) };
    const done = navigator.locks.request(`observation-${observation.id}`, options, () => {
      return new Promise((letGo) => {
        resolve({
          held: true,
          release: async () => {
            letGo();
            await done;
          },
        });
      });
    });
    done.catch(() => resolve({ held: false, release: free })); // open in another tab
  });
}

// A submitted walkthrough's strengths and next step, read back (nothing when neither was written).
export function feedbackSummary(observation) {
  const written = FIELDS.filter((f) => (observation[f.key] || "").trim());
  if (!written.length || observation.calibration_session_id) return "";
  const item = (f) => html`<dt>${t(f.label)}</dt><dd class="notes">${observation[f.key]}</dd>`;
  // Named for what it holds: the send panel below is "Feedback for the teacher".
  return html`<section class="panel feedback-summary" aria-labelledby="feedback-heading">
    <h2 id="feedback-heading">${t("feedback.summary")}</h2>
    <dl class="summary">${written.map(item)}</dl></section>`;
}
