"""Run and agent scopes: ``with run(...)``, ``async with run(...)`` and ``@agent``.

A run is one trace: an ``invoke_agent {name}`` span (OTel GenAI) whose session, user, tags
and metadata are stamped on every span started inside it (by :class:`RunStamper`, also on
spans of other instrumentors). A scope opened inside another is a nested agent span of the
same run; its limits apply to what runs inside it, and it charges its parents too.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import Span, Status, StatusCode

from ._budget import CURRENT, Breach, RunState
from ._errors import guard
from ._state import SCOPE, STATE, _capture

F = TypeVar("F", bound=Callable[..., Any])


def _check_limit(name: str, value: float | None, integer: bool) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, not {value!r}")
    if integer and int(value) != value:
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(value) if integer else float(value)


class run:
    """One agent run (one trace), or a nested agent step when opened inside a run.

    ``session`` and ``user`` reach every span inside (``session.id``/``gen_ai.conversation.id``,
    ``user.id``), with ``tags`` (``agentreel.tags``) and ``metadata``
    (``agentreel.metadata.<key>``). Limits: ``budget_usd`` (spend from token usage and the
    price table), ``max_steps`` (LLM calls + tool calls + decisions), ``max_llm_calls``; on a
    breach ``on_breach(breach)`` is called once, or :class:`BudgetExceeded` is raised.
    ``capture_content=False`` records no content inside this run.

    The scope object gives ``trace_id``, ``span_id``, ``cost_usd``, ``llm_calls``, ``steps``
    and ``breaches`` while and after it runs.
    """

    def __init__(
        self,
        name: str = "agent",
        *,
        session: str | None = None,
        user: str | None = None,
        tags: Sequence[str] = (),
        metadata: Mapping[str, Any] | None = None,
        budget_usd: float | None = None,
        max_steps: int | None = None,
        max_llm_calls: int | None = None,
        on_breach: Callable[[Breach], Any] | None = None,
        capture_content: bool | None = None,
    ) -> None:
        self.name = str(name)
        self.session, self.user = session, user
        self.tags = [str(t) for t in tags]
        self.metadata = dict(metadata or {})
        self.capture_content = capture_content
        self.on_breach = on_breach
        self.limits: dict[str, float | None] = {}
        with guard("run(...) arguments"):
            self.limits = {
                "budget_usd": _check_limit("budget_usd", budget_usd, False),
                "max_steps": _check_limit("max_steps", max_steps, True),
                "max_llm_calls": _check_limit("max_llm_calls", max_llm_calls, True),
            }
        self.state: RunState | None = None
        self._tokens: list[Any] = []

    # --- what the caller can read ------------------------------------------------------------

    @property
    def trace_id(self) -> str:
        """The run's trace id (32 hex digits), '' before the scope starts."""
        return _hex(self.state.span, "trace") if self.state else ""

    @property
    def span_id(self) -> str:
        """This scope's span id (16 hex digits)."""
        return _hex(self.state.span, "span") if self.state else ""

    @property
    def cost_usd(self) -> float:
        return self.state.cost_usd if self.state else 0.0

    @property
    def llm_calls(self) -> int:
        return self.state.llm_calls if self.state else 0

    @property
    def steps(self) -> int:
        return self.state.steps if self.state else 0

    @property
    def breaches(self) -> list[Breach]:
        return list(self.state.breaches) if self.state else []

    @property
    def span(self) -> Span:
        return self.state.span if self.state else trace.INVALID_SPAN

    # --- scope ---------------------------------------------------------------------------------

    def __enter__(self) -> run:
        self._start()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._end(exc)

    async def __aenter__(self) -> run:
        self._start()
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._end(exc)

    def _start(self) -> None:
        parent = CURRENT.get()
        span: Span = trace.INVALID_SPAN
        stamp: dict[str, Any] = dict(parent.attributes) if parent else {}
        with guard("run start"):
            if self.session is not None:
                stamp["session.id"] = str(self.session)
                stamp["gen_ai.conversation.id"] = str(self.session)
            if self.user is not None:
                stamp["user.id"] = str(self.user)
            if self.tags:
                stamp["agentreel.tags"] = [*stamp.get("agentreel.tags", ()), *self.tags]
            for key, value in self.metadata.items():
                stamp[f"agentreel.metadata.{key}"] = _attribute_value(value)
            attributes: dict[str, Any] = {
                **stamp,
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": self.name,
            }
            for key, limit in self.limits.items():
                if limit is not None:
                    attributes[f"agentreel.{key}"] = limit
            span = STATE.get_tracer().start_span(f"invoke_agent {self.name}", attributes=attributes)
        state = RunState(
            name=self.name,
            span=span,
            parent=parent,
            attributes=stamp,
            on_breach=self.on_breach,
            budget_usd=self.limits.get("budget_usd"),
            max_steps=_int_or_none(self.limits.get("max_steps")),
            max_llm_calls=_int_or_none(self.limits.get("max_llm_calls")),
        )
        self.state = state
        self._tokens = [
            otel_context.attach(trace.set_span_in_context(span)),
            CURRENT.set(state),
        ]
        if self.capture_content is not None:
            self._tokens.append(_capture.set(bool(self.capture_content)))

    def _end(self, exc: BaseException | None) -> None:
        state = self.state
        if state is None:
            return
        if len(self._tokens) == 3:
            _capture.reset(self._tokens[2])
        CURRENT.reset(self._tokens[1])
        otel_context.detach(self._tokens[0])
        span = state.span
        with guard("run end"):
            span.set_attribute("agentreel.run.cost_usd", round(state.cost_usd, 9))
            span.set_attribute("agentreel.run.llm_calls", state.llm_calls)
            span.set_attribute("agentreel.run.tool_calls", state.tool_calls)
            span.set_attribute("agentreel.run.steps", state.steps)
            if state.unpriced_llm_calls:
                span.set_attribute("agentreel.run.unpriced_llm_calls", state.unpriced_llm_calls)
            if exc is not None:
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        span.end()


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def _hex(span: Span, which: str) -> str:
    context = span.get_span_context()
    if which == "trace":
        return format(context.trace_id, "032x") if context.trace_id else ""
    return format(context.span_id, "016x") if context.span_id else ""


