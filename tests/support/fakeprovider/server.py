"""A real local HTTP server in a background thread, serving :class:`ProviderApp`."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

from .app import ProviderApp
from .records import Exchange
from .script import Turn
from .wire import Response

#: Seconds an idle keep-alive connection may wait for its next request.
IDLE_TIMEOUT = 30.0
#: Seconds between checks for shutdown in the serving loop (bounds how long stop() takes).
POLL_INTERVAL = 0.02


class _Server(ThreadingHTTPServer):
    """Tracks open connections so that :meth:`close_connections` can end idle keep-alives."""

    daemon_threads = False  # joined at server_close()

    def __init__(self, address: tuple[str, int], app: ProviderApp) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection (reset, broken pipe) is normal, not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # the peer may have gone away first
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    # Headers and body go out in separate writes; with Nagle on, each response waits ~40 ms.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        cast(_Server, self.server).track(self.connection, True)

    def finish(self) -> None:
        cast(_Server, self.server).track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _serve(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        raw = self._read_body()
        response = cast(_Server, self.server).app.handle(self.command, self.path, headers, raw)
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("content-type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if not response.streamed:
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for chunk in response.chunks:
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


class FakeProvider:
    """A scripted OpenAI + Anthropic server on ``127.0.0.1`` (a free port), for tests.

    Use as a context manager::

        with FakeProvider([ToolCall("get_weather", {"city": "Paris"}), Answer("21C")]) as fake:
            openai.OpenAI(base_url=fake.openai_base_url, api_key="test")
            anthropic.Anthropic(base_url=fake.base_url, api_key="test")
    """

    def __init__(self, script: Iterable[Turn] = (), *, host: str = "127.0.0.1") -> None:
        self._app = ProviderApp(script)
        self._host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeProvider:
        """Bind a free port and serve in a background thread."""
        if self._server is None:
            self._server = _Server((self._host, 0), self._app)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                args=(POLL_INTERVAL,),
                name="fake-provider",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and release the port; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: what ``anthropic.Anthropic(base_url=...)`` takes."""
        if self._server is None:
            raise RuntimeError("FakeProvider is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """``base_url + "/v1"``: what ``openai.OpenAI(base_url=...)`` takes (the root works too)."""
        return self.base_url + "/v1"

    @property
    def exchanges(self) -> list[Exchange]:
        """Every request with its response, in order of arrival (a snapshot)."""
        return self._app.exchanges

    @property
    def requests(self) -> list[Any]:
        """The parsed JSON bodies of all requests, in order."""
        return [exchange.body for exchange in self._app.exchanges]

    @property
    def usages(self) -> list[dict[str, Any]]:
        """The usage objects returned, one per scripted response that carried one."""
        return [e.usage for e in self._app.exchanges if e.usage is not None]

    @property
    def remaining_turns(self) -> int:
        """Script turns not yet served."""
        return self._app.remaining_turns

    def set_script(self, script: Iterable[Turn]) -> None:
        """Replace the script; the next request gets its first turn."""
        self._app.set_script(script)

    def fail_next(
        self,
        count: int,
        status: int = 500,
        *,
        message: str = "injected fault",
        retry_after: float | None = None,
    ) -> None:
        """Fail the next ``count`` API requests with ``status`` (and Retry-After, if given)."""
        self._app.fail_next(count, status, message=message, retry_after=retry_after)
