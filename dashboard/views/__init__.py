"""The dashboard's pages: URL key → (title, render function).

Each page module has one ``render(ctx)``; Routing and Quality live in their own modules so
the quality work can extend them without touching the others.
"""

from __future__ import annotations

from collections.abc import Callable

from ..ui import Context
from . import cost, failures, overview, quality, routing, runs, sessions

PAGES: dict[str, tuple[str, Callable[[Context], None]]] = {
    "overview": ("Overview", overview.render),
    "cost": ("Cost", cost.render),
    "failures": ("Failures", failures.render),
    "runs": ("Runs", runs.render),
    "sessions": ("Sessions", sessions.render),
    "routing": ("Routing", routing.render),
    "quality": ("Quality", quality.render),
}
