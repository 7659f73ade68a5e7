// The room page: message list, composer, presence, typing, scrollback and
// read marking, driven by the protocol client's events. The client owns
// ordering, dedupe by seq and the outbox; this module only renders.

import { avatar, codePoints, el, formatWhen } from "./dom.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const TYPING_SHOWN_MS = 5000;

export function startRoomPage(client, config) {
  const slug = config.room.slug;
  const me = config.user;
  const maxBody = config.maxBody;
  const $ = (id) => document.getElementById(id);
  const scroller = $("scroller");
  const list = $("messages");
  const pendingList = $("pending");
  const olderButton = $("load-older");
  const historyStart = $("history-start");
  const jump = $("jump");
  const live = $("live");
  const typingLine = $("typing");
  const form = $("composer");
  const input = $("body");
  const sendButton = $("send");
  const counter = $("counter");

  const shown = new Map(); // seq -> <li>
  const mineShown = new Set(); // client_ids of my messages on screen
  const known = new Map(); // client_id -> outbox item, kept until its message shows
  const acked = new Map(); // client_id -> item acked but whose message has not arrived yet
  const typers = new Map(); // username -> timer
  let readOnly = config.room.readOnly;
  let hasOlder = false;
  let joinedOnce = false;
  let unseen = 0;
  let readTimer = null;

  const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 64;
  const toBottom = () => {
    scroller.scrollTop = scroller.scrollHeight;
    unseen = 0;
    jump.hidden = true;
  };

  // --- messages ---------------------------------------------------------------

  function setBody(item, message) {
    item.classList.toggle("msg--redacted", Boolean(message.redacted));
    item.querySelector(".msg-body").textContent = message.redacted
      ? "This message was removed."
      : message.body;
  }

  function messageItem(message) {
    const system = message.kind === "system";
    const item = el("li", "msg");
    item.dataset.seq = String(message.seq);
    item.dataset.author = message.author ?? "";
    item.dataset.at = message.created_at;
    if (system) item.classList.add("msg--system");
    if (message.author === me) item.classList.add("msg--mine");
    if (!system) item.append(avatar(message.author ?? "?"));
    const main = el("div", "msg-main");
    const meta = el("div", "msg-meta");
    if (!system) meta.append(el("span", "msg-author", message.author ?? "unknown"));
    const time = el("time", "msg-time", formatWhen(message.created_at));
    time.dateTime = message.created_at;
    time.title = new Date(message.created_at).toLocaleString();
    meta.append(time);
    main.append(meta, el("p", "msg-body"));
    item.append(main);
    setBody(item, message);
    return item;
  }

  // Consecutive messages of one author within a few minutes share a header.
  function group(item) {
    if (!item) return;
    const previous = item.previousElementSibling;
    const continued =
      previous &&
      !item.classList.contains("msg--system") &&
      !previous.classList.contains("msg--system") &&
      previous.dataset.author === item.dataset.author &&
      new Date(item.dataset.at) - new Date(previous.dataset.at) < GROUP_WINDOW_MS;
    item.classList.toggle("msg--continued", Boolean(continued));
  }

  /** Put messages in seq order; a seq already shown is skipped. */
  function insert(messages) {
    const added = [];
    for (const message of messages) {
      if (shown.has(message.seq)) continue;
      const item = messageItem(message);
      const last = list.lastElementChild;
      if (last && Number(last.dataset.seq) > message.seq) {
        let next = list.firstElementChild;
        while (next && Number(next.dataset.seq) < message.seq) next = next.nextElementSibling;
        list.insertBefore(item, next);
      } else {
        list.append(item);
      }
      shown.set(message.seq, item);
      if (message.author === me && message.client_id) {
        mineShown.add(message.client_id);
        known.delete(message.client_id);
        acked.delete(message.client_id);
      }
      added.push(item);
    }
    for (const item of added) {
      group(item);
      group(item.nextElementSibling);
    }
    return added;
  }

  // --- the outbox: pending and failed sends -----------------------------------------

  function pendingItem(item) {
    const row = el("li", "msg msg--mine msg--pending");
    row.dataset.clientId = item.client_id;
    row.append(avatar(me));
    const main = el("div", "msg-main");
    const meta = el("div", "msg-meta");
    meta.append(el("span", "msg-author", me));
    let status = client.state === "connected" ? "Sending…" : "Waiting for connection…";
    if (item.status === "failed") status = `Not sent: ${item.error || "error"}`;
    else if (item.status === "sent") status = "Sent";
    meta.append(el("span", "msg-status", status));
    main.append(meta, el("p", "msg-body", item.body));
    if (item.status === "failed") {
      row.classList.add("msg--failed");
      const actions = el("div", "msg-actions");
      const retry = el("button", "button button--small", "Retry");
      retry.type = "button";
      retry.addEventListener("click", () => client.retry(item.client_id));
      const discard = el("button", "button button--small button--ghost", "Discard");
      discard.type = "button";
      discard.addEventListener("click", () => client.discard(item.client_id));
      actions.append(retry, discard);
      main.append(actions);
    }
    row.append(main);
    return row;
  }

  function renderPending() {
    const stick = nearBottom();
    const items = new Map();
    for (const item of [...client.outbox.forRoom(slug), ...acked.values()]) {
      if (mineShown.has(item.client_id) || items.has(item.client_id)) continue;
      items.set(item.client_id, item);
      known.set(item.client_id, item);
    }
    pendingList.replaceChildren(...[...items.values()].map(pendingItem));
    if (stick) toBottom();
  }

  // --- scrollback, read marking ----------------------------------------------------

  function updateOlder() {
    olderButton.hidden = !hasOlder;
    historyStart.hidden = hasOlder || !joinedOnce;
  }

  olderButton.addEventListener("click", async () => {
    olderButton.disabled = true;
    try {
      const first = list.firstElementChild;
      const before = first ? Number(first.dataset.seq) : (client.lastSeq(slug) ?? 0) + 1;
      const { messages, has_more } = await client.history(slug, before, 50);
      const height = scroller.scrollHeight;
      const top = scroller.scrollTop;
      insert(messages);
      scroller.scrollTop = top + (scroller.scrollHeight - height); // keep the view still
      hasOlder = has_more;
    } catch {
      // not connected: try again later
    } finally {
      olderButton.disabled = false;
      updateOlder();
    }
  });

  /** Mark read up to the newest message on screen, when the page is seen. */
  function markRead() {
    if (document.visibilityState !== "visible") return;
    const bottom = scroller.getBoundingClientRect().bottom;
    let item = list.lastElementChild;
    while (item && item.getBoundingClientRect().top >= bottom - 8) item = item.previousElementSibling;
    if (item) client.read(slug, Number(item.dataset.seq));
  }

  function scheduleRead() {
    if (readTimer != null) return;
    readTimer = setTimeout(() => {
      readTimer = null;
      markRead();
    }, 200);
  }

  scroller.addEventListener("scroll", () => {
    if (nearBottom()) {
      unseen = 0;
      jump.hidden = true;
    }
    scheduleRead();
  });
  jump.addEventListener("click", () => {
    toBottom();
    scheduleRead();
  });
  document.addEventListener("visibilitychange", scheduleRead);

  // --- presence and typing ---------------------------------------------------------------

  function showTyping() {
    const names = [...typers.keys()];
    if (names.length === 0) typingLine.textContent = "";
    else if (names.length === 1) typingLine.textContent = `${names[0]} is typing…`;
    else if (names.length === 2) typingLine.textContent = `${names[0]} and ${names[1]} are typing…`;
    else typingLine.textContent = "Several people are typing…";
  }

  function stopTyping(user) {
    if (!typers.has(user)) return;
    clearTimeout(typers.get(user));
    typers.delete(user);
    showTyping();
  }

  function showPresence(users) {
    const rows = users.map((user) => {
      const row = el("li", "presence-user");
      row.append(avatar(user), el("span", "presence-name", user));
      if (user === me) row.append(el("span", "muted small", "(you)"));
      return row;
    });
    $("presence").replaceChildren(...rows);
    $("presence-count").textContent = `(${users.length})`;
  }

  // --- composer ----------------------------------------------------------------------

  function updateComposer() {
    const length = codePoints(input.value);
    counter.textContent = length >= maxBody * 0.8 ? `${length} / ${maxBody}` : "";
    counter.classList.toggle("counter--over", length > maxBody);
    input.setAttribute("aria-invalid", String(length > maxBody));
    input.disabled = readOnly;
    input.placeholder = readOnly ? "This room is read-only." : `Message #${slug}`;
    sendButton.disabled = readOnly || length > maxBody || !input.value.trim();
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (readOnly || !body.trim() || codePoints(body) > maxBody) return;
    client.send(slug, body);
    input.value = "";
    updateComposer();
    toBottom();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    updateComposer();
    if (input.value.trim()) client.typing(slug);
  });

  // --- client events ---------------------------------------------------------------------

  client.on("joined", (frame) => {
    if (frame.room !== slug) return;
    if (!joinedOnce) hasOlder = frame.since > 0;
    joinedOnce = true;
    readOnly = frame.read_only;
    $("room-title").textContent = frame.title;
    updateOlder();
    updateComposer();
    scheduleRead();
  });

  client.on("messages", ({ room, messages, live: isLive }) => {
    if (room !== slug) return;
    const stick = nearBottom();
    const added = insert(messages);
    for (const message of messages) if (message.author) stopTyping(message.author);
    renderPending();
    const fromOthers = added.filter((item) => item.dataset.author !== me);
    if (isLive && fromOthers.length) {
      const last = messages.filter((message) => message.author !== me).pop();
      live.textContent = `${last.author ?? "System"}: ${last.body.slice(0, 200)}`;
    }
    if (stick) toBottom();
    else if (fromOthers.length) {
      unseen += fromOthers.length;
      jump.textContent = `${unseen} new message${unseen === 1 ? "" : "s"} ↓`;
      jump.hidden = false;
    }
    scheduleRead();
  });

  client.on("ack", (frame) => {
    if (frame.room !== slug || mineShown.has(frame.client_id)) return;
    const item = known.get(frame.client_id);
    // Acked but not on screen yet: keep it as "sent" until its message arrives.
    if (item && frame.seq > (client.lastSeq(slug) ?? 0)) {
      acked.set(frame.client_id, { ...item, status: "sent" });
    }
    renderPending();
  });

  client.on("outbox", ({ room }) => room === slug && renderPending());
  client.on("status", () => {
    for (const user of [...typers.keys()]) stopTyping(user);
    renderPending();
  });
  client.on("presence", (frame) => frame.room === slug && showPresence(frame.users));
  client.on("typing", ({ room, user }) => {
    if (room !== slug || user === me) return;
    clearTimeout(typers.get(user));
    typers.set(
      user,
      setTimeout(() => stopTyping(user), TYPING_SHOWN_MS),
    );
    showTyping();
  });
  client.on("redact", ({ room, seq }) => {
    const item = room === slug && shown.get(seq);
    if (item) setBody(item, { redacted: true, body: "" });
  });
  client.on("room", (frame) => {
    if (frame.room !== slug) return;
    $("room-title").textContent = frame.title;
    readOnly = frame.read_only;
    updateComposer();
  });

  updateComposer();
  renderPending();
  // The newest 50 messages; a re-join after a reconnect asks for seq > the last shown.
  client.join(slug, { since: 0, limit: 50 });
}
