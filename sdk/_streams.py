"""Proxies for streamed LLM responses: the caller iterates as before; the call's span ends
(with the accumulated output and usage) when the stream is exhausted, closed or fails."""

from __future__ import annotations

from typing import Any

from agentreel.core.exchange import Response

from ._errors import guard, on_error
from ._genai import LlmCall


class _Finisher:
    """Ends the call once, from whichever way the stream ends."""

    def __init__(self, call: LlmCall, accumulator: Any) -> None:
        self._call = call
        self._acc = accumulator
        self._done = False

    def add(self, item: Any) -> Any:
        if not self._done:
            with guard("stream chunk"):
                self._acc.add(item)
        return item

    def ended(self, exc: BaseException) -> None:
        """The stream raised: its end (StopIteration) or a failure."""
        if isinstance(exc, StopIteration | StopAsyncIteration):
            self.finish()
        elif isinstance(exc, Exception):
            self.finish(exc)

    def finish(self, exc: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        response: Response | None = None
        with guard("stream end"):
            response = self._acc.response()
        self._call.finish(response, exc)


class SyncStream:
    """Wraps an ``openai.Stream`` / ``anthropic.Stream`` (iterator and context manager)."""

    def __init__(self, stream: Any, call: LlmCall, accumulator: Any) -> None:
        self.__wrapped__ = stream
        self._finisher = _Finisher(call, accumulator)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def __iter__(self) -> SyncStream:
        return self

    def __next__(self) -> Any:
        with on_error(self._finisher.ended):
            item = next(self.__wrapped__)
        return self._finisher.add(item)

    def __enter__(self) -> SyncStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._finisher.finish()


class AsyncStream:
    """Wraps an ``openai.AsyncStream`` / ``anthropic.AsyncStream``."""

    def __init__(self, stream: Any, call: LlmCall, accumulator: Any) -> None:
        self.__wrapped__ = stream
        self._finisher = _Finisher(call, accumulator)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> Any:
        with on_error(self._finisher.ended):
            item = await self.__wrapped__.__anext__()
        return self._finisher.add(item)

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._finisher.finish()


class _Snapshot:
    """An 'accumulator' reading the helper stream's own snapshot (Anthropic ``.stream()``)."""

    def __init__(self, stream: Any, to_response: Any) -> None:
        self.stream = stream
        self.to_response = to_response

    def add(self, item: Any) -> None:
        return None

    def response(self) -> Response | None:
        snapshot = self.stream._current_snapshot_or_none() if self.stream is not None else None
        return self.to_response(snapshot) if snapshot is not None else None


class StreamManager:
    """Wraps Anthropic's ``MessageStreamManager``: the request is made on ``__enter__``;
    the span ends on ``__exit__`` with the stream's final (or partial) message."""

    def __init__(self, manager: Any, start: Any, to_response: Any) -> None:
        self.__wrapped__ = manager
        self._start = start
        self._to_response = to_response
        self._finisher: _Finisher | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def _begin(self) -> LlmCall:
        call: LlmCall = self._start()
        call.attach()
        return call

    def _began(self, call: LlmCall, stream: Any) -> Any:
        call.detach()
        self._finisher = _Finisher(call, _Snapshot(stream, self._to_response))
        return stream

    def _end(self, exc: BaseException | None) -> None:
        if self._finisher is not None:
            self._finisher.finish(exc if isinstance(exc, Exception) else None)

    def __enter__(self) -> Any:
        call = self._begin()
        with on_error(lambda exc: call.finish(exc=exc)):
            return self._began(call, self.__wrapped__.__enter__())

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._end(exc_info[1])

    async def __aenter__(self) -> Any:
        call = self._begin()
        with on_error(lambda exc: call.finish(exc=exc)):
            return self._began(call, await self.__wrapped__.__aenter__())

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._end(exc_info[1])
