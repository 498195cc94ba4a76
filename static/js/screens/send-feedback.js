// The "Feedback for the teacher" panel of a submitted walkthrough (view.js): send it by e-mail
// (queued offline like any push), and where it stands — queued, sent, refused with the server's
// reason — and, when online, whether the teacher has read it and what they replied.
import { feedbackOf, queueFeedback, teacherReply } from "../feedback-send.js";
import { onLeave } from "../router.js";
import { syncNow } from "../sync.js";
import { ago, html, render, when } from "../ui.js";

function stateText(item, observation) {
  if (!item) return "";
  if (item.status === "sent") {
    return html`<p class="feedback-state" role="status"><strong>Sent</strong>
      to ${item.teacher || "the teacher"} ${item.sent_at ? ago(item.sent_at) : ""}.</p>`;
  }
  if (item.status === "refused") {
    return html`<p class="feedback-state attention" role="status"><strong>Not sent:</strong>
      ${item.error}</p>`;
  }
  const after = observation.status === "synced" ? "at the next sync" : "once this walkthrough has synced";
  return html`<p class="feedback-state" role="status"><strong>Queued:</strong> it goes to the teacher ${after}.
    ${item.error ? html`<br><span class="muted">Last try: ${item.error}</span>` : ""}</p>`;
}

function replyText(sends) {
  if (!sends?.length) return "";
  const read = sends.filter((s) => s.acknowledged_at);
  if (!read.length) return html`<p class="muted">The teacher has not said they have read it yet.</p>`;
  const last = read[read.length - 1];
  const reflection = sends.filter((s) => s.reflection).at(-1);
  return html`<p><strong>Read</strong> by ${last.teacher.name} ${when(last.acknowledged_at)}.</p>
    ${
      reflection
        ? html`<blockquote class="reflection"><p class="notes">${reflection.reflection}</p>
      <footer class="muted">${reflection.teacher.name}'s reflection</footer></blockquote>`
        : ""
    }`;
}

// Draw the panel into `section`, and again whenever sync changes something.
export async function showFeedbackPanel(section, observation) {
  let sends = null;
  const draw = async () => {
    const item = await feedbackOf(observation.id);
    const canSend = !item || item.status === "refused";
    const read = html`<a class="button" href="/walkthroughs/${observation.id}/feedback">Open the feedback</a>`;
    const send = html`<button type="button" class="button button-primary"
      id="send-feedback">${item ? "Try again" : "Send feedback to the teacher"}</button>`;
    render(
      section,
      html`<h2 id="feedback-send-heading">Feedback for the teacher</h2>
      ${stateText(item, observation)}${replyText(sends)}
      <div class="actions">
        ${observation.status === "synced" ? read : ""}
        ${canSend ? send : ""}
      </div>`,
    );
  };
  section.addEventListener("click", async (event) => {
    if (event.target.id !== "send-feedback") return;
    event.target.disabled = true;
    await queueFeedback(observation.id);
    await draw();
    syncNow();
  });
  const changed = () => draw();
  window.addEventListener("observe:changed", changed);
  onLeave(() => window.removeEventListener("observe:changed", changed));
  await draw();
  sends = await teacherReply(observation.id);
  if (sends) await draw();
}
