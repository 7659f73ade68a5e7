// Who else is in the room (room-page.js): the "Online" list from `presence`
// frames, and the "… is typing" line from `typing` frames. A typist is shown
// for a few seconds after their last `typing` frame, and no longer once
// their message arrived or the connection changed.

import { avatar, el } from "./dom.js";
import { personName } from "./direct.js";
import { gettext, interpolate } from "./i18n.js";

export const TYPING_SHOWN_MS = 5000;

/** The typing line for the typists `names`, in the order they started. */
export function typingText(names) {
  if (names.length === 0) return "";
  if (names.length === 1) return interpolate(gettext("%(name)s is typing…"), { name: names[0] });
  if (names.length === 2) {
    return interpolate(gettext("%(first)s and %(second)s are typing…"), { first: names[0], second: names[1] });
  }
  return gettext("Several people are typing…");
}

/** The people typing now: each for `shownMs` after their last `typing`
 * frame; `changed(names)` is told whenever the set changes. */
export class Typists {
  constructor({ timers, changed, shownMs = TYPING_SHOWN_MS }) {
    this.timers = timers;
    this.changed = changed;
    this.shownMs = shownMs;
    this.typing = new Map(); // username -> timer
  }

  names() {
    return [...this.typing.keys()];
  }

  /** `user` typed (a `typing` frame): shown for shownMs from now. */
  typed(user) {
    this.timers.clearTimeout(this.typing.get(user));
    this.typing.set(
      user,
      this.timers.setTimeout(() => this.stop(user), this.shownMs),
    );
    this.changed(this.names());
  }

  stop(user) {
    if (!this.typing.has(user)) return;
    this.timers.clearTimeout(this.typing.get(user));
    this.typing.delete(user);
    this.changed(this.names());
  }

  stopAll() {
    for (const user of this.names()) this.stop(user);
  }
}

/**
 * The presence list (`elements.list`, with its count in `elements.count`)
 * and the typing line (`elements.typing`) for the reader `me`. Returns
 * {show(users), online() -> usernames, typists}.
 */
export function startPresence({ me, elements, timers }) {
  let online = []; // usernames in the room now
  const typists = new Typists({
    timers,
    changed: (names) => {
      elements.typing.textContent = typingText(names);
    },
  });
  return {
    typists,
    online: () => online,
    show(users) {
      const rows = users.map((user) => {
        const row = el("li", "presence-user");
        row.append(avatar(user), personName("presence-name", user, me));
        if (user === me) row.append(el("span", "muted small", gettext("(you)")));
        return row;
      });
      elements.list.replaceChildren(...rows);
      online = users;
      elements.count.textContent = `(${users.length})`;
    },
  };
}
