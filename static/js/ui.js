// Small DOM helpers: escaped HTML templates, messages in the app's language, relative times, a dialog.
import { locale, t } from "./i18n.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// html`<p>${name}</p>` escapes every value; raw(…) marks HTML that is already safe.
class Raw {
  constructor(text) {
    this.text = text;
  }
}
export const raw = (text) => new Raw(text);

export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((value, i) => {
    if (value instanceof Raw) out += value.text;
    else if (Array.isArray(value)) out += value.map((v) => (v instanceof Raw ? v.text : esc(v))).join("");
    else out += esc(value);
    out += strings[i + 1];
  });
  return raw(out);
}

// A message whose text holds markup (<strong>, <em>): its placeholders are escaped, unless
// they are html`…` themselves.
export const th = (key, params = {}) => raw(t(key, params, (v) => (v instanceof Raw ? v.text : esc(v))));

export function render(element, content) {
  element.innerHTML = content instanceof Raw ? content.text : esc(content);
}

// Times are shown on the district's clock (OBSERVE_TIMEZONE), as the server's pages and PDFs
// show them, whatever zone the tablet is set to; the device's own if the browser does not
// know the district's zone.
const ZONE = (() => {
  const zone = document.querySelector('meta[name="observe-timezone"]')?.content;
  try {
    new Intl.DateTimeFormat(locale, { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
})();

export function ago(iso) {
  if (!iso) return t("time.never");
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return t("time.just_now");
  if (seconds < 3600) return t("time.minutes_ago", { n: Math.round(seconds / 60) });
  if (seconds < 86400) return t("time.hours_ago", { n: Math.round(seconds / 3600) });
  return new Date(iso).toLocaleDateString(locale, { timeZone: ZONE });
}

export function when(iso) {
  return new Date(iso).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short", timeZone: ZONE });
}

export function minutes(seconds) {
  if (!seconds) return "0:00";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

const dialogButton = (b) =>
  html`<button class="button ${b.primary ? "button-primary" : ""}" value="${b.value}">${b.label}</button>`;

// A modal dialog; resolves with the value of the button pressed (or null when dismissed).
export function ask(title, body, buttons) {
  const dialog = document.getElementById("dialog");
  render(
    dialog,
    html`<form method="dialog" class="dialog-body">
    <h2 id="dialog-title">${title}</h2>
    <div>${body}</div>
    <div class="dialog-buttons">${buttons.map(dialogButton)}</div>
  </form>`,
  );
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue || null), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

export function banner(id, content, kind = "info") {
  const host = document.getElementById("banners");
  let element = document.getElementById(id);
  if (!content) {
    element?.remove();
    return null;
  }
  if (!element) {
    element = document.createElement("div");
    element.id = id;
    host.append(element);
  }
  element.className = `banner banner-${kind}`;
  element.setAttribute("role", kind === "error" ? "alert" : "status");
  render(element, content);
  return element;
}
