// The room page: message list, composer, presence, typing, scrollback and
// read marking, driven by the protocol client's events. The client owns
// ordering, dedupe by seq, the messages' current state and the outbox; this
// module only renders (one message: message-view.js) and wires the actions
// (edit, delete, react, reply: message-actions.js) to the client, and keeps
// the reader's attention: @ suggestions in the composer, notifications while
// the tab is hidden, and the tab's unread badge. Opened at a message far back
// (`#seq-N`: a search result, a notification), it shows the messages around
// it and marks the messages not loaded between there and the newest
// (history-window.js).

import { avatar, button, codePoints, el } from "./dom.js";
import { aroundRequest, gapBetween, loadDown, newerRequest, planOpen } from "./history-window.js";
import { messageItem, pendingItem, renderMessage, renderQuote } from "./message-view.js";
import { confirmDelete, openEditor, openPicker, replyBar } from "./message-actions.js";
import { actionOf } from "./outbox.js";
import { tabBadge } from "./badges.js";
import { mentionCompleter } from "./mention-complete.js";
import { notifyOnce, permissionControl, wanted } from "./notify.js";
import { mentionsIn, plainText } from "./render.js";
import { offerDirectMessages, personName } from "./direct.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const TYPING_SHOWN_MS = 5000;
const NOTICE_SHOWN_MS = 8000;
const FIRST_SCREEN = 20; // load history until at least this many messages show

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
  const notice = $("notice");
  const form = $("composer");
  const input = $("body");
  const sendButton = $("send");
  const counter = $("counter");

  // What message-view.js needs to know about the reader.
  const page = {
    me,
    canModerate: config.room.canModerate === true || config.canModerate === true,
    readOnly: config.room.readOnly,
  };
  const shown = new Map(); // seq -> <li>
  const repliesTo = new Map(); // seq -> Set of seqs of shown messages quoting it
  const mineShown = new Set(); // client_ids of my messages on screen
  const known = new Map(); // client_id -> outbox send, kept until its message shows
  const acked = new Map(); // client_id -> send acked but whose message has not arrived yet
  const typers = new Map(); // username -> timer
  let hasOlder = false;
  // Seqs {after, before} (both exclusive) not loaded between a window opened
  // at an old message and the newest messages, or null: the list never hides
  // that it skips them.
  let gap = null;
  let firstScreenIn = false;
  let joinedOnce = false;
  let firstHead = null; // the head when first joined: the first screen is complete at it
  let unseen = 0;
  let readTimer = null;
  let noticeTimer = null;
  let online = []; // usernames in the room now (presence)
  let level = config.notify ?? "mentions"; // which messages notify
  const hiddenUnread = new Map(); // seq -> mentions me, for others' messages that came while hidden
  const showBadge = tabBadge();
  offerDirectMessages(document); // a person's name offers "Message <name>"
  // A direct conversation's header names the other people, for this reader;
  // its frames carry everyone's names.
  const showTitle = (title) => {
    if (config.room.kind !== "direct") $("room-title").textContent = title;
  };

  const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 64;
  const toBottom = () => {
    scroller.scrollTop = scroller.scrollHeight;
    unseen = 0;
    jump.hidden = true;
  };

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
    clearTimeout(noticeTimer);
    if (text) noticeTimer = setTimeout(() => showNotice(""), NOTICE_SHOWN_MS);
  }

  // --- messages ---------------------------------------------------------------

  const handlers = {
    react: (seq, anchor) => {
      const item = shown.get(seq);
      const message = client.message(slug, seq);
      if (!item || !message) return;
      openPicker(item, anchor, (emoji) => {
        const mine = (message.reactions[emoji] ?? []).includes(me);
        client.react(slug, seq, emoji, !mine);
      });
    },
    reply: (seq) => reply.start(seq),
    edit: (seq) => startEditing(seq),
    delete: async (seq) => {
      const message = client.message(slug, seq);
      if (!message || !(await confirmDelete($("confirm-delete"), message, me))) return;
      client.delete(slug, seq);
      input.focus(); // the message's buttons are gone with it
    },
    toggleReaction: (seq, emoji, on) => client.react(slug, seq, emoji, on),
    jump: (seq) => jumpTo(seq),
  };

  function startEditing(seq, returnFocus = null) {
    const item = shown.get(seq);
    const message = client.message(slug, seq);
    if (!item || !message) return;
    openEditor(item, message, {
      maxBody,
      save: (body) => {
        if (body !== message.body) client.edit(slug, seq, body);
      },
      returnFocus: returnFocus ?? item.querySelector(".tool--edit"),
    });
  }

  /** Redraw the quotes of the shown messages that reply to `seq`. */
  function refreshQuotesOf(seq) {
    const original = client.message(slug, seq);
    for (const replySeq of repliesTo.get(seq) ?? []) {
      const item = shown.get(replySeq);
      if (item) renderQuote(item, seq, original);
    }
    reply.refresh(seq, original);
  }

  function render(message) {
    const item = shown.get(message.seq);
    if (!item) return;
    renderMessage(item, message, page);
    renderQuote(item, message.reply_to, message.reply_to == null ? null : client.message(slug, message.reply_to));
    if (message.deleted) item.querySelector(".msg-editor")?.dispatchEvent(new Event("cancel"));
    refreshQuotesOf(message.seq);
  }

  // Consecutive messages of one author within a few minutes share a header.
  function group(item) {
    if (!item) return;
    const previous = item.previousElementSibling;
    const continued =
      previous &&
      !item.classList.contains("msg--system") &&
      !previous.classList.contains("msg--system") &&
      !item.querySelector(".msg-quote:not([hidden])") &&
      previous.dataset.author === item.dataset.author &&
      new Date(item.dataset.at) - new Date(previous.dataset.at) < GROUP_WINDOW_MS;
    item.classList.toggle("msg--continued", Boolean(continued));
  }

  /** Put messages in seq order; a seq already shown is skipped. */
  function insert(messages) {
    const added = [];
    for (const message of messages) {
      if (shown.has(message.seq)) continue;
      const item = messageItem(message, page, handlers);
      const last = list.lastElementChild;
      if (last && Number(last.dataset.seq) > message.seq) {
        let next = list.firstElementChild;
        while (next && Number(next.dataset.seq) < message.seq) next = next.nextElementSibling;
        list.insertBefore(item, next);
      } else {
        list.append(item);
      }
      shown.set(message.seq, item);
      if (message.reply_to != null) {
        if (!repliesTo.has(message.reply_to)) repliesTo.set(message.reply_to, new Set());
        repliesTo.get(message.reply_to).add(message.seq);
      }
      if (message.author === me && message.client_id) {
        mineShown.add(message.client_id);
        known.delete(message.client_id);
        acked.delete(message.client_id);
      }
      added.push(item);
    }
    for (const item of added) {
      render(client.message(slug, Number(item.dataset.seq)) ?? { seq: Number(item.dataset.seq) });
      group(item);
      group(item.nextElementSibling);
    }
    return added;
  }

  /** Scroll to message `seq` and flash it: paging when it is near what is
   * loaded, else loading the messages around it (history-window.js). */
  async function jumpTo(seq) {
    const first = list.querySelector(".msg");
    const plan = planOpen(seq, { isShown: shown.has(seq), first: first ? Number(first.dataset.seq) : null, gap });
    if (plan === "older") {
      for (let pages = 0; !shown.has(seq) && hasOlder && pages < 5; pages++) {
        if (!(await loadOlder())) break;
      }
    } else if (plan === "newer") {
      for (let pages = 0; !shown.has(seq) && gap && seq < gap.before && pages < 5; pages++) {
        if (!(await loadNewer())) break;
      }
    } else if (plan === "window") {
      await openWindow(seq);
    }
    const item = shown.get(seq);
    if (!item) {
      showNotice("That message is not available: it was deleted or is no longer kept.");
      return;
    }
    item.scrollIntoView({ block: "center" });
    item.classList.remove("msg--highlight");
    void item.offsetWidth; // restart the animation
    item.classList.add("msg--highlight");
    item.tabIndex = -1;
    item.focus({ preventScroll: true });
  }

  // --- a window opened at an old message, and the gap above it ----------------------

  const gapItem = el("li", "history-gap");
  const gapText = el("p", "history-gap-text", "Newer messages are not loaded here.");
  const newerButton = button("button button--ghost small", "Load newer messages");
  const latestButton = button("button button--ghost small", "Jump to the latest ↓");
  gapItem.append(gapText, el("div", "history-gap-actions"));
  gapItem.lastElementChild.append(newerButton, latestButton);
  newerButton.addEventListener("click", async () => {
    await loadNewer();
    if (!gap) scroller.focus({ preventScroll: true }); // the button went with the gap
  });
  latestButton.addEventListener("click", () => {
    toBottom();
    scheduleRead();
  });

  function showGap(next) {
    const below = gapItem.isConnected ? gapItem.nextElementSibling : null;
    gap = next;
    if (gap) {
      // Its seq sorts it between the window and the tail in insert().
      gapItem.dataset.seq = String(gap.after + 0.5);
      let above = list.firstElementChild;
      while (above && (above === gapItem || Number(above.dataset.seq) < gap.before)) above = above.nextElementSibling;
      list.insertBefore(gapItem, above);
    } else {
      gapItem.remove();
    }
    // A header is shared across the gap's old place, never across the gap.
    group(below);
    group(gapItem.isConnected ? gapItem.nextElementSibling : null);
  }

  /** Take messages off the screen (an old window replaced by another). */
  function dropShown(seqs) {
    for (const seq of seqs) {
      shown.get(seq)?.remove();
      shown.delete(seq);
      for (const replies of repliesTo.values()) replies.delete(seq);
    }
  }

  /** Show the messages around `seq`, in place of an earlier window. */
  async function openWindow(seq) {
    const tailFrom = gap ? gap.before : Number(list.querySelector(".msg")?.dataset.seq ?? (client.lastSeq(slug) ?? 0) + 1);
    const request = aroundRequest(seq);
    let page;
    try {
      page = await loadDown((before, limit) => client.history(slug, before, limit), request);
    } catch {
      return; // not connected: the notice says the message is not there
    }
    if (!page.messages.length) return;
    if (gap) dropShown([...shown.keys()].filter((each) => each < gap.before));
    insert(page.messages);
    hasOlder = page.hasOlder;
    updateOlder();
    showGap(gapBetween(request.before - 1, tailFrom));
  }

  /** One step filling the gap from below; false when it could not be loaded. */
  async function loadNewer() {
    if (!gap) return true;
    newerButton.disabled = true;
    const request = newerRequest(gap);
    try {
      const page = await loadDown((before, limit) => client.history(slug, before, limit), request);
      insert(page.messages);
      showGap(gapBetween(request.before - 1, gap.before));
      return true;
    } catch {
      return false;
    } finally {
      newerButton.disabled = false;
    }
  }

  /** My last own text message that can still be edited, newest first. */
  function lastEditable() {
    for (let item = list.lastElementChild; item; item = item.previousElementSibling) {
      if (item.dataset.author !== me || item.classList.contains("msg--system")) continue;
      const message = client.message(slug, Number(item.dataset.seq));
      if (message && !message.deleted) return message.seq;
    }
    return null;
  }

  // --- the outbox: pending and failed sends -----------------------------------------

  function renderPending() {
    const stick = nearBottom();
    const items = new Map();
    const sends = client.outbox.forRoom(slug).filter((item) => actionOf(item) === "send");
    for (const item of [...sends, ...acked.values()]) {
      if (mineShown.has(item.client_id) || items.has(item.client_id)) continue;
      items.set(item.client_id, item);
      known.set(item.client_id, item);
    }
    const connected = client.state === "connected";
    const rows = [...items.values()].map((item) =>
      pendingItem(item, {
        me,
        connected,
        original: item.reply_to == null ? null : client.message(slug, item.reply_to),
        retry: () => client.retry(item.client_id),
        discard: () => client.discard(item.client_id),
      }),
    );
    pendingList.replaceChildren(...rows);
    if (stick) toBottom();
  }

  // --- scrollback, read marking ----------------------------------------------------

  function updateOlder() {
    olderButton.hidden = !hasOlder;
    historyStart.hidden = hasOlder || !joinedOnce;
  }

  /** One page of older messages; false when it could not be loaded. */
  async function loadOlder() {
    olderButton.disabled = true;
    try {
      const first = list.querySelector(".msg");
      const before = first ? Number(first.dataset.seq) : (client.lastSeq(slug) ?? 0) + 1;
      const { messages, has_more } = await client.history(slug, before, 50);
      const height = scroller.scrollHeight;
      const top = scroller.scrollTop;
      insert(messages);
      scroller.scrollTop = top + (scroller.scrollHeight - height); // keep the view still
      hasOlder = has_more;
      return true;
    } catch {
      return false; // not connected: try again later
    } finally {
      olderButton.disabled = false;
      updateOlder();
    }
  }

  olderButton.addEventListener("click", loadOlder);

  /** The first screen: the join brought the newest 50 entries, which may be
   * mostly edits and reactions; fill up with older messages. */
  async function fillFirstScreen() {
    for (let pages = 0; shown.size < FIRST_SCREEN && hasOlder && pages < 5; pages++) {
      if (!(await loadOlder())) break;
    }
    toBottom();
    firstScreenIn = true;
    if (hashSeq() != null) jumpTo(hashSeq());
  }

  /** Mark read up to the newest message on screen, when the page is seen. */
  function markRead() {
    if (document.visibilityState !== "visible") return;
    const bottom = scroller.getBoundingClientRect().bottom;
    let item = list.lastElementChild;
    while (item && (item === gapItem || item.getBoundingClientRect().top >= bottom - 8)) item = item.previousElementSibling;
    if (item) {
      client.read(slug, Number(item.dataset.seq));
      forgetUnread(Number(item.dataset.seq));
    }
  }

  // --- the tab's badge and notifications --------------------------------------------

  function updateBadge() {
    const mentioned = [...hiddenUnread.values()].some(Boolean);
    showBadge({ unread: hiddenUnread.size, mentioned });
  }

  /** Messages up to `seq` are read (here or in another tab). */
  function forgetUnread(seq) {
    for (const each of [...hiddenUnread.keys()]) if (each <= seq) hiddenUnread.delete(each);
    updateBadge();
  }

  function noticeArrivals(messages) {
    for (const message of messages) {
      if (message.author === me || message.deleted || !["text", "system"].includes(message.kind)) continue;
      if (document.visibilityState === "hidden") {
        hiddenUnread.set(message.seq, mentionsIn(message.body).has(me));
      }
      if (wanted(message, { me, level })) {
        notifyOnce({
          room: slug,
          title: $("room-title").textContent,
          message,
          me,
          direct: config.room.kind === "direct",
          open: () => jumpTo(message.seq),
        });
      }
    }
    updateBadge();
  }

  const notifyLevel = $("notify-level");
  const notifyStatus = $("notify-status");
  if (notifyLevel) {
    notifyLevel.value = level;
    notifyLevel.addEventListener("change", async () => {
      const previous = level;
      level = notifyLevel.value;
      try {
        const response = await fetch(`/api/rooms/${encodeURIComponent(slug)}/notifications`, {
          method: "PUT",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ level }),
        });
        if (!response.ok) throw new Error(String(response.status));
        announce(`Notifications: ${notifyLevel.selectedOptions[0].textContent}`);
      } catch {
        level = previous;
        notifyLevel.value = previous;
        showNotice("Could not save the notification setting: try again.");
      }
    });
    permissionControl($("notify-permission"), notifyStatus, announce);
  }

  function announce(text) {
    live.textContent = text;
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
  client.on("read", ({ room, seq }) => room === slug && forgetUnread(seq));

  // On touch screens there is no hover: a tap on a message shows its actions.
  list.addEventListener("click", (event) => {
    if (event.target.closest("button, a, input, textarea, .picker")) return;
    const item = event.target.closest(".msg");
    for (const each of list.querySelectorAll(".msg--active")) if (each !== item) each.classList.remove("msg--active");
    item?.classList.toggle("msg--active");
  });

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
      row.append(avatar(user), personName("presence-name", user, me));
      if (user === me) row.append(el("span", "muted small", "(you)"));
      return row;
    });
    $("presence").replaceChildren(...rows);
    online = users;
    $("presence-count").textContent = `(${users.length})`;
  }

  // --- composer ----------------------------------------------------------------------

  const reply = replyBar($("reply-bar"), {
    lookup: (seq) => client.message(slug, seq),
    onStart: () => input.focus(),
    onCancel: () => input.focus(),
  });

  const completer = mentionCompleter(input, $("mention-list"), {
    names: () => [...(config.members ?? []), ...online],
    me,
    announce,
  });

  function updateComposer() {
    const length = codePoints(input.value);
    counter.textContent = length >= maxBody * 0.8 ? `${length} / ${maxBody}` : "";
    counter.classList.toggle("counter--over", length > maxBody);
    input.setAttribute("aria-invalid", String(length > maxBody));
    input.disabled = page.readOnly;
    input.placeholder = page.readOnly ? "This room is read-only." : `Message #${slug}`;
    sendButton.disabled = page.readOnly || length > maxBody || !input.value.trim();
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
    if (page.readOnly) reply.cancel(false);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value;
    if (page.readOnly || !body.trim() || codePoints(body) > maxBody) return;
    client.send(slug, body, { replyTo: reply.seq });
    reply.cancel(false);
    input.value = "";
    updateComposer();
    toBottom();
  });
  input.addEventListener("keydown", (event) => {
    if (event.isComposing || completer.handleKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "ArrowUp" && input.value === "" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      const seq = page.readOnly ? null : lastEditable();
      if (seq == null) return;
      event.preventDefault();
      shown.get(seq).scrollIntoView({ block: "nearest" });
      startEditing(seq, input);
    } else if (event.key === "Escape" && reply.seq != null) {
      event.preventDefault();
      reply.cancel();
    }
  });
  input.addEventListener("input", () => {
    updateComposer();
    if (input.value.trim()) client.typing(slug);
  });

  function setReadOnly(readOnly) {
    if (page.readOnly === readOnly) return;
    page.readOnly = readOnly;
    for (const seq of shown.keys()) render(client.message(slug, seq));
  }

  // --- client events ---------------------------------------------------------------------

  client.on("joined", (frame) => {
    if (frame.room !== slug) return;
    if (!joinedOnce) {
      hasOlder = frame.since > 0;
      firstHead = frame.head;
    }
    joinedOnce = true;
    setReadOnly(frame.read_only);
    showTitle(frame.title);
    updateOlder();
    updateComposer();
    scheduleRead();
    if (firstHead != null && frame.head === frame.since) {
      firstHead = null;
      fillFirstScreen();
    }
  });

  client.on("entries", ({ room }) => {
    if (room !== slug || firstHead == null || (client.lastSeq(slug) ?? 0) < firstHead) return;
    firstHead = null;
    fillFirstScreen();
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
      const mentioned = messages.some((message) => message.author !== me && mentionsIn(message.body).has(me));
      const who = last.author ?? "System";
      announce(`${mentioned ? `${who} mentioned you: ` : `${who}: `}${plainText(last.body, 200)}`);
    }
    if (isLive) noticeArrivals(messages);
    if (stick) toBottom();
    else if (fromOthers.length) {
      unseen += fromOthers.length;
      jump.textContent = `${unseen} new message${unseen === 1 ? "" : "s"} ↓`;
      jump.hidden = false;
    }
    scheduleRead();
  });

  client.on("change", ({ room, message }) => {
    if (room !== slug) return;
    const stick = nearBottom();
    render(message);
    if (stick) toBottom();
  });

  client.on("rejected", ({ room, item, message }) => {
    if (room !== slug) return;
    const what = { edit: "edit the message", delete: "delete the message", react: "react" }[actionOf(item)];
    showNotice(`Could not ${what ?? "do that"}: ${message}`);
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
  client.on("status", ({ state, reason }) => {
    for (const user of [...typers.keys()]) stopTyping(user);
    renderPending();
    if (state === "signed-out") {
      showNotice("You are signed out: log in again (top right). Unsent messages wait in this browser.");
    } else if (reason === "too-many-sockets") {
      showNotice("Too many open connections for your account: close other tabs. This page keeps trying.");
    }
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
  client.on("room", (frame) => {
    if (frame.room !== slug) return;
    showTitle(frame.title);
    setReadOnly(frame.read_only);
    updateComposer();
  });

  // Removed from this private room by a moderator (docs/room-management.md):
  // nothing more of it comes, so say so, for good, without a reload.
  client.on("left", ({ room, reason }) => {
    if (room !== slug || reason !== "removed") return;
    setReadOnly(true);
    updateComposer();
    showNotice("You were removed from this room.");
    clearTimeout(noticeTimer);
    const manage = $("manage-link");
    if (manage) manage.hidden = true;
  });

  // This user's memberships changed: perhaps their role here, which decides
  // whether the header offers "Manage room" (the manage page checks again).
  client.on("rooms", async () => {
    const manage = $("manage-link");
    if (!manage) return;
    const response = await fetch(`/api/rooms/${encodeURIComponent(slug)}`, { credentials: "same-origin" });
    if (response.ok) manage.hidden = !(await response.json()).room.can_manage;
    else if (response.status === 404) manage.hidden = true;
  });

  // `#seq-N` (a search result, a notification) opens the page at message N
  // once the first screen is in (fillFirstScreen); a link to another message
  // of this room, followed later, only changes the hash.
  window.addEventListener("hashchange", () => {
    if (firstScreenIn && hashSeq() != null) jumpTo(hashSeq());
  });

  updateComposer();
  updateBadge();
  renderPending();
  // The newest 50 entries; a re-join after a reconnect asks for seq > the last received.
  client.join(slug, { since: 0, limit: 50 });
}

/** The CSRF token of the page's forms (the logout form has one). */
function csrfToken() {
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value ?? "";
}

/** The message `#seq-N` of the address names, or null. */
function hashSeq() {
  const match = /^#seq-(\d+)$/.exec(location.hash);
  return match ? Number(match[1]) : null;
}
