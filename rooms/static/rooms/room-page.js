// The room page: wires the protocol client's events to the page's parts.
// The client owns ordering, dedupe by seq, the messages' current state and
// the outbox; the parts only show and ask:
//   timeline.js    the message list, its order, the scroll position
//   scrollback.js  older pages, a window opened at an old message (`#seq-N`)
//   composer.js    the send box, replies, edit-last, files, the sends not shown yet
//   presence.js    who is online, who is typing
//   attention.js   read marking, the tab's badge, notifications, the live region
//   message-focus.js  the list for the keyboard: one roving Tab stop
// Here: the message actions (edit, delete, react, reply: message-actions.js)
// wired to the client, the room's title and read-only state, the notice
// line under the messages, and the header's and sidebar's controls that
// follow the user's role (Manage room; Leave, which asks first).

import { confirmDelete, openEditor, openPicker } from "./message-actions.js";
import { actionOf } from "./outbox.js";
import { offerDirectMessages } from "./direct.js";
import { arrivalText, startAttention } from "./attention.js";
import { startComposer } from "./composer.js";
import { startPresence } from "./presence.js";
import { seqInHash, startScrollback } from "./scrollback.js";
import { createTimeline } from "./timeline.js";
import { gettext, interpolate } from "./i18n.js";
import { startMessageFocus } from "./message-focus.js";

const NOTICE_SHOWN_MS = 8000;

/** The notice line for a change the server refused (a `rejected` event). */
export function rejectionText(item, message) {
  const texts = {
    edit: gettext("Could not edit the message: %(reason)s"),
    delete: gettext("Could not delete the message: %(reason)s"),
    react: gettext("Could not react: %(reason)s"),
  };
  return interpolate(texts[actionOf(item)] ?? gettext("Could not do that: %(reason)s"), { reason: message });
}

/** The room page for `config` (the page's rooms-config). `doc` and `win`
 * are the document and window (its timers, address and events). */
