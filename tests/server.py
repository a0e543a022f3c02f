"""Real servers on free loopback ports: uvicorn in a thread (lifespan on), or `newsearch serve`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.types import ASGIApp

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def live_server(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1:<free port>; yields the base URL; stops gracefully."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def serve_process(
    args: Sequence[str],
    env: Mapping[str, str],
    log: Path,
    ready: str = "/readyz",
    timeout: float = 60.0,
) -> Iterator[str]:
    """``newsearch serve ARGS`` as a subprocess on a free loopback port, output into ``log``.

    Yields the base URL once ``ready`` answers 200; terminates the server afterwards.
    """
    with serve_popen(args, env, log, ready, timeout) as (base, _):
        yield base


@contextmanager
def serve_popen(
    args: Sequence[str],
    env: Mapping[str, str],
    log: Path,
    ready: str = "/readyz",
    timeout: float = 60.0,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As ``serve_process``, yielding the process too (in a session of its own, so that
    whatever it leaves behind is killed with its process group afterwards)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "newsearch.schema.cli", "serve", *args, "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{base}{ready}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            alive = proc.poll() is None
            assert alive and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
