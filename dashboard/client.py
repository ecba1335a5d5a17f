"""The dashboard's way to the server: GET a REST path, get JSON or a typed error.

The dashboard never opens the store (one process owns an embedded store); everything it
shows comes from ``/api/v1``. Errors are sorted once, here, into what the page tells the
user: the server is down (:class:`ServerDown`, with the URL tried), it wants an API key
(:class:`NeedsKey`), or it refused the request (:class:`Refused`, with its ``detail``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["ApiClient", "ApiError", "NeedsKey", "Refused", "ServerDown", "api_settings"]

#: Seconds a dashboard request may take before the page says the server did not answer.
TIMEOUT_SECONDS = 30.0
DEFAULT_API_URL = "http://127.0.0.1:4318"


class ApiError(Exception):
    """A request the dashboard could not complete; ``str()`` is the message to show."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class ServerDown(ApiError):
    """No answer from the server (refused, timed out, unreachable)."""


class NeedsKey(ApiError):
    """The server answered 401: it wants an API key, or the one sent is not valid."""


class Refused(ApiError):
    """The server answered 4xx/5xx other than 401; ``detail`` is its reason."""

    def __init__(self, message: str, url: str, status: int, detail: str) -> None:
        super().__init__(message, url)
        self.status = status
        self.detail = detail


def api_settings(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """The server URL and API key from ``AGENTREEL_API_URL`` / ``AGENTREEL_API_KEY``; the
    dashboard reads just these two so it starts whatever else is set for the server."""
    env = os.environ if environ is None else environ
    url = env.get("AGENTREEL_API_URL", "").strip() or DEFAULT_API_URL
    return url.rstrip("/"), env.get("AGENTREEL_API_KEY", "").strip()


@dataclass(frozen=True)
class ApiClient:
    base_url: str
    api_key: str = ""

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``/api/v1`` + ``path`` with ``params`` (None values dropped); the decoded JSON."""
        url = f"{self.base_url}/api/v1{path}"
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.get(url, params=clean, headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            raise ServerDown(
                f"Cannot reach the agentreel server at {self.base_url} ({_reason(exc)}).", url
            ) from None
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError:
                raise Refused(
                    f"{self.base_url} answered with something that is not JSON; is "
                    "AGENTREEL_API_URL the agentreel server (default port 4318)?",
                    url,
                    200,
                    response.text[:200],
                ) from None
        detail = _detail(response)
        if response.status_code == 401:
            why = "the API key is not valid" if self.api_key else "it needs an API key"
            raise NeedsKey(f"The server at {self.base_url} refused the request: {why}.", url)
        if response.status_code == 404 and detail == "Not Found":
            message = f"The server at {self.base_url} does not serve {path} (an older agentreel?)."
            raise Refused(message, url, 404, message)
        raise Refused(detail, url, response.status_code, detail)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI's validation errors: name the parameter
        parts = []
        for item in detail:
            where = ".".join(str(p) for p in item.get("loc", [])[1:])
            parts.append(f"{where}: {item.get('msg', '')}".strip(": "))
        return "; ".join(parts)
    return str(detail) if detail else f"HTTP {response.status_code}"


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused: nothing is listening there"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {TIMEOUT_SECONDS:.0f}s"
    return type(exc).__name__
