"""Every word a person reads is marked for translation, and every language
of the site (German, so far) has all of them (docs/ui.md, Languages).

A template's text and its readable attributes (title, placeholder,
aria-label, alt) must sit in `{% translate %}` or `{% blocktranslate %}`;
a browser module's text must go through gettext or ngettext (i18n.js).
What stays as it is in every language is listed below, each with why.
Every message the templates, the Python code and the modules mark has a
translation (not fuzzy) in rooms/locale/<language>/ for each language of
settings.LANGUAGES but English. All read from the sources in Python: no
GNU gettext needed."""

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.template import Context, Template
from django.utils import translation
from django.utils.translation.template import templatize

import rooms

ROOT = Path(rooms.__file__).parent
TEMPLATES = ROOT / "templates"
MODULES = ROOT / "static" / "rooms"
LOCALE = ROOT / "locale"

# Template text that is the same in every language (and keys, in <kbd>,
# named as on the keyboard).
SAME_IN_EVERY_LANGUAGE = {
    "Rooms",  # the product's name (the brand in the top bar)
    "— Rooms",  # after each page's title
    "UTC",  # the time zone of the emails' times
    # The search syntax is typed as it is, whatever the language.
    "a OR b",
    "from:alice",
    "in:room",
    "after:2025-01-31",
    "before:…",
    "on:…",
}
# The admin's pages are for operators and stay in English (docs/ui.md).
UNTRANSLATED_TEMPLATES = ("admin/",)
# sw.js is a classic script without the catalog (its notification text
# comes from the server); vendor/ is third-party code.
UNTRANSLATED_MODULES = ("sw.js",)
# Module strings shaped like words that nobody reads: key names, header
# names, API names, canvas fonts, drag data types.
NOT_TEXT = {
    "Content-Type",
    "X-CSRFToken",
    "PushManager",
    "Notification",
    "NFKD",
    "bold 22px sans-serif",
    "afterSanitizeAttributes",
    "noopener noreferrer nofollow",  # a link's rel
    "Files",  # the DataTransfer type of dragged files
}
# Where a module's string is code, not text: what precedes it.
CODE_CONTEXT = re.compile(
    r"(?:\bimport\b[^;]*\bfrom|\bfrom|querySelector(?:All)?\(|closest\??\.?\(|getElementById\(|"
    r"\$\(|(?:add|remove)EventListener\(|new Event\(|console\.\w+\(|new Error\(|"
    r"\bkey\s*[!=]==?|classList\.\w+\(|className\s*=|\bel\(\s*\"\w+\"\s*,|"
    r"\bbutton\(|setAttribute\(\"(?:role|aria-(?:haspopup|hidden|autocomplete|controls|"
    r"pressed|selected|invalid|describedby|activedescendant|expanded))\"\s*,|"
    r"\bstate\s*[!=]==?|\.(?:kind|type|status|action|reason|code|mode|destination|method)\s*[!=]==?)"
    r"\s*$"
)
# Where a string is read by a person, whatever it looks like.
TEXT_SINK = re.compile(
    r"(?:textContent\s*=|\.title\s*=|\.placeholder\s*=|setAttribute\(\"(?:aria-label|title|"
    r"placeholder)\"\s*,|announce\(|showNotice\(|confirm\(|\bel\(\s*\"\w+\"\s*,\s*\"[^\"]*\"\s*,)"
    r"\s*$"
)
READABLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


# --- Templates --------------------------------------------------------------------


