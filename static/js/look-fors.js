// What a rubric asks of one visit: its size and how long it takes, the look-fors it requires,
// the observer's focus for today, and what a draft still lacks before it may be submitted.
// Plain functions over the stored rubric and draft; no DOM, so every screen reads them alike.
import { t } from "./i18n.js";
import { rubricText } from "./rubric-text.js";

// A documented estimate (docs/walkthroughs.md): about 25 seconds per look-for — a glance, a
// tap, sometimes a few words of evidence — rounded up to whole minutes. 7 look-fors: 3 minutes.
export const SECONDS_PER_LOOK_FOR = 25;

export function minutesFor(count) {
  return Math.max(1, Math.ceil((count * SECONDS_PER_LOOK_FOR) / 60));
}

export function sizeLabel(count) {
  return `${t("size.look_fors", { n: count })} · ${t("size.minutes", { n: minutesFor(count) })}`;
}

// A rubric short enough for a visit of a few minutes is called quick on the start screen.
export const isQuick = (rubric) => minutesFor(rubric.criteria.length) <= 5;

// Rated means a level, or "not observed": what the server counts too (sync/checks.py).
export const isAnswered = (rating) => Boolean(rating && (rating.level !== null || rating.not_observed));

export const answeredCount = (observation) => Object.values(observation.ratings).filter(isAnswered).length;

// The keys of the look-fors a submitted walkthrough must rate. A rubric version from before
// `required` existed has none; one stored on the tablet before the app knew the field still
// carries it in its document.
export function requiredKeys(rubric) {
  const keys = new Set();
  for (const c of rubric.criteria) if (c.required) keys.add(c.key);
  for (const competency of rubric.document.competencies || []) {
    for (const c of competency.criteria) if (c.required) keys.add(c.key);
  }
  return keys;
}

// Competency id → its key, and the competencies that hold a required look-for (always in focus).
function competencyKeys(rubric) {
  return new Map(rubric.competencies.map((c) => [c.id, c.key]));
}

export function requiredCompetencies(rubric) {
  const keys = competencyKeys(rubric);
  const required = requiredKeys(rubric);
  return new Set(rubric.criteria.filter((c) => required.has(c.key)).map((c) => keys.get(c.competency_id)));
}

// Today's focus: the competency keys the observer picked, with every competency holding a
// required look-for; null means the whole rubric (every draft made before focus existed).
export function focusOf(observation, rubric) {
  if (!Array.isArray(observation.focus)) return null;
  const known = new Set(rubric.competencies.map((c) => c.key));
  const focus = new Set(observation.focus.filter((k) => known.has(k)));
  for (const key of requiredCompetencies(rubric)) focus.add(key);
  return focus.size && focus.size < known.size ? focus : null;
}

export function inFocus(focus, competencyKey) {
  return !focus || focus.has(competencyKey);
}

// How many look-fors the focus holds.
export function focusSize(rubric, focus) {
  const keys = competencyKeys(rubric);
  return rubric.criteria.filter((c) => inFocus(focus, keys.get(c.competency_id))).length;
}

// What stops a submit: nothing rated at all, and each required look-for not rated (the same
// rules as the server's, so the tablet never queues a version it would refuse).
export function missingForSubmit(observation, rubric) {
  const required = requiredKeys(rubric);
  const text = rubricText(rubric);
  const missing = rubric.criteria
    .filter((c) => required.has(c.key) && !isAnswered(observation.ratings[c.key]))
    .map((c) => ({ key: c.key, text: text.criterion(c.key).text || c.key, allowsNotObserved: c.allows_not_observed }));
  return { nothingRated: answeredCount(observation) === 0, missing };
}
