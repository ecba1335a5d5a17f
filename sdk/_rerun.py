"""Re-run mode: run the agent again with its first calls answered from a recording.

``with sdk.rerun(trace_id, from_call=n):`` (or ``AGENTREEL_RERUN_OF``/``AGENTREEL_RERUN_FROM``
before :func:`agentreel.sdk.init`) reads the recorded run (the *case*, see
:mod:`agentreel.core.cases`) from agentreel or from a pinned file, then:

- LLM calls 1..n-1 are answered from the recording at the HTTP transport of the ``openai``
  and ``anthropic`` clients (``httpx.Client.send``/``AsyncClient.send``, for requests those
  clients make to a Chat Completions, Responses or Messages path), so whatever framework
  sits on top gets a provider-shaped answer and the provider is never called. From call n
  on, requests go to the provider; ``edit`` changes them first (call n's and later). ``from_call=0``
  answers every call from the recording: an offline, free, deterministic re-run.
- Each served request is compared with the recorded one (:mod:`agentreel.core.matching`).
  A request that differs is a *divergence*: it is reported with its call number and what
  differs, then the re-run goes live from there (``on_divergence="live"``) or the call
  fails with an HTTP 400 naming the divergence (``"fail"``).
- ``@sdk.tool`` functions (and MCP ``ClientSession.call_tool``) called before call n get
  the recorded result and their body does not run; a tool the recording lacks runs live and
  is reported.
- The re-run's root spans carry ``agentreel.rerun.of`` and ``agentreel.rerun.from_call``
  (and ``agentreel.rerun.diverged_at``/``.divergence`` when it diverged); a served call's
  span carries ``agentreel.rerun.served`` and costs nothing.

One re-run at a time per process. The report (:class:`Report`) is on the context manager,
printed to stderr when it ends, and written as JSON to ``AGENTREEL_RERUN_REPORT`` if set.
"""

from __future__ import annotations

import atexit
import contextvars
import hashlib
import importlib
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from agentreel.core import anthropic_api, openai_api, served
from agentreel.core.cases import Case, CaseError, RecordedCall, RecordedTool, load, parse
from agentreel.core.exchange import Request
from agentreel.core.matching import Expected, expected, request_difference

from ._errors import SdkError, guard

ON_DIVERGENCE = ("live", "fail")
DEFAULT_SERVER = "http://127.0.0.1:4318"
#: Seconds to wait for agentreel to answer with the recording.
FETCH_TIMEOUT_S = 30.0

#: Set by the transport when it served the current call: the SDK's LLM span then charges
#: nothing to the run's budget.
_SERVED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "agentreel_rerun_served", default=False
)


class RecordedToolError(RuntimeError):
    """A served tool call that failed in the recording: raised with the recorded error."""


class ToolNotRecorded(RuntimeError):
    """A strict re-run reached a tool call the recording does not have; it was not run."""


class RerunError(SdkError):
    """A re-run that cannot start: no such run, agentreel unreachable, a bad case or edit."""


@dataclass
class Divergence:
    """Where the re-run stopped matching the recording."""

    call: int
    what: str

    def __str__(self) -> str:
        return f"call {self.call}: {self.what}"


@dataclass
class Report:
    """What a re-run did, in order."""

    of: str
    case: str | None
    from_call: int
    calls_served: list[int] = field(default_factory=list)
    calls_live: list[int] = field(default_factory=list)
    divergence: Divergence | None = None
    tools_served: list[str] = field(default_factory=list)
    tools_live: list[str] = field(default_factory=list)
    #: Tools that ran live because the recording had no result for them.
    tools_missing: list[str] = field(default_factory=list)
    #: ``("call", n, "served"|"live")`` and ``("tool", name, "served"|"live"|"missing")``.
    events: list[tuple[str, Any, str]] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["events"] = [list(e) for e in self.events]
        return out

    def summary(self) -> str:
        served_calls = _ranges(self.calls_served) or "none"
        live = _ranges(self.calls_live) or "none"
        lines = [
            f"agentreel re-run of {self.of}: calls served from the recording: {served_calls}; "
            f"live: {live}",
        ]
        if self.tools_served or self.tools_live:
            lines.append(
                f"  tools served: {len(self.tools_served)}, run live: {len(self.tools_live)}"
                + (
                    f" (not in the recording: {', '.join(self.tools_missing)})"
                    if self.tools_missing
                    else ""
                )
            )
        lines.append(f"  diverged at {self.divergence}" if self.divergence else "  no divergence")
        if self.trace_ids:
            lines.append(f"  new run: {', '.join(self.trace_ids)}")
        return "\n".join(lines)


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    for n in sorted(set(numbers)):
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