export function startRoomPage(client, config, { doc = document, win = window } = {}) {
  const slug = config.room.slug;
  const me = config.user;
  const $ = (id) => doc.getElementById(id);

  // What message-view.js needs to know about the reader.
  const page = {
    me,
    canModerate: config.room.canModerate === true || config.canModerate === true,
    readOnly: config.room.readOnly,
  };
  offerDirectMessages(doc); // a person's name offers "Message <name>"
  // A direct conversation's header names the other people, for this reader;
  // its frames carry everyone's names.
  const showTitle = (title) => {
    if (config.room.kind !== "direct") $("room-title").textContent = title;
  };

  const noticeLine = $("notice");
  let noticeTimer = null;
  function showNotice(text) {
    noticeLine.textContent = text;
    noticeLine.hidden = !text;
    win.clearTimeout(noticeTimer);
    if (text) noticeTimer = win.setTimeout(() => showNotice(""), NOTICE_SHOWN_MS);
  }

  // --- the message actions ------------------------------------------------------

  const handlers = {
    react: (seq, anchor) => {
      const item = timeline.item(seq);
      const message = client.message(slug, seq);
      if (!item || !message) return;
      openPicker(item, anchor, (emoji) => {
        const mine = (message.reactions[emoji] ?? []).includes(me);
        client.react(slug, seq, emoji, !mine);
      });
    },
    reply: (seq) => composer.reply.start(seq),
    edit: (seq) => startEditing(seq),
    delete: async (seq) => {
      const message = client.message(slug, seq);
      if (!message) return;
      // Its actions stay while the dialog asks, so the focus can come back to them.
      const item = timeline.item(seq);
      item?.classList.add("msg--picking");
      const yes = await confirmDelete($("confirm-delete"), message, me);
      item?.classList.remove("msg--picking");
      if (!yes) return;
      client.delete(slug, seq);
      composer.focus(); // the message's buttons are gone with it
    },
    toggleReaction: (seq, emoji, on) => client.react(slug, seq, emoji, on),
    jump: (seq) => scrollback.jumpTo(seq),
  };

  function startEditing(seq, returnFocus = null) {
    const item = timeline.item(seq);
    const message = client.message(slug, seq);
    if (!item || !message) return;
    openEditor(item, message, {
      maxBody: config.maxBody,
      save: (body) => {
        if (body !== message.body) client.edit(slug, seq, body);
      },
      returnFocus: returnFocus ?? item.querySelector(".tool--edit"),
    });
  }

  function setReadOnly(readOnly) {
    if (page.readOnly === readOnly) return;
    page.readOnly = readOnly;
    timeline.renderAll();
  }

  // --- the parts -------------------------------------------------------------------

  const timeline = createTimeline({
    client,
    slug,
    page,
    elements: { scroller: $("scroller"), list: $("messages"), jump: $("jump") },
    handlers,
    onShown: (message) => composer.shown(message),
    onQuoteChanged: (seq, original) => composer.reply.refresh(seq, original),
    viewed: () => attention.scheduleRead(),
  });
  startMessageFocus({ list: $("messages"), composer: $("body") });
  const scrollback = startScrollback({
    client,
    slug,
    timeline,
    elements: { older: $("load-older"), start: $("history-start") },
    target: () => seqInHash(win.location.hash),
    showNotice,
  });
  const attention = startAttention({
    client,
    slug,
    me,
    direct: config.room.kind === "direct",
    level: config.notify ?? "mentions",
    timeline,
    elements: {
      live: $("live"),
      title: $("room-title"),
      level: $("notify-level"),
      permission: $("notify-permission"),
      status: $("notify-status"),
    },
    doc,
    timers: win,
    open: (seq) => scrollback.jumpTo(seq),
    showNotice,
  });
  const presence = startPresence({
    me,
    elements: { list: $("presence"), count: $("presence-count"), typing: $("typing") },
    timers: win,
  });
  const composer = startComposer({
    client,
    slug,
    page,
    maxBody: config.maxBody,
    maxUpload: config.maxUpload,
    timeline,
    elements: {
      chat: $("chat"),
      attach: $("attach"),
      picker: $("attach-picker"),
      staged: $("staged"),
      form: $("composer"),
      input: $("body"),
      send: $("send"),
      counter: $("counter"),
      replyBar: $("reply-bar"),
      mentionList: $("mention-list"),
      pending: $("pending"),
    },
    names: () => [...(config.members ?? []), ...presence.online()],
    edit: startEditing,
    announce: attention.announce,
    showNotice,
  });

  // --- client events ---------------------------------------------------------------------

  client.on("joined", (frame) => {
    if (frame.room !== slug) return;
    setReadOnly(frame.read_only);
    showTitle(frame.title);
    composer.update();
    attention.scheduleRead();
    scrollback.joined(frame);
  });

  client.on("entries", ({ room }) => room === slug && scrollback.entries());

  client.on("messages", ({ room, messages, live }) => {
    if (room !== slug) return;
    const stick = timeline.nearBottom();
    // The log reads out live messages of others as they go in; while it is
    // busy with something else, the live region says them instead.
    const heard = timeline.announces();
    const news = live && messages.some((message) => message.author !== me && !timeline.has(message.seq));
    const added = timeline.insert(messages, { news });
    for (const message of messages) if (message.author) presence.typists.stop(message.author);
    composer.renderPending();
    const fromOthers = added.filter((item) => item.dataset.author !== me).length;
    if (live && fromOthers && !heard) attention.announce(arrivalText(messages, me));
    if (live) attention.arrived(messages);
    if (stick) timeline.toBottom();
    else timeline.countUnseen(fromOthers);
    attention.scheduleRead();
  });

  client.on("change", ({ room, message }) => room === slug && timeline.changed(message));
  client.on("read", ({ room, seq }) => room === slug && attention.read(seq));

  client.on("rejected", ({ room, item, message }) => room === slug && showNotice(rejectionText(item, message)));

  client.on("ack", (frame) => frame.room === slug && composer.acked(frame));
  client.on("outbox", ({ room }) => room === slug && composer.renderPending());
  client.on("status", ({ state, reason }) => {
    presence.typists.stopAll();
    composer.renderPending();
    if (state === "signed-out") {
      showNotice(gettext("You are signed out: log in again (top right). Unsent messages wait in this browser."));
    } else if (reason === "too-many-sockets") {
      showNotice(gettext("Too many open connections for your account: close other tabs. This page keeps trying."));
    }
  });
  client.on("presence", (frame) => frame.room === slug && presence.show(frame.users));
  client.on("typing", ({ room, user }) => room === slug && user !== me && presence.typists.typed(user));
  client.on("room", (frame) => {
    if (frame.room !== slug) return;
    showTitle(frame.title);
    setReadOnly(frame.read_only);
    composer.update();
  });

  // Leaving is for good in a private room or a group conversation: the page
  // asks first (the form works without this script, unasked). Hiding a
  // conversation of two asks nothing: its next message brings it back.
  const leave = $("leave-form");
  leave?.addEventListener("submit", (event) => {
    const question = leave.dataset.confirm;
    if (question && !win.confirm(question)) event.preventDefault();
  });

  // Removed from this private room by a moderator (docs/room-management.md):
  // nothing more of it comes, so say so, for good, without a reload.
  client.on("left", ({ room, reason }) => {
    if (room !== slug || reason !== "removed") return;
    setReadOnly(true);
    composer.update();
    showNotice(gettext("You were removed from this room."));
    win.clearTimeout(noticeTimer);
    for (const control of [$("manage-link"), leave]) if (control) control.hidden = true;
  });

  // This user's memberships changed: perhaps their role here, which decides
  // whether the header offers "Manage room" (the manage page checks again)
  // and, in a room, whether there is a membership to leave.
  client.on("rooms", async () => {
    const manage = $("manage-link");
    const leaveRoom = config.room.kind === "direct" ? null : leave;
    if (!manage && !leaveRoom) return;
    let room = null;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(slug)}`, { credentials: "same-origin" });
      if (response.ok) room = (await response.json()).room;
      else if (response.status !== 404) return;
    } catch {
      return; // the next `rooms` frame asks again
    }
    if (manage) manage.hidden = !room?.can_manage;
    if (leaveRoom) leaveRoom.hidden = room?.role == null;
  });

  // `#seq-N` (a search result, a notification) opens the page at message N
  // once the first screen is in (scrollback.js); a link to another message
  // of this room, followed later, only changes the hash.
  win.addEventListener("hashchange", () => scrollback.followTarget());

  composer.update();
  attention.updateBadge();
  composer.renderPending();
  // The newest 50 entries; a re-join after a reconnect asks for seq > the last received.
  client.join(slug, { since: 0, limit: 50 });
}
