// The browser client's words in the reader's language (docs/ui.md,
// Languages). Django's JavaScript catalog (/jsi18n/<language>.js:
// rooms/web/jscatalog.py), a script loaded before the modules, defines
// `django.gettext` and `django.ngettext` with the page's translations;
// without it (node's tests, or a catalog that failed to load) the English
// source text stands. Every module takes its words from here, written as
// gettext("…") and ngettext("…", "…", n), which is what makemessages finds.

const catalog = () => globalThis.django;

/** `text` in the reader's language. */
export function gettext(text) {
  return catalog()?.gettext?.(text) ?? text;
}

/** The singular or a plural form of the text for `count`, by the language's rule. */
export function ngettext(singular, plural, count) {
  const django = catalog();
  if (django?.ngettext) return django.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

/** `text` with each %(name)s replaced by `values[name]`. */
export function interpolate(text, values) {
  return text.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? String(values[name]) : match));
}

/** The locale for Intl: the page's language (`<html lang>`), in the
 * browser's own variant of it when the browser has one (en-GB's 24-hour
 * clock on an English page), else as the page says; undefined: the
 * browser's. */
export function locale() {
  const page = globalThis.document?.documentElement?.lang;
  if (!page) return undefined;
  const base = (tag) => tag.toLowerCase().split("-")[0];
  return (globalThis.navigator?.languages ?? []).find((tag) => base(tag) === base(page)) ?? page;
}
