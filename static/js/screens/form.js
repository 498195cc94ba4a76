// The form: a draft's look-fors by competency, with levels, evidence and notes; the visit
// timer; the Visit panel (visit.js). Every change is saved as it is made (drafts.js).
import { saveNow, scheduleSave } from "../drafts.js";
import { competencySection, fold, formIndex, jumpTo, takeJump, updateCounts } from "../form-index.js";
import { t } from "../i18n.js";
import { focusOf, requiredKeys } from "../look-fors.js";
import { mountPhotos, photoSlot } from "../photos.js";
import { go, main, onLeave } from "../router.js";
import { rubricText } from "../rubric-text.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { html, minutes, render } from "../ui.js";
import { visitInput, visitPanel } from "../visit.js";
import { discardButton, discardDraft } from "./discarding.js";
import { lookups, notFound, placeOf, ratedCount } from "./shared.js";

const openElsewhere = () => html`<p class="banner banner-error" role="alert">${t("form.open_elsewhere")}</p>`;
const blind = () => html`<p class="banner banner-info" role="note">${t("form.blind")}</p>`;

async function withLock(id, hold) {
  // Two tabs must not edit one draft: the second one only reads it.
  if (!navigator.locks) return hold(true);
  return navigator.locks.request(`observation-${id}`, { ifAvailable: true }, (lock) => hold(Boolean(lock)));
}

export async function formScreen(id) {
  const observation = await store.get("observations", id);
  if (!observation) return notFound();
  if (observation.status !== "draft") return go(`#/view/${id}`);
  const rubric = await store.get("rubrics", observation.rubric_version_id);
  const look = await lookups();
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  let owner = false;
  withLock(id, (got) => {
    owner = got;
    drawForm(observation, rubric, look, got);
    return got ? held : null;
  });
  await Promise.resolve();
  const tick = setInterval(() => updateTimer(observation), 1000);
  onLeave(async () => {
    clearInterval(tick);
    main.onclick = null;
    main.oninput = null;
    if (owner) {
      // The visit timer measures time in the classroom: leaving the form pauses it.
      if (observation.timer.running_since) {
        toggleTimer(observation);
        scheduleSave(observation);
      }
      await saveNow();
    }
    release();
  });
}

function levelButtons(criterion, levels, rating) {
  const pressed = (level) => rating.level === level.value && !rating.not_observed;
  const button = (level) => html`<button type="button" class="level" data-criterion="${criterion.key}"
    data-level="${level.value}" aria-pressed="${pressed(level)}"
    ><span class="level-value">${level.value}</span> ${level.label}</button>`;
  const none = html`<button type="button" class="level level-none" data-criterion="${criterion.key}" data-level="none"
    aria-pressed="${Boolean(rating.not_observed)}">${t("form.not_observed")}</button>`;
  return html`${levels.map(button)}
    ${criterion.allows_not_observed ? none : ""}`;
}

// One look-for: its text and tags, its levels, what each level means, and the evidence box —
// one line until it is tapped (or holds evidence), so a visit without notes stays short.
function criterionCard(c, r, text, required) {
  const doc = text.criterion(c.key);
  const levels = text.levels(c);
  const kind = html`<span class="tag tag-${c.kind}">${t(c.kind === "student" ? "form.student" : "form.adult")}</span>`;
  const dimensions = c.dimensions.map((d) => html`<span class="tag tag-dimension">${t(`dimension.${d}`)}</span>`);
  const must = required ? html`<span class="tag tag-required">${t("form.required")}</span>` : "";
  const descriptors = levels.map((l) => html`<dt>${l.value} · ${l.label}</dt><dd>${l.descriptor || ""}</dd>`);
  return html`<article class="criterion" id="c-${c.key}">
    <div class="criterion-head"><p class="criterion-text" id="t-${c.key}">${doc.text || c.key}</p>
      <p class="criterion-tags">${kind}${dimensions}${must}</p></div>
    <div class="levels" role="group" aria-labelledby="t-${c.key}">${levelButtons(c, levels, r)}</div>
    <div class="criterion-extra">
      <div class="evidence"><label for="e-${c.key}">${t("form.evidence")}</label>
        <textarea id="e-${c.key}" data-evidence="${c.key}" rows="1" maxlength="4000"
          class="${r.evidence ? "has-evidence" : ""}"
          placeholder="${doc.evidence_prompt || t("form.evidence_prompt")}">${r.evidence || ""}</textarea></div>
      ${photoSlot(c.key)}
      <details class="descriptors"><summary>${t("form.descriptors")}</summary><dl>${descriptors}</dl></details>
    </div>
  </article>`;
}

