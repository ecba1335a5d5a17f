"""OTLP/gRPC receiver: TraceService, LogsService and MetricsService on one grpcio server.

Status codes follow the OTLP spec: INVALID_ARGUMENT for what cannot be read (permanent),
RESOURCE_EXHAUSTED with RetryInfo when the queue is full, UNAVAILABLE with RetryInfo when
shutting down or when the store failed; partial_success for items rejected on their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from . import errors
from .ingest import Ingest, Signal

log = logging.getLogger("agentreel.collector")

#: Threads serving gRPC calls; each waits for its batch to be written, so allow plenty.
GRPC_WORKERS = 32
#: Calls one connection may have open at once: a client that opens many (or stalls them)
#: holds a share of the workers, never all of them; its other calls wait on its side.
GRPC_STREAMS_PER_CONNECTION = 8

#: Which project a call's data belongs to, from its ``grpc.ServicerContext`` (``auth`` reads
#: the key from the invocation metadata; it may ``context.abort`` to refuse the call).
ProjectOf = Callable[[Any], str]

#: gRPC status by ``google.rpc.Code`` number.
_STATUS = {code.value[0]: code for code in grpc.StatusCode}
#: Each signal's response message, and its partial success's count of what was refused.
_RESPONSES: dict[str, tuple[Any, str]] = {
    "traces": (trace_service_pb2.ExportTraceServiceResponse, "rejected_spans"),
    "logs": (logs_service_pb2.ExportLogsServiceResponse, "rejected_log_records"),
    "metrics": (metrics_service_pb2.ExportMetricsServiceResponse, "rejected_data_points"),
}


class _Receiver:
    def __init__(self, ingest: Ingest, write_timeout: float, project: ProjectOf) -> None:
        self.ingest = ingest
        self.write_timeout = write_timeout
        self.project = project

    def traces(self, body: bytes, context: Any) -> Any:
        return self._answer("traces", body, context)

    def logs(self, body: bytes, context: Any) -> Any:
        return self._answer("logs", body, context)

    def metrics(self, body: bytes, context: Any) -> Any:
        return self._answer("metrics", body, context)

    def _answer(self, signal: Signal, body: bytes, context: Any) -> Any:
        """The signal's Export response, with what was refused in its partial success."""
        rejected, message = self._export(signal, body, context)
        response_type, rejected_field = _RESPONSES[signal]
        response = response_type()
        if rejected or message:
            setattr(response.partial_success, rejected_field, rejected)
            response.partial_success.error_message = message
        return response

    def _export(self, signal: Signal, body: bytes, context: Any) -> tuple[int, str]:
        """Take one request; abort the call with the right status when it cannot be taken."""
        owner = self.project(context)
        try:
            taken = self.ingest.submit(signal, "proto", body, project=owner).result()
            if taken.durable is not None:
                taken.durable.result()
            try:
                taken.future.result(taken.write_wait(self.ingest.pipeline, self.write_timeout))
            except TimeoutError:
                if taken.durable is None:
                    raise errors.StoreTimeout(self.write_timeout) from None
                # Safe in the spool: the writer stores it when the store can.
            except errors.KNOWN:
                raise
            except Exception as exc:
                raise errors.StoreFailed(exc) from None
        except errors.KNOWN as exc:
            refused = errors.refusal(exc)
            self._abort(context, signal, refused)
        self.ingest.metrics.requests.labels("grpc", signal, "ok").inc()
        return taken.rejected, taken.message

    def _abort(self, context: Any, signal: Signal, refused: errors.Refusal) -> None:
        code = _STATUS[refused.rpc_code]
        self.ingest.metrics.requests.labels("grpc", signal, code.name.lower()).inc()
        # RESOURCE_EXHAUSTED without RetryInfo is permanent for exporters (a too-large request).
        if refused.retry:
            delay = Duration(seconds=self.ingest.retry_hint.refused())
            info = RetryInfo(retry_delay=delay).SerializeToString()
            context.set_trailing_metadata((("google.rpc.retryinfo-bin", info),))
        context.abort(code, refused.message)


def _handlers(receiver: _Receiver) -> list[Any]:
    """Services registered on raw bytes, so the receiver decodes them with the same pure
    function as OTLP/HTTP (and answers INVALID_ARGUMENT, not INTERNAL, to bad protobuf)."""

    def method(fn: Any) -> Any:
        return grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=None, response_serializer=_serialize
        )

    return [
        grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService",
            {"Export": method(receiver.traces)},
        ),
        grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.logs.v1.LogsService",
            {"Export": method(receiver.logs)},
        ),
        grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.metrics.v1.MetricsService",
            {"Export": method(receiver.metrics)},
        ),
    ]


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())


class GrpcReceiver:
    """Owns the grpcio server. ``stop()`` is safe without ``start()``."""

    def __init__(
        self,
        ingest: Ingest,
        host: str,
        port: int,
        max_request_bytes: int,
        write_timeout: float = 60.0,
        project: ProjectOf | None = None,
    ) -> None:
        self._server: Any = None
        self._project: ProjectOf = project or (lambda _context: ingest.project)
        self._ingest = ingest
        self._address = f"{host}:{port}"
        self._max = max_request_bytes
        self._write_timeout = write_timeout
        self.port = port

    def start(self) -> int:
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=GRPC_WORKERS, thread_name_prefix="otlp-grpc"),
            options=[
                ("grpc.max_receive_message_length", self._max),
                ("grpc.so_reuseport", 0),
                ("grpc.max_concurrent_streams", GRPC_STREAMS_PER_CONNECTION),
            ],
        )
        receiver = _Receiver(self._ingest, self._write_timeout, self._project)
        server.add_generic_rpc_handlers(_handlers(receiver))
        try:
            bound = server.add_insecure_port(self._address)
        except RuntimeError:  # grpcio >= 1.50 raises where older ones returned 0
            bound = 0
        if bound == 0:
            raise OSError(f"cannot bind OTLP/gRPC to {self._address} (port in use?)")
        server.start()
        self._server = server
        self.port = int(bound)
        return self.port

    def stop(self, grace: float = 5.0) -> None:
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None
