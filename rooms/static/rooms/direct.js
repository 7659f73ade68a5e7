// Direct conversations in the pages (docs/direct-messages.md): a person's
// name on the room page (presence list, a message's author) offers
// "Message <name>", which POSTs to /direct/; on the room list, the direct
// conversations show a dot while one of their other people is online, and
// the "New message" field suggests usernames from /api/users.

import { el } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { byActivity, joinPlan } from "./joins.js";
import { notifyOnce, wanted } from "./notify.js";

const SUGGEST_DELAY_MS = 150;
// The server's DIRECT_WATCH_LIMIT, when the page does not say it.
const DIRECT_WATCH_LIMIT = 50;

/** A person's name: a button that offers a direct message, or plain text
 * for the reader themself and for no one (a system message). */
export function personName(className, name, me) {
  if (name == null || name === me) return el("span", className, name ?? gettext("unknown"));
  const node = el("button", `${className} person`, name);
  node.type = "button";
  node.dataset.person = name;
  node.setAttribute("aria-haspopup", "menu");
  return node;
}

/** The CSRF token of the page's forms (the logout form has one). */
export function csrfToken() {
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value ?? "";
}

/** Open (or create once) the conversation with `names`: a form POST to
 * /direct/, which redirects to the room. No inline script: the CSP forbids it. */
export function openDirect(names) {
  const form = el("form");
  form.method = "post";
  form.action = "/direct/";
  form.hidden = true;
  for (const [name, value] of [["csrfmiddlewaretoken", csrfToken()], ["users", names.join(" ")]]) {
    const input = el("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}

/** Clicking a person's name (anywhere under `root`) opens a small menu with
 * "Message <name>"; Escape or a click elsewhere closes it, and the focus
 * goes back to the name. */
export function offerDirectMessages(root = document) {
  let menu = null;
  let opener = null;
  const close = ({ refocus = false } = {}) => {
    menu?.remove();
    menu = null;
    if (refocus) opener?.focus();
    opener = null;
  };
  root.addEventListener("click", (event) => {
    const target = event.target.closest?.("[data-person]");
    if (menu && !event.target.closest?.(".person-menu")) close();
    if (!target) return;
    event.preventDefault();
    opener = target;
    const name = target.dataset.person;
    menu = el("div", "person-menu");
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", name);
    const item = el("button", "person-menu-item", interpolate(gettext("Message %(name)s"), { name }));
    item.type = "button";
    item.setAttribute("role", "menuitem");
    item.addEventListener("click", () => {
      close();
      openDirect([name]);
    });
    menu.append(item);
    const box = target.getBoundingClientRect();
    menu.style.left = `${Math.max(4, Math.min(box.left, window.innerWidth - 200))}px`;
    menu.style.top = `${box.bottom + 4}px`;
    document.body.append(menu);
    item.focus();
  });
  // Escape closes the menu; so does Tab (a menu keeps the focus until it
  // closes, then gives it back to the name).
  document.addEventListener("keydown", (event) => {
    if (!menu || (event.key !== "Escape" && event.key !== "Tab")) return;
    event.preventDefault();
    close({ refocus: true });
  });
  window.addEventListener("resize", () => close());
  document.addEventListener("scroll", () => close(), true);
}

/** The room list's direct conversations: a presence dot per row, and the
 * "New message" field's suggestions. The rows may be replaced (the list
 * re-reads itself when the user's rooms change): the dots are drawn again. */
export function startDirectList(client, config) {
  const online = new Map(); // slug -> usernames online, the reader left out
  const draw = (row) => {
    const others = online.get(row.dataset.room) ?? [];
    const status = row.querySelector(".direct-status");
    const text = others.length
      ? interpolate(gettext("%(names)s online"), { names: others.join(", ") })
      : gettext("offline");
    row.classList.toggle("room-row--online", others.length > 0);
    if (status && status.textContent !== text) status.textContent = text;
  };
  const drawAll = () => document.querySelectorAll(".room-row--direct").forEach(draw);
  client.on("presence", ({ room, users }) => {
    online.set(
      room,
      users.filter((user) => user !== config.user),
    );
    const row = document.querySelector(`.room-row--direct[data-room="${CSS.escape(room)}"]`);
    if (row) draw(row);
  });
  const section = document.querySelector(".direct");
  // The list's refresh replaces the section's `[data-room-section]` child.
  if (section) new MutationObserver(drawAll).observe(section, { childList: true });
  drawAll();
  suggestUsers(document.getElementById("direct-users"), document.getElementById("direct-suggestions"), config.user);
}

/** Fill `list` (a <datalist>) with the usernames that start with the last
 * name typed in `input`, the reader left out (also the manage page's invite
 * field: manage.js). */
export function suggestUsers(input, list, me) {
  if (!input || !list) return;
  let timer = null;
  let asked = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const typed = input.value.split(/[\s,]+/);
      const prefix = typed.pop().replace(/^@/, "");
      if (!prefix || prefix === asked) return;
      asked = prefix;
      try {
        const response = await fetch(`/api/users?q=${encodeURIComponent(prefix)}`, { credentials: "same-origin" });
        if (!response.ok) return;
        const { users } = await response.json();
        const head = typed.length ? `${typed.join(" ")} ` : "";
        list.replaceChildren(
          ...users
            .filter((user) => user !== me)
            .map((user) => {
              const option = el("option");
              option.value = head + user;
              return option;
            }),
        );
      } catch {
        // no suggestions this time: the field still takes any name
      }
    }, SUGGEST_DELAY_MS);
  });
}

