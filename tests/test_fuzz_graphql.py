"""Generated GraphQL documents against the real schema, through a real uvicorn server.

``hypothesis-graphql`` builds queries and mutations from the committed SDL
(``schema/schema.graphql``): valid ones (``Mode.POSITIVE``) and ones with one schema violation
each (``Mode.NEGATIVE``), sent by POST and by GET, without and with the write token.  Every
answer must be a non-5xx response whose body is JSON with ``data`` or ``errors``, within the
server's request time limit (plus a little for parsing and serialization), and with no masked
"Unexpected error." (it found two engine bugs this way: ``suggest(first: 0)`` and time zones
such as "Europe"; both are fixed, see tests/test_fuzz_inputs.py).

Fragment-heavy documents are generated here too (hypothesis-graphql writes none): fragments
spreading each other as a DAG, with cycles, unknown names, inline fragments and aliases, and
"bombs" whose fragments spread the previous one 2-4 times over up to 40 levels.  Each is
answered within the time limit; a bomb expanding past the field limit is refused with the
exact count.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from newsearch.indexer.build import build
from newsearch.schema.app import create_app
from newsearch.schema.settings import Settings
from tests.conftest import DEMO, REPO
from tests.server import live_server, serve_process

# hypothesis-graphql is in the `test` extra; a venv made before it was added skips, not fails.
_hg = pytest.importorskip("hypothesis_graphql", reason="pip install -e '.[test]'")
Mode, mutations, nodes, queries = _hg.Mode, _hg.mutations, _hg.nodes, _hg.queries

SDL = (REPO / "schema" / "schema.graphql").read_text(encoding="utf-8")
TOKEN = "fuzz-write-token-5f1c2d"
TIME_LIMIT = 3.0
"""The server's per-request time limit in these tests (seconds)."""
SLACK = 2.0
"""What a response may take beyond the limit: parsing, validation, serialization, the network."""

OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))
)
DATETIME_TEXT = st.one_of(
    st.datetimes(timezones=st.none() | OFFSETS).map(datetime.isoformat),
    st.datetimes(min_value=datetime(2014, 1, 1), max_value=datetime(2026, 1, 1)).map(
        lambda d: d.isoformat() + "+03:00"
    ),
    st.sampled_from(
        ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "2024-02-30", "", "now"]
    ),
    st.text(max_size=25),
)
DATE_OR_DATETIME_TEXT = st.one_of(
    DATETIME_TEXT, st.dates().map(date.isoformat), st.sampled_from(["2005-03-31", "2005"])
)
SCALARS = {
    "DateTime": DATETIME_TEXT.map(nodes.String),
    "DateOrDateTime": DATE_OR_DATETIME_TEXT.map(nodes.String),
}


class MaskedErrors(logging.Handler):
    """Collects the exceptions the schema masked as "Unexpected error." (it logs each one)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        """The records since the last call."""
        found, self.records = self.records, []
        return found


@pytest.fixture(scope="module")
def masked() -> Iterator[MaskedErrors]:
    handler = MaskedErrors()
    logger = logging.getLogger("newsearch.graphql")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _server(index_dir: Path) -> Any:
    settings = Settings(
        index_dir=index_dir,
        write_token=TOKEN,
        request_timeout=TIME_LIMIT,
        check_interval=0.05,
    )
    return live_server(create_app(settings))


@pytest.fixture(scope="module")
def read_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over a demo index that nothing writes to (no valid token is ever sent)."""
    index_dir = tmp_path_factory.mktemp("fuzz-read") / "ix"
    build([DEMO], index_dir, workers=1)
    with _server(index_dir) as base:
        yield base


