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
from functools import partial
from typing import Any

from agentreel.core import outbound

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

    try:
        outbound.check(webhook.url)  # again: the list may have narrowed since the rule was made
    except outbound.OutboundError as exc:
        log.warning("webhook not sent: %s", exc)
        return Delivery(webhook.url, False, 0, str(exc))
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
    """Sends in the background from a fixed pool of threads; ``submit`` returns at once. A
    webhook that never answers holds one thread for its timeouts, then lets go."""

    def __init__(self, workers: int = 8, attempts: int = ATTEMPTS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agentreel-hook")
        self._attempts = attempts

    def submit(
        self,
        webhooks: tuple[Webhook, ...],
        alert: dict[str, Any],
        text: str,
        done: Callable[[list[Delivery]], None],
    ) -> None:
        """Deliver to every webhook (in parallel); once all are settled, ``done`` gets the
        outcomes (called on the pool thread that settled last)."""
        if not webhooks:
            return
        results: list[Delivery | None] = [None] * len(webhooks)
        left = [len(webhooks)]
        lock = threading.Lock()

        def settle(index: int, future: Future[Delivery]) -> None:
            try:
                results[index] = future.result()
            except Exception as exc:  # cancelled at shutdown
                results[index] = Delivery(webhooks[index].url, False, 0, str(exc) or "cancelled")
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                try:
                    done([r for r in results if r is not None])
                except Exception:  # recording the outcome must not kill the pool thread
                    log.exception("recording a webhook delivery failed")

        for index, webhook in enumerate(webhooks):
            try:
                future = self._pool.submit(
                    send, webhook, payload(webhook, alert, text), self._attempts
                )
            except RuntimeError:  # shut down: the server is stopping
                return
            future.add_done_callback(partial(settle, index))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
