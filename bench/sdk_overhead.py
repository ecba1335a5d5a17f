"""What instrumenting an agent costs it: agentreel.sdk against no instrumentation, the bare
OpenTelemetry SDK and Langfuse's ``@observe``.

The agent is a tool loop of 10 LLM calls and 10 tool calls with the real ``openai``
client. The fake provider (tests/support/fakeprovider) and an OTLP sink that answers 200 to every
export run in their own processes, so the agent's process holds only the agent and the
instrumentation (with its export thread), as in production.

Modes, measured in the same run, in rotating rounds:

- ``uninstrumented``: the loop alone;
- ``otel``: the bare OpenTelemetry SDK, a span per run, LLM call and tool call with the
  usual attributes (no message content), batch-exported over OTLP/HTTP;
- ``agentreel``: ``sdk.init()`` + ``sdk.run`` + ``@sdk.tool``, the ``openai`` client
  auto-instrumented with full content, batch-exported over OTLP/HTTP;
- ``langfuse``: ``@observe`` on the agent, the tools and the LLM call (when ``langfuse`` is
  installed: ``pip install langfuse``), pointed at the same sink through ``base_url``.

Printed per mode: median wall time per run, the added time per run and per span, the ratio
to uninstrumented, and the added time of one decorated no-op tool call (targets: <= 1%
per run, <= 30 us per tool call).

    .venv/bin/python bench/sdk_overhead.py [--runs 40] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The tests' folder: the fake provider's process runs there, so it imports their harness.
TESTS = Path(__file__).resolve().parents[1] / "tests"
MODEL = "gpt-4o-mini"
LLM_CALLS, TOOL_CALLS = 10, 10
SPANS_PER_RUN = 1 + LLM_CALLS + TOOL_CALLS

PROVIDER = """
import sys
from support.fakeprovider import Answer, FakeProvider, Parallel, ToolCall
one_run = [Parallel([ToolCall("add", {"a": 1, "b": 2}), ToolCall("mul", {"a": 3, "b": 4})])]
one_run += [ToolCall("add", {"a": i, "b": i}) for i in range(8)] + [Answer("done: 42")]
fake = FakeProvider(one_run * int(sys.argv[1])).start()
print(fake.openai_base_url, flush=True)
sys.stdin.read()
"""

SINK = """
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
"""

SYSTEM = "You are a calculator agent. Use the tools for every step." * 4
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} two numbers",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"],
            },
        },
    }
    for name in ("add", "mul")
]


def add(a: float, b: float) -> float:
    return a + b


def mul(a: float, b: float) -> float:
    return a * b


def agent_loop(
    client: Any,
    tools: dict[str, Callable[..., Any]],
    llm: Callable[[Any, list[dict[str, Any]]], Any] | None = None,
) -> int:
    """One run: call the model, run the tools it asks for, until it answers."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Compute the chain, step by step."},
    ]
    calls = 0
    while True:
        if llm is not None:
            message = llm(client, messages)
        else:
            message = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
            message = message.choices[0].message
        calls += 1
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            return calls
        for call in message.tool_calls:
            result = tools[call.function.name](**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": str(result)})


# --- modes ---------------------------------------------------------------------------------------


def mode_uninstrumented(sink: str) -> tuple[Callable[[Any], Any], Callable[..., Any], Any]:
    tools = {"add": add, "mul": mul}
    return (lambda client: agent_loop(client, tools)), add, None


def mode_otel(sink: str) -> tuple[Callable[[Any], Any], Callable[..., Any], Any]:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sink + "/v1/traces")))
    tracer = provider.get_tracer("bench")

    def traced(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(**kwargs: Any) -> Any:
            with tracer.start_as_current_span(
                f"execute_tool {name}",
                attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name},
            ):
                return fn(**kwargs)

        return wrapper

    def llm(client: Any, messages: list[dict[str, Any]]) -> Any:
        with tracer.start_as_current_span(f"chat {MODEL}") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.request.model", MODEL)
            reply = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
            span.set_attribute("gen_ai.usage.input_tokens", reply.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", reply.usage.completion_tokens)
            return reply.choices[0].message

    tools = {"add": traced("add", add), "mul": traced("mul", mul)}

    def run(client: Any) -> Any:
        with tracer.start_as_current_span("invoke_agent bench"):
            return agent_loop(client, tools, llm)

    return run, traced("add", add), provider


def mode_agentreel(sink: str) -> tuple[Callable[[Any], Any], Callable[..., Any], Any]:
    from opentelemetry.sdk.trace import TracerProvider

    from agentreel import sdk

    provider = TracerProvider()
    sdk.init(endpoint=sink, tracer_provider=provider, instrument=["openai"])
    tools = {"add": sdk.tool(name="add")(add), "mul": sdk.tool(name="mul")(mul)}

    def run(client: Any) -> Any:
        with sdk.run("bench", session="bench-session", user="bench-user"):
            return agent_loop(client, tools)

    def done() -> None:
        sdk.shutdown()
        provider.shutdown()

    return run, tools["add"], done


def mode_langfuse(sink: str) -> tuple[Callable[[Any], Any], Callable[..., Any], Any]:
    # Langfuse exports OTLP to <base_url>/api/public/otel/v1/traces: the sink answers 200.
    from langfuse import Langfuse, observe

    client = Langfuse(public_key="pk-lf-bench", secret_key="sk-lf-bench", base_url=sink)

    @observe(as_type="generation")
    def llm(openai_client: Any, messages: list[dict[str, Any]]) -> Any:
        reply = openai_client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
        return reply.choices[0].message

    tools = {
        "add": observe(name="add", as_type="tool")(add),
        "mul": observe(name="mul", as_type="tool")(mul),
    }

    @observe(name="bench", as_type="agent")
    def run(openai_client: Any) -> Any:
        return agent_loop(openai_client, tools, llm)

    return run, tools["add"], client


MODES = {
    "uninstrumented": mode_uninstrumented,
    "otel": mode_otel,
    "agentreel": mode_agentreel,
    "langfuse": mode_langfuse,
}


def teardown(handle: Any) -> None:
    if handle is None:
        return
    if callable(handle):
        handle()
    elif hasattr(handle, "shutdown"):
        handle.shutdown()


def measure(name: str, sink: str, base_url: str, runs: int) -> dict[str, Any]:
    import openai

    run, tool, handle = MODES[name](sink)
    client = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)
    if MODEL_SECONDS:
        client = SlowModel(client)
    scope, flush = SCOPES.get(name, (contextlib.nullcontext, _flusher(handle)))
    for _ in range(3):  # warm up connections, caches, the export thread
        run(client)
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        calls = run(client)
        walls.append(time.perf_counter() - start)
        # All threads of this process: the agent and the instrumentation's export thread.
        cpus.append(time.process_time() - cpu)
        assert calls == LLM_CALLS, calls
    # One decorated tool call, inside a run for agentreel. Batches below the export queue
    # size, flushed between, so no span is dropped (a drop costs less than an export).
    n, best = 1_000, float("inf")
    for _ in range(5):
        with scope():
            start = time.perf_counter()
            for _ in range(n):
                tool(a=1, b=2)
            best = min(best, (time.perf_counter() - start) / n)
        flush()
    per_tool = best
    client.close()
    teardown(handle)
    return {"walls": walls, "cpus": cpus, "tool_s": per_tool}


