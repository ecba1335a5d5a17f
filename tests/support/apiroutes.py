"""Every operation of a running server, read from its OpenAPI document, with ways to fill in
their parameters: tests that must cover all endpoints (isolation, injection) enumerate these,
so an endpoint added later is covered without anyone editing the test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

#: Operations that are not the REST API: OTLP exports take protobuf/JSON payloads of their
#: own (their tests build real ones) and the docs carry no data.
NOT_REST = ("/v1/traces", "/v1/logs")


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "path" or "query"
    required: bool
    schema: dict[str, Any]

    @property
    def kind(self) -> str:
        """integer, number, boolean, enum or string."""
        schema = _plain(self.schema)
        if "enum" in schema:
            return "enum"
        return str(schema.get("type", "string"))


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[Param, ...]
    body: dict[str, Any] | None  # the JSON body schema, $refs resolved

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(base_url: str, headers: dict[str, str] | None = None) -> list[Operation]:
    """The REST operations the server at ``base_url`` declares."""
    spec = httpx.get(base_url + "/openapi.json", headers=headers, timeout=30).json()
    out = []
    for path, methods in spec["paths"].items():
        if path in NOT_REST:
            continue
        for method, op in methods.items():
            params = tuple(
                Param(p["name"], p["in"], bool(p.get("required")), p.get("schema", {}))
                for p in op.get("parameters", [])
                if p["in"] in ("path", "query")
            )
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            out.append(Operation(method.upper(), path, params, _resolve(body, spec)))
    return out


def example(
    schema: dict[str, Any] | None,
    fill: Callable[[str, dict[str, Any]], Any],
    every_property: bool = False,
) -> Any:
    """A value of ``schema``: objects get their required properties (or all of them),
    strings come from ``fill(name, schema)`` (URLs from a pattern ``^https?://``), lists
    are empty."""
    schema = _plain(schema or {})
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        names = props if every_property else [k for k in schema.get("required", []) if k in props]
        return {k: example(props[k], fill, every_property) for k in names}
    if kind == "array":
        items = schema.get("items")
        return [example(items, fill, every_property)] if every_property and items else []
    if kind in ("integer", "number"):
        return max(1, int(schema.get("minimum", 1)))
    if kind == "boolean":
        return False
    if str(schema.get("pattern", "")).startswith("^http"):
        return "http://127.0.0.1:9"  # nothing listens there: a call that leaks would fail
    return fill(str(schema.get("title", "")), schema)


def send(
    client: httpx.Client,
    op: Operation,
    values: dict[str, Any],
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send ``op`` with path and query parameters from ``values`` (absent ones omitted)."""
    path = op.path
    query = {}
    for p in op.params:
        if p.name not in values:
            continue
        if p.where == "path":
            path = path.replace("{" + p.name + "}", quote(str(values[p.name]), safe=""))
        else:
            query[p.name] = values[p.name]
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    if op.body is not None or op.method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = body if body is not None else example(op.body, lambda n, s: "x")
    return client.request(op.method, path, **kwargs)


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null alternative of ``anyOf: [X, null]``."""
    for alternative in schema.get("anyOf", []):
        if alternative.get("type") != "null":
            return {**schema, **_plain(alternative), "anyOf": []}
    return schema


def _resolve(schema: Any, spec: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _resolve(spec["components"]["schemas"][name], spec)
        return {k: _resolve(v, spec) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(v, spec) for v in schema]
    return schema
