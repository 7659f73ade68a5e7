// Direct conversations in the pages (docs/direct-messages.md): a person's
// name on the room page (presence list, a message's author) offers
// "Message <name>", which POSTs to /direct/; on the room list, the direct
// conversations show a dot while one of their other people is online, and
// the "New message" field suggests usernames from /api/users.

import { el } from "./dom.js";
import { notifyOnce, wanted } from "./notify.js";

const SUGGEST_DELAY_MS = 150;

/** A person's name: a button that offers a direct message, or plain text
 * for the reader themself and for no one (a system message). */
export function personName(className, name, me) {
  if (name == null || name === me) return el("span", className, name ?? "unknown");
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
    const item = el("button", "person-menu-item", `Message ${name}`);
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
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu) close({ refocus: true });
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
    const text = others.length ? `${others.join(", ")} online` : "offline";
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
 * all messages by default). A conversation started meanwhile (a `rooms`
 * frame) is joined too. */
export function watchDirectConversations(client, config) {
  const watched = new Map(); // slug -> { title, head, level }
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
      arrived ? `All rooms: ${arrived} new direct message${arrived === 1 ? "" : "s"}` : "All rooms",
    );
  };
  const watch = (room) => {
    if (room.slug === config.room.slug || watched.has(room.slug)) return;
    watched.set(room.slug, { title: room.title, head: room.head, level: room.level ?? "all" });
    client.join(room.slug, { since: room.head, presence: false });
  };
  for (const room of config.direct ?? []) watch(room);

  client.on("messages", ({ room: slug, messages }) => {
    const room = watched.get(slug);
    if (!room) return;
    for (const message of messages) {
      if (message.seq <= room.head) continue;
      room.head = message.seq;
      if (message.author === config.user || message.deleted) continue;
      if (message.kind !== "text" && message.kind !== "system") continue;
      arrived += 1;
      if (live) live.textContent = `${message.author ?? "System"} messaged you`;
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
    try {
      const response = await fetch("/api/rooms/", { credentials: "same-origin" });
      if (!response.ok) return;
      const { rooms } = await response.json();
      for (const room of rooms) {
        // Joined from 0: the conversation is new, its messages are news.
        if (room.kind === "direct") watch({ ...room, head: watched.has(room.slug) ? room.head : 0 });
      }
    } catch {
      // a later `rooms` frame tries again
    }
  });
}