@pytest.fixture(scope="module")
def write_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``newsearch serve`` in a process of its own, over an index the fuzzed mutations change.

    Not in this process: hypothesis seeds the global ``random`` before every example, and
    Whoosh names new segments with it, so an in-process server wrote the same segment name
    again and again (an AssertionError in Whoosh's create_compound_file).
    """
    tmp = tmp_path_factory.mktemp("fuzz-write")
    index_dir = tmp / "ix"
    build([DEMO], index_dir, workers=1)
    args = ["--index", str(index_dir), "--request-timeout", str(TIME_LIMIT)]
    env = {**os.environ, "NEWSEARCH_WRITE_TOKEN": TOKEN}
    with serve_process(args, env, tmp / "serve.log") as base:
        yield base, index_dir
    text = (tmp / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert "unexpected error" not in text, text[-3000:]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIME_LIMIT + 30) as c:
        yield c


def send(
    client: httpx.Client, base: str, document: str, *, get: bool = False, token: str | None = None
) -> dict[str, Any]:
    """One request; checks status, JSON shape and time, returns the body."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    if get:
        response = client.get(f"{base}/graphql", params={"query": document}, headers=headers)
    else:
        response = client.post(f"{base}/graphql", json={"query": document}, headers=headers)
    elapsed = time.monotonic() - started
    assert response.status_code < 500, (response.status_code, response.text[:500], document)
    assert elapsed < TIME_LIMIT + SLACK, (elapsed, document)
    event(f"HTTP {response.status_code}")
    body = response.json()
    assert isinstance(body, dict), body
    assert "data" in body or "errors" in body, body
    if body.get("errors"):
        assert all(isinstance(e.get("message"), str) and e["message"] for e in body["errors"])
        event("errors")
    if body.get("data"):
        event("data")
    return body


def check_masked(masked: MaskedErrors, body: dict[str, Any], document: str) -> None:
    """No request may end in a masked "Unexpected error." (an exception the code did not expect)."""
    records = masked.take()
    messages = [e["message"] for e in body.get("errors") or []]
    assert "Unexpected error." not in messages and records == [], (
        document,
        [logging.Formatter().format(r) for r in records],
    )


def fuzz(examples: int) -> settings:
    """Settings for a server fuzz target: ``examples`` cases, no per-case deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


LEAVES = [
    "__typename",
    "indexInfo { documents }",
    "x: indexInfo { generation }",
    'suggest(prefix: "a") { tags { tag } }',
    "search(first: 1) { __typename ... on ArticleConnection { totalCount } }",
    "... on Query { indexInfo { languages { language } } }",
]


@st.composite
def fragment_documents(draw: st.DrawFn) -> str:
    """Fragments on Query spreading earlier ones, now and then a later or unknown one."""
    count = draw(st.integers(1, 25))
    definitions = []
    for i in range(count):
        parts = []
        for _ in range(draw(st.integers(1, 5))):
            kind = draw(st.integers(0, 9))
            if kind < 6 and i > 0:
                parts.append(f"...F{draw(st.integers(0, i - 1))}")
            elif kind == 6:
                parts.append(f"...F{draw(st.integers(0, count))}")  # a cycle, or unknown
            else:
                parts.append(draw(st.sampled_from(LEAVES)))
        definitions.append(f"fragment F{i} on Query {{ {' '.join(parts)} }}")
    spread = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=4))
    return "\n".join(definitions) + "\n{ " + " ".join(f"...F{j}" for j in spread) + " }"


@st.composite
def fragment_bombs(draw: st.DrawFn) -> tuple[str, int]:
    """A bomb (each level spreads the one below ``width`` times) and its expanded fields."""
    levels, width = draw(st.integers(2, 40)), draw(st.integers(2, 4))
    parts = ["fragment F0 on Query { indexInfo { documents } }"]
    parts += [
        f"fragment F{i} on Query {{ {' '.join([f'...F{i - 1}'] * width)} }}"
        for i in range(1, levels)
    ]
    parts.append(f"{{ ...F{levels - 1} }}")
    return "\n".join(parts), 2 * width ** (levels - 1)


@fuzz(60)
@given(document=fragment_documents())
def test_generated_fragment_documents(
    read_server: str, client: httpx.Client, masked: MaskedErrors, document: str
) -> None:
    body = send(client, read_server, document)
    check_masked(masked, body, document)


@fuzz(30)
@given(bomb=fragment_bombs())
def test_generated_fragment_bombs(
    read_server: str, client: httpx.Client, masked: MaskedErrors, bomb: tuple[str, int]
) -> None:
    document, fields = bomb
    body = send(client, read_server, document)
    check_masked(masked, body, document)
    if fields > Settings(index_dir=Path(".")).max_fields:
        [error] = body["errors"]
        assert f"selects {fields:,} fields with its fragments expanded" in error["message"]
        event("refused")
    else:
        assert body["data"] == {"indexInfo": {"documents": 36}}, body


@fuzz(120)
@given(
    document=queries(SDL, custom_scalars=SCALARS, mode=Mode.POSITIVE),
    get=st.integers(0, 3).map(lambda n: n == 1),
)
def test_generated_queries(
    read_server: str, client: httpx.Client, masked: MaskedErrors, document: str, get: bool
) -> None:
    body = send(client, read_server, document, get=get)
    check_masked(masked, body, document)


@fuzz(60)
@given(document=queries(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
def test_generated_invalid_queries_get_errors(
    read_server: str, client: httpx.Client, masked: MaskedErrors, document: str
) -> None:
    body = send(client, read_server, document)
    assert body.get("errors"), (document, body)
    check_masked(masked, body, document)


@fuzz(50)
@given(
    document=mutations(SDL, custom_scalars=SCALARS, mode=Mode.POSITIVE)
    | mutations(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    token=st.sampled_from([None, "wrong", TOKEN[:-1], TOKEN + "x"]),
)
def test_generated_mutations_without_the_token_change_nothing(
    read_server: str,
    client: httpx.Client,
    masked: MaskedErrors,
    document: str,
    token: str | None,
) -> None:
    body = send(client, read_server, document, token=token)
    check_masked(masked, body, document)
    for value in (body.get("data") or {}).values():
        if isinstance(value, dict) and "kind" in value:
            assert value["kind"] == "UNAUTHORIZED"
    info = send(client, read_server, "{ indexInfo { documents generation } }")
    assert info["data"]["indexInfo"] == {"documents": 36, "generation": "g000001"}


@fuzz(15)
@given(document=mutations(SDL, custom_scalars=SCALARS, fields=["upsertArticles", "deleteArticles"]))
def test_generated_mutations_with_the_token(
    write_server: tuple[str, Path], client: httpx.Client, masked: MaskedErrors, document: str
) -> None:
    base, _ = write_server
    body = send(client, base, document, token=TOKEN)
    check_masked(masked, body, document)
    # Whatever was written, the server still answers searches consistently.
    after = send(
        client,
        base,
        "{ search(first: 100) { ... on ArticleConnection { totalCount edges { node { id } } } } "
        "indexInfo { documents } }",
    )
    data = after["data"]
    assert data["search"]["totalCount"] == data["indexInfo"]["documents"]
    assert len(data["search"]["edges"]) == min(100, data["indexInfo"]["documents"])


def test_search_results_are_json_even_with_hostile_strings(
    read_server: str, client: httpx.Client
) -> None:
    """Strings the generator rarely makes: NULs, lone surrogates (as JSON escapes), huge ones."""
    for query in ["\x00", "\ud800", "a" * 100_000, "\u202e" * 10, '"' * 999]:
        payload = json.dumps({"query": "query($q: String!) { search(query: $q) { __typename } }"})
        payload = payload[:-1] + ', "variables": {"q": ' + json.dumps(query) + "}}"
        response = client.post(
            f"{read_server}/graphql",
            content=payload.encode("utf-8"),
            headers={"content-type": "application/json"},
        )
        assert response.status_code < 500
        assert "data" in response.json() or "errors" in response.json()
