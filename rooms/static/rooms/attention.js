// The reader's attention on the room page (room-page.js): what is read (the
// read cursor follows the newest message in view while the page is seen),
// the tab's unread count and dot for messages that came while it was hidden
// (badges.js), browser notifications under the room's setting (notify.js),
// and the live region that reads new messages out.

import { tabBadge } from "./badges.js";
import { csrfToken } from "./direct.js";
import { gettext, interpolate } from "./i18n.js";
import { notifyOnce, permissionControl, wanted } from "./notify.js";
import { mentionsIn, plainText } from "./render.js";
import { filesText } from "./attachments.js";

const READ_DELAY_MS = 200;

/** Whether `message` is news to `me`: someone else's text or system
 * message, not deleted. */
export const isNews = (message, me) =>
  message.author !== me && !message.deleted && ["text", "system"].includes(message.kind);

/** The live region's line for new `messages` (some from others): the last
 * one from others, said to mention `me` if any of them does. */
export function arrivalText(messages, me) {
  const last = messages.filter((message) => message.author !== me).pop();
  const mentioned = messages.some((message) => message.author !== me && mentionsIn(message.body).has(me));
  const values = { name: last.author ?? gettext("System"), text: plainText(last.body, 200) || filesText(last) };
  return interpolate(mentioned ? gettext("%(name)s mentioned you: %(text)s") : gettext("%(name)s: %(text)s"), values);
}

/** Messages that came while the tab was hidden and are not read yet: the
 * tab's badge counts them, and shows a mention among them. */
export class HiddenUnread {
  constructor() {
    this.mentions = new Map(); // seq -> whether it mentions the reader
  }

  add(seq, mentioned) {
    this.mentions.set(seq, mentioned);
  }

  /** Messages up to `seq` are read (here or in another tab). */
  readThrough(seq) {
    for (const each of [...this.mentions.keys()]) if (each <= seq) this.mentions.delete(each);
  }

  /** {unread, mentioned}, as tabBadge() shows it. */
  badge() {
    return { unread: this.mentions.size, mentioned: [...this.mentions.values()].some(Boolean) };
  }
}

/**
 * Attention for room `slug` and reader `me`. `elements`: live (the live
 * region), title (the room's title), and the notification settings: level,
 * permission, status (all three absent on pages without them). `level` is
 * the room's notification setting; `open(seq)` shows a message (a
 * notification was clicked); `showNotice(text)` says what went wrong.
 */
export function startAttention({ client, slug, me, direct, level, timeline, elements, doc, timers, open, showNotice }) {
  const unread = new HiddenUnread();
  const showBadge = tabBadge(doc);
  let readTimer = null;

  const announce = (text) => {
    elements.live.textContent = text;
  };
  const updateBadge = () => showBadge(unread.badge());

  /** Messages up to `seq` are read (here or in another tab). */
  function read(seq) {
    unread.readThrough(seq);
    updateBadge();
  }

  /** Mark read up to the newest message in view, when the page is seen. */
  function markRead() {
    if (doc.visibilityState !== "visible") return;
    const seq = timeline.newestInView();
    if (seq == null) return;
    client.read(slug, seq);
    read(seq);
  }

  function scheduleRead() {
    if (readTimer != null) return;
    readTimer = timers.setTimeout(() => {
      readTimer = null;
      markRead();
    }, READ_DELAY_MS);
  }

  const notifyLevel = elements.level;
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
        announce(interpolate(gettext("Notifications: %(level)s"), { level: notifyLevel.selectedOptions[0].textContent }));
      } catch {
        level = previous;
        notifyLevel.value = previous;
        showNotice(gettext("Could not save the notification setting: try again."));
      }
    });
    permissionControl(elements.permission, elements.status, announce);
  }
  doc.addEventListener("visibilitychange", scheduleRead);

  return {
    announce,
    read,
    scheduleRead,
    updateBadge,
    /** New messages arrived live: counted while the tab is hidden, and
     * notified as the room's setting asks. */
    arrived(messages) {
      for (const message of messages) {
        if (!isNews(message, me)) continue;
        if (doc.visibilityState === "hidden") unread.add(message.seq, mentionsIn(message.body).has(me));
        if (wanted(message, { me, level })) {
          notifyOnce({
            room: slug,
            title: elements.title.textContent,
            message,
            me,
            direct,
            open: () => open(message.seq),
          });
        }
      }
      updateBadge();
    },
  };
}
