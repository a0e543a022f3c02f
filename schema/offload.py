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
* The answer of one operation is made ready in the same worker thread, right after its
  execution (:func:`prepare`): strawberry's response dict, its JSON (:func:`encode_json`) and,
  when the client accepts gzip and the JSON is at least :data:`GZIP_MINIMUM` bytes, its gzip
  (exactly as the gzip middleware would write it; the middleware then passes it on).  The
  server's loop only sends the bytes (:class:`PreparedJSON`): no further thread hand-off per
  request (each costs a thread wake-up, which dominated small answers on a busy machine), and
  no compression on the loop.  The time limit applies to the execution, not to this step.
* :class:`ThreadEncodedJSON` encodes other answers (batches) in a worker thread and sends them
  in chunks of :data:`CHUNK` bytes, so that the gzip middleware compresses them a chunk at a
  time, between other requests' work.

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
import zlib
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from newsearch.schema.context import Context, RequestTimeout

GRACE = 1.0
"""Seconds after a query's time limit before the server answers TIMEOUT without it."""

CHUNK = 64 * 1024
"""Bytes per body message of an answer."""

GZIP_MINIMUM = 1024
"""Answers of fewer bytes are sent uncompressed (the gzip middleware's ``minimum_size``)."""

GZIP_LEVEL = 5
"""zlib level of compressed answers (the gzip middleware's ``compresslevel``): a search answer
compresses many times faster than at Starlette's default 9, for a slightly larger answer."""

R = TypeVar("R")


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
    make: Callable[[], Coroutine[Any, Any, ExecutionResult]],
    finish: Callable[[ExecutionResult], R],
    values: contextvars.Context,
    executed: threading.Event,
) -> R:
    # The task was made in the worker's thread, with that thread's context: the request's
    # context variables (its id, for the logs) are set here again.
    for var, value in values.items():
        var.set(value)
    result = await make()
    executed.set()
    return finish(result)


async def execute_off_loop(
    make: Callable[[], Coroutine[Any, Any, ExecutionResult]],
    context: Context,
    finish: Callable[[ExecutionResult], R],
) -> R:
    """``finish(await make())`` on a worker thread's event loop, ``make`` within the request's
    time limit.

    ``make`` creates the coroutine there; ``finish`` (the answer's encoding) runs there after
    it, not counted against the limit.  Exceptions of either are raised here; if this task is
    cancelled (the client went away, the server stops), so is the request's.  A request given up
    on answers ``finish`` of a TIMEOUT error.
    """
    loop = _LOOPS.next()
    executed = threading.Event()
    values = contextvars.copy_context()
    future = asyncio.run_coroutine_threadsafe(_in_context(make, finish, values, executed), loop)
    done = asyncio.wrap_future(future)
    try:
        with anyio.move_on_after(max(context.deadline + GRACE - anyio.current_time(), 0)):
            return await asyncio.shield(done)
        if executed.is_set():  # only its answer is still being encoded
            return await asyncio.shield(done)
        context.cancelled.set()
        if context.writing:
            return await asyncio.shield(done)
    finally:
        future.cancel()  # nothing if it is done; else the request's task is cancelled
    return finish(ExecutionResult(data=None, errors=[RequestTimeout()]))


class EncodedResponse(dict[str, Any]):
    """strawberry's response dict of one operation with its bytes, made by :func:`prepare`."""

    body: bytes
    gzipped: bool


@dataclass
class PreparedResult(ExecutionResult):
    """An execution result with its answer ready to send."""

    response: EncodedResponse | None = None


def gzip_body(body: bytes) -> bytes:
    """``body`` gzipped as the gzip middleware does for a one-message answer (same bytes)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


def prepare(result: ExecutionResult, gzip: bool) -> ExecutionResult:
    """``result`` with its HTTP answer: strawberry's response dict, its JSON and, where
    ``gzip`` (the client accepts it) and the JSON has :data:`GZIP_MINIMUM` bytes or more, the
    gzip of the JSON.  Other kinds of results (incremental delivery) are returned as they are.
    """
    if not isinstance(result, ExecutionResult):  # defensive: incremental results stream
        return result
    data: GraphQLHTTPResponse = process_result(result)
    response = EncodedResponse(data)
    body = encode_json(response)
    response.gzipped = gzip and len(body) >= GZIP_MINIMUM
    response.body = gzip_body(body) if response.gzipped else body
    return PreparedResult(result.data, result.errors, result.extensions, response)


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
        await send_chunked(self, body, send)


class PreparedJSON(Response):
    """An answer made by :func:`prepare`, sent as it is (in chunks of :data:`CHUNK` bytes)."""

    media_type = "application/json"

    def __init__(self, response: EncodedResponse, status_code: int = 200) -> None:
        super().__init__(None, status_code=status_code)
        self.body = response.body
        self.headers["content-length"] = str(len(response.body))
        if response.gzipped:
            # The gzip middleware passes an encoded answer on; it would add this Vary.
            self.headers["vary"] = "Accept-Encoding"
            self.headers["content-encoding"] = "gzip"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the status, headers and the body chunk by chunk."""
        await send_chunked(self, self.body, send)


async def send_chunked(response: Response, body: bytes | memoryview, send: Send) -> None:
    """Send ``response``'s status and headers, then ``body`` in chunks of :data:`CHUNK`
    bytes, then run its background task."""
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
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
    if response.background is not None:
        await response.background()
