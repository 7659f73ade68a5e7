// The pure side of Web Push in the pages (static/rooms/push.js holds the
// browser's side): the server's key as the bytes the Push API takes, and
// what the "Notify me on this device" control offers in each state. No DOM
// here, so node tests it (tests/js/push.test.mjs).

import { gettext } from "./i18n.js";

/** A base64url text (padded or not), as the server's public key is sent, as bytes. */
export function urlBase64ToUint8Array(text) {
  const base64 = `${text}${"=".repeat((4 - (text.length % 4)) % 4)}`.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** Whether a subscription's applicationServerKey (an ArrayBuffer, or null)
 * is the server's key `text`: if the server's key changed, the browser's
 * subscription no longer reaches this device and must be made again. */
export function sameKey(buffer, text) {
  if (!buffer || !text) return false;
  const mine = new Uint8Array(buffer);
  const theirs = urlBase64ToUint8Array(text);
  return mine.length === theirs.length && mine.every((byte, index) => byte === theirs[index]);
}

/**
 * What the control shows: `label` (the button's text), `action` ("subscribe",
 * "unsubscribe", or null: the button is disabled) and `note` (a line of
 * explanation, maybe empty), given whether the browser can receive pushes
 * (`supported`), the server's key (null: push not set up), the notification
 * `permission` and whether this device is `subscribed` with that key.
 */
export function deviceControl({ supported, key, permission, subscribed }) {
  if (!supported) {
    return { label: gettext("This browser cannot get push notifications"), action: null, note: "" };
  }
  if (!key) return { label: gettext("Push notifications are not set up on this server"), action: null, note: "" };
  if (permission === "denied") {
    return {
      label: gettext("Notifications are blocked for this site"),
      action: null,
      note: gettext("Allow them in the browser's site settings, then reload the page."),
    };
  }
  if (subscribed) {
    return {
      label: gettext("Stop on this device"),
      action: "unsubscribe",
      note: gettext("This device gets a notification of what you miss while away."),
    };
  }
  return {
    label: gettext("Notify me on this device"),
    action: "subscribe",
    note: gettext("A notification on this device when you are mentioned or messaged while away."),
  };
}
