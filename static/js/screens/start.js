// Starting a walkthrough: school, classroom (searchable), rubric (its size, the last one
// chosen) and today's focus (start-choice.js), the rubric's context fields, then a new draft
// on this tablet.

import { t } from "../i18n.js";
import { go, main, onLeave } from "../router.js";
import { rubricText } from "../rubric-text.js";
import { currentVersions } from "../rubric-versions.js";
import { focusPanel, initialChoice, orderBySize, rememberChoice, rubricChip, toggleFocus } from "../start-choice.js";
import * as store from "../store.js";
import { html, render } from "../ui.js";

export async function startScreen() {
  const [schools, rubrics] = await Promise.all([store.all("schools"), store.all("rubrics")]);
  schools.sort((a, b) => a.name.localeCompare(b.name));
  // The current version of each rubric (its newest not retired); the others stay stored for
  // the drafts and amendments that use them.
  const latest = currentVersions(rubrics);
  const choices = orderBySize(latest.values());
  const pick = {
    school: schools.length === 1 ? schools[0].id : null,
    classroom: undefined,
    ...initialChoice(choices),
    context: {},
  };

  const draw = () => {
    const school = schools.find((s) => s.id === pick.school);
    const rubric = latest.get([...latest.keys()].find((k) => latest.get(k).id === pick.rubric));
    const schoolChip = (s) => html`<button type="button" class="chip" data-school="${s.id}"
      aria-pressed="${s.id === pick.school}">${s.name}</button>`;
    const ready = pick.school && pick.classroom !== undefined && pick.rubric;
    render(
      main,
      html`
      <h1>${t("home.start")}</h1>
      <section class="panel"><h2 id="school-heading">${t("start.school")}</h2>
        <div class="chips" role="group" aria-labelledby="school-heading">${schools.map(schoolChip)}</div>
      </section>
      ${school ? classroomPanel(school, pick) : ""}
      <section class="panel"><h2 id="rubric-heading">${t("start.rubric")}</h2>
        <div class="chips" role="group" aria-labelledby="rubric-heading">
          ${choices.map((r) => rubricChip(r, r.id === pick.rubric))}</div>
      </section>
      ${rubric ? focusPanel(rubric, pick.focus) : ""}
      ${rubric ? (rubric.document.context_fields || []).map((f) => contextPanel(rubricText(rubric), f, pick)) : ""}
      <div class="actions"><a class="button" href="#/">${t("common.cancel")}</a>
        <button type="button" class="button button-primary button-big" id="begin"
          ${ready ? "" : "disabled"}>${t("start.begin")}</button></div>`,
    );
  };
  draw();
  main.onclick = async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const d = button.dataset;
    if (d.school) {
      pick.school = Number(d.school);
      pick.classroom = undefined;
    } else if (d.classroom !== undefined) pick.classroom = d.classroom ? Number(d.classroom) : null;
    else if (d.rubric) {
      pick.rubric = Number(d.rubric);
      pick.context = {};
      pick.focus = null;
    } else if (d.focus !== undefined) {
      pick.focus = toggleFocus(
        pick.focus,
        d.focus,
        choices.find((r) => r.id === pick.rubric),
      );
    } else if (d.context) {
      const field = latestField(latest, pick.rubric, d.context);
      const chosen = [].concat(pick.context[d.context] || []);
      if (field.multiple) {
        pick.context[d.context] = chosen.includes(d.option)
          ? chosen.filter((o) => o !== d.option)
          : [...chosen, d.option];
      } else pick.context[d.context] = chosen.includes(d.option) ? [] : d.option;
    } else if (button.id === "begin") return begin(pick);
    else return;
    const search = document.getElementById("classroom-search")?.value || "";
    draw();
    const box = document.getElementById("classroom-search");
    if (box) {
      box.value = search;
      filterClassrooms(search);
    }
  };
  main.oninput = (event) => {
    if (event.target.id === "classroom-search") filterClassrooms(event.target.value);
  };
  onLeave(() => {
    main.onclick = null;
    main.oninput = null;
  });
}

