"""Pure-ASGI middleware: request ids, access logs and metrics, body size limit, read auth."""

from __future__ import annotations

import contextvars
import hmac
import json
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("newsearch.access")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/"})


class Metrics:
    """The app's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newsearch_requests", "HTTP requests", ["path", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "newsearch_request_seconds",
            "HTTP request latency",
            ["path"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.errors = Counter(
            "newsearch_errors",
            "Requests that ended in a 5xx or a masked error",
            registry=self.registry,
        )
        self.documents = Gauge(
            "newsearch_index_documents",
            "Documents in the served generation",
            registry=self.registry,
        )
        self.generation = Gauge(
            "newsearch_index_generation", "Number of the served generation", registry=self.registry
        )


class RequestContext:
    """Gives each request an id (X-Request-ID) and nosniff, logs one JSON line, records metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.setdefault("headers", [])
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                # No browser may sniff a JSON answer (it echoes article text) into HTML.
                if not any(name.lower() == b"x-content-type-options" for name, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
            self.metrics.requests.labels(path, str(status)).inc()
            self.metrics.latency.labels(path).observe(elapsed)
            if status >= 500:
                self.metrics.errors.inc()
            access_log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "path": scope["path"],
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                        "bytes": sent,
                        "client": (scope.get("client") or ["-"])[0],
                    }
                )
            )
            request_id_var.reset(token)


class _TooLarge(Exception):
    pass


async def _plain(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, by header or by counting."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _plain(send, 413, {"error": f"request body over {self.limit} bytes"})
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _plain(send, 413, {"error": f"request body over {self.limit} bytes"})


class ReadAuth:
    """With a read token configured, /graphql needs a Bearer read or write token."""

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...]) -> None:
        self.app = app
        self.tokens = tuple(t.encode("utf-8") for t in tokens)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.tokens or not scope["path"].startswith("/graphql"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        if (
            scope["method"] == "GET"
            and b"text/html" in headers.get(b"accept", b"")
            and not scope.get("query_string")
        ):
            # The GraphiQL page holds no data; its queries carry the token (headers tab).
            await self.app(scope, receive, send)
            return
        header = headers.get(b"authorization", b"")
        scheme, _, given = header.partition(b" ")
        ok = scheme.lower() == b"bearer" and any(
            hmac.compare_digest(given.strip(), t) for t in self.tokens
        )
        if not ok:
            await _plain(send, 401, {"error": "this server needs a bearer token for reads"})
            return
        await self.app(scope, receive, send)
