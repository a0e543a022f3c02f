"""Several server processes on one port, each with its own listening socket (SO_REUSEPORT).

uvicorn's multi-process mode shares one listening socket between its workers,
and asyncio accepts every pending connection at once in whichever worker wakes
first: a client that opens its keep-alive connections together (an app's
connection pool, the benchmark at concurrency 8) had all of them served by one
worker while the other idled (measured: 800 of 800 requests on one process).
With a socket per worker bound with SO_REUSEPORT, the kernel spreads new
connections over the workers.  Sockets are created with IPPROTO_TCP so that
asyncio turns Nagle's algorithm off on accepted connections (with ``proto`` 0
it does not, and each keep-alive answer waited ~45 ms for a delayed ACK).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import threading
from typing import Any

import uvicorn

log = logging.getLogger("newsearch.server")
BACKLOG = 2048
RESTART_PAUSE_S = 1.0


def listening_socket(host: str, port: int, listen: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port`` that other processes of this user may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def _worker(config: uvicorn.Config) -> None:
    """One worker process: its own socket on the shared port, then uvicorn until stopped."""
    config.configure_logging()
    sock = listening_socket(config.host, config.port)
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(config: uvicorn.Config, workers: int) -> None:
    """Run ``workers`` uvicorn processes on ``config.host:config.port`` until SIGINT/SIGTERM.

    A worker that dies is started again.  The port is reserved first (bound, not
    listening) so that port 0 means one free port for all, and a port in use fails here.
    """
    reservation = listening_socket(config.host, config.port, listen=False)
    config.port = reservation.getsockname()[1]
    context: Any = multiprocessing.get_context("spawn")  # fresh interpreters, as uvicorn's
    stop = threading.Event()

    def start() -> Any:
        process = context.Process(target=_worker, args=(config,), name="newsearch-worker")
        process.start()
        return process

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    log.info("started %d workers on %s:%d", workers, config.host, config.port)
    try:
        while not stop.wait(0.5):
            for i, process in enumerate(processes):
                if not process.is_alive() and not stop.is_set():
                    log.warning(
                        "worker %d exited (%s); starting it again", process.pid, process.exitcode
                    )
                    stop.wait(RESTART_PAUSE_S)
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes its requests, then exits
        grace = (config.timeout_graceful_shutdown or 10) + 5
        for process in processes:
            process.join(timeout=grace)
            if process.is_alive():
                process.kill()
                process.join()
        reservation.close()
        for signum, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)
