"""Settings for the baseline server: the project's settings (same database,
same channel layer, same auth) with the tutorial-style ASGI application."""

from project.settings import *  # noqa: F403

ASGI_APPLICATION = "bench.baseline.asgi.application"
