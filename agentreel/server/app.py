"""Assemble the server: store, writer pipeline, OTLP receivers, REST API."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from agentreel.collector import memory, redact
from agentreel.collector.grpc import GrpcReceiver
from agentreel.collector.http import router as otlp_router
from agentreel.collector.ingest import Ingest
from agentreel.collector.limits import Limits
from agentreel.collector.metrics import Metrics
from agentreel.collector.pipeline import Pipeline
from agentreel.collector.spool import Ref, Spool
from agentreel.core import outbound
from agentreel.core.model import Batch
from agentreel.core.version import __version__
from agentreel.server import auth, routes, signals_setup
from agentreel.server.retention_loop import RetentionLoop
from agentreel.settings import Settings, SettingsError
from agentreel.storage import rederive
from agentreel.storage.client import ClientPool, connect
from agentreel.storage.costing import PriceBook
from agentreel.storage.price_overrides import ProjectPrices
from agentreel.storage.schema import migrate
from agentreel.storage.writer import Writer

log = logging.getLogger("agentreel")


class Server:
    """Everything but the HTTP listener, which uvicorn owns. ``stop()`` is safe any time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = ClientPool(settings.clickhouse_url)
        self._writer_client: Any = None
        self.pipeline: Pipeline | None = None
        self.grpc: GrpcReceiver | None = None
        self.metrics: Metrics | None = None
        self.signals: signals_setup.Signals | None = None
        # The server's price file for every project, each project's overrides on top.
        self.prices = ProjectPrices(PriceBook(settings.prices_file), self.pool.get)
        self.spool: Spool | None = None
        self._price_updates: Any = None
        self._writer: Writer | None = None
        self.retention: RetentionLoop | None = None

    def start(self) -> None:
        s = self.settings
        memory.limit_arenas()
        # Refuses a non-loopback bind without auth before anything opens.
        outbound.configure(outbound.Policy.from_setting(s.outbound_hosts, auth.auth_enabled(s)))
        try:
            redactor = redact.from_setting(s.redact)
        except redact.RedactionError as exc:
            raise SettingsError(f"invalid AGENTREEL_REDACT: {exc}") from None
        self._writer_client = connect(s.clickhouse_url)
        applied = migrate(self._writer_client, s.clickhouse_cluster)
        if applied:
            log.info("store schema migrated to version %d", applied[-1])
        self.auth = auth.from_settings(s, self.pool)
        writer = self._writer = Writer(self._writer_client, self.prices.table)
        spool = Spool(s.spool_dir, s.spool_max_bytes)
        replay = spool.open()
        self.spool = spool
        pipeline = Pipeline(
            lambda spans, messages, points=(): self._write(writer, spans, messages, points),
            max_queued_spans=s.queue_spans,
            max_queued_bytes=s.queue_bytes,
            batch_spans=s.batch_spans,
            flush_interval=s.flush_interval,
            on_idle=memory.release_freed,
            store_answers=lambda: bool(self._writer_client.query("SELECT 1").result_rows),
            more_coming=lambda: self.ingest.busy,
            load=lambda ref: self.ingest.load(ref),
            done=spool.done,
        )
        self.metrics = Metrics(lambda: pipeline.queued_spans)
        self.metrics.spool_bytes.set_function(lambda: spool.pending_bytes)
        self.metrics.waiting.set_function(lambda: pipeline.waiting_spans)
        self.pipeline = pipeline
        self.ingest = Ingest(
            pipeline,
            self.metrics,
            s.project,
            s.max_request_bytes,
            spool,
            Limits.from_settings(s),
            s.spool_ack_wait,
            max_backlog_bytes=s.queue_bytes,
            max_rss_bytes=s.max_rss_bytes,
        )
        if redactor is not None:
            self.ingest.redactor = redactor.counted(self.metrics.registry)
        self.auth.counted(self.metrics.registry)
        if replay:
            # A crash may have cut a write short: its spans stored, their derived rows not.
            done = rederive.recover(self._writer_client, self._spooled(replay))
            log.info("spool replay: %d runs re-derived from their spans first", done.runs)
        # What was acknowledged before the last stop and is not stored yet goes first.
        for ref in replay:
            pipeline.submit(None, ref)
        pipeline.start()
        self.grpc = GrpcReceiver(
            self.ingest, s.host, s.grpc_port, s.max_request_bytes, project=self.auth.grpc_project
        )
        self.grpc.start()
        self.signals = signals_setup.start(s, self.pool)
        self.retention = RetentionLoop(s, self.pool, self.metrics)
        self.retention.start()
        if s.prices_auto_update:
            # Off by default: the bundled snapshot is what the tests and reprices agree on.
            from genai_prices import UpdatePrices

            self._price_updates = UpdatePrices()
            self._price_updates.start()
            log.info("price data: fetching genai-prices' newest data hourly")

    def _spooled(self, refs: list[Ref]) -> Iterator[Batch]:
        """The batches of these spool records that can be read (the replay refuses the rest)."""
        for ref in refs:
            try:
                yield self.ingest.load(ref)
            except Exception as exc:
                log.warning("spool record %s unreadable; not re-derived: %s", ref, exc)

    def _write(
        self, writer: Writer, spans: list[Any], messages: list[Any], points: Any = ()
    ) -> Any:
        assert self.metrics is not None
        _injected_fault()
        with self.metrics.write_seconds.time():
            result = writer.write(spans, messages, list(points))
        self.metrics.accepted.inc(result.spans_written)
        self.metrics.duplicates.inc(result.duplicates)
        self.metrics.content_bytes.inc(result.content_bytes)
        memory.release_if_over(self.settings.max_rss_bytes)
        return result

    def stop(self) -> None:
        """Stop receiving, write everything accepted, close the store."""
        if self._price_updates is not None:
            self._price_updates.stop()
            self._price_updates = None
        if self.retention is not None:
            self.retention.stop()
            self.retention = None
        if self.signals is not None:
            self.signals.stop()
            self.signals = None
        if self.grpc is not None:
            self.grpc.stop()
        if getattr(self, "ingest", None) is not None:
            self.ingest.shutdown()
        if self.pipeline is not None:
            self.pipeline.shutdown()
        if self._writer is not None:
            # The runs written since the last reconcile leave exact, not provisional.
            try:
                self._writer.reconcile()
            except Exception as exc:
                log.warning("run totals not reconciled at stop: %s", exc)
            self._writer = None
        if self.spool is not None:
            self.spool.close()
        self.pool.close()
        if self._writer_client is not None:
            self._writer_client.close()
            self._writer_client = None

    def app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            yield
            self.stop()

        app = FastAPI(
            title="agentreel",
            version=__version__,
            description="OTLP collector and REST API for AI-agent runs.",
            lifespan=lifespan,
            docs_url=None,
            redoc_url=None,
        )
        _offline_docs(app)
        assert self.metrics is not None
        app.add_middleware(auth.AuthMiddleware, auth=self.auth)
        auth.document(app, self.auth)
        app.include_router(
            otlp_router(
                self.ingest,
                self.settings.max_request_bytes,
                project=auth.request_project,
                body_timeout=self.settings.body_read_timeout,
            )
        )
        assert self.signals is not None
        signals = self.signals
        deps = routes.Dependencies(
            pool=self.pool,
            metrics=self.metrics,
            ingest=self.ingest,
            project=auth.current_project,
            prices=self.prices,
            alerts=signals.alerts,
            judge=lambda: signals.judge,
            evaluation=signals.evaluation,
            budgets=lambda: signals_setup.budgets(self.settings),
            max_request_bytes=self.settings.max_request_bytes,
            dashboard_url=self.settings.dashboard_url,
            retention_days=self.settings.retention_days or None,
        )
        for router in routes.build(deps):
            app.include_router(router)
        app.add_exception_handler(RequestValidationError, routes.common.invalid_request)
        return app


