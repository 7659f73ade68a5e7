// The service worker (served at /sw.js by rooms/web/pwa.py, scope "/"):
// shows the server's Web Push messages as notifications, opens the room at
// the message when one is clicked, and answers a navigation with the
// offline page when the network is gone. A classic script, not a module:
// it is served from the site root, where the modules' relative imports
// would not resolve.

const OFFLINE_URL = "/offline/";
const MANIFEST_URL = "/manifest.webmanifest";
const CACHE = "rooms-offline-v1";

/** The notification for a push's payload {room, seq, title, body, url}.
 * The tag is the one the pages' own notifications use (static/rooms/notify.js):
 * a message notified by an open tab and pushed too shows once. */
function notificationFor(payload, icon = null) {
  const message = payload && typeof payload === "object" ? payload : {};
  const options = {
    body: typeof message.body === "string" ? message.body : "",
    data: { url: typeof message.url === "string" && message.url ? message.url : "/" },
  };
  if (message.room != null && message.seq != null) options.tag = `rooms:${message.room}:${message.seq}`;
  if (icon) options.icon = icon;
  return { title: typeof message.title === "string" && message.title ? message.title : "Rooms", options };
}

/** The app's small icon, from the manifest cached at install (its URL
 * carries the static files' hash, which this script cannot know). */
async function iconUrl() {
  try {
    const manifest = await (await caches.match(MANIFEST_URL))?.json();
    return manifest?.icons?.[0]?.src ?? null;
  } catch {
    return null;
  }
}

function payloadOf(data) {
  if (!data) return null;
  try {
    return data.json();
  } catch {
    return { body: data.text() };
  }
}

/** Bring the reader to `url`: a window of this site already showing that
 * page (any fragment) is moved to the message and focused; else a new
 * window opens there. Only a click may focus or open a window. */
async function openAt(url) {
  const target = new URL(url, self.location.origin);
  const samePage = (client) => {
    const open = new URL(client.url);
    return open.origin === target.origin && open.pathname === target.pathname && open.search === target.search;
  };
  // The windows this worker controls (every page: it claims them), which it may move.
  const windows = await self.clients.matchAll({ type: "window" });
  const open = windows.find((client) => client.url === target.href) ?? windows.find(samePage);
  if (!open) return self.clients.openWindow(target.href);
  // A fragment's change: the room page scrolls to the message (static/rooms/room-page.js).
  const moved = open.url === target.href ? open : ((await open.navigate(target.href)) ?? open);
  return moved.focus();
}

async function cacheOfflinePage() {
  const cache = await caches.open(CACHE);
  // Without the reader's cookies: the cached copy holds no name or CSRF token.
  const response = await fetch(OFFLINE_URL, { credentials: "omit", cache: "no-store" });
  if (!response.ok) throw new Error(`${OFFLINE_URL} answered ${response.status}`);
  const html = await response.clone().text();
  await cache.put(OFFLINE_URL, response);
  // Its stylesheet too, so the page looks like the others.
  const sheets = [...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((match) => match[1]);
  await cache.addAll(sheets);
  const manifest = await fetch(MANIFEST_URL, { cache: "no-store" });
  if (manifest.ok) await cache.put(MANIFEST_URL, manifest);
}

// One handler per event, as the `on<event>` attributes: the browser test
// (tests/browser/test_push.py) runs the click handler itself, since
// headless Chromium has no notification to click.
self.oninstall = (event) => {
  // Best effort: a worker without the offline page still shows the pushes.
  const kept = cacheOfflinePage().catch((error) => console.warn("rooms: offline page not kept", error));
  event.waitUntil(kept.then(() => self.skipWaiting()));
};

self.onactivate = (event) => {
  const stale = (names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name)));
  event.waitUntil(
    caches
      .keys()
      .then(stale)
      .then(() => self.clients.claim()),
  );
};

self.onfetch = (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
  } else if (request.destination === "style" && new URL(request.url).origin === self.location.origin) {
    event.respondWith(fetch(request).catch(() => caches.match(request).then((cached) => cached ?? Response.error())));
  }
};

self.onpush = (event) => {
  const payload = payloadOf(event.data);
  const show = async () => {
    const { title, options } = notificationFor(payload, await iconUrl());
    await self.registration.showNotification(title, options);
  };
  event.waitUntil(show());
};

self.onnotificationclick = (event) => {
  event.notification.close();
  event.waitUntil(openAt(event.notification.data?.url ?? "/"));
};
