// The "Feedback for the teacher" panel of a submitted walkthrough (view.js): send it by e-mail
// (queued offline like any push), and where it stands — queued, sent, refused with the server's
// reason — and, when online, whether the teacher has read it and what they replied.
import { feedbackOf, queueFeedback, teacherReply } from "../feedback-send.js";
import { t } from "../i18n.js";
import { onLeave } from "../router.js";
import { syncNow } from "../sync.js";
import { ago, html, render, th, when } from "../ui.js";

function stateText(item, observation) {
  if (!item) return "";
  if (item.status === "sent") {
    const to = item.teacher || t("send.the_teacher");
    const sent = th("send.sent", { to, when: item.sent_at ? ago(item.sent_at) : "" });
    return html`<p class="feedback-state" role="status">${sent}</p>`;
  }
  if (item.status === "refused") {
    return html`<p class="feedback-state attention" role="status">${th("send.not_sent", { error: item.error })}</p>`;
  }
  const queued = observation.status === "synced" ? "send.queued_next_sync" : "send.queued_after_sync";
  return html`<p class="feedback-state" role="status">${th(queued)}
    ${item.error ? html`<br><span class="muted">${t("send.last_try", { error: item.error })}</span>` : ""}</p>`;
}

function replyText(sends) {
  if (!sends?.length) return "";
  const read = sends.filter((s) => s.acknowledged_at);
  if (!read.length) return html`<p class="muted">${t("send.not_read")}</p>`;
  const last = read[read.length - 1];
  const reflection = sends.filter((s) => s.reflection).at(-1);
  return html`<p>${th("send.read", { name: last.teacher.name, when: when(last.acknowledged_at) })}</p>
    ${
      reflection
        ? html`<blockquote class="reflection"><p class="notes">${reflection.reflection}</p>
      <footer class="muted">${t("send.reflection", { name: reflection.teacher.name })}</footer></blockquote>`
        : ""
    }`;
}

// Draw the panel into `section`, and again whenever sync changes something.
export async function showFeedbackPanel(section, observation) {
  let sends = null;
  const draw = async () => {
    const item = await feedbackOf(observation.id);
    const canSend = !item || item.status === "refused";
    const read = html`<a class="button" href="/walkthroughs/${observation.id}/feedback">${t("send.open")}</a>`;
    const send = html`<button type="button" class="button button-primary"
      id="send-feedback">${item ? t("send.try_again") : t("send.send")}</button>`;
    render(
      section,
      html`<h2 id="feedback-send-heading">${t("feedback.title")}</h2>
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
