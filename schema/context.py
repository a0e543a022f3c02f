"""Per-request context: the engine, the writer, auth, request id, and a bounded thread pool."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass
class Context:
    """What resolvers get as ``info.context``."""

    services: Services
    request_id: str
    authorization: str | None
    deadline: float

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

        The event loop stays free (health checks and other requests go on); a
        search still running at the deadline is abandoned, not waited for.
        """
        remaining = self.deadline - anyio.current_time()
        if remaining <= 0:
            raise RequestTimeout
        call = functools.partial(fn, *args, **kwargs)
        try:
            with anyio.fail_after(remaining):
                return await anyio.to_thread.run_sync(
                    call, limiter=self.services.limiter, abandon_on_cancel=True
                )
        except TimeoutError:
            raise RequestTimeout from None