class SlowModel:
    """The client with a model that takes ``--model-ms`` to answer, as real ones do."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.chat = self
        self.completions = self

    def create(self, **kwargs: Any) -> Any:
        time.sleep(MODEL_SECONDS)
        return self._client.chat.completions.create(**kwargs)

    def close(self) -> None:
        self._client.close()


def _agentreel_scope() -> Any:
    from agentreel import sdk

    return sdk.run("tools")


def _agentreel_flush() -> None:
    from agentreel import sdk

    sdk.force_flush()


def _flusher(handle: Any) -> Callable[[], Any]:
    """How a mode's spans are sent now (OTel provider: force_flush; Langfuse: flush)."""
    for method in ("force_flush", "flush"):
        if hasattr(handle, method):
            return getattr(handle, method)  # type: ignore[no-any-return]
    return lambda: None


SCOPES = {"agentreel": (_agentreel_scope, _agentreel_flush)}
MODEL_SECONDS = 0.0


def start(code: str, *args: str, cwd: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per mode per round")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--model-ms", type=float, default=0.0, help="model latency added to every LLM call"
    )
    args = parser.parse_args()
    global MODEL_SECONDS
    MODEL_SECONDS = args.model_ms / 1000
    modes = list(MODES)
    try:
        import langfuse  # noqa: F401
    except ImportError:
        modes.remove("langfuse")
        print("langfuse is not installed (pip install langfuse): skipped")
    total_runs = (args.runs + 3) * len(modes) * args.rounds + 10
    provider, base_url = start(PROVIDER, str(total_runs), cwd=TESTS)
    sink, sink_url = start(SINK)
    results: dict[str, dict[str, list[float]]] = {
        m: {"walls": [], "cpus": [], "tool_s": []} for m in modes
    }
    try:
        for round_ in range(args.rounds):
            order = modes[round_ % len(modes) :] + modes[: round_ % len(modes)]
            for mode in order:
                got = measure(mode, sink_url, base_url, args.runs)
                results[mode]["walls"] += got["walls"]
                results[mode]["cpus"] += got["cpus"]
                results[mode]["tool_s"].append(got["tool_s"])
    finally:
        for process in (provider, sink):
            process.kill()
            process.wait()
    report(results, args)
    return 0


