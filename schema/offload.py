"""GraphQL requests run off the server's event loop, so no request can stall the others.

Parsing, validation, execution (graphql-core completes every field in Python) and the JSON of
the answer are CPU work whose cost grows with the document and the result.  On the event loop
any of them held up every other request of the worker process, ``/healthz`` included.  Here:

* :func:`execute_off_loop` runs strawberry's whole ``execute`` (parse, validate, execute) on
  the event loop of one of :data:`LOOPS` worker threads (the resolvers are coroutines; engine
  calls go on to threads of their own).  The server's loop only waits.  A pure-Python thread
  holds the GIL for at most ``sys.getswitchinterval()`` (5 ms) while the loop wants it, so the
  loop keeps answering.
* At the request's time limit plus :data:`GRACE` (the fields abandoned at the limit answer
  their typed TIMEOUT errors within it), a query is given up: the client gets a TIMEOUT error,
  and its task is cancelled, which takes effect at its next ``await``; where it is busy in
  graphql-core's completion it stops at its next object (``Context.cancelled``).  A mutation
  is waited for: its write finishes and is served whatever the time.
* :class:`ThreadEncodedJSON` encodes the answer in a worker thread (:func:`encode_json`) and
  sends it in chunks of :data:`CHUNK` bytes, so that the gzip middleware compresses it a chunk
  at a time, between other requests' work.

A C function holds the GIL until it returns: ``json.dumps`` of a large answer (many aliased
searches with day histograms) would stop the event loop for as long.  :func:`encode_json`
gives the C encoder only small pieces.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.types import ExecutionResult

from schema.context import Context, RequestTimeout

GRACE = 1.0
"""Seconds after a query's time limit before the server answers TIMEOUT without it."""

CHUNK = 64 * 1024
"""Bytes per body message of an answer."""


SPLIT = 8
"""Dicts with more keys than this are walked key by key at any depth (else only near the top)."""

BATCH = 32
"""Long lists are encoded this many items per C call (32 hits, 32 histogram buckets)."""

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _pieces(value: object, depth: int) -> Iterator[str]:
    if isinstance(value, dict) and (depth < 4 or len(value) > SPLIT):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield f"{',' if i else ''}{_dumps(key if isinstance(key, str) else str(key))}:"
            yield from _pieces(item, depth + 1)
        yield "}"
    elif isinstance(value, list | tuple) and len(value) > BATCH:
        yield "["
        for start in range(0, len(value), BATCH):
            part = _dumps(value[start : start + BATCH])[1:-1]
            yield f",{part}" if start else part
        yield "]"
    elif isinstance(value, list | tuple) and depth < 4:
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            yield from _pieces(item, depth + 1)
        yield "]"
    else:
        yield _dumps(value)


def encode_json(data: object) -> bytes:
    """``json.dumps(data, separators=(",", ":"))`` as UTF-8, the C encoder given small parts.

    The top four levels are walked here, and every list of more than :data:`BATCH` items is
    encoded :data:`BATCH` items at a time, so each C call encodes a few hits, buckets or
    facets: between the calls other threads, the event loop's among them, take the GIL.
    """
    return "".join(_pieces(data, 0)).encode("utf-8")


LOOPS = 4
"""Worker threads per process, each running an event loop for GraphQL requests."""


class _WorkerLoops:
    """Event loops in daemon threads, started on first use, for the life of the process.

    A loop per request would be made and torn down for every request; these are kept.  A
    request is given to them in turn.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.pid = 0
        self.turn = itertools.count()
        self.lock = threading.Lock()

    def next(self) -> asyncio.AbstractEventLoop:
        """The loop for the next request (a forked child starts loops of its own)."""
        with self.lock:
            if self.pid != os.getpid():
                self.pid, self.loops = os.getpid(), []
                for n in range(self.count):
                    loop = asyncio.new_event_loop()
                    thread = threading.Thread(
                        target=loop.run_forever, name=f"graphql-{n}", daemon=True
                    )
                    thread.start()
                    self.loops.append(loop)
            return self.loops[next(self.turn) % self.count]


_LOOPS = _WorkerLoops(LOOPS)


async def _in_context(
    make: Callable[[], Coroutine[Any, Any, ExecutionResult]], values: contextvars.Context
) -> ExecutionResult:
    # The task was made in the worker's thread, with that thread's context: the request's
    # context variables (its id, for the logs) are set here again.
    for var, value in values.items():
        var.set(value)
    return await make()


async def execute_off_loop(
    make: Callable[[], Coroutine[Any, Any, ExecutionResult]], context: Context
) -> ExecutionResult:
    """``await make()`` on a worker thread's event loop, within the request's time limit.

    ``make`` creates the coroutine there.  Exceptions of the coroutine are raised here; if this
    task is cancelled (the client went away, the server stops), so is the request's.
    """
    loop = _LOOPS.next()
    future = asyncio.run_coroutine_threadsafe(_in_context(make, contextvars.copy_context()), loop)
    done = asyncio.wrap_future(future)
    try:
        with anyio.move_on_after(max(context.deadline + GRACE - anyio.current_time(), 0)):
            return await asyncio.shield(done)
        context.cancelled.set()
        if context.writing:
            return await asyncio.shield(done)
    finally:
        future.cancel()  # nothing if it is done; else the request's task is cancelled
    return ExecutionResult(data=None, errors=[RequestTimeout()])


class ThreadEncodedJSON(Response):
    """A JSON answer encoded in a worker thread and sent in chunks."""

    media_type = "application/json"

    def __init__(self, data: object, status_code: int = 200) -> None:
        super().__init__(None, status_code=status_code)
        self.data = data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Encode off the loop, then send the status, headers and the body chunk by chunk."""
        body = await anyio.to_thread.run_sync(encode_json, self.data)
        self.headers["content-length"] = str(len(body))
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        for start in range(0, max(len(body), 1), CHUNK):
            await send(
                {
                    "type": "http.response.body",
                    "body": body[start : start + CHUNK],
                    "more_body": start + CHUNK < len(body),
                }
            )
            # A send that need not wait (the client reads fast) does not give way to other
            # tasks; without this a large answer would hold the loop for its whole compression.
            await anyio.lowlevel.checkpoint()
        if self.background is not None:
            await self.background()
