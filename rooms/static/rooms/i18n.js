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

/** The page's language (`<html lang>`), as Intl takes it; undefined: the browser's. */
export function locale() {
  return globalThis.document?.documentElement?.lang || undefined;
}