function drawForm(observation, rubric, look, editable) {
  const text = rubricText(rubric);
  const named = (c) => ({ ...c, name: text.competency(c.key).name || c.name, criteria: [] });
  const byCompetency = new Map(rubric.competencies.map((c) => [c.id, named(c)]));
  for (const c of rubric.criteria) byCompetency.get(c.competency_id).criteria.push(c);
  const rating = (key) => observation.ratings[key] || { level: null, not_observed: false, evidence: "" };
  const sections = [...byCompetency.values()];
  const focus = focusOf(observation, rubric);
  const required = requiredKeys(rubric);
  const card = (c) => criterionCard(c, rating(c.key), text, required.has(c.key));
  const competency = (section) => competencySection(section, observation, focus, section.criteria.map(card));
  const problems = [...(observation.fix_reasons || []), ...sync.problems(observation, look.schools)];
  const place = placeOf(observation, look);
  const review = `#/review/${observation.id}`;
  const home = html`<a class="button" href="#/">${t("form.save_home")}</a>`;
  const submit = html`<a class="button button-primary button-big" href="${review}">${t("form.review_submit")}</a>`;
  render(
    main,
    html`
    <div class="form-bar">
      <div><strong id="form-place">${place}</strong><br><span class="muted">${text.title}</span></div>
      <div class="form-bar-tools">
        <span id="progress" class="progress">${ratedCount(observation, rubric)}</span>
        <button type="button" class="button" id="timer" aria-live="off">${timerLabel(observation)}</button>
        <a class="button button-primary" href="${review}">${t("review.title")}</a>
      </div>
      ${sections.length > 1 ? formIndex(sections, observation, focus) : ""}
    </div>
    ${editable ? "" : openElsewhere()}
    ${observation.calibration_session_id ? blind() : ""}
    <fieldset class="form" ${editable ? "" : "disabled"}>
    <legend class="visually-hidden">${t("form.ratings")}</legend>
    ${visitPanel(observation, look, problems)}
    ${sections.map(competency)}
    <section class="competency"><h2><label for="notes">${t("form.notes")}</label></h2>
      <textarea id="notes" rows="4" maxlength="20000"
        placeholder="${t("form.notes_hint")}">${observation.notes}</textarea>
      ${photoSlot()}</section>
    </fieldset>
    <div class="actions">${home}${discardButton(observation)}${submit}</div>`,
  );
  mountPhotos(main, observation, { editable });
  const competencyOf = new Map(rubric.criteria.map((c) => [c.key, byCompetency.get(c.competency_id).key]));
  const jump = takeJump();
  if (jump && competencyOf.has(jump)) jumpTo(main, competencyOf.get(jump), jump);
  main.onclick = (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    // Finding one's way round the rubric works in a read-only tab too.
    if (button.dataset.jump) return jumpTo(main, button.dataset.jump);
    if (button.dataset.fold) return fold(main, button.dataset.fold);
    if (!editable) return;
    if (button.id === "discard") return discardDraft(observation, look, rubric);
    if (button.id === "timer" || button.id === "timer-reset") {
      if (button.id === "timer") toggleTimer(observation);
      else observation.timer = { elapsed: 0, running_since: null };
      document.getElementById("timer").textContent = timerLabel(observation);
      document.getElementById("visit-length").value = Math.round((sync.durationOf(observation) || 0) / 60);
      return scheduleSave(observation);
    }
    const key = button.dataset.criterion;
    if (!key) return;
    const r = { ...rating(key) };
    if (button.dataset.level === "none") {
      r.not_observed = !r.not_observed;
      r.level = null;
    } else {
      const value = Number(button.dataset.level);
      r.level = r.level === value && !r.not_observed ? null : value;
      r.not_observed = false;
    }
    observation.ratings[key] = r;
    for (const b of main.querySelectorAll(`[data-criterion="${CSS.escape(key)}"]`)) {
      const on = b.dataset.level === "none" ? r.not_observed : Number(b.dataset.level) === r.level && !r.not_observed;
      b.setAttribute("aria-pressed", String(on));
    }
    document.getElementById("progress").textContent = ratedCount(observation, rubric);
    updateCounts(main, sections, observation);
    scheduleSave(observation);
  };
  if (!editable) return;
  main.oninput = (event) => {
    const target = event.target;
    if (target.dataset.evidence) {
      observation.ratings[target.dataset.evidence] = { ...rating(target.dataset.evidence), evidence: target.value };
      target.classList.toggle("has-evidence", Boolean(target.value));
    } else if (target.id === "notes") observation.notes = target.value;
    else if (visitInput(observation, target, look)) {
      document.getElementById("timer").textContent = timerLabel(observation);
      document.getElementById("form-place").textContent = placeOf(observation, look);
    } else return;
    scheduleSave(observation);
  };
}

function timerLabel(observation) {
  const running = Boolean(observation.timer.running_since);
  return t(running ? "form.timer_pause" : "form.timer_resume", { time: minutes(sync.durationOf(observation)) });
}

// Pauses a running visit timer, or starts it again.
export function toggleTimer(observation) {
  const t = observation.timer;
  if (t.running_since) {
    t.elapsed += (Date.now() - Date.parse(t.running_since)) / 1000;
    t.running_since = null;
  } else t.running_since = new Date().toISOString();
}

function updateTimer(observation) {
  const button = document.getElementById("timer");
  if (button && observation.timer.running_since) button.textContent = timerLabel(observation);
}