def unmarked_template_text(source: str) -> list[str]:
    """The readable text of a template left outside the translation tags."""
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", source, flags=re.S)
    source = re.sub(r"{#.*?#}", "", source, flags=re.S)
    source = re.sub(
        r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", "\x00", source, flags=re.S
    )
    source = re.sub(r"<(script|style|kbd)\b.*?</\1>", "", source, flags=re.S)
    # Blocks that fill a class attribute of base.html.
    source = re.sub(r"{%\s*block \w*class\s*%}.*?{%\s*endblock\s*%}", "", source, flags=re.S)
    source = re.sub(r"{%.*?%}|{{.*?}}", "\x00", source, flags=re.S)
    found = []
    for name, value in re.findall(r'\s([\w-]+)="([^"]*)"', source):
        if name in READABLE_ATTRIBUTES and re.search(r"[^\W\d_]", value):
            found.append(f'{name}="{value}"')
    for text in re.split(r"<[^>]*>|\x00", source):
        text = " ".join(text.replace("&gt;", ">").replace("&quot;", '"').split())
        text = text.strip(" ,:;.()")
        if re.search(r"[^\W\d_]{2,}", text) and text not in SAME_IN_EVERY_LANGUAGE:
            found.append(text)
    return found


def template_messages(source: str) -> set[tuple[str | None, str]]:
    """(context, msgid) of every message a template marks, as makemessages
    reads them (Django's templatize)."""
    return python_messages(templatize(source))


def templates() -> list[Path]:
    return [
        path
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in (".html", ".txt")
        and not str(path.relative_to(TEMPLATES)).startswith(UNTRANSLATED_TEMPLATES)
    ]


def test_every_template_text_is_marked_for_translation():
    unmarked = {}
    for path in templates():
        if found := unmarked_template_text(path.read_text()):
            unmarked[str(path.relative_to(TEMPLATES))] = found
    assert unmarked == {}


def test_the_template_check_finds_unmarked_text_and_attributes():
    assert unmarked_template_text("<p>Hello there</p>") == ["Hello there"]
    assert unmarked_template_text('<a title="Go home">{% translate "x" %}</a>') == [
        'title="Go home"'
    ]
    assert unmarked_template_text('<p>{% translate "Hello" %} {{ name }}</p>') == []
    blocktranslate = "{% blocktranslate with n=a %}Hi {{ n }}{% endblocktranslate %}"
    assert unmarked_template_text(f"<p>{blocktranslate}</p>") == []


# --- Browser modules ----------------------------------------------------------------


def js_strings(source: str) -> list[tuple[int, str]]:
    """(offset, text) of every string literal of a module, comments and
    regular expressions skipped; a template literal's `${}` parts are
    scanned as code and its own text read with them as `${}`."""
    found = []
    index = 0
    while index < len(source):
        char = source[index]
        if source.startswith("//", index):
            index = source.find("\n", index) % (len(source) + 1)
            continue
        if source.startswith("/*", index):
            index = source.index("*/", index) + 2
            continue
        if char in "\"'":
            end = index + 1
            while source[end] != char:
                end += 2 if source[end] == "\\" else 1
            found.append((index, source[index + 1 : end]))
            index = end + 1
            continue
        if char == "`":
            end, text = index + 1, ""
            while source[end] != "`":
                if source[end] == "\\":
                    text, end = text + source[end : end + 2], end + 2
                elif source.startswith("${", end):
                    depth, start = 1, end + 2
                    end = start
                    while depth:
                        depth += {"{": 1, "}": -1}.get(source[end], 0)
                        end += 1
                    found += [
                        (start + at, inner) for at, inner in js_strings(source[start : end - 1])
                    ]
                    text += "${}"
                else:
                    text, end = text + source[end], end + 1
            found.append((index, text))
            index = end + 1
            continue
        if char == "/" and re.search(
            r"(?:[(,=:!&|?{};\[]|\breturn)\s*$", source[max(0, index - 20) : index]
        ):
            end, in_class = index + 1, False
            while source[end] != "/" or in_class:
                if source[end] == "\\":
                    end += 1
                elif source[end] in "[]":
                    in_class = source[end] == "["
                end += 1
            index = end + 1
            continue
        index += 1
    return found


