// Web Push in the pages without a browser: the server's key as bytes and
// the device control's states (rooms/static/rooms/webpush.js), and the
// service worker (rooms/static/rooms/sw.js) run in a sandbox of its own
// with a fake `self`: what a push shows, where a click takes the reader,
// and what a navigation gets when the network is gone. Run with
// `node --test tests/js/`.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import vm from "node:vm";

import { deviceControl, sameKey, urlBase64ToUint8Array } from "../../rooms/static/rooms/webpush.js";

const ORIGIN = "https://rooms.example";
const SW_SOURCE = readFileSync(new URL("../../rooms/static/rooms/sw.js", import.meta.url), "utf8");

describe("the server's key", () => {
  test("base64url without padding decodes to its bytes", () => {
    // 0xfb 0xff 0xfe: "+//+" in base64, "-__-" in base64url.
    assert.deepEqual([...urlBase64ToUint8Array("-__-")], [0xfb, 0xff, 0xfe]);
    assert.deepEqual([...urlBase64ToUint8Array("AQI")], [1, 2]);
    assert.deepEqual([...urlBase64ToUint8Array("AQI=")], [1, 2]);
    assert.equal(urlBase64ToUint8Array("B".repeat(87)).length, 65); // a P-256 point
  });

  test("a subscription is the server's only when made with the same key", () => {
    const bytes = new Uint8Array([1, 2]).buffer;
    assert.equal(sameKey(bytes, "AQI"), true);
    assert.equal(sameKey(bytes, "AQM"), false);
    assert.equal(sameKey(bytes, "AQID"), false);
    assert.equal(sameKey(null, "AQI"), false);
    assert.equal(sameKey(bytes, null), false);
  });
});

describe("the device control", () => {
  const base = { supported: true, key: "AQI", permission: "default", subscribed: false };

  test("offers to notify this device until it is subscribed, then to stop", () => {
    assert.equal(deviceControl(base).label, "Notify me on this device");
    assert.equal(deviceControl(base).action, "subscribe");
    assert.equal(deviceControl({ ...base, permission: "granted" }).action, "subscribe");
    const on = deviceControl({ ...base, permission: "granted", subscribed: true });
    assert.equal(on.label, "Stop on this device");
    assert.equal(on.action, "unsubscribe");
  });

  test("says when the server has no push key, and offers nothing", () => {
    const control = deviceControl({ ...base, key: null });
    assert.match(control.label, /not set up on this server/);
    assert.equal(control.action, null);
  });

  test("says when the browser cannot, or the reader blocked notifications", () => {
    assert.equal(deviceControl({ ...base, supported: false }).action, null);
    const blocked = deviceControl({ ...base, permission: "denied", subscribed: true });
    assert.equal(blocked.action, null);
    assert.match(blocked.label, /blocked/);
    assert.match(blocked.note, /site settings/);
  });
});

/** sw.js in a sandbox: its listeners, the notifications it showed, the
 * windows it focused, moved or opened, and a cache and network of our own. */
function serviceWorker({ windows = [], online = true, cached = {} } = {}) {
  const shown = [];
  const opened = [];
  const cache = new Map(Object.entries(cached));
  const self = {
    location: new URL(`${ORIGIN}/sw.js`),
    registration: {
      showNotification: async (title, options) => {
        // Through JSON: objects of the sandbox's realm, compared as plain data.
        shown.push(JSON.parse(JSON.stringify({ title, ...options })));
      },
    },
    clients: {
      matchAll: async () => windows,
      openWindow: async (url) => {
        opened.push(url);
        return { url };
      },
      claim: async () => {},
    },
    skipWaiting: async () => {},
  };
  const caches = {
    match: async (request) => cache.get(typeof request === "string" ? request : request.url),
  };
  const fetch = async () => {
    if (!online) throw new TypeError("Failed to fetch");
    return "from the network";
  };
  vm.runInNewContext(SW_SOURCE, { self, caches, fetch, URL, Response: { error: () => "error" }, console });

  /** Run the `type` listener with `event`; resolves once its waitUntil /
   * respondWith promise has settled, to what it settled to. */
  async function dispatch(type, event) {
    let pending = Promise.resolve(UNTOUCHED);
    self[`on${type}`]({
      ...event,
      waitUntil: (promise) => {
        pending = promise;
      },
      respondWith: (promise) => {
        pending = promise;
      },
    });
    return pending;
  }
  return { dispatch, shown, opened, cache };
}

const UNTOUCHED = "left to the browser";

const pushOf = (payload) => ({ data: { json: () => payload, text: () => JSON.stringify(payload) } });

