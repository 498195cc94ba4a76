// What several screens show of a walkthrough: where it was, how much of it is rated, its
// ratings read back, and the page for one that is not on this tablet.

import { t } from "../i18n.js";
import { main } from "../router.js";
import { rubricText } from "../rubric-text.js";
import * as store from "../store.js";
import { html, render } from "../ui.js";

// The stored schools, rubrics, calibration sessions and classrooms, by id.
export async function lookups() {
  const [schools, rubrics, sessions] = await Promise.all([
    store.all("schools"),
    store.all("rubrics"),
    store.all("sessions"),
  ]);
  const classrooms = new Map();
  for (const school of schools) for (const c of school.classrooms) classrooms.set(c.id, c);
  return {
    schools: new Map(schools.map((s) => [s.id, s])),
    rubrics: new Map(rubrics.map((r) => [r.id, r])),
    sessions: new Map(sessions.map((s) => [s.id, s])),
    classrooms,
  };
}

export function placeOf(o, look) {
  const session = o.calibration_session_id ? look.sessions.get(o.calibration_session_id) : null;
  if (session) return t("place.calibration", { title: session.title });
  const school = look.schools.get(o.school_id);
  const classroom = o.classroom_id ? look.classrooms.get(o.classroom_id) : null;
  return `${classroom ? classroom.name : t("place.whole_school")} · ${school ? school.name : t("place.a_school")}`;
}

export function ratedCount(o, rubric) {
  const total = rubric ? rubric.criteria.length : 0;
  const rated = Object.values(o.ratings).filter((r) => r.level !== null || r.not_observed).length;
  return t("form.rated", { rated, total });
}

// Every look-for with its rating and evidence, by competency, then the overall notes.
export function summary(observation, rubric) {
  const text = rubricText(rubric);
  const rated = (c) => {
    const r = observation.ratings[c.key];
    const level = r && r.level !== null ? text.levels(c).find((l) => l.value === r.level) : null;
    const shown = r?.not_observed
      ? t("form.not_observed")
      : level
        ? `${level.value} · ${level.label}`
        : t("form.not_rated");
    const unrated = level || r?.not_observed ? "" : "unrated";
    const evidence = r?.evidence ? html`<br><span class="muted">${r.evidence}</span>` : "";
    return html`<dt>${text.criterion(c.key).text || c.key}</dt><dd class="${unrated}">${shown}${evidence}</dd>`;
  };
  const section = (competency) => html`<section class="panel"><h2>${text.competency(competency.key).name}</h2>
    <dl class="summary">${rubric.criteria.filter((c) => c.competency_id === competency.id).map(rated)}</dl></section>`;
  const notes = html`<section class="panel"><h2>${t("form.notes")}</h2>
    <p class="notes">${observation.notes}</p></section>`;
  return html`${rubric.competencies.map(section)}
    ${observation.notes ? notes : ""}`;
}

export function notFound() {
  render(
    main,
    html`<section class="panel narrow"><h1>${t("not_found.title")}</h1><p>${t("not_found.body")}</p>
      <a class="button" href="#/">${t("common.home")}</a></section>`,
  );
}
