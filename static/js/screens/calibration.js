// Calibration on the tablet: the sessions this observer takes part in, listed on the home
// screen with where each stands, and scoring one (a draft tied to the session, scored blind).
import { html } from "../ui.js";
import { begin } from "./start.js";

// Where this observer's own scores stand, once submitted.
const SCORED = {
  waiting: "Submitted · waiting to sync",
  attention: "The server did not accept your scores: open them to see why",
  synced: "Submitted · hidden from others until the reveal",
};

// The home screen's panel: nothing when this observer is in no session.
export function sessionsPanel(look, observations) {
  const sessions = [...look.sessions.values()].sort((a, b) => b.held_on.localeCompare(a.held_on));
  const mine = new Map(observations.filter((o) => o.calibration_session_id).map((o) => [o.calibration_session_id, o]));
  const sessionItem = (session) => {
    const own = mine.get(session.id);
    const where = `${session.classroom_name || session.lesson_reference || "Whole school"} · ${session.school_name}`;
    let action;
    let state = "Scoring blind";
    if (session.state === "revealed") {
      action = html`<a class="button" href="/calibration/${session.id}">See the report</a>`;
      state = "Revealed";
    } else if (!own || own.status === "deleted") {
      action = html`<button type="button" class="button button-primary"
        data-score-session="${session.id}">Score this lesson</button>`;
    } else if (own.status === "draft") {
      action = html`<a class="button button-primary" href="#/observe/${own.id}">Continue scoring</a>`;
    } else {
      action = html`<a class="button" href="#/view/${own.id}">Your scores</a>`;
      state = SCORED[own.status] || state;
    }
    return html`<li class="session-item"><div><span class="item-title">${session.title}</span>
      <span class="item-meta">${where} · ${session.held_on} · ${state}</span></div>${action}</li>`;
  };
  if (!sessions.length) return "";
  return html`<section class="panel" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Calibration sessions <span class="count">${sessions.length}</span></h2>
      <p class="muted">Score the lesson on your own; nobody sees anyone's scores until the facilitator reveals them.</p>
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
