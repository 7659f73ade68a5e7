// Small DOM helpers shared by the pages. Text goes in with textContent only:
// nothing a user wrote is ever parsed as HTML.

import { locale } from "./i18n.js";

/** <tag class="className">text</tag> */
export function el(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

const sameDay = (a, b) => a.toDateString() === b.toDateString();

/** A button (type="button") with `text`, and `label` as its accessible name and tooltip. */
export function button(className, text = null, label = null) {
  const node = el("button", className, text);
  node.type = "button";
  if (label) {
    node.setAttribute("aria-label", label);
    node.title = label;
  }
  return node;
}

/** A time in the page's language and the browser's time zone: "14:05"
 * today, "Mar 3, 14:05" (in German "3. März, 14:05") before. */
export function formatWhen(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const time = { hour: "2-digit", minute: "2-digit" };
  const options = sameDay(when, new Date()) ? time : { month: "short", day: "numeric", ...time };
  return new Intl.DateTimeFormat(locale(), options).format(when);
}

/** The whole date and time, for a tooltip. */
export function formatFull(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(when);
}

/** A round badge with the name's initial, coloured from the name. */
export function avatar(name) {
  const badge = el("span", "avatar", (name || "?").slice(0, 1).toUpperCase());
  let hash = 0;
  for (const char of name || "") hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  badge.style.setProperty("--hue", String(hash % 360));
  badge.setAttribute("aria-hidden", "true");
  return badge;
}

/** Unicode code points, as the server counts a body's length. */
export const codePoints = (text) => [...text].length;
