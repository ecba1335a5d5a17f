"""The MCP server of ``agentreel mcp`` (:mod:`.mcpserve`): its tools, their schemas, and the run
resources, on the ``mcp`` SDK's :class:`MCPServer`.

It reads a running agentreel through its REST API at ``--api-url`` with the CLI's API key
handling (:mod:`.client`); it never opens the store. Every tool is read-only. A failure (an
unknown trace id, the server down, a bad argument) is a tool error whose text says what to
do; the process carries on. Needs the ``mcp`` extra, so only the command imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import Resource, ToolAnnotations
from pydantic import Field

from agentreel.cli import mcptools
from agentreel.cli.client import ApiError, call
from agentreel.cli.mcpshape import fit
from agentreel.core.version import __version__
from agentreel.settings import Settings

log = logging.getLogger(__name__)

#: Seconds a tool waits for the REST API: less than the CLI's, a model should not hang.
TIMEOUT_SECONDS = 60.0
#: Runs offered to clients that browse resources (the template reaches any run).
RESOURCE_RUNS = 20
RUN_URI = "agentreel://runs/{trace_id}"

INSTRUCTIONS = """\
Read-only access to agentreel, where AI-agent runs are recorded (one trace = one run).
To find out why a run failed: list_runs(status="error", agent=...) gives the newest failed
runs with where each failed; get_run(trace_id) gives its steps (LLM calls, tool calls with
arguments and results, decisions, escalations) and its first failure with the steps around
it; get_llm_call(trace_id, call) gives the exact context window the model saw and what
changed since the call before. diff_runs compares a failed run with a good one; failures
and cost summarise a time range. Long values are clipped with a "[truncated: …]" marker;
page with the arguments each tool names."""

TraceId = Annotated[str, Field(description="The run's trace id: 32 hexadecimal characters.")]
Since = Annotated[
    str | None,
    Field(
        description="Start of the range: ISO 8601, epoch seconds, or back from now (30m, 24h, 7d, 2w)."
    ),
]
Until = Annotated[str | None, Field(description="End of the range, in the same forms as since.")]
Agent = Annotated[str | None, Field(description="Only this agent (gen_ai.agent.name).")]
Model = Annotated[str | None, Field(description="Only runs or calls with this model.")]
Service = Annotated[str | None, Field(description="Only this service (service.name).")]
MaxChars = Annotated[
    int,
    Field(
        ge=50,
        le=100_000,
        description="Longest string shown; longer ones end in a truncation marker.",
    ),
]


def build_server(settings: Settings) -> MCPServer:
    """The MCP server with agentreel's tools and run resources, reading ``settings.api_url``."""

    def get(path: str, params: dict[str, Any] | None = None) -> Any:
        return call(settings, "GET", path, params=params, timeout=TIMEOUT_SECONDS).json()

    def answer(work: Callable[[], dict[str, Any]]) -> str:
        try:
            return fit(work())
        except ApiError as exc:
            raise ToolError(error_text(exc, settings)) from None
        except mcptools.ToolFailure as exc:
            raise ToolError(str(exc)) from None
        except Exception as exc:  # a bug here must not end the session
            log.exception("agentreel mcp: a tool failed")
            raise ToolError(f"agentreel mcp failed: {type(exc).__name__}: {exc}") from None

    class Server(MCPServer):
        async def list_resources(self) -> list[Resource]:
            """The registered resources and the newest runs, when the server answers."""
            import anyio.to_thread

            listed = await super().list_resources()
            try:
                data = await anyio.to_thread.run_sync(
                    lambda: get("/api/v1/runs", {"limit": RESOURCE_RUNS})
                )
            except ApiError as exc:
                log.warning("agentreel mcp: no runs to list: %s", exc)
                return listed
            return listed + [_resource(run) for run in data["runs"]]

    server = Server(
        "agentreel",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def tool(description: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
        return server.tool(description=description, annotations=read_only, structured_output=False)

    @tool(
        "Runs (one trace = one run), newest first, each with trace id, start time, agent, "
        "status, where a failed run failed, cost, LLM and tool calls. Filters as agentreel's "
        "/api/v1/runs; page with offset (the answer gives next_offset)."
    )
    def list_runs(
        status: Annotated[
            Literal["ok", "error"] | None, Field(description="ok or error runs only.")
        ] = None,
        agent: Agent = None,
        since: Since = None,
        until: Until = None,
        model: Model = None,
        session: Annotated[
            str | None, Field(description="Only this session (conversation) id.")
        ] = None,
        user: Annotated[str | None, Field(description="Only this user id.")] = None,
        service: Service = None,
        search: Annotated[
            str | None, Field(description="Text in the trace id, root span name, session or user.")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=50, description="Runs per page.")] = 10,
        offset: Annotated[int, Field(ge=0, le=100_000, description="Runs to skip.")] = 0,
    ) -> str:
        filters = {"status": status, "agent": agent, "model": model, "session": session}
        filters |= {"user": user, "service": service, "q": search}
        filters |= {"since": since, "until": until}
        return answer(lambda: mcptools.list_runs(get, limit=limit, offset=offset, **filters))

    @tool(
        "One run: its summary (agent, status, cost, tokens), its first failure with the step "
        "that failed and the steps that led to it, and its timeline of steps in order (LLM "
        "calls with their output and requested tool calls, tool calls with arguments and "
        "results, decisions, escalations), paged by first_step and max_steps."
    )
    def get_run(
        trace_id: TraceId,
        first_step: Annotated[int, Field(ge=1, description="First step shown (1-based).")] = 1,
        max_steps: Annotated[int, Field(ge=1, le=100, description="Steps per page.")] = 30,
    ) -> str:
        return answer(
            lambda: mcptools.get_run(get, trace_id, first_step=first_step, max_steps=max_steps)
        )

    @tool(
        "One LLM call's exact context window (system instructions, input messages in order, "
        "tool definitions, parameters) and its output, in 'otel' form (OpenTelemetry GenAI "
        "messages) or as the request body the 'openai' Chat Completions or 'anthropic' "
        "Messages API takes; with what changed since the previous call. Input messages are "
        "paged (first_message, max_messages); long strings are clipped to max_chars."
    )
    def get_llm_call(
        trace_id: TraceId,
        call: Annotated[
            int, Field(ge=1, description="Which LLM call of the run (1-based, in start order).")
        ] = 1,
        format: Annotated[
            Literal["otel", "openai", "anthropic"], Field(description="Form of the window.")
        ] = "otel",
        first_message: Annotated[
            int, Field(ge=1, description="First input message shown (1-based).")
        ] = 1,
        max_messages: Annotated[
            int, Field(ge=1, le=200, description="Input messages per page.")
        ] = 20,
        max_chars: MaxChars = 2_000,
        include_tool_schemas: Annotated[
            bool,
            Field(description="Give the tools' JSON schemas, not only names and descriptions."),
        ] = False,
    ) -> str:
        return answer(
            lambda: mcptools.get_llm_call(
                get, trace_id, call=call, format=format, first_message=first_message,
                max_messages=max_messages, max_chars=max_chars,
                include_tool_schemas=include_tool_schemas,
            )
        )  # fmt: skip

    @tool(
        "Compare two runs step by step (aligned by kind and tool, model or decision) and name "
        "where they first diverge and how: another tool, other arguments, another tool result, "
        "another model input or output, a missing or extra step."
    )
    def diff_runs(
        trace_id: TraceId,
        against: Annotated[
            str, Field(description="Trace id of the run to compare with, e.g. a good run.")
        ],
    ) -> str:
        return answer(lambda: mcptools.diff_runs(get, trace_id, against))

    @tool(
        "What failed in a time range (default: the last 7 days): runs and failed runs, errors "
        "grouped by error type, tool and agent, and the newest failed runs with where each failed."
    )
    def failures(
        since: Since = None,
        until: Until = None,
        agent: Agent = None,
        model: Model = None,
        service: Service = None,
    ) -> str:
        scope = {"since": since, "until": until}
        scope |= {"agent": agent, "model": model, "service": service}
        return answer(lambda: mcptools.failures(get, **scope))

    @tool(
        "Spend in a time range (default: the last 7 days) by day, model, agent, user or provider, "
        "most expensive first (days in order), with the total, LLM calls and tokens."
    )
    def cost(
        by: Annotated[
            Literal["day", "model", "agent", "user", "provider"],
            Field(description="How to group the spend."),
        ] = "day",
        since: Since = None,
        until: Until = None,
        agent: Agent = None,
        model: Model = None,
        service: Service = None,
    ) -> str:
        scope = {"since": since, "until": until}
        scope |= {"agent": agent, "model": model, "service": service}
        return answer(lambda: mcptools.cost(get, by=by, **scope))

    @tool(
        "The command that re-runs a recorded run from LLM call from_call: earlier model answers "
        "and tool results are served from the recording, from from_call on the agent runs live "
        "(to check a fix). Also the Python form and the command that pins the run as a "
        "regression case."
    )
    def rerun_command(
        trace_id: TraceId,
        from_call: Annotated[
            int, Field(ge=1, description="The LLM call to re-run from (1-based).")
        ] = 1,
        command: Annotated[
            str | None,
            Field(description="The shell command that runs the agent, e.g. `python agent.py`."),
        ] = None,
    ) -> str:
        return answer(lambda: mcptools.rerun_command(get, trace_id, from_call, command))

    @server.resource(
        RUN_URI,
        name="run",
        description="A run's summary, first failure and first steps (what get_run answers).",
        mime_type="application/json",
    )
    def run_resource(trace_id: str) -> str:
        try:
            return fit(mcptools.get_run(get, trace_id, first_step=1, max_steps=30))
        except ApiError as exc:
            if exc.status in (400, 404):
                raise ResourceNotFoundError(error_text(exc, settings)) from None
            raise ResourceError(error_text(exc, settings)) from None

    return server


def _resource(run: dict[str, Any]) -> Resource:
    label = run.get("agent") or run.get("name") or run.get("service") or "run"
    return Resource(
        uri=RUN_URI.format(trace_id=run["trace_id"]),
        name=f"{label} {run['status']} {str(run['start_time'])[:19]}",
        description=f"{run['llm_calls']} LLM calls, {run['tool_calls']} tool calls, ${run['cost_usd']:.4f}",
        mime_type="application/json",
    )


def error_text(exc: ApiError, settings: Settings) -> str:
    """What a model reads when the REST API refused or could not be reached."""
    if exc.status == 0:
        return str(exc)
    if exc.status == 404:
        return f"{exc.detail} (list_runs finds runs and their trace ids)"
    if exc.status in (400, 422):
        return f"bad argument: {exc.detail}"
    return f"agentreel at {settings.api_url}: {exc}"
