// Browser notifications: asking for the permission (only from a control the
// user activates, never on page load), deciding which messages notify under
// a room's setting, and showing each one once however many tabs are open.

import { gettext, interpolate } from "./i18n.js";
import { mentionsIn, plainText } from "./render.js";
import { filesText } from "./attachments.js";

const CLAIMS_KEY = "rooms.notified";
const CLAIMS_KEPT = 200;

export const supported = () => typeof window !== "undefined" && "Notification" in window;

/** "granted", "denied", "default" or "unsupported". */
export const permission = () => (supported() ? window.Notification.permission : "unsupported");

/** Whether `message` should notify `me` under a room's `level` (all, mentions, none). */
export function wanted(message, { me, level }) {
  if (!message || message.deleted || message.author === me) return false;
  if (message.kind !== "text" && message.kind !== "system") return false;
  if (level === "all") return true;
  if (level === "none") return false;
  return mentionsIn(message.body).has(me);
}

/**
 * Show a notification for `message` of room `room` (slug) if the page is
 * hidden and the permission granted, unless another tab already did: tabs
 * claim each (room, seq) in localStorage under a Web Lock, so the check and
 * the claim are one step. `open()` runs when the user clicks it; `direct`
 * (a direct conversation) leaves the room's title out. Resolves to
 * whether this tab showed it.
 */
export async function notifyOnce({ room, title, message, me, open, direct = false }) {
  if (permission() !== "granted" || document.visibilityState !== "hidden") return false;
  const key = `${room}:${message.seq}`;
  const show = () => {
    if (!claim(key)) return false;
    const mentioned = mentionsIn(message.body).has(me);
    const values = { name: message.author ?? gettext("System"), room: title };
    // A direct conversation is named after its people: "alice in alice" says nothing.
    let heading = direct ? gettext("%(name)s messaged you") : gettext("%(name)s in %(room)s");
    if (mentioned) heading = direct ? gettext("%(name)s mentioned you") : gettext("%(name)s mentioned you in %(room)s");
    const notification = new window.Notification(
      interpolate(heading, values),
      { body: plainText(message.body, 160) || filesText(message), tag: `rooms:${key}` },
    );
    notification.onclick = () => {
      window.focus();
      notification.close?.();
      open();
    };
    return true;
  };
  if (navigator.locks) return navigator.locks.request(CLAIMS_KEY, show);
  return show();
}

/** Record `key` as notified; false when some tab had already. */
function claim(key) {
  let claims = [];
  try {
    claims = JSON.parse(localStorage.getItem(CLAIMS_KEY) ?? "[]");
    if (!Array.isArray(claims)) claims = [];
  } catch {
    claims = [];
  }
  if (claims.includes(key)) return false;
  claims.push(key);
  try {
    localStorage.setItem(CLAIMS_KEY, JSON.stringify(claims.slice(-CLAIMS_KEPT)));
  } catch {
    // storage full or disabled: this tab shows it anyway
  }
  return true;
}

/**
 * The "Enable notifications" control: a button shown while the browser has
 * not been asked, and a line saying where things stand. `announce(text)`
 * reads the outcome out.
 */
export function permissionControl(button, status, announce = () => {}) {
  const render = () => {
    const state = permission();
    button.hidden = state !== "default";
    status.textContent = {
      granted: gettext("Browser notifications are on while this tab is in the background."),
      denied: gettext("Browser notifications are blocked for this site (change it in the browser's site settings)."),
      unsupported: gettext("This browser cannot show notifications."),
      default: "",
    }[state];
    status.hidden = !status.textContent;
  };
  button.addEventListener("click", async () => {
    if (!supported()) return;
    await window.Notification.requestPermission();
    render();
    announce(status.textContent || gettext("Notifications not enabled."));
  });
  render();
  return render;
}
