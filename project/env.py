"""Reading the environment for project/settings.py: the small parsers its
variables share, and the one-line refusal of a setting that cannot work."""

import os


def _env_bool(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _rate_limit(value: str) -> tuple[int, float] | None:
    """`20/10` -> (20 sends, 10 seconds); `off` -> None."""
    if value.strip().lower() in ("off", "0", "none", ""):
        return None
    count, _, seconds = value.partition("/")
    return int(count), float(seconds or 1)


def _window(value: str) -> tuple[int, int]:
    """`200/131072` -> (200 entries, 131,072 bytes); `off` -> (0, 0)."""
    count, _, size = value.strip().lower().partition("/")
    if count in ("off", "0", "none", ""):
        return 0, 0
    if not (count.isdigit() and size.isdigit()):
        refuse(f"ROOMS_RESUME_WINDOW must be ENTRIES/BYTES or off, not {value!r}.")
    return int(count), int(size)


def refuse(message: str):
    """Stop whatever is starting (a command, a server) with one line."""
    raise SystemExit(f"Rooms cannot start: {message}")
