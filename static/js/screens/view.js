// A submitted walkthrough: waiting to sync, on the server, refused by it (needs attention, with
// what the server said) or deleted there; reopening it makes it a draft again.
import { feedbackSummary } from "../feedback-fields.js";
import { t } from "../i18n.js";
import { photoStatus } from "../photos.js";
import { go, main } from "../router.js";
import * as store from "../store.js";
import { ago, html, render, when } from "../ui.js";
import { showFeedbackPanel } from "./send-feedback.js";
import { lookups, notFound, placeOf, summary } from "./shared.js";

export async function viewScreen(id) {
  const observation = await store.get("observations", id);
  if (!observation) return notFound();
  if (observation.status === "draft") return go(`#/observe/${id}`);
  const rubric = await store.get("rubrics", observation.rubric_version_id);
  const look = await lookups();
  const attention = (await store.all("attention")).filter((a) => a.observation_id === id);
  const statusText = {
    waiting: t("calibration.waiting"),
    synced: t("view.synced", { when: ago(observation.synced_at) }),
    attention: t("view.attention"),
    deleted: t("view.deleted"),
  }[observation.status];
  const conflict = observation.has_conflict ? ` · ${t("view.conflict")}` : "";
  const said = (e) => html`<li><strong>${e.field || t("view.walkthrough")}</strong>: ${e.message}</li>`;
  const errors = attention.flatMap((a) => a.errors.map(said));
  const refused = html`<section class="panel attention"><h2>${t("view.server_said")}</h2><ul>${errors}</ul></section>`;
  // A visit (not a calibration score) that was submitted: its feedback can go to the teacher.
  const visit = observation.state === "submitted" && !observation.calibration_session_id;
  const sendable = visit && ["waiting", "synced"].includes(observation.status);
  const feedback = html`<section class="panel" id="feedback-send" aria-labelledby="feedback-send-heading"></section>`;
  const reopen = html`<button type="button" class="button button-primary"
    id="reopen">${observation.status === "attention" ? t("view.edit_again") : t("view.reopen")}</button>`;
  render(
    main,
    html`<h1>${placeOf(observation, look)}</h1>
    <p class="lede">${when(observation.observed_at)} · ${statusText}${conflict}</p>
    ${attention.length ? refused : ""}
    ${feedbackSummary(observation)}
    ${summary(observation, rubric)}
    ${await photoStatus(observation)}
    ${sendable ? feedback : ""}
    <div class="actions"><a class="button" href="#/">${t("common.home")}</a>
      ${observation.status === "deleted" ? "" : reopen}</div>`,
  );
  // The panel asks the server what the teacher did: the buttons work while it does.
  const panel = document.getElementById("feedback-send");
  const panelShown = panel ? showFeedbackPanel(panel, observation) : null;
  document.getElementById("reopen")?.addEventListener("click", async () => {
    await store.transaction(
      ["observations", "attention"],
      "readwrite",
      async (s) => {
        const fresh = await store.done(s.observations.get(id));
        if (fresh.status === "attention") {
          // The next version builds on the last one the server accepted.
          fresh.last_version_id = fresh.server_head || null;
          for (const a of attention) await store.done(s.attention.delete(a.version_id));
          fresh.fix_reasons = attention.flatMap((a) => a.errors); // shown on the form until sent again
          fresh.dirty = true; // what was rejected is not on the server: it waits until sent again
        }
        fresh.amending = fresh.state === "submitted";
        fresh.status = "draft";
        fresh.rev = (fresh.rev || 0) + 1;
        await store.done(s.observations.put(fresh));
      },
      { durability: "strict" },
    );
    go(`#/observe/${id}`);
  });
  await panelShown;
}