/** On a room page, the user's other direct conversations: joined quietly
 * (no presence) from their heads, so a message in one shows as a count on
 * the way back to the room list, is announced, and notifies (as on the list:
 * all messages by default). At most `config.directLimit` of them, the most
 * recently active first (joins.js): the server lists that many. When the
 * user's conversations change (a `rooms` frame: one started, one hidden or
 * back), the page reads them again and joins the most recently active of
 * them, leaving those that fell out; what arrived in a conversation before
 * the page first joined it counts as the server's unread count. */
export function watchDirectConversations(client, config) {
  const limit = config.directLimit ?? DIRECT_WATCH_LIMIT;
  const watched = new Map(); // slug -> { title, head, level }
  const seen = new Set(); // every conversation this page has watched
  const back = document.getElementById("back");
  const badge = document.getElementById("direct-badge");
  const live = document.getElementById("live");
  let arrived = 0;
  const show = () => {
    if (!badge || !back) return;
    badge.textContent = arrived > 99 ? "99+" : String(arrived);
    badge.hidden = arrived === 0;
    back.setAttribute(
      "aria-label",
      arrived
        ? interpolate(
            ngettext(
              "All rooms: %(count)s new direct message",
              "All rooms: %(count)s new direct messages",
              arrived,
            ),
            { count: arrived },
          )
        : gettext("All rooms"),
    );
  };
  const watch = (room) => {
    watched.set(room.slug, { title: room.title, head: room.head, level: room.level ?? "all" });
    seen.add(room.slug);
    client.join(room.slug, { since: room.head, presence: false });
  };
  for (const room of (config.direct ?? []).slice(0, limit)) {
    if (room.slug !== config.room.slug) watch(room);
  }

  client.on("messages", ({ room: slug, messages }) => {
    const room = watched.get(slug);
    if (!room) return;
    for (const message of messages) {
      if (message.seq <= room.head) continue;
      room.head = message.seq;
      if (message.author === config.user || message.deleted) continue;
      if (message.kind !== "text" && message.kind !== "system") continue;
      arrived += 1;
      if (live) {
        live.textContent = interpolate(gettext("%(name)s messaged you"), { name: message.author ?? gettext("System") });
      }
      if (wanted(message, { me: config.user, level: room.level })) {
        notifyOnce({
          room: slug,
          title: room.title,
          message,
          me: config.user,
          direct: true,
          open: () => location.assign(`/rooms/${encodeURIComponent(slug)}/#seq-${message.seq}`),
        });
      }
    }
    show();
  });
  client.on("rooms", async () => {
    let rooms;
    try {
      const response = await fetch("/api/rooms/", { credentials: "same-origin" });
      if (!response.ok) return;
      ({ rooms } = await response.json());
    } catch {
      return; // a later `rooms` frame tries again
    }
    const conversations = rooms.filter((room) => room.kind === "direct" && room.slug !== config.room.slug);
    const bySlug = new Map(conversations.map((room) => [room.slug, room]));
    // A conversation just started has no entry yet: byActivity ranks it first.
    const plan = joinPlan({ joined: [...watched.keys()], ranked: byActivity(conversations), max: limit });
    for (const slug of plan.leave) {
      watched.delete(slug);
      client.leave(slug);
    }
    let missed = 0;
    for (const slug of plan.join) {
      const room = bySlug.get(slug);
      // What came before now is counted by the server, once for this page.
      if (!seen.has(slug)) missed += room.unread ?? 0;
      watch(room);
    }
    if (missed) {
      arrived += missed;
      if (live) {
        live.textContent = interpolate(
          ngettext("%(count)s new direct message", "%(count)s new direct messages", missed),
          { count: missed },
        );
      }
      show();
    }
  });
}