# --- edits -----------------------------------------------------------------------------------

Edit = Mapping[str, Any] | Callable[[dict[str, Any]], dict[str, Any] | None]
EDIT_KEYS = frozenset({"system", "model", "params", "messages", "tool_results"})


def check_edit(edit: Any) -> Edit | None:
    if edit is None:
        return None
    if callable(edit):
        return cast(Edit, edit)
    if not isinstance(edit, Mapping):
        raise RerunError(
            "edit must be a dict (system, model, params, messages, tool_results) or a function"
        )
    unknown = set(edit) - EDIT_KEYS
    if unknown:
        raise RerunError(f"edit has unknown keys {sorted(unknown)}; it takes {sorted(EDIT_KEYS)}")
    return edit


def apply_edit(edit: Edit, api: str, body: dict[str, Any]) -> dict[str, Any]:
    """Call n's provider request body with ``edit`` applied."""
    if callable(edit):
        changed = edit(body)
        return body if changed is None else dict(changed)
    if "model" in edit:
        body["model"] = edit["model"]
    if "params" in edit:
        body.update(dict(edit["params"]))
    if "system" in edit:
        _edit_system(api, body, str(edit["system"]))
    for index, text in dict(edit.get("messages") or {}).items():
        _edit_message(api, body, int(index), text)
    for call_id, result in dict(edit.get("tool_results") or {}).items():
        _edit_tool_result(api, body, str(call_id), result)
    return body


def _edit_system(api: str, body: dict[str, Any], text: str) -> None:
    if api == "messages":
        body["system"] = text
    elif api == "responses":
        body["instructions"] = text
        items = body.get("input")
        if isinstance(items, list):  # a system message among the items would say otherwise
            body["input"] = [
                i
                for i in items
                if not (isinstance(i, dict) and i.get("role") in ("system", "developer"))
            ]
    else:
        messages = body.setdefault("messages", [])
        for message in messages:
            if message.get("role") in ("system", "developer"):
                message["content"] = text
                return
        messages.insert(0, {"role": "system", "content": text})


def _edit_message(api: str, body: dict[str, Any], index: int, text: Any) -> None:
    key = "input" if api == "responses" else "messages"
    messages = body.get(key)
    if not isinstance(messages, list) or not -len(messages) <= index < len(messages):
        raise RerunError(f"edit: the request has no message {index}")
    messages[index] = {**messages[index], "content": text}


def _edit_tool_result(api: str, body: dict[str, Any], call_id: str, result: Any) -> None:
    """Put ``result`` in the request wherever it carries tool call ``call_id``'s result (a
    tool under ``@sdk.tool`` already returned it; this covers the others)."""
    text = result if isinstance(result, str) else json.dumps(result)
    if api == "chat":
        for message in body.get("messages") or []:
            if message.get("role") == "tool" and message.get("tool_call_id") == call_id:
                message["content"] = text
    elif api == "responses":
        for item in body.get("input") or []:
            if (
                isinstance(item, dict)
                and item.get("type") == "function_call_output"
                and item.get("call_id") == call_id
            ):
                item["output"] = text
    else:
        for message in body.get("messages") or []:
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if block.get("type") == "tool_result" and block.get("tool_use_id") == call_id:
                    block["content"] = text


# --- the session -----------------------------------------------------------------------------


_active: Rerun | None = None
_active_lock = threading.Lock()


def active() -> Rerun | None:
    return _active


