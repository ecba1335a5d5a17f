"""What answering a call from the recording costs in a re-run (issue 13: under 1 ms).

Builds a case of calls whose windows grow like an agent's (a system prompt, the user's
question, then a tool call and its result per call, each result ``--result-bytes`` long),
then re-runs it offline through the real ``openai`` and ``anthropic`` clients pointed at a
port nothing listens on: every call must be answered from the recording or the run fails.
For each API and mode it prints the time of one answered call through the client (the
client's own work included), the same calls without a re-run to a server on localhost that
answers at once (what the client costs anyway), and the re-run's own part alone (reading the
request, matching it against the recording, building the answer), per call, median and p99.
The target is on the re-run's own part.

Run: ``.venv/bin/python bench/rerun.py`` (a few seconds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import openai

from agentreel.core import cases, served
from agentreel.sdk import _rerun

TARGET_MS = 1.0
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers there


def _case(calls: int, result_bytes: int) -> cases.Case:
    system = [{"type": "text", "content": "You are a careful support agent. " * 20}]
    messages: list[dict[str, Any]] = [
        {"role": "user", "parts": [{"type": "text", "content": "Where is my order 1234?"}]}
    ]
    recorded = []
    for n in range(1, calls + 1):
        call_id = f"call_{n}"
        output = [
            {
                "role": "assistant",
                "parts": [
                    {"type": "tool_call", "id": call_id, "name": "lookup", "arguments": {"n": n}}
                ],
                "finish_reason": "tool_calls",
            }
        ]
        recorded.append(
            {
                "call": n,
                "provider": "openai",
                "operation": "chat",
                "request_model": "gpt-4o-mini",
                "model": "gpt-4o-mini",
                "system_instructions": system,
                "input_messages": [dict(m) for m in messages],
                "output_messages": output,
                "usage": {"input_tokens": 1000 * n, "output_tokens": 20},
            }
        )
        result = "x" * result_bytes
        messages.append({"role": "assistant", "parts": output[0]["parts"]})
        messages.append(
            {
                "role": "tool",
                "parts": [{"type": "tool_call_response", "id": call_id, "response": result}],
            }
        )
    document: dict[str, Any] = {
        "format": cases.FORMAT,
        "version": cases.VERSION,
        "trace_id": "0" * 32,
        "calls": recorded,
        "tools": [],
    }
    document["checksum"] = cases.checksum(document)
    return cases.parse(document)


def _chat_messages(case: cases.Case, n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"role": "system", "content": case.calls[0].system_instructions[0]["content"]}
    ]
    for message in case.calls[n - 1].input_messages or []:
        part = message["parts"][0]
        if message["role"] == "user":
            out.append({"role": "user", "content": part["content"]})
        elif message["role"] == "assistant":
            out.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": part["id"],
                            "type": "function",
                            "function": {
                                "name": part["name"],
                                "arguments": json.dumps(part["arguments"]),
                            },
                        }
                    ],
                }
            )
        else:
            out.append({"role": "tool", "tool_call_id": part["id"], "content": part["response"]})
    return out


def _anthropic_messages(case: cases.Case, n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in case.calls[n - 1].input_messages or []:
        part = message["parts"][0]
        if message["role"] == "user":
            out.append({"role": "user", "content": part["content"]})
        elif message["role"] == "assistant":
            block = {
                "type": "tool_use",
                "id": part["id"],
                "name": part["name"],
                "input": part["arguments"],
            }
            out.append({"role": "assistant", "content": [block]})
        else:
            result = {"type": "tool_result", "tool_use_id": part["id"], "content": part["response"]}
            out.append({"role": "user", "content": [result]})
    return out


def _timed(case: cases.Case, call: Callable[[int], Any]) -> list[float]:
    """Seconds per call of ``call(n)`` for every call of an offline re-run of ``case``."""
    seconds = []
    with _rerun.Rerun(case=case, on_divergence="fail", quiet=True) as session:
        for n in range(1, len(case.calls) + 1):
            started = time.perf_counter()
            call(n)
            seconds.append(time.perf_counter() - started)
        assert session.report.calls_served == list(range(1, len(case.calls) + 1)), session.report
    return seconds


def _own_part(
    case: cases.Case, api: str, bodies: list[dict[str, Any]], stream: bool
) -> list[float]:
    """Seconds per call of the re-run's own work: match the request, build the answer."""
    seconds = []
    with _rerun.Rerun(case=case, on_divergence="fail", quiet=True) as session:
        for body in bodies:
            raw = json.dumps(body).encode()
            started = time.perf_counter()
            action, value = session.on_call(api, json.loads(raw))
            assert action == "serve", value
            served.served_body(value, api, stream=stream, request=body)
            seconds.append(time.perf_counter() - started)
    return seconds