def _attribute_value(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    import json

    return json.dumps(value, default=str, ensure_ascii=False)


@overload
def agent(func: F, /) -> F: ...
@overload
def agent(func: None = None, /, *, name: str | None = None, **options: Any) -> Callable[[F], F]: ...


def agent(func: Any = None, /, *, name: str | None = None, **options: Any) -> Any:
    """Decorate an agent function (sync, async, generator or async generator): each call is
    a :class:`run` named after the function (or ``name``); ``options`` are :class:`run`'s
    (``session``, ``user``, ``budget_usd``, ...)."""

    def decorate(fn: F) -> F:
        scope_name = name or fn.__name__
        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen(*args: Any, **kwargs: Any) -> Any:
                async with run(scope_name, **options):
                    async for item in fn(*args, **kwargs):
                        yield item

            return cast(F, agen)
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def acall(*args: Any, **kwargs: Any) -> Any:
                async with run(scope_name, **options):
                    return await fn(*args, **kwargs)

            return cast(F, acall)
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args: Any, **kwargs: Any) -> Any:
                with run(scope_name, **options):
                    yield from fn(*args, **kwargs)

            return cast(F, gen)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            with run(scope_name, **options):
                return fn(*args, **kwargs)

        return cast(F, call)

    return decorate(func) if func is not None else decorate


class RunStamper(SpanProcessor):
    """Puts the current run's session, user, tags and metadata on every span started inside
    it, whoever starts it (auto-instrumentation, other instrumentors, the user's spans)."""

    def on_start(self, span: Any, parent_context: otel_context.Context | None = None) -> None:
        state = CURRENT.get()
        if state is None:
            return
        scope = getattr(span, "instrumentation_scope", None)
        if scope is not None and scope.name == SCOPE:
            return  # the SDK's own spans carry the run's attributes from their start
        with guard("run stamp"):
            existing = span.attributes or {}
            for key, value in state.attributes.items():
                if key not in existing:
                    span.set_attribute(key, value)
            if "gen_ai.agent.name" not in existing:
                span.set_attribute("gen_ai.agent.name", state.name)