// The school's active classrooms, to search by teacher, course or room; or the whole school.
function classroomPanel(school, pick) {
  // What a search matches: the room's name and code (a section id like "NGM-05" names the room
  // in many rosters), its teacher, subject, course level and grade.
  const words = (c) =>
    [c.name, c.external_id, c.teacher?.name, c.subject, c.course_level, c.grade].join(" ").toLowerCase();
  const teacher = (c) => (c.teacher ? html`<small>${c.teacher.name}</small>` : "");
  const chip = (c) => html`<button type="button" class="chip" data-classroom="${c.id}" data-search="${words(c)}"
    aria-pressed="${c.id === pick.classroom}">${c.name}${teacher(c)}</button>`;
  return html`<section class="panel"><h2 id="classroom-heading">${t("start.classroom")}</h2>
        <label for="classroom-search">${t("start.search")}</label>
        <input id="classroom-search" type="search" autocomplete="off" placeholder="${t("start.search_example")}">
        <div class="chips classrooms" role="group" aria-labelledby="classroom-heading">
          <button type="button" class="chip" data-classroom="" data-whole-school
            aria-pressed="${pick.classroom === null}">${t("place.whole_school")}</button>
          ${school.classrooms.filter((c) => c.active).map(chip)}
        </div></section>`;
}

// One of the rubric's context fields (course level, grouping, …): pick one, or any that apply.
function contextPanel(text, field, pick) {
  const chosen = [].concat(pick.context[field.key] || []);
  const shown = text.contextField(field);
  const chip = (option) => html`<button type="button" class="chip" data-context="${field.key}"
    data-option="${option.value}" aria-pressed="${chosen.includes(option.value)}">${option.label}</button>`;
  const any = field.multiple ? html` <small class="muted">${t("start.any_that_apply")}</small>` : "";
  return html`<section class="panel"><h2 id="ctx-${field.key}">${shown.label}${any}</h2>
        <div class="chips" role="group" aria-labelledby="ctx-${field.key}">${shown.options.map(chip)}</div></section>`;
}

function latestField(latest, rubricId, key) {
  const rubric = [...latest.values()].find((r) => r.id === rubricId);
  return rubric.document.context_fields.find((f) => f.key === key);
}

// Only the classrooms that match every word typed; "Whole school" only while nothing is typed, so
// a search never leaves it first in line to be tapped by mistake.
function filterClassrooms(text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  for (const chip of main.querySelectorAll("[data-search]")) {
    chip.hidden = !words.every((w) => chip.dataset.search.includes(w));
  }
  const whole = main.querySelector("[data-whole-school]");
  if (whole) whole.hidden = words.length > 0;
}

// A new draft with what was picked (a calibration session's too), then its form.
export async function begin(pick) {
  const context = Object.fromEntries(Object.entries(pick.context).filter(([, v]) => v?.length));
  const observation = {
    id: crypto.randomUUID(),
    rubric_version_id: pick.rubric,
    school_id: pick.school,
    classroom_id: pick.classroom,
    calibration_session_id: pick.session || null,
    observed_at: new Date().toISOString(),
    context,
    // Today's competencies (competency keys), or none: the whole rubric. Kept with the draft.
    ...(pick.focus?.length && !pick.session ? { focus: [...pick.focus] } : {}),
    ratings: {},
    notes: "",
    timer: { elapsed: 0, running_since: new Date().toISOString() },
    state: "draft",
    status: "draft",
    last_version_id: null,
    dirty: true,
    rev: 1,
  };
  await store.put("observations", observation);
  await store.setMeta("last_change", new Date().toISOString());
  if (!pick.session) {
    const rubric = await store.get("rubrics", pick.rubric);
    if (rubric) rememberChoice(rubric, pick.focus);
  }
  go(`#/observe/${observation.id}`);
}
