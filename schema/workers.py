"""The server's processes: one listening socket, bound once, shared by the workers.

The port is exclusive: ``serve`` binds and listens before it loads anything, without
SO_REUSEPORT, so a second server on a port in use fails at once (EADDRINUSE) instead
of joining the first one's port and answering half of its requests from another
index.  Workers inherit that one socket.

With one shared socket, asyncio accepts up to ``backlog`` pending connections each
time the socket is readable, all in whichever worker woke first: a client that
opens its keep-alive connections together (an app's connection pool, a benchmark)
would have all of them served by one worker while the others idle.  Each worker
therefore accepts at most ``ACCEPT_BURST`` connections per wake-up, and leaves waiting
connections to a worker with fewer open connections (see balance.py).  The queue length stays the
parent's ``BACKLOG``: a worker's socket ignores asyncio's ``listen()`` call.

The socket is created with IPPROTO_TCP so that asyncio turns Nagle's algorithm off on
accepted connections (with ``proto`` 0 it does not, and each keep-alive answer would
wait for the client's delayed ACK).

Workers end with the parent (``kill -9`` included, see search/lifetime.py), and a
SIGTERM ends every process within the graceful-shutdown time: requests get that long
to finish, then the process exits even if a search or write thread still runs.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType
from typing import Any

import uvicorn

from newsearch.schema import balance
from newsearch.schema.balance import Balance
from newsearch.search.lifetime import end_with_parent

log = logging.getLogger("newsearch.server")
BACKLOG = 2048
ACCEPT_BURST = 1
"""Connections a worker accepts per wake-up of the shared socket (asyncio's own: 2048)."""
RESTART_PAUSE_S = 1.0
NOT_SERVING = 2**31 - 1
"""The connection count of a worker that is not serving yet (others take its share)."""
OVERRUN_EXIT_CODE = 1
"""Exit status of a process ended because its graceful shutdown overran."""


class PortInUse(Exception):
    """Another process holds ``host:port``."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is in use by another process (another server?); "
            "nothing was started: stop that process or choose another --port"
        )


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` that no other socket may bind while it is open.

    SO_REUSEADDR only lets it bind over connections of an ended server in TIME_WAIT;
    Linux refuses it while another socket listens on the port.  Raises PortInUse.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


class _SharedListener(socket.socket):
    """The parent's listening socket in a worker: asyncio's ``listen()`` leaves it as it is.

    asyncio listens again with the ``backlog`` it accepts per wake-up (ACCEPT_BURST),
    which would shorten the queue of every worker's shared socket.
    """

    def listen(self, backlog: int = 0, /) -> None:
        """Keep the queue length the parent set."""


class _Server(uvicorn.Server):
    """uvicorn's server, ended within its graceful-shutdown time of the first SIGTERM/SIGINT.

    uvicorn waits ``timeout_graceful_shutdown`` for requests, cancels them, and then the
    interpreter waits for threads still running a search or a write (a cancelled request
    does not stop its thread), so without this a busy worker goes on for as long as that takes.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Shut down gracefully, and end the process if that takes longer than allowed."""
        if not self.should_exit:
            grace = float(self.config.timeout_graceful_shutdown or 0) + 0.5
            timer = threading.Timer(grace, _overran, args=(grace,))
            timer.daemon = True
            timer.start()
        super().handle_exit(sig, frame)


def _overran(grace: float) -> None:
    log.error("graceful shutdown took more than %.1f s; exiting now", grace)
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    sys.stderr.flush()
    os._exit(OVERRUN_EXIT_CODE)


def serve_one(config: uvicorn.Config, sock: socket.socket, share: Balance | None = None) -> None:
    """Run uvicorn in this process on the listening ``sock`` until SIGINT/SIGTERM.

    With ``share``, its connections are balanced with the other workers' (balance.py).
    Exits with status 3 (uvicorn's) when the app failed to start.
    """
    server = _Server(config)
    if share is not None:
        share.connections = lambda: len(server.server_state.connections)
        balance.use(share)
        config.loop = "newsearch.schema.balance:balanced_loop"
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(3)


def _worker(config: uvicorn.Config, sock: socket.socket, counts: Any, slot: int) -> None:
    """Worker ``slot``: uvicorn on the parent's socket until stopped or orphaned."""
    end_with_parent(grace=float(config.timeout_graceful_shutdown or 0) + 1.0)
    config.configure_logging()
    config.backlog = ACCEPT_BURST
    shared = _SharedListener(sock.family, sock.type, sock.proto, fileno=sock.detach())
    serve_one(config, shared, Balance(counts, slot, shared.fileno()))


def serve_workers(config: uvicorn.Config, sock: socket.socket, workers: int) -> None:
    """Run ``workers`` uvicorn processes on the listening ``sock`` until SIGINT/SIGTERM.

    A worker that dies is started again.  On a signal each worker gets SIGTERM and
    its graceful-shutdown time (plus a second), then it is killed.
    """
    context: Any = multiprocessing.get_context("spawn")  # fresh interpreters, as uvicorn's
    counts = context.RawArray("i", workers)  # open connections per worker (balance.py)
    stop = threading.Event()

    def start(slot: int) -> Any:
        counts[slot] = NOT_SERVING  # until the worker's event loop publishes its count
        process = context.Process(
            target=_worker, args=(config, sock, counts, slot), name="newsearch-worker"
        )
        process.start()
        return process

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(slot) for slot in range(workers)]
    log.info("started %d workers on %s:%d", workers, config.host, config.port)
    try:
        while not stop.wait(0.5):
            for i, process in enumerate(processes):
                if not process.is_alive() and not stop.is_set():
                    log.warning(
                        "worker %d exited (%s); starting it again", process.pid, process.exitcode
                    )
                    stop.wait(RESTART_PAUSE_S)
                    processes[i] = start(i)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes its requests, then exits
        sock.close()
        deadline = time.monotonic() + float(config.timeout_graceful_shutdown or 0) + 1.0
        for process in processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for signum, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)
