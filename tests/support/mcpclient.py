"""The real ``mcp`` client against ``agentreel mcp``: over stdio (the command spawned as an MCP
client such as Claude Code spawns it) or streamable HTTP (``--http PORT``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import httpx
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from support.liveserver import free_port


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    return {**base, **(extra or {})}


@asynccontextmanager
async def stdio_session(
    api_url: str, env: dict[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    """An initialized session with ``python -m agentreel mcp --api-url API_URL``."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agentreel", "mcp", "--api-url", api_url],
        env=_env(env),
    )
    with open(os.devnull, "w") as quiet:
        async with (
            stdio_client(params, errlog=quiet) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


@contextmanager
def http_server(api_url: str) -> Iterator[str]:
    """``agentreel mcp --http PORT`` running; yields its MCP endpoint URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    command = [sys.executable, "-m", "agentreel", "mcp", "--http", str(port), "--api-url", api_url]
    with subprocess.Popen(
        command, env=_env(None), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"agentreel mcp --http exited: {process.communicate()[1]}")
                try:
                    httpx.get(url, timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise AssertionError("agentreel mcp --http did not listen") from None
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(30)


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[ClientSession]:
    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def run(main: Callable[..., Awaitable[None]], *args: Any) -> None:
    """``anyio.run(main, *args)``, a failure inside the client's task groups raised as itself
    (an assert in a session would otherwise surface as nested exception groups)."""
    try:
        anyio.run(main, *args)
    except BaseExceptionGroup as group:
        raise _leaf(group) from None


def _leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def text(result: CallToolResult) -> str:
    """The tool's answer: one text block."""
    assert len(result.content) == 1, result.content
    block = result.content[0]
    assert block.type == "text", block
    return str(block.text)


def answer(result: CallToolResult) -> Any:
    """A successful tool answer, decoded."""
    assert not result.is_error, text(result)
    return json.loads(text(result))


def error(result: CallToolResult) -> str:
    """A tool error's message."""
    assert result.is_error, text(result)
    return text(result)
