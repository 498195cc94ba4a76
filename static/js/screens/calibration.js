// Calibration on the tablet: the sessions this observer takes part in, listed on the home
// screen with where each stands, and scoring one (a draft tied to the session, scored blind).
import { t } from "../i18n.js";
import { html } from "../ui.js";
import { begin } from "./start.js";

// Where this observer's own scores stand, once submitted.
const SCORED = {
  waiting: "calibration.waiting",
  attention: "calibration.attention",
  synced: "calibration.synced",
};

// The home screen's panel: nothing when this observer is in no session.
export function sessionsPanel(look, observations) {
  const sessions = [...look.sessions.values()].sort((a, b) => b.held_on.localeCompare(a.held_on));
  const mine = new Map(observations.filter((o) => o.calibration_session_id).map((o) => [o.calibration_session_id, o]));
  const sessionItem = (session) => {
    const own = mine.get(session.id);
    const room = session.classroom_name || session.lesson_reference || t("place.whole_school");
    const where = `${room} · ${session.school_name}`;
    let action;
    let state = t("calibration.blind");
    if (session.state === "revealed") {
      action = html`<a class="button" href="/calibration/${session.id}">${t("calibration.report")}</a>`;
      state = t("calibration.revealed");
    } else if (!own || own.status === "deleted") {
      action = html`<button type="button" class="button button-primary"
        data-score-session="${session.id}">${t("calibration.score")}</button>`;
    } else if (own.status === "draft") {
      action = html`<a class="button button-primary" href="#/observe/${own.id}">${t("calibration.continue")}</a>`;
    } else {
      action = html`<a class="button" href="#/view/${own.id}">${t("calibration.yours")}</a>`;
      state = SCORED[own.status] ? t(SCORED[own.status]) : state;
    }
    return html`<li class="session-item"><div><span class="item-title">${session.title}</span>
      <span class="item-meta">${where} · ${session.held_on} · ${state}</span></div>${action}</li>`;
  };
  if (!sessions.length) return "";
  return html`<section class="panel" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">${t("calibration.title")} <span class="count">${sessions.length}</span></h2>
      <p class="muted">${t("calibration.intro")}</p>
      <ul class="items">${sessions.map(sessionItem)}</ul></section>`;
}

// "Score this lesson": a new draft in the session's classroom, with the session's rubric.
export function scoreSession(button, look) {
  const session = look.sessions.get(Number(button.dataset.scoreSession));
  begin({
    school: session.school_id,
    classroom: session.classroom_id,
    rubric: session.rubric_version_id,
    context: {},
    session: session.id,
  });
}
