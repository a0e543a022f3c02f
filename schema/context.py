"""Per-request context: the engine, the writer, auth, request id, and a bounded thread pool."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from graphql import GraphQLError

from schema.settings import Settings
from schema.writes import Writes
from search.engine import Engine

T = TypeVar("T")


class RequestTimeout(GraphQLError):
    """The request's work took longer than the configured limit.

    ``search`` and ``browse`` answer it as a ``QueryError`` of kind TIMEOUT; on the other
    fields (``article``, ``suggest``, ``related``, ``indexInfo``...) it is a GraphQL error with
    ``extensions.kind = "TIMEOUT"``, never a masked "Unexpected error.".
    """

    def __init__(self) -> None:
        super().__init__(
            "the request took longer than the server's time limit",
            extensions={"kind": "TIMEOUT"},
        )


@dataclass
class Services:
    """Long-lived objects shared by all requests of one app."""

    settings: Settings
    engine: Engine
    writes: Writes
    limiter: anyio.CapacityLimiter
    """Threads of the server's own event loop at once (``/readyz``)."""
    engine_slots: threading.BoundedSemaphore = field(init=False, repr=False)
    """Engine calls running at once, over all requests (``search_threads``); a semaphore of
    threads, not of one event loop, because each request runs in a loop of its own."""

    def __post_init__(self) -> None:
        self.engine_slots = threading.BoundedSemaphore(self.settings.search_threads)


@dataclass
class Context:
    """What resolvers get as ``info.context``."""

    services: Services
    request_id: str
    authorization: str | None
    deadline: float
    cancelled: threading.Event = field(default_factory=threading.Event)
    """Set when the server has given up on the request (schema/offload.py): no new engine
    call starts, and the execution of a query stops at its next object."""
    writing: bool = False
    """The request is a mutation: it is waited for, not given up on, at its time limit."""

    @property
    def engine(self) -> Engine:
        """The search engine."""
        return self.services.engine

    def may_write(self) -> bool:
        """True when the request carries the write token (constant-time comparison)."""
        token = self.services.settings.write_token
        if not token or not self.authorization:
            return False
        scheme, _, given = self.authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking index work in a worker thread, within the request's time limit.

        The request's own event loop stays free for its other fields; at most
        ``search_threads`` calls run at once over all requests; a search still running
        at the deadline is abandoned, not waited for.
        """
        remaining = self.deadline - anyio.current_time()
        if remaining <= 0 or self.cancelled.is_set():
            raise RequestTimeout
        slots = self.services.engine_slots
        deadline = self.deadline  # anyio.current_time() is time.monotonic()

        def call() -> T:
            # A call abandoned at the deadline while it waited for a slot does not run later.
            if not slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise RequestTimeout
            try:
                if self.cancelled.is_set():
                    raise RequestTimeout
                return fn(*args, **kwargs)
            finally:
                slots.release()

        try:
            with anyio.fail_after(remaining):
                return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        except TimeoutError:
            raise RequestTimeout from None
