"""The cheap paths of the GraphQL layer: cached validation, and how ``newsearch serve`` starts.

Validation of a repeated document must run once (it cost ~10 ms a request when it ran every
time), while the depth, alias and introspection guards still refuse what they refused.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from click.testing import CliRunner

from schema import cli
from tests.conftest import REPO
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
        "schema.cli.run_uvicorn", lambda workers, options: seen.update(options, workers=workers)
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


def test_the_listening_socket_of_several_workers_is_tcp() -> None:
    """So asyncio turns Nagle off on every connection (it added ~45 ms per keep-alive request)."""
    config = cli.TCPConfig(cli.APP, factory=True, host="127.0.0.1", port=0, workers=2)
    sock = config.bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockname()[0] == "127.0.0.1"
        sock.listen()  # each worker's event loop does this
        with socket.create_connection(sock.getsockname()) as client:
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
                assert client.getsockname() == accepted.getpeername()
    finally:
        sock.close()


def test_several_workers_serve_and_log(demo_index: Path, tmp_path: Path) -> None:
    """Every worker answers, is ready, and writes its access log (they were lost with 2+)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "schema.cli", "serve", "--index", str(demo_index)),
                *("--port", str(port), "--workers", "2"),
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.1)
            with httpx.Client(timeout=30) as client:
                for _ in range(6):  # new connections: the kernel spreads them over the workers
                    r = client.post(
                        f"{base}/graphql",
                        json={"query": "{ indexInfo { documents } }"},
                        headers={"connection": "close"},
                    )
                    assert r.json()["data"]["indexInfo"]["documents"] > 0
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert text.count("serving generation") == 2, text
    access = [line for line in text.splitlines() if "newsearch.access[" in line]
    assert sum('"path": "/graphql"' in line for line in access) == 6, text