#: Names a file that, while it exists, makes writes to the store fail ("fail") or slow
#: ("slow <seconds>"): the chaos tests' fault injection into a real server process.
FAULTS_ENV = "AGENTREEL_TEST_FAULTS"


def _injected_fault() -> None:
    path = os.environ.get(FAULTS_ENV)
    if not path:
        return
    try:
        words = Path(path).read_text().split()
    except OSError:
        return
    if words[:1] == ["fail"]:
        raise ConnectionError(f"store write failed (fault injected by {FAULTS_ENV})")
    if words[:1] == ["slow"] and len(words) > 1:
        time.sleep(float(words[1]))


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from assets shipped in a package (fastapi-offline's copy of
    Swagger UI 5): the page works with no internet; FastAPI's default loads them from a CDN."""
    from importlib.resources import files

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = str(files("fastapi_offline") / "static")
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="agentreel API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )


def serve(settings: Settings) -> None:
    """Run the server until interrupted (SIGINT/SIGTERM), then flush and stop."""
    import uvicorn

    # Before the store opens: a port in use is then one line, with nothing logged before it.
    for name, port in (("OTLP/gRPC", settings.grpc_port), ("HTTP", settings.http_port)):
        _check_free(name, settings.host, port)
    server = Server(settings)
    try:
        server.start()
    except BaseException:
        server.stop()  # what did open (the store, the spool) is closed cleanly
        raise
    assert server.grpc is not None
    log.info(
        "agentreel %s: OTLP/gRPC %s:%d, OTLP/HTTP and REST %s (API docs %s/docs), store %s",
        __version__,
        settings.host,
        server.grpc.port,
        settings.api_url,
        settings.api_url,
        _safe_url(settings.clickhouse_url),
    )
    config = uvicorn.Config(
        server.app(),
        host=settings.host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        lifespan="on",
    )
    try:
        uvicorn.Server(config).run()
    finally:
        server.stop()


def _check_free(name: str, host: str, port: int) -> None:
    """Raise OSError naming the setting when ``host:port`` cannot be bound."""
    if port == 0:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            # As the servers bind: a port left in TIME_WAIT is free, one listened on is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        flag = "--grpc-port" if name == "OTLP/gRPC" else "--http-port"
        raise OSError(
            f"cannot listen for {name} on {host}:{port} ({exc.strerror or exc}): is another "
            f"agentreel running? Stop it or choose another port ({flag})"
        ) from None


def _safe_url(url: str) -> str:
    """The store URL without a password, for logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
