"""``@tool``: each call of the function is an ``execute_tool {name}`` span (OTel GenAI) with
its arguments, result, error and duration.

When the model asked for this tool in the run's last LLM call, the span gets that call's id
(``gen_ai.tool.call.id``) and, when the arguments are the same, the model's exact argument
text, so replay links the request, the tool run and the result.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from . import _rerun
from ._budget import CURRENT, before_step, count_step, start_span
from ._errors import guard, on_error
from ._state import capturing

F = TypeVar("F", bound=Callable[..., Any])

#: Items of a generator tool kept as its result (the rest are counted, not recorded).
MAX_RECORDED_ITEMS = 1000


def to_text(value: Any) -> str:
    """A tool argument or result as recorded: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


class _ToolCall:
    """One running call: its span and the context token that makes it current."""

    __slots__ = ("arguments", "call_id", "capture", "items", "span", "token")

    def __init__(
        self,
        name: str,
        binder: _Binder | None,
        args: Any,
        kwargs: Any,
        attach: bool = True,
    ) -> None:
        self.span: Span = trace.INVALID_SPAN
        self.token: Any = None
        self.items: list[Any] = []
        self.arguments: dict[str, Any] | None = None
        self.call_id: str | None = None
        self.capture = capturing()
        before_step("tool")
        with guard("tool start"):
            attributes: dict[str, Any] = {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.type": "function",
            }
            arguments = binder(args, kwargs) if binder is not None else None
            self.arguments = arguments
            pending = _take_pending(name)
            if pending is not None:
                attributes["gen_ai.tool.call.id"] = self.call_id = pending.call_id
            if self.capture and arguments is not None:
                text = None
                if pending is not None and _same_arguments(pending.arguments, arguments):
                    text = pending.arguments
                attributes["gen_ai.tool.call.arguments"] = text or to_text(arguments)
            self.span = start_span(f"execute_tool {name}", attributes)
            if attach:
                # Not for generators: the caller runs between their items, outside the span.
                self.token = otel_context.attach(trace.set_span_in_context(self.span))
        count_step("tool")

    def fail(self, exc: BaseException) -> None:
        self.finish(exc=exc)

    def keep(self, item: Any) -> Any:
        """An item a generator tool yields, kept for the result (up to a limit)."""
        if len(self.items) < MAX_RECORDED_ITEMS:
            self.items.append(item)
        return item

    def iterating(self) -> _Iterating:
        return _Iterating(self)

    def finish(self, result: Any = None, exc: BaseException | None = None) -> None:
        if self.token is not None:
            otel_context.detach(self.token)
        span = self.span
        with guard("tool end"):
            if exc is not None:
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            elif self.capture:
                span.set_attribute("gen_ai.tool.call.result", to_text(result))
        span.end()


class _Binder:
    """A function's call arguments as a dict of parameter names to values (without
    ``self``/``cls``); a fast path for plain parameter lists, ``inspect`` for the rest."""

    __slots__ = ("names", "plain", "signature", "skip_first")

    def __init__(self, signature: inspect.Signature) -> None:
        self.signature = signature
        params = list(signature.parameters.values())
        self.skip_first = bool(params) and params[0].name in ("self", "cls")
        simple = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        self.plain = all(p.kind in simple for p in params)
        self.names = tuple(p.name for p in params)

    def __call__(self, args: Any, kwargs: Any) -> dict[str, Any] | None:
        if self.plain and len(args) <= len(self.names):
            out = dict(zip(self.names, args, strict=False))
            out.update(kwargs)
        else:
            try:
                bound = self.signature.bind_partial(*args, **kwargs)
            except TypeError:
                return None  # the call itself will raise the user's TypeError
            out = {}
            for key, value in bound.arguments.items():
                kind = self.signature.parameters[key].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    out.update(value)
                elif kind is inspect.Parameter.VAR_POSITIONAL:
                    out[key] = list(value)
                else:
                    out[key] = value
        if self.skip_first:
            out.pop(self.names[0], None)
        return out


