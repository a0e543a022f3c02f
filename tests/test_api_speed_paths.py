"""The cheap paths of the GraphQL layer: cached validation, and how ``newsearch serve`` starts.

Validation of a repeated document must run once (it cost ~10 ms a request when it ran every
time), while the depth, alias and introspection guards still refuse what they refused.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import select
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from click.testing import CliRunner

from newsearch.schema import cli, workers
from tests.server import serve_process
from tests.test_api import Client

SEARCH = """
query($q: String!) {
  search(query: $q, first: 2, facets: {dateHistogram: YEAR}) {
    __typename
    ... on ArticleConnection { totalCount edges { node { id } highlights { title } } }
    ... on QueryError { kind message }
  }
}
"""


@pytest.fixture
def count_validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts graphql-core ``validate`` runs (what the validation cache saves)."""
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return graphql.validate(*args, **kwargs)

    monkeypatch.setattr("strawberry.schema.schema.validate", counting)
    return calls


def test_a_repeated_document_is_validated_once(
    demo_index: Path, count_validations: list[int]
) -> None:
    client = Client(demo_index)
    for q in ("solar", "energy", "війна", "solar"):
        result = client.execute(SEARCH, {"q": q})
        assert result.errors is None and result.data is not None
        assert result.data["search"]["__typename"] == "ArticleConnection"
    assert len(count_validations) == 1


def test_guards_still_refuse_from_the_cache(demo_index: Path) -> None:
    client = Client(demo_index, max_depth=2, max_aliases=2, introspection=False)
    too_deep = '{ search(query: "a") { ... on ArticleConnection { edges { node { id } } } } }'
    aliases = "{ a: indexInfo { documents } b: indexInfo { documents } c: indexInfo { documents } }"
    introspection = "{ __schema { queryType { name } } }"
    for document, expected in (
        (too_deep, "exceeds maximum operation depth"),
        (aliases, "aliases"),
        (introspection, "introspection"),
    ):
        for _ in range(2):  # the second answer comes from the validation cache
            result = client.execute(document)
            messages = " ".join(e.message for e in result.errors or ()).lower()
            assert result.data is None and expected in messages, (document, messages)
    ok = client.execute("{ indexInfo { documents } }")
    assert ok.errors is None and ok.data is not None and ok.data["indexInfo"]["documents"] > 0


def test_default_workers() -> None:
    assert cli.usable_cpus() >= 1
    assert cli.default_workers(writes_enabled=False) == min(cli.usable_cpus(), 64)
    assert cli.default_workers(writes_enabled=True) == 1


@pytest.mark.parametrize(
    ("token", "given", "expected"),
    [(None, None, "cpus"), ("secret", None, 1), ("secret", 3, 3), (None, 1, 1)],
)
def test_serve_passes_workers_and_logging_to_uvicorn(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    token: str | None,
    given: int | None,
    expected: Any,
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        "newsearch.schema.cli.run_uvicorn",
        lambda workers, options: seen.update(options, workers=workers),
    )
    monkeypatch.setattr("logging.basicConfig", lambda **kwargs: None)
    monkeypatch.delenv("NEWSEARCH_SERVE_CONFIG", raising=False)  # restored after the test
    monkeypatch.delenv("NEWSEARCH_WRITE_TOKEN", raising=False)
    if token:
        monkeypatch.setenv("NEWSEARCH_WRITE_TOKEN", token)
    args = ["serve", "--index", str(tmp_path / "ix")]
    if given is not None:
        args += ["--workers", str(given)]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    assert seen["workers"] == (cli.usable_cpus() if expected == "cpus" else expected)
    root = seen["log_config"]["root"]
    assert root["handlers"] == ["newsearch"] and root["level"] == logging.INFO
    fmt = seen["log_config"]["formatters"]["newsearch"]["format"]
    assert ("%(process)d" in fmt) == (seen["workers"] > 1)
    assert "uvicorn" in seen["log_config"]["loggers"]


def test_the_listening_socket_is_tcp_and_holds_the_port_alone() -> None:
    """TCP, so asyncio turns Nagle off (it added ~45 ms per keep-alive request); no other
    socket can bind the port while it listens, SO_REUSEPORT or not (a second server
    joined the port and answered half of the requests from its own index)."""
    first = workers.listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    try:
        with pytest.raises(workers.PortInUse, match=f"port {port} on 127.0.0.1 is in use"):
            workers.listening_socket("127.0.0.1", port)
        with socket.socket() as intruder:
            intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            with pytest.raises(OSError, match="in use"):
                intruder.bind(("127.0.0.1", port))
        assert first.proto == socket.IPPROTO_TCP
        with socket.create_connection(("127.0.0.1", port)) as client:
            assert _pending(first)
            accepted, _ = first.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
                assert client.getsockname() == accepted.getpeername()
    finally:
        first.close()


def _pending(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    readable, _, _ = select.select([sock], [], [], 0.5)
    return bool(readable)


def test_several_workers_serve_log_and_share_a_burst_of_connections(
    demo_index: Path, tmp_path: Path
) -> None:
    """Every worker answers and writes its access log (they were lost with 2+), and
    connections opened together are spread over the workers sharing one socket (one took
    them all when each accepted every pending connection at once)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    log = tmp_path / "serve.log"
    with serve_process(["--index", str(demo_index), "--workers", "2"], env, log) as base:
        asyncio.run(_burst(base, connections=16, requests=4))
    text = log.read_text(encoding="utf-8", errors="replace")
    assert text.count("serving generation") == 2, text
    pids = re.findall(r"newsearch\.access\[(\d+)\].*\"path\": \"/graphql\"", text)
    assert len(pids) == 16 * 4, text
    per_worker = sorted(Counter(pids).values())
    print(f"\nrequests per worker: {per_worker}")
    assert len(per_worker) == 2 and per_worker[-1] <= 48, text  # even: 32 and 32


async def _burst(base: str, connections: int, requests: int) -> None:
    """``connections`` keep-alive clients opened at the same moment, ``requests`` each."""
    query = {"query": "{ indexInfo { documents } }"}

    async def one() -> None:
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            for _ in range(requests):
                r = await client.post("/graphql", json=query)
                assert r.json()["data"]["indexInfo"]["documents"] > 0

    await asyncio.gather(*(one() for _ in range(connections)))


def test_analyzers_are_loaded_before_the_first_request(demo_index: Path, tmp_path: Path) -> None:
    """pymorphy3's dictionaries load while the server starts (the first Ukrainian query
    waited ~80 ms for them): ready means loaded, before any search."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    log = tmp_path / "serve.log"
    with serve_process(["--index", str(demo_index)], env, log):
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "pymorphy3_dicts_uk" in text, text
        assert '"path": "/graphql"' not in text, text
