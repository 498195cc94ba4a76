// The app's language and its messages: the page's <html lang> (the server sets it from the
// observer's setting, else the browser's languages), read once at start-up. The tables are
// modules under i18n/, precached with the rest of the app, so every language works offline.
// A message may hold {name} placeholders; one with plural forms is an object keyed by
// Intl.PluralRules categories ("one", "other", …), chosen by the number in params.n.
import en from "./i18n/en.js";
import es from "./i18n/es.js";

const TABLES = { en, es };

function choose(tag) {
  const base = String(tag || "")
    .toLowerCase()
    .split("-")[0];
  return TABLES[base] ? base : "en";
}

export const lang = choose(document.documentElement.lang);
// Dates and numbers in the browser's own variant of that language (en-GB, es-MX) when it has one.
export const locale = [...(navigator.languages || [])].find((l) => choose(l) === lang && l.includes("-")) || lang;
const table = TABLES[lang];
const plurals = new Intl.PluralRules(lang);
const numbers = new Intl.NumberFormat(locale);

export const formatNumber = (n) => numbers.format(n);

// The message `key` in the app's language (English when a table lacks it; tests/tablet keeps
// the tables complete), its placeholders filled in: numbers formatted for the language, each
// value passed through `escapeValue` (ui.js's th() escapes them for HTML).
export function t(key, params = {}, escapeValue = String) {
  let message = table[key] ?? en[key];
  if (message === undefined) return key;
  if (typeof message === "object") message = message[plurals.select(params.n ?? 0)] ?? message.other;
  return message.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return escapeValue(typeof value === "number" ? formatNumber(value) : value);
  });
}