class Rerun:
    """Re-run the recorded run ``trace_id`` (or the pinned ``case`` file) in this block:
    calls before ``from_call`` answered from the recording, live from it (0: none live).

    - ``edit``: a change to the request of call ``from_call`` and of every call after it
      (the agent's history still holds what it replaces) before it is sent: a dict with
      ``system`` (new system prompt), ``model``, ``params`` (e.g. ``{"temperature": 0}``),
      ``messages`` (``{index: new content}``) or ``tool_results`` (``{call_id: result}``:
      a recorded tool result served differently, and the request carrying it changed),
      or a function taking and returning the provider request body.
    - ``on_divergence``: ``"live"`` (default) goes live at the first request that differs
      from the recording; ``"fail"`` answers it with an HTTP 400 naming the divergence.
    - ``live_models``: send every call to the provider but still compare each request with
      the recording (where does this case diverge with today's model?); tools are served.

    ``case``: a pinned case file (or :class:`~agentreel.core.cases.Case`) instead of the
    recording on the server (``server``, ``api_key``: where that is, default
    ``AGENTREEL_SERVER``). ``report_path``: write the report there as JSON when it ends;
    ``quiet``: do not print it.

    Raises :class:`RerunError` when the recording cannot be read.
    """

    def __init__(
        self,
        trace_id: str | None = None,
        *,
        from_call: int = 0,
        case: str | Path | Case | None = None,
        edit: Edit | None = None,
        on_divergence: str = "live",
        live_models: bool = False,
        server: str | None = None,
        api_key: str | None = None,
        report_path: str | None = None,
        quiet: bool = False,
    ) -> None:
        if isinstance(from_call, bool) or not isinstance(from_call, int) or from_call < 0:
            raise RerunError(f"from_call must be a call number >= 0, not {from_call!r}")
        if on_divergence not in ON_DIVERGENCE:
            raise RerunError(f"on_divergence must be 'live' or 'fail', not {on_divergence!r}")
        if trace_id is None and case is None:
            raise RerunError("rerun needs the original run's trace id or a case file")
        self.edit = check_edit(edit)
        if self.edit is not None and from_call == 0:
            raise RerunError("edit changes the first live call: give from_call too")
        self.case = _case(trace_id, case, server, api_key)
        if self.case.calls and all(c.output_messages is None for c in self.case.calls):
            raise RerunError(
                f"run {self.case.trace_id} was recorded without its content (no call's output "
                "was captured): there is nothing to answer its calls with"
            )
        self.from_call = from_call
        if from_call > len(self.case.calls) + 1:
            raise RerunError(
                f"run {self.case.trace_id} has {len(self.case.calls)} LLM calls: from_call "
                f"takes 1 to {len(self.case.calls)} (or 0 for all from the recording)"
            )
        self.on_divergence = on_divergence
        self.live_models = live_models
        self.report_path = report_path
        self.quiet = quiet
        case_name = str(case) if isinstance(case, (str, Path)) else None
        self.report = Report(self.case.trace_id, case_name, from_call)
        self._lock = threading.Lock()
        self._calls = 0
        self._used: set[int] = set()
        self._tools_used: set[int] = set()
        self._live = False  # True once a divergence sent the re-run live
        self._roots: list[Any] = []
        self._expected: dict[int, Expected] = {}
        self._edited: dict[bytes, dict[str, Any]] = {}

    # -- lifetime --

    def __enter__(self) -> Rerun:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Rerun:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        global _active
        with _active_lock:
            if _active is not None:
                raise RerunError("a re-run is already active in this process")
            _active = self
        install()
        current = trace.get_current_span()
        if current.is_recording() and getattr(current, "parent", True) is None:
            # Started inside the run's root span (``with sdk.run(): with sdk.rerun():``).
            with guard("re-run root"):
                self.on_root(current)

    def stop(self) -> None:
        global _active
        with _active_lock:
            if _active is not self:
                return
            _active = None
        if self.report_path:
            with guard("re-run report"):
                Path(self.report_path).write_text(json.dumps(self.report.to_dict(), indent=2))
        if not self.quiet:
            print(self.report.summary(), file=sys.stderr)

    # -- calls --

    def serving(self) -> bool:
        """Whether the next LLM call is answered from the recording."""
        if self._live or self.live_models:
            return False
        return self.from_call == 0 or self._calls + 1 < self.from_call

    def serving_tools(self) -> bool:
        """Whether a tool called now is answered from the recording: before call n is made
        (the tools call n-1 asked for included), and always with ``live_models``."""
        if self._live:
            return False
        return self.live_models or self.from_call == 0 or self._calls < self.from_call

    def on_call(self, api: str, body: dict[str, Any]) -> tuple[str, Any]:
        """Decide call k's fate: ``("serve", RecordedCall)``, ``("live", body)`` or
        ``("fail", message)``."""
        with self._lock:
            compare = self.serving() or (self.live_models and not self._live)
            self._calls += 1
            number = self._calls
            if not compare:
                return self._go_live(number, api, body)
            request = _neutral(api, body)
            chosen, what = self._match(number, request)
            if chosen is None:
                self._diverge(number, what or "differs from the recording")
                if self.on_divergence == "fail":
                    self.report.events.append(("call", number, "diverged"))
                    return "fail", f"agentreel re-run diverged at call {number}: {what}"
                self._live = True
                return self._go_live(number, api, body)
            self._used.add(chosen.call)
            if self.live_models:
                return self._go_live(number, api, body)
            self.report.calls_served.append(number)
            self.report.events.append(("call", number, "served"))
            return "serve", chosen

    def _go_live(self, number: int, api: str, body: dict[str, Any]) -> tuple[str, Any]:
        """``("live", edited body)`` for call n and later with an edit (the agent's own history
        still holds what the edit replaces: each later request is edited the same way), else
        ``("live", None)``."""
        self.report.calls_live.append(number)
        self.report.events.append(("call", number, "live"))
        if self.edit is None or number < self.from_call:
            return "live", None
        return "live", apply_edit(self.edit, api, body)

    def remember_edit(self, sent: bytes, edited: dict[str, Any]) -> None:
        """The client retries call n with its own (unedited) body: send the edit again."""
        with self._lock:
            self._edited[hashlib.sha256(sent).digest()] = edited

    def edited_for(self, sent: bytes) -> dict[str, Any] | None:
        with self._lock:
            return self._edited.get(hashlib.sha256(sent).digest())

    def _match(self, number: int, request: Request) -> tuple[RecordedCall | None, str | None]:
        calls = self.case.calls
        if number > len(calls):
            return None, f"the recording has {len(calls)} LLM calls, this is call {number}"
        expected = calls[number - 1]
        what = None
        if expected.call not in self._used:
            what = request_difference(self._want(expected), request)
            if what is None:
                return expected, None
        # Parallel calls may start in another order than they were recorded.
        last = self.from_call - 1 if self.from_call and not self.live_models else len(calls)
        for other in calls[:last]:
            unused = other.call not in self._used and other.call != number
            if unused and request_difference(self._want(other), request) is None:
                return other, None
        return None, what or f"recorded call {number} was already answered to another request"

    def _want(self, call: RecordedCall) -> Expected:
        want = self._expected.get(call.call)
        if want is None:
            want = self._expected[call.call] = expected(call)
        return want

    def _diverge(self, number: int, what: str) -> None:
        if self.report.divergence is not None:
            return
        self.report.divergence = Divergence(number, what)
        for span in self._roots:
            with guard("re-run divergence"):
                if span.is_recording():
                    span.set_attribute("agentreel.rerun.diverged_at", number)
                    span.set_attribute("agentreel.rerun.divergence", what)

    # -- tools --

    def tool_answer(
        self, name: str, arguments: Any, call_id: str | None = None
    ) -> tuple[bool, RecordedTool | None]:
        """``(True, tool)`` when the recording answers this tool call, ``(False, None)`` when
        it runs live (recorded as such in the report). A tool the recording lacks runs live,
        but not in a strict re-run (``on_divergence="fail"``, ``live_models``: cases and
        their live check must not have side effects): that is a divergence, raised as
        :class:`ToolNotRecorded`."""
        with self._lock:
            if not self.serving_tools():
                self.report.tools_live.append(name)
                self.report.events.append(("tool", name, "live"))
                return False, None
            found = self._find_tool(name, arguments, call_id)
            if found is None:
                if self.on_divergence == "fail" or self.live_models:
                    what = (
                        f"tool {name} with arguments {_shown(arguments)} is not in the "
                        "recording (it was not run)"
                    )
                    self._diverge(max(self._calls, 1), what)
                    self.report.events.append(("tool", name, "diverged"))
                    raise ToolNotRecorded(
                        f"agentreel re-run diverged after call {self._calls}: {what}"
                    )
                self.report.tools_live.append(name)
                self.report.tools_missing.append(name)
                self.report.events.append(("tool", name, "missing"))
                return False, None
            self.report.tools_served.append(name)
            self.report.events.append(("tool", name, "served"))
            return True, found

    def served_result(self, tool: RecordedTool) -> Any:
        """What a served tool returns: the edited result, the recorded one, or the recorded
        error raised as :class:`RecordedToolError`."""
        edits = self.edit.get("tool_results") if isinstance(self.edit, Mapping) else None
        if edits and tool.call_id and tool.call_id in edits:
            return edits[tool.call_id]
        if tool.status == "error":
            raise RecordedToolError(tool.error or f"tool {tool.name} failed in the recording")
        return tool.result

    def _find_tool(self, name: str, arguments: Any, call_id: str | None) -> RecordedTool | None:
        """The recorded call the model's call id names (served answers keep the recorded
        ids), else the first unused one of that name with equal arguments (as JSON)."""
        unused = [
            (i, t)
            for i, t in enumerate(self.case.tools)
            if t.name == name and t.recorded and i not in self._tools_used
        ]
        wanted = _canonical(arguments)
        chosen = next((p for p in unused if call_id and p[1].call_id == call_id), None)
        if chosen is None:
            chosen = next((p for p in unused if _canonical(p[1].arguments) == wanted), None)
        if chosen is None:
            return None
        self._tools_used.add(chosen[0])
        return chosen[1]

    # -- spans --

    def on_root(self, span: Any) -> None:
        span.set_attribute("agentreel.rerun.of", self.case.trace_id)
        span.set_attribute("agentreel.rerun.from_call", self.from_call)
        if self.report.divergence is not None:
            span.set_attribute("agentreel.rerun.diverged_at", self.report.divergence.call)
            span.set_attribute("agentreel.rerun.divergence", self.report.divergence.what)
        with self._lock:
            self._roots = [s for s in self._roots if s.is_recording()] + [span]
            trace_id = format(span.get_span_context().trace_id, "032x")
            if trace_id not in self.report.trace_ids:
                self.report.trace_ids.append(trace_id)


