// Web Push on this device (docs/ui.md, "Installable app and push"): every
// signed-in page registers the service worker (/sw.js, which shows the
// pushes); the slot #push-device (the settings page, the room list) gets
// the control that turns them on or off for this browser, asking for the
// notification permission only when it is clicked; logging out from this
// device stops them first.

import { csrfToken } from "./direct.js";
import { gettext } from "./i18n.js";
import { deviceControl, sameKey, urlBase64ToUint8Array } from "./webpush.js";

const KEY_URL = "/api/push/key";
const SUBSCRIPTIONS_URL = "/api/push/subscriptions";
// Logging out waits this long at most for the server to forget the device.
const LOGOUT_WAIT_MS = 3000;

const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

const registered =
  "serviceWorker" in navigator
    ? navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
        console.warn("rooms: the service worker did not register", error);
        return null;
      })
    : Promise.resolve(null);

/** The active registration (pushes need an active worker), or null. */
async function activeRegistration() {
  return (await registered) ? navigator.serviceWorker.ready : null;
}

/** The server's public key (base64url), or null when push is not set up. */
async function serverKey() {
  try {
    const response = await fetch(KEY_URL, { credentials: "same-origin" });
    if (!response.ok) return null;
    return (await response.json()).public_key || null;
  } catch {
    return null;
  }
}

function tellServer(method, body) {
  return fetch(SUBSCRIPTIONS_URL, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
}

/** Stop pushes to this device: the server forgets it, then the browser. */
async function stopHere(subscription) {
  await tellServer("DELETE", { endpoint: subscription.endpoint });
  await subscription.unsubscribe();
}

async function startHere(registration, key) {
  const old = await registration.pushManager.getSubscription();
  if (old) await stopHere(old); // made with an older key of the server's
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: urlBase64ToUint8Array(key),
  });
  const response = await tellServer("POST", subscription.toJSON());
  if (!response.ok) {
    await subscription.unsubscribe();
    throw new Error(`the server answered ${response.status}`);
  }
}

/** The control in `slot`: a button and a line saying where things stand. */
async function deviceSlot(slot) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button small";
  const note = document.createElement("p");
  note.className = "muted small";
  note.setAttribute("role", "status");

  const key = supported ? await serverKey() : null;
  const registration = supported && key ? await activeRegistration() : null;
  let state = {};
  const render = async (outcome = "") => {
    const subscription = await registration?.pushManager.getSubscription();
    const subscribed = Boolean(subscription && sameKey(subscription.options.applicationServerKey, key));
    state = deviceControl({
      supported: supported && Boolean(await registered),
      key,
      permission: supported ? Notification.permission : "unsupported",
      subscribed,
    });
    button.textContent = state.label;
    button.disabled = !state.action;
    note.textContent = outcome || state.note;
    note.hidden = !note.textContent;
    // In the page once it has its words: an empty button has no name.
    if (!button.isConnected) slot.replaceChildren(button, note);
    return subscription;
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    let outcome = "";
    try {
      if (state.action === "subscribe") {
        // The permission is asked here, on the reader's click, never on load.
        if ((await Notification.requestPermission()) === "granted") await startHere(registration, key);
      } else if (state.action === "unsubscribe") {
        const subscription = await registration.pushManager.getSubscription();
        if (subscription) await stopHere(subscription);
      }
    } catch (error) {
      console.warn("rooms: push on this device", error);
      outcome = gettext("That did not work; try again later.");
    }
    await render(outcome);
  });

  const subscription = await render();
  // The server may have forgotten this device (a push service's 410): tell
  // it again; the same endpoint twice is one subscription.
  if (state.action === "unsubscribe") tellServer("POST", subscription.toJSON()).catch(() => {});
}

/** Logging out from this device stops its pushes first, then carries on. */
function stopOnLogout(form) {
  form.addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      const stop = (async () => {
        const registration = await navigator.serviceWorker.getRegistration("/");
        const subscription = await registration?.pushManager.getSubscription();
        if (subscription) await stopHere(subscription);
      })();
      const timeout = new Promise((resolve) => setTimeout(resolve, LOGOUT_WAIT_MS));
      Promise.race([stop, timeout])
        .catch((error) => console.warn("rooms: push not stopped on logout", error))
        .finally(() => form.submit());
    },
    { once: true },
  );
}

const slot = document.getElementById("push-device");
if (slot) deviceSlot(slot);
const logout = document.querySelector("form.logout");
if (logout && supported) stopOnLogout(logout);
