"""The app through a real uvicorn server on loopback, lifespan running."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsearch.indexer.build import build
from newsearch.schema.app import create_app
from newsearch.schema.settings import Settings
from tests.conftest import DEMO
from tests.server import live_server

TOKEN = "http-write-token-0123456789"
INFO = "{ indexInfo { documents generation } }"


def post(
    base: str, query: str, variables: dict[str, Any] | None = None, **kw: Any
) -> httpx.Response:
    return httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables or {}}, timeout=30, **kw
    )


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    build([DEMO], tmp_path / "ix", workers=1)
    return tmp_path / "ix"


@pytest.fixture
def server(index_dir: Path) -> Iterator[str]:
    settings = Settings(
        index_dir=index_dir,
        write_token=TOKEN,
        check_interval=0.05,
        cors_origins=("https://newsroom.example",),
    )
    with live_server(create_app(settings)) as base:
        yield base


def test_health_ready_metrics(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "alive"}
    assert httpx.get(f"{server}/readyz").json() == {
        "ready": True,
        "generation": "g000001",
        "documents": 36,
    }
    post(server, INFO)
    metrics = httpx.get(f"{server}/metrics").text
    assert 'newsearch_requests_total{path="/graphql",status="200"} 1.0' in metrics
    assert "newsearch_request_seconds_bucket" in metrics
    assert "newsearch_index_documents 36.0" in metrics
    assert "newsearch_index_generation 1.0" in metrics


def test_search_over_http_exact(server: str) -> None:
    response = post(
        server,
        '{ search(query: "мигрантов") { ... on ArticleConnection {'
        " totalCount edges { node { id } } } } }",
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "search": {"totalCount": 1, "edges": [{"node": {"id": "ru-006-stroyki-migranty.txt"}}]}
        }
    }


def test_request_id_gzip_and_cors(server: str) -> None:
    response = post(
        server,
        "{ browse(first: 30) { ... on ArticleConnection { edges { node { body } } } } }",
        headers={
            "x-request-id": "abc-123",
            "accept-encoding": "gzip",
            "origin": "https://newsroom.example",
        },
    )
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["access-control-allow-origin"] == "https://newsroom.example"
    other = post(server, INFO, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    assert len(other.headers["x-request-id"]) == 32  # generated when not given
    _ = gzip  # httpx decodes gzip itself; the header is what the client saw


def test_answers_are_encoded_and_gzipped_on_the_graphql_thread(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GraphQL answer is made ready (JSON, and gzip where the client accepts it) on the
    thread that executed it, not on another thread and not on the server's loop; the client
    gets the bytes the gzip middleware would have written, with its headers; every way of
    asking (gzip or not, small or large, errors) gives the same JSON."""
    import newsearch.schema.offload

    threads: list[str] = []
    real = newsearch.schema.offload.encode_json

    def recording(data: object) -> bytes:
        threads.append(threading.current_thread().name)
        return real(data)

    monkeypatch.setattr(newsearch.schema.offload, "encode_json", recording)
    query = "{ browse(first: 30) { ... on ArticleConnection { edges { node { id body } } } } }"
    with httpx.Client(timeout=30) as client:
        raw = client.build_request(
            "POST", f"{server}/graphql", json={"query": query}, headers={"accept-encoding": "gzip"}
        )
        zipped = client.send(raw, stream=True)
        compressed = b"".join(zipped.iter_raw())  # the bytes as sent, not decoded
        zipped.close()
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.headers["content-length"] == str(len(compressed))
    plain = post(server, query, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["vary"]  # as the gzip middleware answers
    assert gzip.decompress(compressed) == plain.content
    assert newsearch.schema.offload.gzip_body(plain.content) == compressed
    assert json.loads(plain.content)["data"]["browse"]["edges"]

    small = post(server, INFO, headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers and len(small.content) < 1024
    bad = post(server, "{ search(query: 1) { __typename } }", headers={"accept-encoding": "gzip"})
    assert bad.status_code == 200 and bad.json()["errors"][0]["locations"]
    assert threads and all(name.startswith("graphql-") for name in threads), threads


def test_body_over_limit_gets_413(index_dir: Path) -> None:
    with live_server(create_app(Settings(index_dir=index_dir, max_body_bytes=2000))) as base:
        big = "{ indexInfo { documents } }" + " " * 5000
        assert post(base, big).status_code == 413

        # Chunked, without a content-length: counted while read.
        def chunks() -> Iterator[bytes]:
            yield b'{"query": "'
            for _ in range(10):
                yield b" " * 500
            yield b'{ indexInfo { documents } }"}'

        response = httpx.post(
            f"{base}/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert post(base, INFO).status_code == 200


def test_read_token(index_dir: Path) -> None:
    settings = Settings(index_dir=index_dir, read_token="reader-token", write_token=TOKEN)
    with live_server(create_app(settings)) as base:
        assert post(base, INFO).status_code == 401
        assert post(base, INFO, headers={"authorization": "Bearer wrong"}).status_code == 401
        assert (
            post(base, INFO, headers={"authorization": "Bearer reader-token"}).json()["data"][
                "indexInfo"
            ]["documents"]
            == 36
        )
        assert post(base, INFO, headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_new_generation_is_picked_up_without_restart(
    server: str, index_dir: Path, tmp_path: Path
) -> None:
    assert post(server, INFO).json()["data"]["indexInfo"] == {
        "documents": 36,
        "generation": "g000001",
    }
    subset = tmp_path / "subset"
    subset.mkdir()
    for f in sorted(DEMO.glob("uk-*.txt")):
        shutil.copy(f, subset / f.name)
    build([subset], index_dir, workers=1)
    time.sleep(0.1)
    assert post(server, INFO).json()["data"]["indexInfo"] == {
        "documents": 12,
        "generation": "g000002",
    }


def test_unexpected_errors_are_masked_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    shutil.rmtree(index_dir / "generations" / "g000001" / "columns")  # a damaged generation
    with (
        live_server(create_app(Settings(index_dir=index_dir))) as base,
        caplog.at_level(logging.ERROR),
    ):
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503
        assert "columns" in ready.json()["reason"] or "No such file" in ready.json()["reason"]
        response = post(base, INFO, headers={"x-request-id": "req-42"})
        body = response.json()
        assert body["data"] is None
        assert body["errors"][0]["message"] == "Unexpected error."
        assert "No such file" not in json.dumps(body)
    logged = [r for r in caplog.records if r.name == "newsearch.graphql"]
    assert logged and all("req-42" in r.getMessage() for r in logged)


def test_index_missing_is_not_ready(tmp_path: Path) -> None:
    with live_server(create_app(Settings(index_dir=tmp_path / "none"))) as base:
        response = httpx.get(f"{base}/readyz")
        assert response.status_code == 503
        assert "newsearch index build" in response.json()["reason"]
        assert httpx.get(f"{base}/healthz").status_code == 200


def test_writes_over_http_and_token_never_logged(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    mutation = """mutation($a: [ArticleInput!]!) { upsertArticles(articles: $a) {
        __typename ... on WriteSuccess { added documents } ... on QueryError { kind } } }"""
    article = {
        "id": "h1",
        "title": "Solar farms",
        "body": "Solar farms grow.",
        "published": "2025-01-01T10:00:00+02:00",
    }
    with caplog.at_level(logging.DEBUG):
        denied = post(server, mutation, {"a": [article]}, headers={"authorization": "Bearer nope"})
        ok = post(server, mutation, {"a": [article]}, headers={"authorization": f"Bearer {TOKEN}"})
    assert denied.json()["data"]["upsertArticles"] == {
        "__typename": "QueryError",
        "kind": "UNAUTHORIZED",
    }
    assert ok.json()["data"]["upsertArticles"] == {
        "__typename": "WriteSuccess",
        "added": 1,
        "documents": 37,
    }
    found = post(server, '{ search(query: "solar") { ... on ArticleConnection { totalCount } } }')
    assert found.json()["data"]["search"]["totalCount"] == 1
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_slow_search_does_not_block_health_or_other_requests(corpus_index: Path) -> None:
    heavy = " OR ".join(f"{a}{b}*" for a in "abcdefghilmnoprst" for b in "aeiou")
    heavy = " OR ".join(heavy.split(" OR ")[:60])
    query = (
        '{ search(query: "HEAVY", first: 100, highlight: {fragments: 10}) {'
        " ... on ArticleConnection { totalCount } ... on QueryError { kind } } }"
    )
    settings = Settings(index_dir=corpus_index, search_threads=2, request_timeout=60)
    with live_server(create_app(settings)) as base:
        started = time.monotonic()
        post(base, query.replace("HEAVY", heavy))
        heavy_seconds = time.monotonic() - started
        assert heavy_seconds > 0.3, "the heavy query must be slow for this test to mean anything"
        done = threading.Event()
        result: dict[str, float] = {}

        def run_heavy() -> None:
            post(base, query.replace("HEAVY", heavy))
            result["heavy"] = time.monotonic()
            done.set()

        threading.Thread(target=run_heavy).start()
        time.sleep(0.05)
        health_started = time.monotonic()
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        result["health"] = time.monotonic()
        quick = post(base, INFO)
        result["quick"] = time.monotonic()
        assert quick.status_code == 200
        done.wait(60)
        # Blocked behind the heavy search it would wait about as long as that search.
        assert result["health"] - health_started < heavy_seconds / 2
        assert result["health"] < result["heavy"] and result["quick"] < result["heavy"]


def test_request_time_limit_gives_typed_error(corpus_index: Path) -> None:
    heavy = " OR ".join(
        " OR ".join(f"{a}{b}*" for a in "abcdefghilmnoprst" for b in "aeiou").split(" OR ")[:60]
    )
    settings = Settings(index_dir=corpus_index, request_timeout=0.01)
    with live_server(create_app(settings)) as base:
        response = post(
            base,
            f'{{ search(query: "{heavy}", first: 100) {{ __typename'
            f" ... on QueryError {{ kind }} }} }}",
        )
        assert response.json()["data"]["search"] == {"__typename": "QueryError", "kind": "TIMEOUT"}
