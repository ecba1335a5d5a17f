"""``agentreel mcp``: a Model Context Protocol server that lets a coding agent debug agent runs.

It speaks MCP over stdio (what Claude Code and Cursor start) or streamable HTTP
(``--http PORT``); the server itself is :mod:`.mcpapp`, imported only here, since it needs
the ``mcp`` extra and the rest of the CLI does not.
"""

from __future__ import annotations

import argparse
import sys

from agentreel.settings import Settings

#: Packages of the ``mcp`` extra: missing, the command says what to install.
_EXTRA = {"mcp", "pydantic", "httpx", "anyio"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--http",
        metavar="PORT",
        type=int,
        help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio",
    )
    parser.add_argument(
        "--http-host",
        metavar="HOST",
        default="127.0.0.1",
        help="the address --http listens on (default 127.0.0.1)",
    )


def mcp_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        from agentreel.cli.mcpapp import build_server
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in _EXTRA:
            raise
        print(
            "agentreel: `agentreel mcp` needs the MCP SDK: pip install 'agentreel[mcp]'",
            file=sys.stderr,
        )
        return 1
    server = build_server(settings)
    if args.http is None:
        server.run("stdio")
        return 0
    print(
        f"agentreel mcp: streamable HTTP at http://{args.http_host}:{args.http}/mcp, "
        f"reading {settings.api_url}",
        file=sys.stderr,
        flush=True,
    )
    server.run("streamable-http", host=args.http_host, port=args.http)
    return 0
