// The confirmation after Submit, at the top of the home screen until the observer dismisses it:
// which walkthrough, whether it is still on this tablet or on the server, and — once the
// server has it — its feedback page. It follows the walkthrough as sync moves it along.

import { t } from "../i18n.js";
import * as store from "../store.js";
import { html, th } from "../ui.js";

const KEY = "submitted_notice";

export const noteSubmitted = (id) => store.setMeta(KEY, id);
export const dismissSubmitted = () => store.remove("meta", KEY);

export async function submittedNotice(observations, placeOf) {
  const id = await store.getMeta(KEY);
  const o = id && observations.find((each) => each.id === id);
  if (!o) return "";
  const place = placeOf(o);
  const open = html`<a class="button" href="#/view/${o.id}">${t("submitted.open")}</a>`;
  const feedback = o.calibration_session_id
    ? ""
    : html`<a class="button button-primary" href="/walkthroughs/${o.id}/feedback">${t("feedback.title")}</a>`;
  const ready = o.calibration_session_id ? t("submitted.reveal") : t("submitted.feedback_ready");
  const said = {
    waiting: th("submitted.waiting", { place }),
    synced: th("submitted.synced", { place, ready }),
    attention: th("submitted.attention", { place }),
  }[o.status];
  if (!said) return ""; // reopened to amend, or deleted on the server: the notice has had its day
  return html`<section class="panel notice" id="submitted" role="status" aria-labelledby="submitted-heading">
    <h2 id="submitted-heading">${o.status === "synced" ? t("submitted.synced_title") : t("submitted.title")}</h2>
    ${said}
    <p class="actions-inline">${o.status === "synced" ? feedback : ""}${open}
      <button type="button" class="button" id="submitted-dismiss">${t("common.dismiss")}</button></p></section>`;
}
