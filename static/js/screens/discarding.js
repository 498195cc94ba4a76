// The form's "Discard draft" button and what it does: ask, save what the form holds, discard
// (discard.js), then home, where the draft waits under "Discarded" with Restore.

import { askToDiscard, canDiscard, discard } from "../discard.js";
import { saveNow } from "../drafts.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import * as sync from "../sync.js";
import { html } from "../ui.js";
import { placeOf, ratedCount } from "./shared.js";

const discardHtml = () =>
  html`<button type="button" class="button button-danger" id="discard">${t("discard.button")}</button>`;

export const discardButton = (observation) => (canDiscard(observation) ? discardHtml() : "");

export async function discardDraft(observation, look, rubric) {
  if (!(await askToDiscard(placeOf(observation, look), ratedCount(observation, rubric)))) return;
  if (!(await saveNow())) return; // the banner says why; nothing is discarded
  if (!(await discard(observation.id))) return go(`#/view/${observation.id}`);
  sync.changed("discarded");
  go("#/"); // leaving the form pauses the visit timer and saves, as always
}
