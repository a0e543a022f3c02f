"""Per-request context: the engine, the writer, auth, request id, and a bounded thread pool."""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from graphql import GraphQLError

from newsearch.schema.settings import Settings
from newsearch.schema.writes import Writes
from newsearch.search.engine import Engine

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
    engine_pool: ThreadPoolExecutor = field(init=False, repr=False)
    """The threads engine calls run in, over all requests (``search_threads``): long-lived,
    so each keeps its Whoosh searcher per generation (a new thread per call would open a
    new searcher every time, and the generation keeps every one it opened)."""

    def __post_init__(self) -> None:
        self.engine_pool = ThreadPoolExecutor(
            self.settings.search_threads, thread_name_prefix="engine"
        )


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

        def call() -> T:
            if self.cancelled.is_set():  # given up on while it waited for a thread
                raise RequestTimeout
            return fn(*args, **kwargs)

        # A call still waiting for a thread at the deadline is cancelled and never runs; one
        # running is abandoned (its answer dropped), not waited for.
        future = asyncio.get_running_loop().run_in_executor(self.services.engine_pool, call)
        try:
            return await asyncio.wait_for(future, remaining)
        except TimeoutError:
            raise RequestTimeout from None
