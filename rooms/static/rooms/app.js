// The browser UI: starts the protocol client (client.js), shows the
// connection state, and runs the page: the room list here, the room page in
// room-page.js. Everything that came from a user is set with textContent.

import { RoomsClient } from "./client.js";
import { startRoomPage } from "./room-page.js";
import { formatFull, formatWhen } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { tabBadge } from "./badges.js";
import { notifyOnce, permissionControl, wanted } from "./notify.js";
import { mentionsIn } from "./render.js";
import { startDirectList, watchDirectConversations } from "./direct.js";
import { joinPlan } from "./joins.js";

const config = JSON.parse(document.getElementById("rooms-config").textContent);
const scheme = location.protocol === "https:" ? "wss" : "ws";

let storage = null;
try {
  storage = window.localStorage;
} catch {
  // storage disabled: the outbox lives in memory for this page
}

const client = new RoomsClient({
  url: `${scheme}://${location.host}/ws/`,
  storage,
  outboxKey: `rooms.outbox:${config.user}`,
  user: config.user,
});

showConnection(client);
if (config.page === "room") {
  startRoomPage(client, config);
  watchDirectConversations(client, config);
} else if (config.page === "room-list") {
  startRoomList(client, config);
  startDirectList(client, config);
}

// The browser knows before the socket does: drop the connection when the
// network goes away, and come back as soon as it returns.
window.addEventListener("offline", () => client.disconnect("offline"));
window.addEventListener("online", () => client.reconnectNow());
if (navigator.onLine === false) client.disconnect("offline");
else client.connect();


/** The connection badge in the top bar: connected / reconnecting in N s /
 * offline / too many connections / signed out, with a link to log in. */
function showConnection(client) {
  const badge = document.getElementById("conn");
  if (!badge) return;
  const text = badge.querySelector(".conn-text");
  const retry = badge.querySelector(".conn-retry");
  // After close 4401 nothing reconnects by itself: the way back is logging in.
  const login = document.createElement("a");
  login.className = "conn-login";
  login.textContent = gettext("Log in");
  login.href = `/accounts/login/?next=${encodeURIComponent(location.pathname + location.search)}`;
  login.hidden = true;
  badge.append(login);
  let retryAt = null;
  let reason = null;
  let ticker = null;
  badge.hidden = false;
  retry.addEventListener("click", () => client.reconnectNow());

  const render = () => {
    const state = badge.dataset.state;
    const seconds = retryAt == null ? 0 : Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    const crowded = state === "reconnecting" && reason === "too-many-sockets";
    retry.hidden = state !== "reconnecting" || retryAt == null;
    login.hidden = state !== "signed-out";
    badge.title = crowded
      ? gettext(
          "This account has too many open connections (tabs, devices or bots). " +
            "Close some; this page keeps trying by itself, less often.",
        )
      : "";
    if (state === "connected") text.textContent = gettext("Connected");
    else if (state === "connecting") text.textContent = gettext("Connecting…");
    else if (state === "offline") text.textContent = gettext("Offline");
    else if (state === "signed-out") text.textContent = gettext("Signed out");
    else if (crowded) {
      text.textContent =
        seconds > 0
          ? interpolate(gettext("Too many connections: retrying in %(seconds)s s"), { seconds })
          : gettext("Too many connections: retrying…");
    } else if (state === "reconnecting") {
      text.textContent =
        seconds > 0
          ? interpolate(gettext("Reconnecting in %(seconds)s s"), { seconds })
          : gettext("Reconnecting…");
    } else text.textContent = state;
  };

  client.on("status", ({ state, retryAt: at, reason: why }) => {
    badge.dataset.state = state;
    badge.dataset.reason = why ?? "";
    retryAt = at ?? null;
    reason = why ?? null;
    clearInterval(ticker);
    if (retryAt != null) ticker = setInterval(render, 1000);
    render();
  });
}

/** The room list: live unread count and last activity per room. Unread
 * counts messages of other users above the read cursor, never edits,
 * deletions or reactions (docs/protocol.md), so the page counts the messages that
 * arrive rather than subtracting seqs. Only the rooms the server ranks
 * first (`config.join`, at most `config.joinLimit`: joins.js) are joined
 * and counted live; the others show the server's counts, read again with
 * the page's. */