def report(results: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    def figure(mode: str) -> dict[str, float]:
        got = results[mode]
        return {
            "wall_min": min(got["walls"]),
            "wall_median": statistics.median(got["walls"]),
            "cpu_median": statistics.median(got["cpus"]),
            "tool_s": min(got["tool_s"]),
        }

    base = figure("uninstrumented")
    print(
        f"\n{platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}; {args.rounds} rounds x "
        f"{args.runs} runs per mode; {LLM_CALLS} LLM calls + {TOOL_CALLS} tool calls per run "
        f"({SPANS_PER_RUN} spans); model latency {args.model_ms:g} ms\n"
    )
    print(
        f"{'mode':<15} {'wall min ms':>11} {'median ms':>10} {'ratio(min)':>10} "
        f"{'CPU ms':>8} {'+CPU/span us':>12} {'ratio(CPU)':>10} {'+tool call us':>13}"
    )
    figures = {}
    for mode in results:
        f = figure(mode)
        out = {
            "wall_min_ms": f["wall_min"] * 1e3,
            "wall_median_ms": f["wall_median"] * 1e3,
            "ratio_wall_min": f["wall_min"] / base["wall_min"],
            "cpu_ms": f["cpu_median"] * 1e3,
            "added_cpu_per_span_us": (f["cpu_median"] - base["cpu_median"]) / SPANS_PER_RUN * 1e6,
            "ratio_cpu": f["cpu_median"] / base["cpu_median"],
            "added_per_tool_call_us": (f["tool_s"] - base["tool_s"]) * 1e6,
        }
        figures[mode] = out
        print(
            f"{mode:<15} {out['wall_min_ms']:11.2f} {out['wall_median_ms']:10.2f} "
            f"{out['ratio_wall_min']:10.3f} {out['cpu_ms']:8.2f} "
            f"{out['added_cpu_per_span_us']:12.1f} {out['ratio_cpu']:10.3f} "
            f"{out['added_per_tool_call_us']:13.1f}"
        )
    print("\ntargets: agentreel <= 1% added wall time per run, <= 30 us per decorated tool call")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