class _Iterating:
    """Around a generator tool's loop: the span ends with the items when the generator is
    done or its consumer stops early (``GeneratorExit``), with the error otherwise."""

    __slots__ = ("call",)

    def __init__(self, call: _ToolCall) -> None:
        self.call = call

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, GeneratorExit):
            self.call.finish(self.call.items)
        else:
            self.call.finish(exc=exc)


def _returns_text(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is annotated to return ``str``."""
    returns = inspect.signature(fn).return_annotation if callable(fn) else None
    return returns is str or returns == "str"


def _recorded(name: str, call: _ToolCall, text: bool) -> tuple[bool, Any]:
    """During a re-run, the recorded result of this call (``(True, result)``; a recorded
    failure is raised), else ``(False, None)``: the tool runs. Generator tools always run.

    The store keeps a result as text and reads JSON text back as its value: a tool
    annotated ``-> str`` gets the text back (as it returned it), others the value."""
    session = _rerun.active()
    if session is None:
        return False, None
    served, tool = session.tool_answer(name, call.arguments or {}, call.call_id)
    if not served or tool is None:
        return False, None
    with guard("re-run tool mark"):
        call.span.set_attribute("agentreel.rerun.served", True)
    result = session.served_result(tool)
    if text and not isinstance(result, str):
        result = json.dumps(result, ensure_ascii=False)
    return True, result


def _take_pending(name: str) -> Any:
    state = CURRENT.get()
    if state is None or not state.pending:
        return None
    with state.lock:
        for index, call in enumerate(state.pending):
            if call.name == name:
                return state.pending.pop(index)
    return None


def _same_arguments(text: str, arguments: dict[str, Any]) -> bool:
    try:
        return bool(json.loads(text) == arguments)
    except ValueError:
        return False


@overload
def tool(func: F, /) -> F: ...
@overload
def tool(
    func: None = None, /, *, name: str | None = None, capture_content: bool | None = None
) -> Callable[[F], F]: ...


def tool(
    func: Any = None, /, *, name: str | None = None, capture_content: bool | None = None
) -> Any:
    """Trace each call of a tool function (sync, async, generator or async generator).

    ``name`` defaults to the function's name; ``capture_content=False`` records no
    arguments or result for this tool. Errors are recorded and re-raised unchanged.
    """

    def decorate(fn: F) -> F:
        tool_name = name or fn.__name__
        try:
            text = _returns_text(fn)
        except (TypeError, ValueError):
            text = False
        binder: _Binder | None = None
        if capture_content is not False:  # else arguments are never recorded
            try:
                binder = _Binder(inspect.signature(fn))
            except (TypeError, ValueError):
                binder = None

        def start(args: Any, kwargs: Any, attach: bool = True) -> _ToolCall:
            call = _ToolCall(tool_name, binder, args, kwargs, attach)
            if capture_content is False:
                call.capture = False
            return call

        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen(*args: Any, **kwargs: Any) -> Any:
                call = start(args, kwargs, attach=False)
                with call.iterating():
                    async for item in fn(*args, **kwargs):
                        yield call.keep(item)

            return cast(F, agen)
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def acall(*args: Any, **kwargs: Any) -> Any:
                call = start(args, kwargs)
                with on_error(call.fail):
                    served, recorded = _recorded(tool_name, call, text)
                    result = recorded if served else await fn(*args, **kwargs)
                call.finish(result)
                return result

            return cast(F, acall)
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args: Any, **kwargs: Any) -> Any:
                call = start(args, kwargs, attach=False)
                with call.iterating():
                    for item in fn(*args, **kwargs):
                        yield call.keep(item)

            return cast(F, gen)

        @functools.wraps(fn)
        def sync(*args: Any, **kwargs: Any) -> Any:
            call = start(args, kwargs)
            with on_error(call.fail):
                served, recorded = _recorded(tool_name, call, text)
                result = recorded if served else fn(*args, **kwargs)
            call.finish(result)
            return result

        return cast(F, sync)

    return decorate(func) if func is not None else decorate
