"""Who is asking: API keys decide the project of every OTLP export and REST request.

With auth on, every request but the open ones (:data:`OPEN_PATHS`: liveness and the API
documents) must present a key, as ``Authorization: Bearer ar_…`` or in one of the headers
OTLP exporters are commonly configured with (``x-agentreel-api-key``, ``x-api-key``); gRPC
reads the same names from the call's metadata. A missing, malformed, unknown or revoked key
is refused (401 / UNAUTHENTICATED) before anything is read or stored. The key's project is
then the request's project: REST routes read it through :func:`current_project`, which the
server passes to every router factory as their ``project`` callable, so a route cannot
reach another project's rows (and a route reached without authentication fails instead of
falling back to some project).

With auth off, every request belongs to the ``project`` setting, as before keys existed.
``auto`` turns auth on whenever the server binds to anything but loopback; a server bound
beyond loopback with auth explicitly off refuses to start (:func:`auth_enabled`).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

import orjson
from google.rpc import code_pb2, status_pb2
from prometheus_client import CollectorRegistry, Counter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from agentreel.settings import Settings, SettingsError
from agentreel.storage.projects import hash_key, looks_like_key

log = logging.getLogger("agentreel.server.auth")

#: Paths anyone may reach: the pointer at "/", liveness and the API's own documentation carry no
#: project data.
OPEN_PATHS = ("/", "/healthz", "/docs", "/openapi.json")
OPEN_PREFIXES = ("/docs-assets/",)
#: Headers a key may come in besides ``Authorization: Bearer`` (lowercase, as gRPC wants).
KEY_HEADERS = ("x-agentreel-api-key", "x-api-key")
#: Longest a revoked key keeps working in a running server, in seconds.
REFRESH_SECONDS = 5.0
#: An unknown key re-reads the key table at most this often (new keys work at once,
#: and a stream of bad keys cannot turn into a stream of store queries).
MISS_REFRESH_SECONDS = 1.0

_PROJECT: ContextVar[str] = ContextVar("agentreel_project")


class Unauthenticated(Exception):
    """The request has no usable key; the message says what to send."""


def current_project() -> str:
    """The project of the request being served. Raises LookupError outside one: a route the
    auth layer did not see must fail rather than read some default project."""
    return _PROJECT.get()


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def auth_enabled(settings: Settings) -> bool:
    """Whether keys are required. SettingsError when auth is off on a non-loopback bind:
    prompts full of customer data must not be one forgotten flag away from the network."""
    loopback = is_loopback(settings.host)
    if settings.auth == "off" and not loopback:
        raise SettingsError(
            f"refusing to serve on {settings.host!r} with AGENTREEL_AUTH=off: anyone who "
            "reaches that address could read and write every run. Bind to 127.0.0.1 "
            "(AGENTREEL_HOST), or set AGENTREEL_AUTH=auto and create a key: "
            "agentreel projects create NAME && agentreel keys create --project NAME"
        )
    return settings.auth == "on" or (settings.auth == "auto" and not loopback)


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request carries, from lowercase header names; None when it carries none."""
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    for name in KEY_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return value
    return None


class KeyRing:
    """Active keys (hash -> project), read from the store and refreshed every few seconds."""

    def __init__(
        self, load: Callable[[], dict[str, str]], clock: Callable[[], float] = time.monotonic
    ):
        self._load = load
        self._clock = clock
        self._keys: dict[str, str] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def cached(self, key: str) -> str | None:
        """The key's project from memory, or None when the store must be asked."""
        keys = self._keys
        if keys is None or self._clock() - self._loaded_at > REFRESH_SECONDS:
            return None
        return keys.get(hash_key(key))

    def project_for(self, key: str) -> str | None:
        """The project of ``key``, or None when it is not an active key. Blocking: may read
        the store. Raises when the store cannot be read and no key list was ever loaded."""
        if not looks_like_key(key):
            return None
        digest = hash_key(key)
        seen = self._loaded_at
        age = self._clock() - seen
        if self._keys is None or age > REFRESH_SECONDS:
            self._refresh(strict=self._keys is None, seen=seen)
        elif digest not in self._keys and age > MISS_REFRESH_SECONDS:
            self._refresh(strict=False, seen=seen)
        assert self._keys is not None
        return self._keys.get(digest)

    def count(self) -> int:
        self._refresh(strict=True, seen=self._loaded_at)
        return len(self._keys or {})

    def _refresh(self, strict: bool, seen: float) -> None:
        with self._lock:
            if self._keys is not None and self._loaded_at != seen:
                return  # another thread re-read the keys while this one waited
            try:
                keys = self._load()
            except Exception:
                if strict:
                    raise
                # Keep the keys we know: a store hiccup must not lock every client out.
                log.warning("could not re-read API keys; using the list from before", exc_info=True)
                self._loaded_at = self._clock()
                return
            self._keys, self._loaded_at = keys, self._clock()


