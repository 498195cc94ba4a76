// The form's way round a long rubric: a sticky index of the competencies to jump to, each
// competency folding away under its heading, today's focus unfolded and the rest folded (and
// left unrated: folding never marks anything "not observed"). What is open is not saved; the
// focus is, with the draft, so a reload unfolds the same competencies.
import { t } from "./i18n.js";
import { inFocus, isAnswered } from "./look-fors.js";
import { html, th } from "./ui.js";

const JUMP = "observe:jump"; // sessionStorage: a look-for the review screen sent the observer to

const countOf = (section, observation) =>
  `${section.criteria.filter((c) => isAnswered(observation.ratings[c.key])).length}/${section.criteria.length}`;

export function formIndex(sections, observation, focus) {
  const item = (s) => html`<li><button type="button" class="index-link ${inFocus(focus, s.key) ? "" : "index-out"}"
    data-jump="${s.key}"><span class="index-name">${s.name}</span>
    <span class="index-count" data-count="${s.key}">${countOf(s, observation)}</span></button></li>`;
  return html`<nav class="form-index" aria-label="${t("index.jump")}"><ul>${sections.map(item)}</ul></nav>`;
}

// One competency: its heading is the button that folds it. Open when in focus, or when
// something in it is already rated (a reload shows every answer).
export function competencySection(section, observation, focus, cards) {
  const focused = inFocus(focus, section.key);
  const open = focused || section.criteria.some((c) => isAnswered(observation.ratings[c.key]));
  const note = focused ? "" : html`<p class="muted out-of-focus">${t("index.out_of_focus")}</p>`;
  const count = html`<span data-count="${section.key}">${countOf(section, observation)}</span>`;
  return html`<section class="competency ${focused ? "" : "competency-out"}" id="comp-${section.key}"
      aria-labelledby="comp-h-${section.key}">
    <h2 id="comp-h-${section.key}"><button type="button" class="competency-toggle" data-fold="${section.key}"
      aria-expanded="${open}" aria-controls="body-${section.key}"><span>${section.name}</span>
      <span class="competency-count">${th("index.count", { count })}</span></button></h2>
    ${note}
    <div class="competency-body" id="body-${section.key}" ${open ? "" : "hidden"}>${cards}</div></section>`;
}

export function updateCounts(root, sections, observation) {
  for (const s of sections) {
    for (const element of root.querySelectorAll(`[data-count="${CSS.escape(s.key)}"]`)) {
      element.textContent = countOf(s, observation);
    }
  }
}

export function fold(root, key, open) {
  const button = root.querySelector(`[data-fold="${CSS.escape(key)}"]`);
  const body = document.getElementById(`body-${key}`);
  if (!button || !body) return;
  const next = open ?? button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(next));
  body.hidden = !next;
}

// Scrolls a competency (or one of its look-fors) into view below the sticky bar, unfolding it.
export function jumpTo(root, competencyKey, criterionKey = null) {
  fold(root, competencyKey, true);
  const target = document.getElementById(criterionKey ? `c-${criterionKey}` : `comp-${competencyKey}`);
  if (!target) return;
  // Where the sticky bar's bottom will be once stuck, not where it is now (higher up the page).
  const bar = root.querySelector(".form-bar");
  const below = bar ? Number.parseFloat(getComputedStyle(bar).top) + bar.offsetHeight : 0;
  window.scrollTo({ top: target.getBoundingClientRect().top + window.scrollY - below - 8 });
  const focusable = criterionKey
    ? target.querySelector(".level")
    : root.querySelector(`[data-fold="${CSS.escape(competencyKey)}"]`);
  focusable?.focus({ preventScroll: true });
}

// The review screen's "missing" links: remember the look-for, then the form jumps to it.
export function jumpLater(criterionKey) {
  sessionStorage.setItem(JUMP, criterionKey);
}

export function takeJump() {
  const key = sessionStorage.getItem(JUMP);
  sessionStorage.removeItem(JUMP);
  return key;
}

// The review screen's refusal: nothing rated, or the required look-fors still missing, each a
// link back to it on the form.
export function missingBanner(id, { nothingRated, missing }) {
  if (!nothingRated && !missing.length) return "";
  const how = (m) => (m.allowsNotObserved ? t("missing.rate_or_not_observed") : t("missing.rate"));
  const link = (m) => html`<li><a href="#/observe/${id}" data-missing="${m.key}">${m.text}</a>
    <span class="muted">(${how(m)})</span></li>`;
  const nothing = html`<p>${t("missing.nothing")}</p>
    <p><a href="#/observe/${id}">${t("review.back")}</a></p>`;
  const list = html`<p>${t("missing.required", { n: missing.length })}</p>
    <ul class="missing">${missing.map(link)}</ul>`;
  return html`<div class="banner banner-error" role="status" id="missing">
    ${nothingRated ? nothing : ""}${missing.length ? list : ""}</div>`;
}
