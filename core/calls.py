"""When two LLM spans are one LLM call.

One call often produces two spans: two instrumentors side by side (one wraps the other),
or an instrumentor plus the provider SDK's own span (the Anthropic SDK 2.x emits one,
sometimes under the instrumentor's span, sometimes beside it). Tokens and cost must count
once and replay must show one call. Two LLM spans of a trace are the same call when:

1. one is the other's parent (nested instrumentation); or
2. both carry the same ``gen_ai.response.id``; or
3. they are siblings (same parent), one comes from a client-level instrumentation (the
   provider SDK's own spans, or agentreel's SDK) and the other does not, they overlap in
   time and report the same input and output token counts. OpenInference's streaming span
   records no response id, so rule 2 cannot see it, and the Anthropic SDK's span sits beside
   it rather than under it; OpenInference's LangChain span records none either, and
   agentreel's SDK, which goes under the LangChain run's span, sits beside it.

Rule 3 is kept narrow on purpose: two parallel calls with equal token counts are two calls.
Nested pairs never reach it (rule 1 covers them), so parallel identical calls that each
nest an SDK span are kept apart. What it cannot tell apart: two *sibling* pairs of parallel
calls with identical token counts, which only OpenInference's streaming Anthropic spans
and LangChain's parallel calls beside agentreel's SDK produce; those count once.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Instrumentation scopes that trace a call at the client (rule 3): provider SDKs that trace
#: their own calls, and agentreel's SDK.
CLIENT_SCOPES = frozenset({"com.anthropic.sdk.python", "agentreel.sdk"})


@dataclass(frozen=True, slots=True)
class CallSpan:
    """What the rules need to know of an LLM span."""

    span_id: str
    parent_span_id: str
    response_id: str
    scope: str
    start_ns: int
    end_ns: int
    input_tokens: int
    output_tokens: int


def same_call(a: CallSpan, b: CallSpan) -> bool:
    """True when ``a`` and ``b`` (two LLM spans of one trace) record the same call."""
    if a.parent_span_id == b.span_id or b.parent_span_id == a.span_id:
        return True
    if a.response_id and a.response_id == b.response_id:
        return True
    return (
        a.parent_span_id == b.parent_span_id
        and (a.scope in CLIENT_SCOPES) != (b.scope in CLIENT_SCOPES)
        and a.start_ns < b.end_ns
        and b.start_ns < a.end_ns
        and a.input_tokens == b.input_tokens
        and a.output_tokens == b.output_tokens
        and a.input_tokens > 0
    )


def group_calls(spans: list[CallSpan]) -> list[list[CallSpan]]:
    """Partition LLM spans into calls (connected by :func:`same_call`), in start order."""
    parent = list(range(len(spans)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(spans):
        for j in range(i):
            if same_call(a, spans[j]):
                parent[root(i)] = root(j)
    groups: dict[int, list[CallSpan]] = {}
    for i, span in enumerate(spans):
        groups.setdefault(root(i), []).append(span)
    return sorted(groups.values(), key=lambda g: min(s.start_ns for s in g))


@dataclass(frozen=True, slots=True)
class ToolSpan:
    """What the tool-call rules need to know of a tool span."""

    span_id: str
    parent_span_id: str
    tool_name: str
    tool_call_id: str


def same_tool_call(a: ToolSpan, b: ToolSpan) -> bool:
    """Two tool spans of one trace record one tool call.

    When both carry a tool-call id, exactly when the ids are equal. Otherwise when one wraps
    the other under the same tool name: two instrumentors of one call, of which often only
    one knows the id (AutoGen's OpenInference span over autogen-core's ``execute_tool``; an
    instrumentor's span around ``@sdk.tool``). A tool span with other tools under it (an
    agent used as a tool) is not merged with them: their names differ.
    """
    if a.tool_call_id and b.tool_call_id:
        return a.tool_call_id == b.tool_call_id
    nested = a.parent_span_id == b.span_id or b.parent_span_id == a.span_id
    return nested and bool(a.tool_name) and a.tool_name == b.tool_name


def ran_request(
    request_id: str,
    request_name: str,
    call_ids: set[str],
    names: set[str],
) -> bool:
    """Whether one tool call's spans (their ids and tool names) can be the run of a tool call
    that an LLM call's output requested: by id when both sides carry one, else by tool name.

    Many frameworks' tool spans carry no id (LangChain's, CrewAI's, the Agents SDK's, MCP's):
    of the spans that qualify, the caller takes the one whose arguments equal the request's,
    else the first to start after the requesting call did.
    """
    if request_id and call_ids:
        return request_id in call_ids
    return bool(request_name) and request_name in names