def marked_spans(source: str) -> list[tuple[int, int]]:
    """The (start, end) of every gettext( … ) and ngettext( … ) call."""
    strings = {offset: text for offset, text in js_strings(source)}
    spans = []
    for call in re.finditer(r"\bn?gettext\(", source):
        depth, index = 1, call.end()
        while depth:
            if index in strings:  # skip the literal whole (it may hold parentheses)
                quote = source[index]
                index = source.index(quote, index + 1 + len(strings[index])) + 1
                continue
            depth += {"(": 1, ")": -1}.get(source[index], 0)
            index += 1
        spans.append((call.start(), index))
    return spans


def unmarked_module_text(source: str) -> list[str]:
    spans = marked_spans(source)
    found = []
    for offset, text in js_strings(source):
        if any(start < offset < end for start, end in spans):
            continue
        words = re.sub(r"\$\{\}", "", text).strip()
        before = source[max(0, offset - 80) : offset]
        markup = words.startswith("<")  # HTML that render.js builds around text
        if not re.search(r"[^\W\d_]{2,}", words) or markup or CODE_CONTEXT.search(before):
            continue
        prose = re.search(r"[^\W\d_]\s+[^\W\d_]", words) or re.match(r"[A-Z][a-z]", words)
        if (prose or TEXT_SINK.search(before)) and words not in NOT_TEXT:
            found.append(text)
    return found


def module_messages(source: str) -> set[tuple[None, str]]:
    """The msgids of a module's gettext and ngettext calls (literals joined
    by + are one)."""
    messages = set()
    strings = js_strings(source)
    for start, end in marked_spans(source):
        inside = [(offset, text) for offset, text in strings if start < offset < end]
        call = source[start:end]
        opening = call.index("(") + 1
        msgid, *_ = split_arguments(call[opening:-1], inside, start + opening)
        if msgid:  # ngettext's plural form belongs to the msgid, no msgid of its own
            messages.add((None, "".join(msgid)))
    return messages


def split_arguments(code: str, strings, base: int) -> list[list[str]]:
    """The string literals of each top-level argument of a call's `code`."""
    arguments, current, depth, index = [], [], 0, 0
    literal = {offset - base: text for offset, text in strings}
    while index < len(code):
        if index in literal:
            if depth == 0:
                current.append(literal[index])
            index = code.index(code[index], index + 1 + len(literal[index])) + 1
            continue
        char = code[index]
        depth += {"(": 1, "{": 1, "[": 1, ")": -1, "}": -1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            arguments.append(current)
            current = []
        index += 1
    return [*arguments, current]


def modules() -> list[Path]:
    return [path for path in sorted(MODULES.glob("*.js")) if path.name not in UNTRANSLATED_MODULES]


def test_every_module_text_goes_through_gettext():
    unmarked = {
        path.name: found for path in modules() if (found := unmarked_module_text(path.read_text()))
    }
    assert unmarked == {}


def test_the_module_check_finds_unmarked_text():
    assert unmarked_module_text('node.textContent = "offline";') == ["offline"]
    assert unmarked_module_text("announce(`${name} is here`);") == ["${} is here"]
    assert unmarked_module_text('const a = gettext("Hello there");') == []
    marked = 'interpolate(ngettext("%(n)s room", "%(n)s rooms", n), { n });'
    assert unmarked_module_text(marked) == []
    assert module_messages(marked) == {(None, "%(n)s room")}
    assert unmarked_module_text('el.querySelector(".a b");') == []


# --- Every marked message in German -------------------------------------------------


def python_messages(source: str) -> set[tuple[str | None, str]]:
    """(context, msgid) of the gettext-family calls in Python source (or in
    templatize's rendering of a template) whose arguments are literals."""
    found = set()
    for call in re.finditer(
        r"\b(?:_|gettext|gettext_lazy|gettext_noop|ngettext|pgettext)\(", source
    ):
        depth, index = 1, call.end()
        while depth and index < len(source):
            if source[index] in "'\"":
                quote, index = source[index], index + 1
                while source[index] != quote:
                    index += 2 if source[index] == "\\" else 1
            depth += {"(": 1, ")": -1}.get(source[index], 0)
            index += 1
        try:
            node = ast.parse(source[call.start() : index], mode="eval").body
        except SyntaxError:
            continue
        literals = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
        if not literals or not all(isinstance(value, str) for value in literals):
            continue
        if node.func.id == "pgettext":
            found.add((literals[0], literals[1]))
        else:
            found.add((None, literals[0]))
    return found


# Every language of the site but English, the source text's.
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]