def _canonical(value: Any) -> Any:
    """Tool arguments as JSON values: recorded text parsed, live Python values encoded the way
    ``@sdk.tool`` records them (tuples, dates and other objects as JSON would carry them)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return value


def _shown(value: Any) -> str:
    text = json.dumps(_canonical(value), default=str)
    return text if len(text) <= 120 else text[:119] + "…"


def _neutral(api: str, body: dict[str, Any]) -> Request:
    if api == "messages":
        return anthropic_api.request(body)
    if api == "responses":
        return openai_api.responses_request(body)
    return openai_api.chat_request(body)


def _case(
    trace_id: str | None, case: str | Path | Case | None, server: str | None, api_key: str | None
) -> Case:
    try:
        if isinstance(case, Case):
            return case
        if case is not None:
            return load(case)
    except CaseError as exc:
        raise RerunError(str(exc)) from None
    assert trace_id is not None
    return fetch_case(trace_id.strip().lower(), server, api_key)


def server_url(server: str | None = None) -> str:
    """agentreel's REST base: ``server``, ``AGENTREEL_SERVER``, the OTLP/HTTP endpoint, or
    the local default."""
    chosen = server or os.environ.get("AGENTREEL_SERVER") or ""
    if not chosen:
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        if endpoint.startswith("http") and not endpoint.rstrip("/").endswith(":4317"):
            chosen = endpoint
    return (chosen or DEFAULT_SERVER).rstrip("/").removesuffix("/v1/traces")


def fetch_case(trace_id: str, server: str | None = None, api_key: str | None = None) -> Case:
    """The recording of ``trace_id`` from agentreel's ``/api/v1/runs/{id}/case``."""
    base = server_url(server)
    url = f"{base}/api/v1/runs/{trace_id}/case"
    headers = {"Accept": "application/json"}
    key = api_key or os.environ.get("AGENTREEL_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=FETCH_TIMEOUT_S
        ) as response:
            document = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise RerunError(f"agentreel at {base} has no run {trace_id} to re-run") from None
        raise RerunError(
            f"agentreel at {base} answered {exc.code} for the recording of {trace_id}: "
            f"{exc.read()[:300].decode('utf-8', 'replace')}"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RerunError(
            f"cannot read the recording of {trace_id} from agentreel at {base} ({reason}); "
            "is it running? (set AGENTREEL_SERVER, or re-run from a pinned case file)"
        ) from None
    try:
        return parse(document, source=f"the recording of {trace_id}")
    except CaseError as exc:
        raise RerunError(str(exc)) from None


# --- the transport ---------------------------------------------------------------------------

_installed = False
_install_lock = threading.Lock()
#: Headers both provider clients (Stainless-generated) send: only their requests are touched.
_CLIENT_HEADER = "x-stainless-lang"
_RETRY_HEADER = "x-stainless-retry-count"


#: The HTTP libraries the provider clients are built on (newer releases use ``httpx2``).
HTTP_MODULES = ("httpx", "httpx2")


def install() -> None:
    """Patch the HTTP clients and the tools once; they do nothing while no re-run is active."""
    global _installed
    with _install_lock:
        if _installed:
            return
        _installed = True
        for name in HTTP_MODULES:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            _patch_http(module)
        _add_root_stamper(trace.get_tracer_provider())
    install_mcp()


def _patch_http(http: Any) -> None:
    sync_send = http.Client.send
    async_send = http.AsyncClient.send

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        answer = _intercept(http, request)
        if answer is not None:
            return answer
        return sync_send(self, request, *args, **kwargs)

    async def asend(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        answer = _intercept(http, request)
        if answer is not None:
            return answer
        return await async_send(self, request, *args, **kwargs)

    http.Client.send = send
    http.AsyncClient.send = asend


_mcp_patched = False
_mcp_lock = threading.Lock()


def install_mcp() -> None:
    """MCP's ``ClientSession.call_tool``: served from the recording like ``@sdk.tool``. Only
    once the agent has imported MCP (importing it here would cost seconds to every re-run):
    checked when a re-run starts and at each LLM call, before any tool can be asked for."""
    global _mcp_patched
    if _mcp_patched or "mcp.client.session" not in sys.modules:
        return
    with _mcp_lock:
        if _mcp_patched:
            return
        _mcp_patched = True
        _patch_mcp()


def _patch_mcp() -> None:
    from mcp import types
    from mcp.client.session import ClientSession

    original = ClientSession.call_tool

    async def call_tool(
        self: Any, name: str, arguments: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        session = _active
        if session is not None:
            ok, tool = session.tool_answer(name, arguments or {})
            if ok and tool is not None:
                try:
                    result = session.served_result(tool)
                    failed = False
                except RecordedToolError as exc:
                    result, failed = str(exc), True
                text = result if isinstance(result, str) else json.dumps(result)
                return types.CallToolResult.model_validate(
                    {"content": [{"type": "text", "text": text}], "isError": failed}
                )
        return await original(self, name, arguments, *args, **kwargs)

    ClientSession.call_tool = call_tool  # type: ignore[method-assign]


def _intercept(http: Any, request: Any) -> Any:
    """The served response for ``request``, or None to send it (perhaps edited)."""
    session = _active
    if session is None or request.method != "POST" or _CLIENT_HEADER not in request.headers:
        return None
    install_mcp()
    api = served.api_of(request.url.path)
    if api is None:
        return None
    if int(request.headers.get(_RETRY_HEADER, "0") or 0) > 0:
        # The client retrying a live call: the same call, sent again (edited again).
        edited = session.edited_for(request.content)
        if edited is not None:
            _replace_body(http, request, edited)
        return None
    try:
        body = json.loads(request.content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    sent = request.content
    action, value = session.on_call(api, body)
    if action == "fail":
        return http.Response(
            400,
            json=_error_body(api, value),
            request=request,
            headers={"x-agentreel-rerun": "diverged"},
        )
    if action == "live":
        if value is not None:
            session.remember_edit(sent, value)
            _replace_body(http, request, value)
            _mark_edited(api, value)
        return None
    call: RecordedCall = value
    _mark_served(call.call)
    if call.status == "error":
        message = f"recorded error of call {call.call}: {call.error or 'the call failed'}"
        return http.Response(400, json=_error_body(api, message), request=request)
    try:
        content_type, payload = served.served_body(
            call,
            api,
            stream=bool(body.get("stream")),
            include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
            model=str(body.get("model") or ""),
            request=body,
        )
    except served.ServeError as exc:
        message = f"agentreel re-run cannot serve call {call.call}: {exc}"
        return http.Response(400, json=_error_body(api, message), request=request)
    answer = http.Response(
        200,
        headers={"content-type": content_type, "x-agentreel-rerun": "served"},
        content=payload,
        request=request,
    )
    answer.elapsed = timedelta(0)  # set by the client's send, which did not run
    return answer


def _replace_body(http: Any, request: Any, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    request._content = content  # httpx keeps the body here; the stream follows it
    request.stream = http.ByteStream(content)
    request.headers["content-length"] = str(len(content))


def _error_body(api: str, message: str) -> dict[str, Any]:
    if api == "messages":
        return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    return {"error": {"message": message, "type": "agentreel_rerun", "code": "rerun_divergence"}}


def _mark_edited(api: str, body: dict[str, Any]) -> None:
    """The SDK's span of call n recorded the request before the edit: record the edited one."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    with guard("re-run edit mark"):
        span.set_attribute("agentreel.rerun.edited", True)
        attributes = getattr(span, "attributes", None) or {}
        if "gen_ai.input.messages" in attributes:
            request = _neutral(api, body)
            span.set_attribute("gen_ai.input.messages", json.dumps(request.messages, default=str))
            if request.system:
                span.set_attribute("gen_ai.system_instructions", json.dumps(request.system))
            if request.model:
                span.set_attribute("gen_ai.request.model", request.model)


def _mark_served(number: int) -> None:
    _SERVED.set(True)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("agentreel.rerun.served", True)
        span.set_attribute("agentreel.rerun.call", number)


def take_served() -> bool:
    """Whether the transport served the call that just returned (and forget it)."""
    if not _SERVED.get():
        return False
    _SERVED.set(False)
    return True


class RootStamper(SpanProcessor):
    """Marks each root span started during a re-run as the re-run of its original."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        session = _active
        if session is None:
            return
        parent = trace.get_current_span(parent_context).get_span_context()
        if parent.is_valid:
            return
        with guard("re-run root"):
            session.on_root(span)


_STAMPER = "_agentreel_rerun_stamper"


def _add_root_stamper(provider: Any) -> None:
    if isinstance(provider, TracerProvider) and not getattr(provider, _STAMPER, False):
        setattr(provider, _STAMPER, True)
        provider.add_span_processor(RootStamper())


def provider_ready(provider: Any) -> None:
    """Called by ``init``: the provider in use gets the root stamper too."""
    _add_root_stamper(provider)


# --- from the environment --------------------------------------------------------------------


def from_environment() -> Rerun | None:
    """The re-run ``AGENTREEL_RERUN_OF``/``AGENTREEL_RERUN_CASE`` ask for, started, ended at
    exit; None when neither is set."""
    trace_id = os.environ.get("AGENTREEL_RERUN_OF", "").strip() or None
    case = os.environ.get("AGENTREEL_RERUN_CASE", "").strip() or None
    if trace_id is None and case is None:
        return None
    if _active is not None:
        return _active
    raw_from = os.environ.get("AGENTREEL_RERUN_FROM", "0").strip() or "0"
    try:
        from_call = int(raw_from)
    except ValueError:
        raise RerunError(f"AGENTREEL_RERUN_FROM must be a call number, not {raw_from!r}") from None
    edit = None
    edit_file = os.environ.get("AGENTREEL_RERUN_EDIT", "").strip()
    if edit_file:
        try:
            edit = json.loads(Path(edit_file).read_text())
        except (OSError, ValueError) as exc:
            raise RerunError(f"AGENTREEL_RERUN_EDIT {edit_file}: {exc}") from None
    session = Rerun(
        trace_id,
        from_call=from_call,
        case=case,
        edit=edit,
        on_divergence=os.environ.get("AGENTREEL_RERUN_ON_DIVERGENCE", "live").strip() or "live",
        live_models=os.environ.get("AGENTREEL_RERUN_LIVE", "").strip().lower()
        in ("1", "true", "yes"),
        report_path=os.environ.get("AGENTREEL_RERUN_REPORT", "").strip() or None,
    )
    session.start()
    atexit.register(session.stop)
    return session


#: ``sdk.rerun(...)``: the context manager itself.
rerun = Rerun