function windowAt(url) {
  const client = { url, focused: false, moves: [] };
  client.focus = async () => {
    client.focused = true;
    return client;
  };
  client.navigate = async (to) => {
    client.moves.push(to);
    client.url = to;
    return client;
  };
  return client;
}

describe("the service worker", () => {
  test("shows a push with the pages' own tag, its text and the link", async () => {
    const worker = serviceWorker({
      cached: { "/manifest.webmanifest": { json: async () => ({ icons: [{ src: "/static/i.png" }] }) } },
    });
    const url = `${ORIGIN}/rooms/lobby/#seq-7`;
    await worker.dispatch("push", pushOf({ room: "lobby", seq: 7, title: "bob in Lobby", body: "hi", url }));
    assert.deepEqual(worker.shown, [
      { title: "bob in Lobby", body: "hi", tag: "rooms:lobby:7", data: { url }, icon: "/static/i.png" },
    ]);
  });

  test("uses the tag static/rooms/notify.js gives the same message", () => {
    const notify = readFileSync(new URL("../../rooms/static/rooms/notify.js", import.meta.url), "utf8");
    assert.match(notify, /const key = `\$\{room\}:\$\{message\.seq\}`/);
    assert.match(notify, /tag: `rooms:\$\{key\}`/);
    assert.match(SW_SOURCE, /tag = `rooms:\$\{message\.room\}:\$\{message\.seq\}`/);
  });

  test("a push it cannot read still shows a notification (the browser requires one)", async () => {
    const worker = serviceWorker();
    await worker.dispatch("push", { data: { json: () => JSON.parse("{"), text: () => "{" } });
    await worker.dispatch("push", { data: null });
    assert.deepEqual(worker.shown, [
      { title: "Rooms", body: "{", data: { url: "/" } },
      { title: "Rooms", body: "", data: { url: "/" } },
    ]);
  });

  const click = (url) => ({ notification: { data: { url }, close() {} } });

  test("a click opens a new window at the message when the room is not open", async () => {
    const other = windowAt(`${ORIGIN}/rooms/other/`);
    const worker = serviceWorker({ windows: [other] });
    await worker.dispatch("notificationclick", click(`${ORIGIN}/rooms/lobby/#seq-7`));
    assert.deepEqual(worker.opened, [`${ORIGIN}/rooms/lobby/#seq-7`]);
    assert.equal(other.focused, false);
  });

  test("a click focuses the room's open window and moves it to the message", async () => {
    const other = windowAt(`${ORIGIN}/`);
    const lobby = windowAt(`${ORIGIN}/rooms/lobby/#seq-3`);
    const worker = serviceWorker({ windows: [other, lobby] });
    await worker.dispatch("notificationclick", click(`${ORIGIN}/rooms/lobby/#seq-7`));
    assert.deepEqual(worker.opened, []);
    assert.equal(lobby.focused, true);
    assert.deepEqual(lobby.moves, [`${ORIGIN}/rooms/lobby/#seq-7`]);
  });

  test("a click on a window already at the message only focuses it", async () => {
    const lobby = windowAt(`${ORIGIN}/rooms/lobby/#seq-7`);
    const worker = serviceWorker({ windows: [lobby] });
    await worker.dispatch("notificationclick", click(`${ORIGIN}/rooms/lobby/#seq-7`));
    assert.equal(lobby.focused, true);
    assert.deepEqual(lobby.moves, []);
  });

  test("a navigation goes to the network first, and to the offline page without one", async () => {
    const navigation = { request: { method: "GET", mode: "navigate", url: `${ORIGIN}/` } };
    const online = serviceWorker({ cached: { "/offline/": "the offline page" } });
    assert.equal(await online.dispatch("fetch", navigation), "from the network");
    const offline = serviceWorker({ online: false, cached: { "/offline/": "the offline page" } });
    assert.equal(await offline.dispatch("fetch", navigation), "the offline page");
  });

  test("a stylesheet falls back to its kept copy; other requests are left to the browser", async () => {
    const sheet = { method: "GET", mode: "no-cors", destination: "style", url: `${ORIGIN}/static/rooms/rooms.css` };
    const offline = serviceWorker({ online: false, cached: { [sheet.url]: "the kept stylesheet" } });
    assert.equal(await offline.dispatch("fetch", { request: sheet }), "the kept stylesheet");
    const post = { method: "POST", mode: "navigate", destination: "document", url: `${ORIGIN}/direct/` };
    const script = { method: "GET", mode: "cors", destination: "script", url: `${ORIGIN}/static/rooms/app.js` };
    assert.equal(await offline.dispatch("fetch", { request: post }), UNTOUCHED);
    assert.equal(await offline.dispatch("fetch", { request: script }), UNTOUCHED);
  });
});
