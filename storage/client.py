"""The one way to get a database client: clickhouse-connect, for chDB and servers alike."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import clickhouse_connect


class StoreUnavailable(RuntimeError):
    """The store cannot be opened or reached; the message says what to do."""


#: Store directories this process holds the lock of (path -> open lock file).
_LOCKS: dict[str, Any] = {}
_LOCKS_GUARD = threading.Lock()


def connect(url: str) -> Any:
    """Open a client for ``chdb:///path`` (embedded) or ``http(s)://…/db`` (a server).

    A server database named in the URL is created when missing.
    """
    if url.startswith("chdb://"):
        path = url[len("chdb://") :]
        if not path:
            raise StoreUnavailable("a chdb:// URL needs a directory: chdb:///var/lib/agentreel")
        Path(path).mkdir(parents=True, exist_ok=True)
        _lock_store(Path(path))
        try:
            return clickhouse_connect.get_client(dsn=url)
        except Exception as exc:
            raise StoreUnavailable(f"cannot open the embedded store {path}: {exc}") from exc
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise StoreUnavailable(
            f"unsupported ClickHouse URL scheme {parts.scheme!r}: use chdb:// or http(s)://"
        )
    database = parts.path.strip("/")
    try:
        if database:
            bare = urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))
            admin = clickhouse_connect.get_client(dsn=bare)
            admin.command(f"CREATE DATABASE IF NOT EXISTS `{database.replace('`', '')}`")
            admin.close()
        return clickhouse_connect.get_client(dsn=url)
    except Exception as exc:
        safe = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
        raise StoreUnavailable(f"cannot reach ClickHouse at {safe}: {exc}") from exc


def _lock_store(path: Path) -> None:
    """One process owns an embedded store: take an advisory lock, or say who holds it."""
    key = str(path.resolve())
    with _LOCKS_GUARD:
        if key in _LOCKS:
            return
        handle = (path / "agentreel.lock").open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreUnavailable(
                f"the embedded store {path} is open in another process (pid {holder}); one "
                "process owns it: stop that agentreel server, or point AGENTREEL_DATA_DIR "
                "elsewhere. The CLI and dashboard read through the server's API instead."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        _LOCKS[key] = handle


@atexit.register
def _release_locks() -> None:
    with _LOCKS_GUARD:
        for handle in _LOCKS.values():
            handle.close()
        _LOCKS.clear()


class ClientPool:
    """One client per thread: clickhouse-connect clients are not safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def get(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = connect(self.url)
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._all = self._all, []
        for client in clients:
            # Closing is best effort at shutdown.
            with contextlib.suppress(Exception):
                client.close()
