"""agentreel's pytest plugin: run an agent under a pinned regression case, offline.

Installed with the SDK (entry point ``pytest11``), it gives the ``agentreel_case`` fixture::

    def test_refund(agentreel_case):
        result = agentreel_case("cases/refund.json", answer, "Can I get my money back?")
        result.assert_tools(["lookup_order", "refund"])
        result.assert_decisions({"route": "orders"})
        result.assert_output(contains="refund")
        result.assert_steps(max=8)

The agent function (sync or async) runs with every LLM call and ``@sdk.tool`` call answered
from the case (the case file is written by ``agentreel pin TRACE -o cases/NAME.json``):
nothing reaches the provider, no tool body runs, it costs nothing. When the agent's
request differs from the recording (its code or prompt changed), the test fails naming the
call and what differs, unless ``allow_divergence=True``. ``live=True`` (or
``pytest --agentreel-live`` for every case) sends the model calls for real and still
compares each request with the recording: where do the cases diverge with today's model?

The call returns a :class:`CaseResult`: ``output``, ``report`` (the re-run's), ``tools``,
``decisions``, ``llm_calls``, ``steps``, ``cost_usd``, ``divergence`` and the
``assert_*`` helpers. A case path that is not found from the working directory is looked
for next to the test file, then in the rootdir. The fixture's keyword arguments
``allow_divergence`` and ``live`` are its own; ``agentreel_case.run(case, fn, args=...,
kwargs=...)`` passes an agent any keyword.

The spans of the run are kept in memory (``result.spans``). A test that called
``sdk.init()`` keeps its setup (and its exporter); otherwise the fixture sets one up that
sends nothing, for the call only. The agent function itself should not call
``sdk.init()``: that would replace the test's setup with one that exports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from agentreel.core.cases import Case

    from ._caserun import CaseResult, Decision

__all__ = ["CaseResult", "CaseRunner", "Decision", "agentreel_case"]

_LIVE_OPTION = "--agentreel-live"


def __getattr__(name: str) -> Any:
    # The SDK is imported when a test uses the fixture, not whenever pytest starts.
    if name in ("CaseResult", "Decision"):
        from . import _caserun

        return getattr(_caserun, name)
    raise AttributeError(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentreel")
    group.addoption(
        _LIVE_OPTION,
        action="store_true",
        default=False,
        help="agentreel_case: send the model calls to the provider (each request still "
        "compared with the recording; tools still served): where do the cases diverge now?",
    )


class CaseRunner:
    """The ``agentreel_case`` fixture: call it with a case, an agent function and its
    arguments."""

    def __init__(self, test_dir: Path | None, rootdir: Path, live: bool) -> None:
        self._test_dir = test_dir
        self._rootdir = rootdir
        self._live = live

    def __call__(
        self,
        case: str | Path | Case,
        fn: Callable[..., Any],
        /,
        *args: Any,
        allow_divergence: bool = False,
        live: bool | None = None,
        **kwargs: Any,
    ) -> CaseResult:
        """``fn(*args, **kwargs)`` run under ``case``; see the module doc."""
        __tracebackhide__ = True
        return self.run(
            case, fn, args=args, kwargs=kwargs, allow_divergence=allow_divergence, live=live
        )

    def run(
        self,
        case: str | Path | Case,
        fn: Callable[..., Any],
        *,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        allow_divergence: bool = False,
        live: bool | None = None,
    ) -> CaseResult:
        """Like calling the fixture, with the agent's arguments given apart."""
        __tracebackhide__ = True
        from ._caserun import CaseDiverged, run_case
        from ._rerun import RerunError

        try:
            return run_case(
                self._find(case),
                fn,
                args,
                kwargs,
                allow_divergence=allow_divergence,
                live=self._live if live is None else live,
            )
        except CaseDiverged as exc:
            message = str(exc)
        except RerunError as exc:
            message = f"agentreel case {case}: {exc}"
        # Outside the handler: the message alone, without the client's error chained to it.
        pytest.fail(message, pytrace=False)

    def _find(self, case: str | Path | Case) -> str | Path | Case:
        if not isinstance(case, str | Path):
            return case
        path = Path(case)
        if path.is_absolute() or path.exists():
            return path
        for base in (self._test_dir, self._rootdir):
            if base is not None and (base / path).exists():
                return base / path
        return path  # not found: the re-run says so, naming it


@pytest.fixture
def agentreel_case(request: pytest.FixtureRequest) -> CaseRunner:
    """Run an agent function under a pinned agentreel case, offline (see
    :mod:`agentreel.sdk.pytest_plugin`)."""
    live = bool(request.config.getoption(_LIVE_OPTION))
    return CaseRunner(request.path.parent, request.config.rootpath, live)