class _Canned(BaseHTTPRequestHandler):
    """A provider on localhost that answers every POST at once with the same body."""

    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


def _baseline(case: cases.Case, bodies: list[dict[str, Any]], rounds: int) -> list[float]:
    """Seconds per call of the same requests, no re-run, to a local server answering at once."""
    _Canned.body = served.served_body(case.calls[0], "chat", stream=False)[1]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    seconds = []
    with openai.OpenAI(base_url=url, api_key="x", max_retries=0) as client:
        for _ in range(rounds + 1):
            for body in bodies:
                started = time.perf_counter()
                client.chat.completions.create(**body)
                seconds.append(time.perf_counter() - started)
    server.shutdown()
    return seconds[len(bodies) :]  # the first round warms up


def _row(label: str, seconds: list[float], held: bool = False) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    verdict = ("ok" if statistics.median(ms) < TARGET_MS else "OVER") if held else ""
    return f"{label:<48} {statistics.median(ms):>8.3f} {p99:>8.3f}   {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--result-bytes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    case = _case(args.calls, args.result_bytes)
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    chat = [
        {"model": "gpt-4o-mini", "messages": _chat_messages(case, n), "tools": tools}
        for n in range(1, args.calls + 1)
    ]
    system = case.calls[0].system_instructions[0]["content"]
    messages = [
        {
            "model": "gpt-4o-mini",
            "max_tokens": 256,
            "system": system,
            "messages": _anthropic_messages(case, n),
        }
        for n in range(1, args.calls + 1)
    ]
    oa = openai.OpenAI(base_url=NOWHERE, api_key="x", max_retries=0)
    an = anthropic.Anthropic(base_url=NOWHERE, api_key="x", max_retries=0)

    def chat_call(n: int) -> None:
        oa.chat.completions.create(**chat[n - 1])

    def chat_stream(n: int) -> None:
        for _ in oa.chat.completions.create(**chat[n - 1], stream=True):
            pass

    def messages_call(n: int) -> None:
        an.messages.create(**messages[n - 1])

    def messages_stream(n: int) -> None:
        with an.messages.stream(**messages[n - 1]) as events:
            events.get_final_message()

    runs = {
        "chat, through the openai client": chat_call,
        "chat streamed, through the openai client": chat_stream,
        "messages, through the anthropic client": messages_call,
        "messages streamed, through the anthropic client": messages_stream,
    }
    window = len(json.dumps(chat[-1]))
    print(
        f"re-run: {args.calls} calls answered from the recording per round, {args.rounds} rounds; "
        f"the last request is {window / 1000:.0f} KB; Python {sys.version.split()[0]}"
    )
    print(f"{'per answered call':<48} {'p50 ms':>8} {'p99 ms':>8}   target p50 < {TARGET_MS} ms")
    for label, call in runs.items():
        _timed(case, call)  # warm the clients' imports and caches
        seconds = [s for _ in range(args.rounds) for s in _timed(case, call)]
        print(_row(label, seconds))
    print(
        _row("chat, same client, no re-run, localhost server", _baseline(case, chat, args.rounds))
    )
    for api, bodies, stream in (
        ("chat", chat, False),
        ("chat", chat, True),
        ("messages", messages, False),
    ):
        seconds = [s for _ in range(args.rounds) for s in _own_part(case, api, bodies, stream)]
        what = f"{api}{' streamed' if stream else ''}: match + answer only"
        print(_row(what, seconds, held=True))


if __name__ == "__main__":
    main()
