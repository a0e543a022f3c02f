"""Keep-alive connections reused near the server's idle timeout.

* ``newsearch serve`` keeps an idle connection open longer than clients' pools keep it
  (httpx: 5 s): a request sent on a connection idle for 5.5 s is answered.  With
  uvicorn's 5 s the server closed it as a client with httpx's 5 s expiry sent on it
  (the ``ReadError``s of a load run).
* ``scripts/load.py`` sends a read once more when the server closed the reused connection
  it went out on, and counts it; it never repeats a mutation nor a request that failed on
  a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.server import serve_process

sys.path.insert(0, str(REPO / "scripts"))
import load

INFO = json.dumps({"query": "{ indexInfo { documents } }"}).encode()


def _request(host: str) -> bytes:
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(INFO)}\r\n\r\n"
    )
    return head.encode() + INFO


def _response(sock: socket.socket) -> bytes:
    """One HTTP response read off ``sock`` (b"" when the server closed the connection)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_an_idle_connection_outlives_client_pool_expiry(demo_index: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    with serve_process(["--index", str(demo_index), "--workers", "1"], env, tmp_path / "log") as b:
        host = b.removeprefix("http://")
        address = host.rsplit(":", 1)
        with socket.create_connection((address[0], int(address[1])), timeout=10) as sock:
            sock.sendall(_request(host))
            assert _response(sock).startswith(b"HTTP/1.1 200"), "first request"
            time.sleep(5.5)  # longer than httpx's pool keeps an idle connection
            try:
                sock.sendall(_request(host))
                second = _response(sock)
            except ConnectionError as exc:
                second = repr(exc).encode()
            assert second.startswith(b"HTTP/1.1 200"), second[:200]


# --------------------------------------------------------------------------- the load client


@asynccontextmanager
async def closing_peer(answers: int) -> AsyncIterator[tuple[str, list[int]]]:
    """An HTTP peer on 127.0.0.1 that answers ``answers`` requests per connection, then
    closes it when the next request arrives: a keep-alive close racing a client's send.
    Yields the base URL and the number of requests received on each connection."""
    seen: list[int] = []
    body = b'{"data":{"indexInfo":{"documents":1}}}'
    reply = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )

    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        seen.append(0)
        slot = len(seen) - 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                seen[slot] += 1
                if seen[slot] > answers:
                    break
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", seen
        for writer in writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def test_the_load_client_resends_a_read_once_on_a_reused_connection_closed_by_the_server() -> None:
    async def run() -> tuple[load.Tally, list[int]]:
        tally = load.Tally()
        async with closing_peer(answers=1) as (base, seen):
            limits = httpx.Limits(max_connections=1)
            async with httpx.AsyncClient(base_url=base, timeout=5, limits=limits) as client:
                for _ in range(3):
                    await load.one(client, ("info", "{ indexInfo { documents } }", {}), tally)
        return tally, seen

    tally, seen = asyncio.run(run())
    assert tally.failed == 0, tally.samples
    assert tally.retried == 2, tally.retry_samples
    assert seen == [2, 2, 1]  # each connection: one answer, then closed on the next request
    assert "RemoteProtocolError" in tally.retry_samples[0]


@pytest.mark.parametrize(
    ("document", "answers"),
    [("mutation { reindex { __typename } }", 1), ("{ indexInfo { documents } }", 0)],
    ids=["mutation", "new-connection"],
)
def test_the_load_client_counts_other_transport_errors_as_failures(
    document: str, answers: int
) -> None:
    async def run() -> load.Tally:
        tally = load.Tally()
        async with (
            closing_peer(answers=answers) as (base, _),
            httpx.AsyncClient(base_url=base, timeout=5) as client,
        ):
            for _ in range(2):
                await load.one(client, ("kind", document, {}), tally)
        return tally

    tally = asyncio.run(run())
    assert tally.retried == 0
    assert tally.failed == (1 if answers else 2), tally.samples
