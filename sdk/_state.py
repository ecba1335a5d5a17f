"""Process-wide SDK state: the tracer in use, content capture, the price table."""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

if TYPE_CHECKING:
    from agentreel.core.prices import PriceTable

SCOPE = "agentreel.sdk"
VERSION = "0.1.0"


class _State:
    """What :func:`agentreel.sdk.init` configured; usable before it (then the global
    TracerProvider is used, and content is captured)."""

    def __init__(self) -> None:
        self.tracer: trace.Tracer | None = None
        self.capture_content = True
        self.prices_file: str | None = None
        self._prices: PriceTable | None = None
        self._prices_failed = False
        self._lock = threading.Lock()

    def get_tracer(self) -> trace.Tracer:
        tracer = self.tracer
        if tracer is None:
            # The global provider may be set later: the proxy tracer follows it.
            tracer = self.tracer = trace.get_tracer(SCOPE, VERSION)
        return tracer

    def prices(self) -> PriceTable | None:
        """The price table the server uses (loaded on first need); None if it cannot load."""
        if self._prices is None and not self._prices_failed:
            with self._lock:
                if self._prices is None and not self._prices_failed:
                    try:
                        from agentreel.core.prices import load_prices

                        self._prices = load_prices(self.prices_file)
                    except Exception as exc:  # an unreadable overrides file: costs unknown
                        from ._errors import log_once

                        self._prices_failed = True
                        log_once("price table", exc)
        return self._prices

    def reset_prices(self) -> None:
        with self._lock:
            self._prices, self._prices_failed = None, False


STATE = _State()

#: Per-call content capture: None follows the process setting.
_capture: ContextVar[bool | None] = ContextVar("agentreel_capture_content", default=None)


def capturing() -> bool:
    """Whether message content, tool arguments and results are recorded right now."""
    value = _capture.get()
    return STATE.capture_content if value is None else value


class capture_content:
    """``with capture_content(False):`` records no message content, tool arguments or
    results for the calls inside (token counts, models and timings are still recorded).
    Works for sync and async code (a context variable)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = bool(enabled)
        self._token: Any = None

    def __enter__(self) -> capture_content:
        self._token = _capture.set(self.enabled)
        return self

    def __exit__(self, *exc: object) -> None:
        _capture.reset(self._token)
