// The confirmation after Submit, at the top of the home screen until the observer dismisses it:
// which walkthrough, whether it is still on this tablet or on the server, and — once the
// server has it — its feedback page. It follows the walkthrough as sync moves it along.
import * as store from "../store.js";
import { html } from "../ui.js";

const KEY = "submitted_notice";

export const noteSubmitted = (id) => store.setMeta(KEY, id);
export const dismissSubmitted = () => store.remove("meta", KEY);

export async function submittedNotice(observations, placeOf) {
  const id = await store.getMeta(KEY);
  const o = id && observations.find((each) => each.id === id);
  if (!o) return "";
  const place = placeOf(o);
  const open = html`<a class="button" href="#/view/${o.id}">Open it</a>`;
  const feedback = o.calibration_session_id
    ? ""
    : html`<a class="button button-primary" href="/walkthroughs/${o.id}/feedback">Feedback for the teacher</a>`;
  const said = {
    waiting: html`<p><strong>Submitted: ${place}.</strong> It is saved on this tablet and waits to sync: it goes
      to the server as soon as the tablet is online. Its feedback page opens once the server has it.</p>`,
    synced: html`<p><strong>Submitted and on the server: ${place}.</strong>
      ${o.calibration_session_id ? "The facilitator reveals the team's scores." : "Its feedback is ready."}</p>`,
    attention: html`<p><strong>Submitted, but the server did not accept it: ${place}.</strong>
      See what it said and send it again.</p>`,
  }[o.status];
  if (!said) return ""; // reopened to amend, or deleted on the server: the notice has had its day
  return html`<section class="panel notice" id="submitted" role="status" aria-labelledby="submitted-heading">
    <h2 id="submitted-heading">${o.status === "synced" ? "Synced" : "Submitted"}</h2>
    ${said}
    <p class="actions-inline">${o.status === "synced" ? feedback : ""}${open}
      <button type="button" class="button" id="submitted-dismiss">Dismiss</button></p></section>`;
}
