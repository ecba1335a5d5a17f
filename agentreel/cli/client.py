"""How the CLI talks to the server: one request, and a clear line on stderr when it fails."""

from __future__ import annotations

import json
import sys
from typing import Any

from agentreel.settings import Settings

#: Seconds a command waits for the server (an export of a long run takes a while).
TIMEOUT_SECONDS = 120.0


def request(settings: Settings, method: str, path: str, *, refused: str = "", **kwargs: Any) -> Any:
    """The server's 200 response, or None once the problem is printed. With ``refused``, a
    400 or 413 is reported as that refusal (the server's reason follows)."""
    import httpx

    url = settings.api_url.rstrip("/") + path
    if settings.api_key:
        kwargs["headers"] = {**kwargs.get("headers", {}), **auth_headers(settings)}
    try:
        response = httpx.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
    except httpx.HTTPError as exc:
        print(
            f"agentreel: cannot reach the server at {settings.api_url} ({exc}); "
            "is `agentreel up` running? Set AGENTREEL_API_URL or --api-url to point elsewhere.",
            file=sys.stderr,
        )
        return None
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        if response.status_code == 401:
            hint = "set AGENTREEL_API_KEY (or --api-key)"
            if settings.api_key:
                hint = "AGENTREEL_API_KEY is not an active key of this server"
            print(f"agentreel: the server wants an API key: {detail}; {hint}", file=sys.stderr)
        elif refused and response.status_code in (400, 413):
            print(f"agentreel: {refused}: {detail}", file=sys.stderr)
        else:
            print(f"agentreel: {url} answered {response.status_code}: {detail}", file=sys.stderr)
        return None
    return response


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
