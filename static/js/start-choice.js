// The start screen's rubric and focus: each rubric with its size ("7 look-fors · about 3
// minutes", the quick one marked), today's focus (the competencies to look at; the rest stay
// unrated), and the observer's last choice of both, remembered per observer on this tablet.
import { t } from "./i18n.js";
import { focusSize, isQuick, requiredCompetencies, sizeLabel } from "./look-fors.js";
import { rubricText } from "./rubric-text.js";
import { user } from "./session.js";
import { html } from "./ui.js";

// In localStorage under the observer's id, not in their database: signing out of a shared
// tablet deletes that database, and a rubric and competency keys say nothing about anyone.
const lastKey = () => `observe.start-choice.${user?.id}`;

function readLast() {
  try {
    return JSON.parse(localStorage.getItem(lastKey()) || "null");
  } catch {
    return null;
  }
}

// Smallest first: the quick rubric leads, and is what a new observer starts with.
export function orderBySize(rubrics) {
  return [...rubrics].sort((a, b) => a.criteria.length - b.criteria.length || a.title.localeCompare(b.title));
}

// The remembered rubric (by the rubric, so a newer version of it counts) and focus, if the
// rubric is still on this tablet; otherwise the smallest rubric and the whole of it.
export function initialChoice(choices) {
  const last = readLast();
  const rubric = last && choices.find((r) => r.rubric.id === last.rubric);
  if (!rubric) return { rubric: choices[0]?.id, focus: null };
  const known = new Set(rubric.competencies.map((c) => c.key));
  const focus = Array.isArray(last.focus) ? last.focus.filter((k) => known.has(k)) : null;
  return { rubric: rubric.id, focus: focus?.length ? focus : null };
}

export function rememberChoice(rubric, focus) {
  localStorage.setItem(lastKey(), JSON.stringify({ rubric: rubric.rubric.id, focus: focus || null }));
}

export function rubricChip(r, pressed) {
  const quick = isQuick(r) ? html`<span class="tag tag-quick">${t("start.quick")}</span>` : "";
  return html`<button type="button" class="chip" data-rubric="${r.id}" aria-pressed="${pressed}"
    >${rubricText(r).title}${quick}<small class="rubric-size">${sizeLabel(r.criteria.length)}</small></button>`;
}

// The whole rubric, or the competencies picked; a competency holding a required look-for is
// always in.
export function focusPanel(rubric, focus) {
  if (rubric.competencies.length < 2) return "";
  const required = requiredCompetencies(rubric);
  const text = rubricText(rubric);
  const chosen = new Set(focus || []);
  const count = (c) => rubric.criteria.filter((x) => x.competency_id === c.id).length;
  const chip = (c) => {
    const always = required.has(c.key);
    const on = Boolean(focus) && (always || chosen.has(c.key));
    const size = `${t("size.look_fors", { n: count(c) })}${always ? ` · ${t("start.has_required")}` : ""}`;
    return html`<button type="button" class="chip" data-focus="${c.key}" aria-pressed="${on}"
      >${text.competency(c.key).name || c.name}<small>${size}</small></button>`;
  };
  const size = focusSize(rubric, focus ? new Set([...chosen, ...required]) : null);
  return html`<section class="panel"><h2 id="focus-heading">${t("start.focus")}
      <small class="muted" id="focus-size">(${sizeLabel(size)})</small></h2>
    <p class="muted">${t("start.focus_hint")}</p>
    <div class="chips" role="group" aria-labelledby="focus-heading">
      <button type="button" class="chip" data-focus="" aria-pressed="${!focus}">${t("start.whole_rubric")}</button>
      ${rubric.competencies.map(chip)}</div></section>`;
}

// A tap on a focus chip: "Whole rubric" clears the focus; a competency joins or leaves it.
export function toggleFocus(focus, key, rubric) {
  if (!key) return null;
  const required = requiredCompetencies(rubric);
  const next = new Set(focus || required);
  if (next.has(key) && !required.has(key)) next.delete(key);
  else next.add(key);
  const picked = [...next];
  return picked.length && picked.length < rubric.competencies.length ? picked : null;
}
