// Review and submit: what the draft says, what is not rated yet, and what the server would
// refuse; submitting queues the version for sync in the same transaction.
import { saveNow } from "../drafts.js";
import { editFeedback, feedbackFields, holdDraft } from "../feedback-fields.js";
import { jumpLater, missingBanner } from "../form-index.js";
import { t } from "../i18n.js";
import { missingForSubmit } from "../look-fors.js";
import { go, main, onLeave } from "../router.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { html, minutes, render, th, when } from "../ui.js";
import { toggleTimer } from "./form.js";
import { lookups, notFound, placeOf, summary } from "./shared.js";
import { noteSubmitted } from "./submitted.js";

export async function reviewScreen(id) {
  const observation = await store.get("observations", id);
  if (!observation) return notFound();
  const rubric = await store.get("rubrics", observation.rubric_version_id);
  const look = await lookups();
  const draft = await holdDraft(observation);
  const unrated =
    rubric.criteria.length -
    Object.values(observation.ratings).filter((r) => r.level !== null || r.not_observed).length;
  const blocking = sync.problems(observation, look.schools);
  const incomplete = missingForSubmit(observation, rubric);
  const refuse = blocking.length || incomplete.nothingRated || incomplete.missing.length;
  const timer = minutes(sync.durationOf(observation));
  const notRated = html`<p class="banner banner-info" role="status">${t("review.not_rated", { n: unrated })}</p>`;
  const fix = html`<a class="button" href="#/observe/${id}">${t("review.fix")}</a>`;
  const refused = html`<div class="banner banner-error"
    role="alert"><p>${t("review.refused")}</p>
      <ul>${blocking.map((p) => html`<li>${p.message}</li>`)}</ul><p>${th("review.under_visit", { fix })}</p></div>`;
  render(
    main,
    html`<h1>${t("review.title")}</h1>
    <p class="lede">${placeOf(observation, look)} · ${when(observation.observed_at)} ·
      ${t("review.timer", { timer })}</p>
    ${missingBanner(id, incomplete)}
    ${unrated && !incomplete.nothingRated && !incomplete.missing.length ? notRated : ""}
    ${blocking.length ? refused : ""}
    ${feedbackFields(observation, draft.held)}
    ${summary(observation, rubric)}
    <div class="actions"><a class="button" href="#/observe/${id}">${t("review.back")}</a>
      <button type="button" class="button button-primary button-big" id="submit"
        ${refuse ? "disabled" : ""}>${t("review.submit")}</button></div>`,
  );
  const leaveFeedback = draft.held ? editFeedback(main, observation) : async () => true;
  onLeave(async () => {
    await leaveFeedback();
    await draft.release();
  });
  for (const a of main.querySelectorAll("[data-missing]")) {
    a.addEventListener("click", () => jumpLater(a.dataset.missing));
  }
  document.getElementById("submit").addEventListener("click", async () => {
    if (!(await saveNow())) return;
    // One strict transaction: the walkthrough becomes submitted and its version enters the
    // outbox together, on disk before the app says so.
    const queued = await sync.queueVersion(id, (fresh) => {
      if (fresh.status !== "draft") return false;
      if (fresh.timer.running_since) toggleTimer(fresh);
      if (sync.problems(fresh, look.schools).length) return false;
      const check = missingForSubmit(fresh, rubric);
      if (check.nothingRated || check.missing.length) return false;
      delete fresh.fix_reasons;
      fresh.state = "submitted";
      fresh.status = "waiting";
      fresh.amending = false;
    });
    if (!queued) return go(`#/view/${id}`);
    await store.setMeta("last_change", new Date().toISOString());
    await noteSubmitted(id); // the confirmation on the home screen, until dismissed
    sync.changed("submitted");
    go("#/");
    sync.syncNow();
  });
}