function startRoomList(client, config) {
  const rooms = new Map();
  const joined = new Set();
  const joinLimit = config.joinLimit ?? Infinity;
  const showBadge = tabBadge();
  const live = document.getElementById("live");
  const announce = (text) => {
    if (live) live.textContent = text;
  };
  permissionControl(document.getElementById("notify-permission"), document.getElementById("notify-status"), announce);
  // `unread` as the server counted it up to `head`, plus the seqs of
  // unread messages of others that arrived since.
  const track = (room, row) => ({
    kind: room.kind,
    head: room.head,
    unread: room.unread,
    arrived: [],
    mentions: room.mentions ?? 0,
    mentioned: [], // seqs of messages that arrived since and mention the user
    title: room.title,
    row,
    at: room.last_activity,
  });
  // since = head: only what arrives from now on. Direct conversations are
  // joined with presence, so their people see each other online.
  const joinOptions = (room) => ({ since: room.head, presence: room.kind === "direct" });
  const follow = (plan) => {
    for (const slug of plan.leave) {
      joined.delete(slug);
      client.leave(slug);
    }
    for (const slug of plan.join) {
      const room = rooms.get(slug);
      if (!room) continue;
      joined.add(slug);
      client.join(slug, joinOptions(room));
    }
  };
  for (const room of config.rooms) {
    const row = document.querySelector(`.room-row[data-room="${CSS.escape(room.slug)}"]`);
    if (row) rooms.set(room.slug, track(room, row));
  }

  const render = (slug) => {
    const room = rooms.get(slug);
    const unread = room.unread + room.arrived.length;
    room.row.dataset.unread = String(unread);
    const badge = room.row.querySelector(".unread");
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.setAttribute("aria-label", interpolate(ngettext("%(count)s unread", "%(count)s unread", unread), { count: unread }));
    badge.hidden = unread === 0;
    room.row.classList.toggle("room-row--unread", unread > 0);
    const mentions = room.mentions + room.mentioned.length;
    const mentionBadge = room.row.querySelector(".mention-badge");
    mentionBadge.textContent = `@${mentions > 99 ? "99+" : mentions}`;
    mentionBadge.setAttribute(
      "aria-label",
      interpolate(ngettext("%(count)s mention of you", "%(count)s mentions of you", mentions), { count: mentions }),
    );
    mentionBadge.hidden = mentions === 0;
    const activity = room.row.querySelector(".room-activity");
    if (room.at) {
      const time = document.createElement("time");
      time.dateTime = room.at;
      time.textContent = formatWhen(room.at);
      time.title = formatFull(room.at);
      activity.replaceChildren(time);
    }
    updateBadge();
  };

  // The tab: "(N) Rooms" with N unread over all rooms, and the icon's dot.
  const updateBadge = () => {
    let unread = 0;
    let mentioned = false;
    for (const room of rooms.values()) {
      unread += room.unread + room.arrived.length;
      mentioned ||= room.mentions + room.mentioned.length > 0;
    }
    showBadge({ unread, mentioned });
  };

  // Read cursors move in other tabs; the server tells this socket with
  // `read` frames, but not while it is disconnected: after a reconnect, or
  // when a cursor moved to a seq this page cannot count from, take the counts
  // from a fresh copy of this page. When the user's rooms changed (a `rooms`
  // frame: invited, removed, a new direct conversation), the fresh copy's
  // lists replace this page's, and the rooms new to it are joined.
  // One fetch at a time, and at most one waiting after it, which takes
  // every request made meanwhile: a burst of frames costs two fetches.
  let running = null;
  let waiting = null;
  const refresh = ({ lists = false } = {}) => {
    if (waiting) {
      waiting.lists ||= lists;
      return waiting.done;
    }
    const next = { lists };
    next.done = (running ?? Promise.resolve()).then(() => {
      waiting = null;
      return load(next.lists);
    });
    waiting = next;
    running = next.done;
    return next.done;
  };
  const load = async (lists) => {
    try {
      const response = await fetch(location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = JSON.parse(html.getElementById("rooms-config").textContent);
      if (lists) replaceLists(html, fresh);
      for (const each of fresh.rooms) {
        const room = rooms.get(each.slug);
        if (!room || each.head < room.head) continue;
        room.head = each.head;
        room.unread = each.unread;
        room.arrived = room.arrived.filter((seq) => seq > each.head);
        room.mentions = each.mentions ?? 0;
        room.mentioned = room.mentioned.filter((seq) => seq > each.head);
        render(each.slug);
      }
    } catch {
      // the live frames still update the list
    }
  };

  // Each `[data-room-section]` of the fresh page replaces this page's; rooms
  // no longer listed are left, new ones joined (before the others the fresh
  // page ranks, within the limit) from the head the fresh page counted to
  // (anything after it arrives live).
  const replaceLists = (html, fresh) => {
    for (const section of document.querySelectorAll("[data-room-section]")) {
      const name = section.dataset.roomSection;
      const next = html.querySelector(`[data-room-section="${CSS.escape(name)}"]`);
      if (next) section.replaceWith(document.adoptNode(next));
    }
    const count = html.getElementById("room-count");
    if (count) document.getElementById("room-count")?.replaceChildren(count.textContent);
    config.notify = fresh.notify;
    const listed = new Set(fresh.rooms.map((each) => each.slug));
    for (const slug of [...rooms.keys()]) {
      if (!listed.has(slug)) rooms.delete(slug);
    }
    const added = [];
    for (const each of fresh.rooms) {
      const row = document.querySelector(`.room-row[data-room="${CSS.escape(each.slug)}"]`);
      const room = rooms.get(each.slug);
      if (room) {
        if (row) room.row = row;
        room.title = each.title;
        continue;
      }
      if (!row) continue;
      rooms.set(each.slug, track(each, row));
      render(each.slug);
      added.push(each.slug);
    }
    const ranked = fresh.join ?? fresh.rooms.map((each) => each.slug);
    follow(joinPlan({ joined: [...joined], first: added, ranked, max: joinLimit }));
  };

  let connections = 0;
  client.on("hello", () => {
    connections += 1;
    if (connections > 1) refresh();
  });
  client.on("messages", ({ room: slug, messages }) => {
    const room = rooms.get(slug);
    if (!room) return;
    for (const message of messages) {
      if (message.author === config.user || message.seq <= room.head) continue;
      room.arrived.push(message.seq);
      if (!message.deleted && mentionsIn(message.body).has(config.user)) {
        room.mentioned.push(message.seq);
        announce(
          interpolate(gettext("%(name)s mentioned you in %(room)s"), {
            name: message.author ?? gettext("System"),
            room: room.title,
          }),
        );
      }
      const level = config.notify?.[slug] ?? "mentions";
      if (wanted(message, { me: config.user, level })) {
        notifyOnce({
          room: slug,
          title: room.title,
          message,
          me: config.user,
          direct: room.row.dataset.kind === "direct",
          open: () => location.assign(`/rooms/${encodeURIComponent(slug)}/#seq-${message.seq}`),
        });
      }
    }
    room.at = messages[messages.length - 1].created_at;
    render(slug);
  });
  client.on("read", ({ room: slug, seq }) => {
    const room = rooms.get(slug);
    if (!room) return;
    room.arrived = room.arrived.filter((each) => each > seq);
    room.mentioned = room.mentioned.filter((each) => each > seq);
    if (seq >= room.head) room.unread = room.mentions = 0;
    else if (room.unread > 0) refresh(); // read part of what the server counted
    render(slug);
  });
  // `joined.read` is the cursor when the room was joined. It catches a read
  // that another tab made just before this page was rendered or this socket
  // connected (the server applies reads up to a second late, and tells only
  // the sockets open by then). Only a cursor at or past what the page counted
  // from is applied: anything less is what the page was rendered with.
  client.on("joined", ({ room: slug, read }) => {
    const room = rooms.get(slug);
    if (!room || read == null || read < room.head) return;
    room.arrived = room.arrived.filter((each) => each > read);
    room.mentioned = room.mentioned.filter((each) => each > read);
    room.unread = room.mentions = 0;
    render(slug);
  });

  client.on("rooms", () => refresh({ lists: true }));
  client.on("room", ({ room: slug, title }) => {
    const room = rooms.get(slug);
    if (!room) return;
    room.title = title;
    const text = room.row.querySelector(".room-title");
    if (text && room.row.dataset.kind !== "direct") text.textContent = title;
  });

  for (const slug of rooms.keys()) render(slug);
  const ranked = config.join ?? config.rooms.map((room) => room.slug);
  follow(joinPlan({ joined: [], ranked, max: joinLimit }));
}
