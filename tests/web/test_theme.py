"""The stylesheet's two themes (docs/ui.md, Accessibility): the dark colours
are written twice, once for a dark system (unless the person chose light)
and once for the person's own choice of dark, and the two lists must stay
the same; the light list names every colour the dark ones change."""

import re
from pathlib import Path

CSS = (Path(__file__).resolve().parents[2] / "rooms/static/rooms/rooms.css").read_text()


def declarations(selector: str) -> dict[str, str]:
    """The custom properties (and color-scheme) of the first block whose
    selector is exactly `selector`."""
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert match, selector
    pairs = re.findall(r"(--[\w-]+|color-scheme)\s*:\s*([^;]+);", match.group(1))
    return dict(pairs)


def test_the_dark_theme_is_the_same_for_the_system_and_for_the_persons_choice():
    system = declarations(':root:not([data-theme="light"])')
    chosen = declarations(':root[data-theme="dark"]')
    assert system == chosen
    assert system["color-scheme"] == "dark"
    assert "@media (prefers-color-scheme: dark)" in CSS.split(':root:not([data-theme="light"])')[0]


def test_every_colour_the_dark_theme_changes_has_a_light_value():
    light = declarations(":root")
    dark = declarations(':root[data-theme="dark"]')
    assert set(dark) <= set(light)
    assert light["color-scheme"] == "light dark"
    assert declarations(':root[data-theme="light"]') == {"color-scheme": "light"}


def test_no_other_rule_asks_the_system_for_its_theme():
    # Anything else asking the system would ignore the person's choice.
    assert CSS.count("prefers-color-scheme") == 1