def catalogue(language: str, domain: str) -> dict:
    with (LOCALE / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    return {
        (message.context, message.id[0] if isinstance(message.id, tuple) else message.id): message
        for message in catalog
        if message.id
    }


def untranslated(wanted: set, language: str, domain: str) -> list:
    messages = catalogue(language, domain)
    missing = []
    for key in sorted(wanted, key=str):
        message = messages.get(key)
        strings = message and (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        if not message or message.fuzzy or not all(strings):
            missing.append(key)
    return missing


def test_german_is_a_language_of_the_site():
    assert "de" in TRANSLATED


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_of_the_pages_and_emails_is_translated(language):
    wanted = set()
    for path in templates():
        wanted |= template_messages(path.read_text())
    for path in ROOT.rglob("*.py"):
        if "migrations" not in path.parts:
            wanted |= python_messages(path.read_text())
    assert len(wanted) > 150
    assert untranslated(wanted, language, "django") == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_of_the_browser_client_is_translated(language):
    wanted = set().union(*(module_messages(path.read_text()) for path in modules()))
    assert len(wanted) > 80
    assert untranslated(wanted, language, "djangojs") == []


# --- Plural forms --------------------------------------------------------------------

ROOM_COUNT = Template(
    "{% load i18n %}{% blocktranslate count counter=n %}{{ counter }} room{% plural %}"
    "{{ counter }} rooms{% endblocktranslate %}"
)


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", ["0 rooms", "1 room", "2 rooms"]), ("de", ["0 Räume", "1 Raum", "2 Räume"])],
)
def test_a_count_takes_the_plural_form_of_the_language(language, shown):
    with translation.override(language):
        assert [ROOM_COUNT.render(Context({"n": n})) for n in (0, 1, 2)] == shown
        singular, plural = "Try again in %(count)d second.", "Try again in %(count)d seconds."
        texts = [translation.ngettext(singular, plural, n) % {"count": n} for n in (1, 5)]
    if language == "de":
        assert texts == [
            "Versuchen Sie es in 1 Sekunde erneut.",
            "Versuchen Sie es in 5 Sekunden erneut.",
        ]
    else:
        assert texts == ["Try again in 1 second.", "Try again in 5 seconds."]


# --- Right to left -------------------------------------------------------------------

PHYSICAL = re.compile(
    r"(?:^|[\s;{])(?:(?:margin|padding|border)-(?:left|right)\b[\w-]*|left|right|float)\s*:"
    r"|text-align\s*:\s*(?:left|right)"
    r"|(?:margin|padding)\s*:\s*[^;}\s]+\s+([^;}\s]+)\s+[^;}\s]+\s+(?!\1[;}\s])[^;}\s]+"
)


def test_the_stylesheet_says_start_and_end_not_left_and_right():
    """A language written right to left then needs no change of CSS: sides
    are logical (inline-start, inline-end), and four-value margins and
    paddings have the same start and end."""
    css = re.sub(r"/\*.*?\*/", "", (MODULES / "rooms.css").read_text(), flags=re.S)
    assert [match[0] for match in PHYSICAL.finditer(css)] == []
    assert PHYSICAL.search(".a { margin-left: 4px; }") and PHYSICAL.search(".a { right: 0 }")
    assert PHYSICAL.search(".a { padding: 4px 4px 4px 10px; }")
    assert not PHYSICAL.search(".a { padding: 1px 2px 3px 2px; inset-inline-start: 0 }")
