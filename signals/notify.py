"""Webhook delivery: generic JSON or Slack-compatible payloads, sent from a small thread
pool so a webhook that never answers holds up only its own deliveries, with capped,
jittered exponential retries."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .rules import Webhook

log = logging.getLogger("agentreel.signals")

ATTEMPTS = 3
BASE_DELAY = 0.5
MAX_DELAY = 10.0


@dataclass(frozen=True)
class Delivery:
    url: str
    ok: bool
    attempts: int
    error: str = ""


def payload(webhook: Webhook, alert: dict[str, Any], text: str) -> dict[str, Any]:
    """The body for ``webhook``: Slack's ``{"text": ...}`` or agentreel's JSON."""
    if webhook.format == "slack":
        return {"text": text}
    return {"source": "agentreel", "text": text, "alert": alert}


def backoff(attempt: int, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds before retry ``attempt`` (1-based): exponential, capped, "equal jitter"."""
    delay = min(cap, base * 2 ** (attempt - 1))
    return float(delay / 2 + random.uniform(0, delay / 2))


def send(
    webhook: Webhook,
    body: dict[str, Any],
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``body`` until a 2xx answer or ``attempts`` tries; never raises."""
    import httpx

    error = ""
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.post(webhook.url, json=body, timeout=webhook.timeout)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            if 200 <= response.status_code < 300:
                return Delivery(webhook.url, True, attempt)
            error = f"answered {response.status_code}"
            if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                return Delivery(webhook.url, False, attempt, error)  # retrying will not help
        if attempt < attempts:
            sleep(backoff(attempt))
    log.warning("webhook %s failed after %d attempts: %s", webhook.url, attempts, error)
    return Delivery(webhook.url, False, attempts, error)


class Notifier:
    """Sends in the background; ``submit`` returns at once."""

    def __init__(self, workers: int = 4, attempts: int = ATTEMPTS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agentreel-hook")
        self._attempts = attempts
        self._closed = threading.Event()

    def submit(
        self,
        webhooks: tuple[Webhook, ...],
        alert: dict[str, Any],
        text: str,
        done: Callable[[list[Delivery]], None],
    ) -> Future[list[Delivery]] | None:
        """Deliver to every webhook (in parallel), then call ``done`` with the outcomes."""
        if self._closed.is_set() or not webhooks:
            return None

        def run() -> list[Delivery]:
            futures = [
                self._pool.submit(send, w, payload(w, alert, text), self._attempts)
                for w in webhooks
            ]
            results = [f.result() for f in futures]
            try:
                done(results)
            except Exception:  # recording the outcome must not kill the pool thread
                log.exception("recording a webhook delivery failed")
            return results

        # A coordinator per alert, not a pool worker: it waits on the pool's futures.
        future: Future[list[Delivery]] = Future()

        def coordinate() -> None:
            try:
                future.set_result(run())
            except Exception as exc:  # the pool was shut down under us
                future.set_exception(exc)

        threading.Thread(target=coordinate, name="agentreel-alert", daemon=True).start()
        return future

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
