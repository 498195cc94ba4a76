// The form's "Visit" panel: when the visit began, how long it lasted, and the classroom —
// everything the server may refuse that only the observer can put right (a tablet clock that
// reset to 1970 or runs ahead, a timer left running all day, a classroom a roster import moved).
import { t } from "./i18n.js";
import { durationOf, MAX_DURATION } from "./sync.js";
import { html, th } from "./ui.js";

const pad = (n) => String(n).padStart(2, "0");

// <input type="datetime-local"> speaks the tablet's own zone.
export function localInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// The classrooms a walkthrough in `school` may name: the active ones, and the one it names now.
const choices = (school, observation) =>
  school ? school.classrooms.filter((c) => c.active || c.id === observation.classroom_id) : [];

function classroomOptions(school, observation) {
  const selected = (yes) => (yes ? "selected" : "");
  const teacher = (c) => (c.teacher ? ` · ${c.teacher.name}` : "");
  const option = (c) =>
    html`<option value="${c.id}" ${selected(c.id === observation.classroom_id)}>${c.name}${teacher(c)}</option>`;
  return html`<option value="" ${selected(observation.classroom_id === null)}>${t("place.whole_school")}</option>
    ${choices(school, observation).map(option)}`;
}

// A draft or an amendment may move to another classroom, or another of the observer's schools
// (the server checks it as it checks a new walkthrough). A calibration score stays where the
// session's lesson is.
function placeFields(observation, look) {
  const school = look.schools.get(observation.school_id);
  const schools = [...look.schools.values()].sort((a, b) => a.name.localeCompare(b.name));
  const schoolOption = (s) =>
    html`<option value="${s.id}" ${s.id === observation.school_id ? "selected" : ""}>${s.name}</option>`;
  const schoolField = html`<label>${t("start.school")}
        <select id="visit-school">${schools.map(schoolOption)}</select></label>`;
  return html`${schools.length > 1 || !school ? schoolField : ""}
      <label>${t("start.classroom")}
        <select id="visit-classroom">${classroomOptions(school, observation)}</select></label>`;
}

export function visitPanel(observation, look, reasons) {
  const minutes = Math.round((durationOf(observation) || 0) / 60);
  const problems = reasons.map((r) => html`<li>${r.message}</li>`);
  const fix = html`<div class="banner banner-error" role="alert"><p>${t("visit.fix")}</p><ul>${problems}</ul></div>`;
  const classroom = placeFields(observation, look);
  return html`<details class="panel visit" id="visit" ${reasons.length ? "open" : ""}>
    <summary>${th(observation.calibration_session_id ? "visit.summary_session" : "visit.summary")}</summary>
    ${reasons.length ? fix : ""}
    <div class="visit-fields">
      <label>${th("visit.began")}
        <input type="datetime-local" id="visit-start" value="${localInput(observation.observed_at)}" required></label>
      <label>${t("visit.length")}
        <input type="number" id="visit-length" min="0" max="${MAX_DURATION / 60}" step="1" inputmode="numeric"
          value="${minutes}"></label>
      <button type="button" class="button" id="timer-reset">${t("visit.reset")}</button>
      ${observation.calibration_session_id ? "" : classroom}
    </div></details>`;
}

// Applies an edit of the panel to the form's copy; true when it was one of the panel's fields.
export function visitInput(observation, target, look) {
  if (target.id === "visit-start") {
    const at = new Date(target.value);
    if (Number.isNaN(at.getTime())) return false;
    observation.observed_at = at.toISOString();
  } else if (target.id === "visit-length") {
    const minutes = Number(target.value);
    if (!target.value || Number.isNaN(minutes) || minutes < 0) return false;
    observation.timer = { elapsed: Math.round(minutes * 60), running_since: null }; // set by hand: paused
  } else if (target.id === "visit-school") {
    // Another school: its classrooms to pick from, none picked yet ("Whole school" until one is).
    observation.school_id = Number(target.value);
    observation.classroom_id = null;
    const select = document.getElementById("visit-classroom");
    select.innerHTML = classroomOptions(look.schools.get(observation.school_id), observation).text;
    select.focus();
  } else if (target.id === "visit-classroom") {
    observation.classroom_id = target.value ? Number(target.value) : null;
  } else return false;
  return true;
}