class Auth:
    """Decides the project of a request: from its key when auth is on, else the default."""

    def __init__(self, enabled: bool, default_project: str, ring: KeyRing | None) -> None:
        if enabled and ring is None:
            raise ValueError("auth needs a key ring")
        self.enabled = enabled
        self.default_project = default_project
        self.ring = ring
        self._refused: Counter | None = None

    def counted(self, registry: CollectorRegistry) -> None:
        """Count refused requests per protocol in ``registry`` (``/metrics``): a climbing
        count is a client with a revoked key, or someone guessing."""
        self._refused = Counter(
            "agentreel_auth_refused",
            "Requests refused for want of a valid API key, by protocol.",
            ["protocol"],
            registry=registry,
        )

    def refused(self, protocol: str) -> None:
        if self._refused is not None:
            self._refused.labels(protocol).inc()

    def project_for(self, headers: Mapping[str, str]) -> str:
        """The project of a request with these (lowercase) headers or gRPC metadata.
        Raises Unauthenticated. Blocking: may read the store."""
        if not self.enabled:
            return self.default_project
        assert self.ring is not None
        key = presented_key(headers)
        if key is None:
            raise Unauthenticated(_MISSING)
        project = self.ring.project_for(key)
        if project is None:
            raise Unauthenticated("unknown or revoked API key")
        return project

    async def project_for_async(self, headers: Mapping[str, str]) -> str:
        """:meth:`project_for` without blocking the event loop unless the store is read."""
        if not self.enabled:
            return self.default_project
        if self.ring is not None:
            key = presented_key(headers)
            project = self.ring.cached(key) if key else None
            if project is not None:
                return project
        return await run_in_threadpool(self.project_for, headers)

    def grpc_project(self, context: Any) -> str:
        """The project of a gRPC call from its metadata; aborts it UNAUTHENTICATED (or
        UNAVAILABLE when the keys cannot be read) otherwise."""
        import grpc

        metadata = {k.lower(): v for k, v in context.invocation_metadata() if isinstance(v, str)}
        try:
            return self.project_for(metadata)
        except Unauthenticated as exc:
            self.refused("grpc")
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        except Exception as exc:
            log.error("cannot check API keys: %s", exc)
            context.abort(grpc.StatusCode.UNAVAILABLE, "cannot check the API key now; retry")
        raise AssertionError("context.abort returns only by raising")


def request_project(_request: Any) -> str:
    """The project of an OTLP/HTTP request: the auth layer set it before the route ran."""
    return current_project()


_MISSING = (
    "an API key is required: send Authorization: Bearer <key> (or x-agentreel-api-key); "
    "create one with: agentreel keys create --project NAME"
)


class AuthMiddleware:
    """ASGI middleware: sets the request's project, or answers 401 before the app runs.

    Every path is closed unless listed in :data:`OPEN_PATHS`, so routes added later are
    covered without anyone remembering to add a check.
    """

    def __init__(self, app: ASGIApp, auth: Auth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            project = await self.auth.project_for_async(headers)
        except Unauthenticated as exc:
            self.auth.refused("http")
            await _refuse(scope, headers, send, str(exc))
            return
        except Exception as exc:  # the key list could not be read at all
            log.error("cannot check API keys: %s", exc)
            await _answer(send, 503, b'{"detail":"cannot check the API key now; retry"}', {})
            return
        token = _PROJECT.set(project)
        try:
            await self.app(scope, receive, send)
        finally:
            _PROJECT.reset(token)


async def _refuse(scope: Scope, headers: Headers, send: Send, why: str) -> None:
    """401 in the form the caller reads: a google.rpc.Status for OTLP/HTTP protobuf clients,
    ``{"code", "message"}`` for OTLP/JSON, ``{"detail"}`` for the REST API."""
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    extra = {"www-authenticate": 'Bearer realm="agentreel"'}
    if scope["path"].startswith("/v1/"):
        if media == "application/x-protobuf":
            status = status_pb2.Status(code=code_pb2.UNAUTHENTICATED, message=why)
            extra["content-type"] = "application/x-protobuf"
            await _answer(send, 401, status.SerializeToString(), extra)
            return
        body = orjson.dumps({"code": code_pb2.UNAUTHENTICATED, "message": why})
    else:
        body = orjson.dumps({"detail": why})
    await _answer(send, 401, body, extra)


async def _answer(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    headers = {"content-type": "application/json", **headers}
    raw: list[Any] = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def from_settings(settings: Settings, pool: Any) -> Auth:
    """The server's auth layer; SettingsError when auth is off on a non-loopback bind.
    Warns when auth is on and no key exists yet (every request would be refused)."""
    from agentreel.storage.projects import active_keys

    if not auth_enabled(settings):
        log.info(
            "auth off (bound to loopback %s): everything is project %r",
            settings.host,
            settings.project,
        )
        return Auth(False, settings.project, None)
    ring = KeyRing(lambda: active_keys(pool.get()))
    count = ring.count()
    log.info("auth on: OTLP and REST requests need an API key (%d active)", count)
    if count == 0:
        log.warning(
            "auth is on and no API key exists: every request will be refused. Create one "
            "(with the embedded store, while the server is stopped): agentreel projects create "
            "NAME && agentreel keys create --project NAME"
        )
    return Auth(True, settings.project, ring)


def document(app: Any, auth: Auth) -> None:
    """With auth on, the OpenAPI document says so: a bearer scheme (so /docs has an
    Authorize button) and the 401 answer on every operation that needs a key."""
    if not auth.enabled:
        return
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema: dict[str, Any] = build()
        if "bearer" in schema.get("components", {}).get("securitySchemes", {}):
            return schema  # built and amended already (FastAPI caches it)
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["bearer"] = {"type": "http", "scheme": "bearer", "description": "ar_… API key"}
        for path, operations in schema.get("paths", {}).items():
            if path in OPEN_PATHS:
                continue
            for operation in operations.values():
                operation["security"] = [{"bearer": []}]
                operation.setdefault("responses", {})["401"] = {
                    "description": "No API key, or not an active one"
                }
        return schema

    app.openapi = openapi
