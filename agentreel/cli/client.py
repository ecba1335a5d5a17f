"""How the CLI talks to the server: one request, and a clear line on stderr when it fails.

:func:`call` raises :class:`ApiError` with that line instead of printing it, for callers that
carry on after a failure (``agentreel mcp`` answers it as a tool error).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from agentreel.settings import Settings

#: Seconds a command waits for the server (an export of a long run takes a while).
TIMEOUT_SECONDS = 120.0


class ApiError(Exception):
    """The server did not answer 200, or could not be reached (``status`` 0); the message is
    the line a person reads, ``detail`` the server's own reason."""

    def __init__(self, message: str, status: int = 0, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def call(
    settings: Settings,
    method: str,
    path: str,
    *,
    refused: str = "",
    timeout: float = TIMEOUT_SECONDS,
    **kwargs: Any,
) -> Any:
    """The server's 200 response (an ``httpx.Response``); :class:`ApiError` otherwise. With
    ``refused``, a 400 or 413 is reported as that refusal (the server's reason follows)."""
    import httpx

    url = settings.api_url.rstrip("/") + path
    if settings.api_key:
        kwargs["headers"] = {**kwargs.get("headers", {}), **auth_headers(settings)}
    try:
        response = httpx.request(method, url, timeout=timeout, **kwargs)
    except httpx.HTTPError as exc:
        raise ApiError(
            f"cannot reach the server at {settings.api_url} ({exc}); "
            "is `agentreel up` running? Set AGENTREEL_API_URL or --api-url to point elsewhere."
        ) from None
    if response.status_code == 200:
        return response
    detail = _detail(response)
    status = response.status_code
    if status == 401:
        hint = "set AGENTREEL_API_KEY (or --api-key)"
        if settings.api_key:
            hint = "AGENTREEL_API_KEY is not an active key of this server"
        message = f"the server wants an API key: {detail}; {hint}"
    elif refused and status in (400, 413):
        message = f"{refused}: {detail}"
    else:
        message = f"{url} answered {status}: {detail}"
    raise ApiError(message, status, detail)


def _detail(response: Any) -> str:
    """The server's reason: FastAPI's ``detail``, its validation errors as ``name: why``."""
    try:
        detail = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        return str(response.text)
    if isinstance(detail, list):
        reasons = []
        for error in detail:
            if not isinstance(error, dict):
                reasons.append(str(error))
                continue
            where = [str(p) for p in error.get("loc", []) if p not in ("query", "path", "body")]
            reasons.append(f"{'.'.join(where)}: {error.get('msg', '')}" if where else str(error))
        return "; ".join(reasons)
    return str(detail)


def request(settings: Settings, method: str, path: str, *, refused: str = "", **kwargs: Any) -> Any:
    """The server's 200 response, or None once the problem is printed. With ``refused``, a
    400 or 413 is reported as that refusal (the server's reason follows)."""
    try:
        return call(settings, method, path, refused=refused, **kwargs)
    except ApiError as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return None


def auth_headers(settings: Settings) -> dict[str, str]:
    """The header that carries ``settings.api_key`` (none without a key)."""
    return {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}


def get_json(settings: Settings, path: str, params: dict[str, Any] | None = None) -> Any:
    """GET ``path`` and decode it; None once the problem is printed."""
    response = request(settings, "GET", path, params=params)
    return None if response is None else response.json()


def print_json(data: Any) -> None:
    """Print a command's answer as indented JSON (``--json``)."""
    print(json.dumps(data, indent=2))
