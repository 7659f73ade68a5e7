// The composer's @ suggestions: typing "@" and the start of a name lists the
// room's members and the users online (a listbox under the textarea's
// aria-activedescendant). Arrow keys move, Enter or Tab takes the name
// (Enter after a name typed in full sends), Escape closes; a click works too.

import { el } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

const MAX_SHOWN = 8;
// "@" and the name typed so far, right before the caret, at a word start
// (the syntax of render.js).
const TYPED = /(?:^|[^\p{L}\p{N}_.+@/-])@([\p{L}\p{N}_.+-]*)$/u;

/** The names to offer for `typed`, from `names`: prefix matches first, case aside. */
export function suggestions(names, typed, me) {
  const wanted = typed.toLowerCase();
  const unique = [...new Set(names)].filter((name) => name && name !== me);
  const starts = unique.filter((name) => name.toLowerCase().startsWith(wanted));
  const contains = unique.filter((name) => !name.toLowerCase().startsWith(wanted) && wanted && name.toLowerCase().includes(wanted));
  const byName = (a, b) => a.localeCompare(b);
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, MAX_SHOWN);
}

/**
 * Attach to `input` (the composer) with `listbox` (an empty <ul>), offering
 * `names()`. Returns {handleKey(event) -> true when the key was the list's,
 * close()}.
 */
export function mentionCompleter(input, listbox, { names, me, announce = () => {} }) {
  let options = [];
  let active = -1;
  let start = -1; // where the "@" is
  let typed = ""; // the name typed after it so far

  listbox.setAttribute("role", "listbox");
  listbox.setAttribute("aria-label", gettext("People to mention"));
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listbox.id);
  // No aria-expanded: a <textarea> is a textbox, which does not take it (and
  // cannot be a combobox); the list's size is read out instead.

  function close() {
    options = [];
    active = -1;
    listbox.hidden = true;
    listbox.replaceChildren();
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    active = index;
    listbox.querySelectorAll("[role=option]").forEach((option, n) => {
      option.setAttribute("aria-selected", String(n === index));
      if (n === index) {
        input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView?.({ block: "nearest" });
      }
    });
  }

  function update() {
    const caret = input.selectionStart;
    const match = caret === input.selectionEnd ? TYPED.exec(input.value.slice(0, caret)) : null;
    if (!match) return close();
    const found = suggestions(names(), match[1], me);
    if (!found.length) return close();
    const changed = found.join("\n") !== options.join("\n");
    start = caret - match[1].length - 1;
    typed = match[1];
    options = found;
    if (changed) {
      listbox.replaceChildren(
        ...found.map((name, n) => {
          const option = el("li", "mention-option", `@${name}`);
          option.id = `${listbox.id}-${n}`;
          option.setAttribute("role", "option");
          option.addEventListener("mousedown", (event) => {
            event.preventDefault(); // keep the focus in the composer
            choose(n);
          });
          return option;
        }),
      );
      announce(
        interpolate(
          ngettext(
            "%(count)s person to mention: arrow keys choose, Enter takes",
            "%(count)s people to mention: arrow keys choose, Enter takes",
            found.length,
          ),
          { count: found.length },
        ),
      );
    }
    listbox.hidden = false;
    highlight(changed || active < 0 ? 0 : Math.min(active, found.length - 1));
  }

  function choose(index) {
    const name = options[index];
    if (name == null) return;
    const caret = input.selectionStart;
    const insert = `@${name} `;
    input.value = input.value.slice(0, start) + insert + input.value.slice(caret);
    const at = start + insert.length;
    input.setSelectionRange(at, at);
    close();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    announce(interpolate(gettext("@%(name)s inserted"), { name }));
  }

  input.addEventListener("input", update);
  input.addEventListener("click", update);
  input.addEventListener("blur", close);
  close();

  return {
    close,
    handleKey(event) {
      if (listbox.hidden || !options.length || event.isComposing) return false;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + options.length) % options.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
        // A name typed in full: Enter sends rather than completing it again.
        if (event.key === "Enter" && options[Math.max(active, 0)] === typed) {
          close();
          return false;
        }
        choose(Math.max(active, 0));
      } else if (event.key === "Escape") {
        close();
      } else {
        return false;
      }
      event.preventDefault();
      event.stopPropagation();
      return true;
    },
  };
}
