"""Security over real HTTP: markup injection, write tokens, abuse limits, path traversal, logs.

* Articles whose titles, tags, bodies, categories and sources carry markup (``<script>``,
  attributes, entity-encoded tags, ``javascript:`` URLs, a fake ``<mark>``) are upserted through
  GraphQL and searched: every highlight string parses (``html.parser``) to text plus ``<mark>``
  tags without attributes, and its text is exactly the original; every other field comes back
  unchanged as JSON data (``application/json``, ``nosniff``), never as markup.
* Writes: a missing token, a wrong one, a prefix of it, it with something appended, it in
  another case, under another scheme, or the read token: each mutation is refused as
  ``UNAUTHORIZED`` and the index does not change.
* Abuse limits answer with typed errors over HTTP: query depth, aliases, tokens, page sizes,
  id lists; request bodies over the limit get 413.
* No route serves any file but the pinned GraphiQL assets: ``..``, ``%2e%2e``, ``%2f``,
  backslashes, double encoding, absolute paths and absolute-form targets on every route, sent
  as raw bytes so that no client normalizes them.
* No log line (every logger, every level, tracebacks included) and no server output shows a
  token, also when authentication fails or the server runs ``--log-level trace``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsearch.indexer.build import build
from newsearch.schema.app import create_app
from newsearch.schema.assets import PACKAGES
from newsearch.schema.settings import Settings
from tests.conftest import DEMO, REPO
from tests.server import live_server, serve_process

TOKEN = "sec-write-Tok3n-4b9e27c1"
READ_TOKEN = "sec-read-Tok3n-91aa03f2"
SECRET = "top-secret-marker-6c0f1d"

# --------------------------------------------------------------------------- helpers


def gql(
    base: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    **kw: Any,
) -> httpx.Response:
    """POST a GraphQL request (with ``Authorization: Bearer token`` when given)."""
    headers = dict(kw.pop("headers", {}))
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=60,
        **kw,
    )


def data(response: httpx.Response) -> Any:
    """The ``data`` of a successful GraphQL response (no errors allowed)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def raw_request(
    base: str,
    target: str,
    method: str = "GET",
    headers: dict[str, bytes] | None = None,
    body: bytes | list[bytes] = b"",
    content_length: int | None = None,
) -> tuple[int, bytes]:
    """Send one request byte for byte (no client normalizes ``..``, ``%2e`` or header values).

    A list ``body`` is sent chunked; ``content_length`` declares a length other than the
    body's.  Returns the status and the response body (de-chunked); status 0 when the server
    reset the connection without an answer (it does so for request lines over its limit).
    """
    host, port = base.removeprefix("http://").split(":")
    lines = [f"{method} {target} HTTP/1.1".encode("latin-1"), f"Host: {host}".encode()]
    for name, value in (headers or {}).items():
        lines.append(name.encode("latin-1") + b": " + value)
    if isinstance(body, list):
        lines.append(b"Transfer-Encoding: chunked")
        payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in body if c) + b"0\r\n\r\n"
    else:
        length = len(body) if content_length is None else content_length
        lines.append(f"Content-Length: {length}".encode())
        payload = body
    lines += [b"Connection: close", b"", b""]
    chunks = []
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        # The server may answer and close before it has read everything (413): read anyway.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"\r\n".join(lines) + payload)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    if not chunks:
        return 0, b""
    head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b"\r\n", 1)[0].split()[1])
    if b"transfer-encoding: chunked" in head.lower():
        decoded = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            decoded += rest[:size]
            rest = rest[size + 2 :]
        rest = decoded
    return status, rest


class Markup(HTMLParser):
    """What an HTML string really contains: text, tags, and anything else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, str, list[tuple[str, str | None]]]] = []
        self.other: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(("start", tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(("end", tag, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.other.append(f"<{tag}/>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.other.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.other.append(f"<![{data}]>")


def marked_text(html_text: str) -> tuple[str, int]:
    """The text of a highlight string and its number of marks; only bare <mark>s allowed."""
    parser = Markup()
    parser.feed(html_text)
    parser.close()
    assert parser.other == [], (html_text, parser.other)
    depth = marks = 0
    for kind, tag, attrs in parser.tags:
        assert tag == "mark" and attrs == [], (html_text, tag, attrs)
        depth += 1 if kind == "start" else -1
        marks += kind == "start"
        assert depth in (0, 1), html_text
    assert depth == 0, html_text
    return "".join(parser.text), marks


# --------------------------------------------------------------------------- servers


def _assets(tmp: Path) -> Path:
    """A copy of the GraphiQL assets (when fetched) plus files that must never be served."""
    assets = tmp / "assets"
    source = REPO / ".assets"
    if source.is_dir():
        shutil.copytree(source, assets)
    assets.mkdir(exist_ok=True)
    (assets / "secret.txt").write_text(SECRET, encoding="utf-8")
    (assets / "react@18.3.1").mkdir(exist_ok=True)
    (assets / "react@18.3.1" / "notes.js").write_text(f"// {SECRET}", encoding="utf-8")
    return assets


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server with a write token (reads open), a demo index, and secrets beside them."""
    tmp = tmp_path_factory.mktemp("security")
    index_dir = tmp / "ix"
    build([DEMO], index_dir, workers=1)
    (tmp / "secret.txt").write_text(SECRET, encoding="utf-8")
    settings = Settings(
        index_dir=index_dir,
        write_token=TOKEN,
        assets_dir=_assets(tmp),
        check_interval=0.05,
    )
    with live_server(create_app(settings)) as base:
        yield base, index_dir


# --------------------------------------------------------------------------- markup

PAYLOADS = [
    "<script>alert('t')</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg/onload=alert(2)>',
    "&lt;script&gt;alert(3)&lt;/script&gt;",
    "&#60;script&#62;alert(4)&#60;/script&#62;",
    "&#x3C;iframe src=javascript:alert(5)&#x3E;",
    "javascript:alert(6)",
    '<a href="javascript:alert(7)">click</a>',
    "<mark>fake</mark> highlight </mark><b onmouseover=alert(8)>",
    "<!-- c --> <![CDATA[ x ]]> <?php echo 9 ?> <!DOCTYPE html>",
    "<style>*{x:expression(alert(10))}</style>",
    "\u003cscript\u003ealert(11)\u003c/script\u003e &amp;lt;b&amp;gt;",
]
ARTICLES = [
    {
        "id": f"xss-{i}",
        "title": f"xsscheck {payload} title",
        "body": f"First xsscheck paragraph {payload} and more.\n\nSecond {payload} xsscheck end.",
        "published": "2025-02-01T10:00:00+02:00",
        "category": f"cat {payload}",
        "source": f"src {payload}",
        "tags": [f"tag {payload}", "xsscheck"],
        "language": "en",
    }
    for i, payload in enumerate(PAYLOADS)
]
UPSERT = """mutation($a: [ArticleInput!]!) { upsertArticles(articles: $a) {
  __typename ... on WriteSuccess { added updated documents generation }
  ... on QueryError { kind message } } }"""
HIGHLIGHTED = """query($q: String!) { search(query: $q, first: 100,
    highlight: {fragments: 10, fragmentSize: 40}, facets: {size: 100}) {
  __typename
  ... on ArticleConnection {
    totalCount
    edges { node { id title body tags category source headline url }
            highlights { title titleMatches { start end }
                         fragments { html text start end } } }
    facets { field values { value } }
  }
  ... on QueryError { kind message } } }"""
QUERIES = [
    "xsscheck",
    "script",
    "alert",
    "javascript",
    "onerror OR onload OR onmouseover",
    "mark",
    "lt OR gt OR amp",
    "img OR svg OR iframe",
    '"script alert"',
    "scri*",
    "javascrpt~",
    "<script>",
    "&lt;",
]


def test_no_markup_injection_through_any_field(site: tuple[str, Path]) -> None:
    base, _ = site
    done = data(gql(base, UPSERT, {"a": ARTICLES}, token=TOKEN))
    assert done["upsertArticles"]["__typename"] == "WriteSuccess"
    assert done["upsertArticles"]["added"] == len(ARTICLES)
    by_id = {a["id"]: a for a in ARTICLES}
    highlights_checked = marks_seen = 0
    for query in QUERIES:
        response = gql(base, HIGHLIGHTED, {"q": query})
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"
        result = data(response)["search"]
        assert result["__typename"] == "ArticleConnection", (query, result)
        for edge in result["edges"]:
            node, hl = edge["node"], edge["highlights"]
            original = by_id.get(node["id"])
            if original is not None:  # plain JSON data, exactly as sent
                for name in ("title", "body", "category", "source", "tags"):
                    assert node[name] == original[name], (name, node[name])
            text, marks = marked_text(hl["title"])
            assert text == node["title"], (hl["title"], node["title"])
            assert marks == len(hl["titleMatches"])
            highlights_checked += 1
            marks_seen += marks
            for fragment in hl["fragments"]:
                text, marks = marked_text(fragment["html"])
                assert text.strip("…") == fragment["text"], (fragment["html"], fragment["text"])
                assert fragment["text"] == node["body"][fragment["start"] : fragment["end"]]
                highlights_checked += 1
                marks_seen += marks
        for facet in result["facets"]:
            for value in facet["values"]:
                assert isinstance(value["value"], str)
    assert highlights_checked > 100 and marks_seen > 50, (highlights_checked, marks_seen)
    suggested = data(gql(base, '{ suggest(prefix: "tag <scr") { tags { tag } } }'))
    assert {"tag": "tag <script>alert('t')</script>"} in suggested["suggest"]["tags"]


def test_every_response_is_json_or_a_fixed_page_with_nosniff(site: tuple[str, Path]) -> None:
    base, _ = site
    for path in ["/graphql?query=%7BindexInfo%7Bdocuments%7D%7D", "/healthz", "/readyz"]:
        response = httpx.get(f"{base}{path}", timeout=30)
        assert response.headers["content-type"].startswith("application/json"), path
        assert response.headers["x-content-type-options"] == "nosniff", path
    # The GraphiQL page does not reflect a query given in its URL into its markup.
    payload = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    page = httpx.get(
        f"{base}/graphql", params={"query": payload}, headers={"accept": "text/html"}, timeout=30
    )
    assert "<script>alert(1)" not in page.text and "onerror=alert" not in page.text


# --------------------------------------------------------------------------- write tokens

STATE = "{ indexInfo { documents generation } }"
MUTATIONS = [
    (UPSERT, {"a": [ARTICLES[0] | {"id": "unauthorized-1"}]}),
    ("mutation { deleteArticles(ids: [\"en-001-volunteers-supply.txt\"]) { __typename "
     "... on QueryError { kind } } }", {}),
    ("mutation { reindex { __typename ... on QueryError { kind } } }", {}),
]  # fmt: skip
BAD_AUTHORIZATION = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Bearer wrong",
    f"Bearer {TOKEN[:-1]}",
    f"Bearer {TOKEN[:1]}",
    f"Bearer {TOKEN}x",
    f"Bearer {TOKEN} x",
    f"Bearer {TOKEN.upper()}",
    f"Bearer {TOKEN.lower()}",
    f"Basic {TOKEN}",
    "Basic " + base64.b64encode(f"user:{TOKEN}".encode()).decode(),
    f"Token {TOKEN}",
    f"Bearer: {TOKEN}",
    f"Bearer\t{TOKEN}",
    TOKEN,
    f"{TOKEN} Bearer",
    f"Bearer {READ_TOKEN}",
    f"Bearer {TOKEN}\x00",
    "Bearer \xff\xfe",
]


def _mutate(base: str, query: str, variables: dict[str, Any], authorization: str | None) -> Any:
    """A GraphQL POST whose Authorization header is sent exactly as given (latin-1 bytes)."""
    headers = {"Content-Type": b"application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization.encode("latin-1")
    body = json.dumps({"query": query, "variables": variables}).encode()
    status, answer = raw_request(base, "/graphql", "POST", headers, body)
    if status == 400 and not answer.startswith(b"{"):  # refused by the HTTP layer itself
        return {"errors": [{"message": answer.decode("latin-1")}]}
    assert status in (200, 400, 401), (status, answer)
    return json.loads(answer)


def test_writes_need_exactly_the_write_token(site: tuple[str, Path]) -> None:
    base, index_dir = site
    before = data(gql(base, STATE))
    folders = sorted(p.name for p in (index_dir / "generations").iterdir())
    refused = 0
    for authorization in BAD_AUTHORIZATION:
        for query, variables in MUTATIONS:
            body = _mutate(base, query, variables, authorization)
            if body.get("data"):
                [result] = body["data"].values()
                assert result["__typename"] in ("QueryError", "ReindexStatus") and result.get(
                    "kind"
                ) in ("UNAUTHORIZED", None), (authorization, body)
                assert result["__typename"] == "QueryError", (authorization, body)
            else:
                assert body["errors"], body
            refused += 1
    assert refused == len(BAD_AUTHORIZATION) * len(MUTATIONS)
    assert data(gql(base, STATE)) == before
    assert sorted(p.name for p in (index_dir / "generations").iterdir()) == folders
    assert data(gql(base, "{ reindexStatus { state } }"))["reindexStatus"]["state"] == "idle"
    # The right token under the right scheme (any case) does write.
    for scheme in ("Bearer", "bearer", "BEARER"):
        body = _mutate(base, *MUTATIONS[0], f"{scheme} {TOKEN}")
        assert body["data"]["upsertArticles"]["__typename"] == "WriteSuccess", body
    assert data(gql(base, STATE))["indexInfo"]["documents"] == before["indexInfo"]["documents"] + 1


def test_no_write_token_configured_means_no_writes(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    for token in (None, ""):
        with live_server(create_app(Settings(index_dir=index_dir, write_token=token))) as base:
            for authorization in (None, "Bearer", "Bearer ", "Bearer None", "Bearer null"):
                body = _mutate(base, *MUTATIONS[0], authorization)
                assert body["data"]["upsertArticles"]["kind"] == "UNAUTHORIZED", body
            assert data(gql(base, STATE))["indexInfo"]["documents"] == 36


def test_reads_need_exactly_a_read_or_write_token(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    settings = Settings(index_dir=index_dir, write_token=TOKEN, read_token=READ_TOKEN)
    with live_server(create_app(settings)) as base:
        for authorization in [a for a in BAD_AUTHORIZATION if a != f"Bearer {READ_TOKEN}"]:
            if authorization is not None and READ_TOKEN in authorization:
                continue
            headers = {} if authorization is None else {"authorization": authorization}
            status, answer = raw_request(
                base,
                "/graphql",
                "POST",
                {k: v.encode("latin-1") for k, v in headers.items()}
                | {"Content-Type": b"application/json"},
                json.dumps({"query": STATE}).encode(),
            )
            assert status in (400, 401), (authorization, answer)
            assert b"documents" not in answer
        for good in (READ_TOKEN, TOKEN):
            assert data(gql(base, STATE, token=good))["indexInfo"]["documents"] == 36
        # The read token reads but never writes.
        body = _mutate(base, *MUTATIONS[0], f"Bearer {READ_TOKEN}")
        assert body["data"]["upsertArticles"]["kind"] == "UNAUTHORIZED"


# --------------------------------------------------------------------------- abuse limits


def _errors(response: httpx.Response) -> list[str]:
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("data") is None or not any(body["data"].values()), body
    return [e["message"] for e in body["errors"]]


def test_depth_alias_and_token_limits_reject_with_errors(site: tuple[str, Path]) -> None:
    base, _ = site
    # Introspection nests without end; graphql-core caps it (the depth limiter skips it).
    deep = "{ __schema { types { fields { type { ofType { fields { type { ofType { fields "
    deep += "{ type { name } } } } } } } } } } }"
    [message] = _errors(gql(base, deep))
    assert "introspection depth" in message.lower(), message
    aliases = "{ " + " ".join(f"a{i}: indexInfo {{ documents }}" for i in range(16)) + " }"
    [message] = _errors(gql(base, aliases))
    assert "alias" in message.lower(), message
    many_tokens = "{ indexInfo { " + "documents " * 4001 + "} }"
    [message] = _errors(gql(base, many_tokens))
    assert "token" in message.lower(), message
    # The schema itself is at most 5 deep; a server with a lower limit shows it applies.
    index_dir = site[1]
    with live_server(create_app(Settings(index_dir=index_dir, max_depth=2))) as shallow:
        deep_enough = "{ search { ... on ArticleConnection { edges { node { id } } } } }"
        [message] = _errors(gql(shallow, deep_enough))
        assert "depth" in message.lower(), message
        assert data(gql(shallow, "{ search { ... on ArticleConnection { totalCount } } }"))
    # At the limits themselves, the same shapes are answered.
    ok = "{ " + " ".join(f"a{i}: indexInfo {{ documents }}" for i in range(15)) + " }"
    assert data(gql(base, ok))["a14"]["documents"] >= 36


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("{ search(first: 101) { ... on QueryError { kind } } }", "ARGUMENT"),
        ("{ search(first: -1) { ... on QueryError { kind } } }", "ARGUMENT"),
        ("{ browse(first: 1000000) { ... on QueryError { kind } } }", "ARGUMENT"),
        ("{ search(facets: {size: 101}) { ... on QueryError { kind } } }", "ARGUMENT"),
        ("{ search(highlight: {fragments: 11}) { ... on QueryError { kind } } }", "ARGUMENT"),
        ("{ search(highlight: {fragmentSize: 99999}) { ... on QueryError { kind } } }", "ARGUMENT"),
        ('{ search(query: "' + "x" * 1001 + '") { ... on QueryError { kind } } }', "SYNTAX"),
        ('{ search(query: "' + "(" * 40 + 'a") { ... on QueryError { kind } } }', "SYNTAX"),
    ],
)  # fmt: skip
def test_page_size_and_query_limits_are_typed_errors(
    site: tuple[str, Path], query: str, kind: str
) -> None:
    base, _ = site
    result = data(gql(base, query))
    assert list(result.values()) == [{"kind": kind}], result


def test_list_limits(site: tuple[str, Path]) -> None:
    base, _ = site
    ids = [f"id-{i}" for i in range(101)]
    [message] = _errors(gql(base, "query($i: [ID!]!) { articles(ids: $i) { id } }", {"i": ids}))
    assert "at most 100" in message
    too_many = [ARTICLES[0] | {"id": f"bulk-{i}"} for i in range(1001)]
    refused = data(gql(base, UPSERT, {"a": too_many}, token=TOKEN))["upsertArticles"]
    assert refused["__typename"] == "QueryError" and refused["kind"] == "INPUT"
    # Clamped, not refused: related and suggest never return more than 100.
    related = data(
        gql(
            base,
            '{ related(id: "uk-002-armiia-bronemashyny.txt", first: 1000000) '
            "{ ... on RelatedArticles { articles { cursor } } } }",
        )
    )
    assert len(related["related"]["articles"]) <= 100
    suggest = data(gql(base, '{ suggest(prefix: "a", first: 1000000) { tags { tag } } }'))
    assert len(suggest["suggest"]["tags"]) <= 100
    # 10,000-value filters through variables are answered (within the time limit).
    huge = {"tagsAny": [f"t{i}" for i in range(10_000)], "excludeIds": ids * 99}
    started = time.monotonic()
    page = data(
        gql(
            base,
            "query($f: SearchFilter) { search(filter: $f) { "
            "... on ArticleConnection { totalCount } ... on QueryError { kind } } }",
            {"f": huge},
        )
    )
    assert page["search"] == {"totalCount": 0}
    assert time.monotonic() - started < 10


def test_time_limit_is_a_typed_error_on_every_field(site: tuple[str, Path]) -> None:
    """Over the time limit, no field answers a masked "Unexpected error."."""
    index_dir = site[1]
    with live_server(create_app(Settings(index_dir=index_dir, request_timeout=1e-9))) as base:
        search = data(gql(base, "{ search { __typename ... on QueryError { kind } } }"))
        assert search == {"search": {"__typename": "QueryError", "kind": "TIMEOUT"}}
        for field in [
            '{ article(id: "x") { __typename } }',
            '{ articles(ids: ["x"]) { id } }',
            '{ related(id: "x") { __typename } }',
            '{ suggest(prefix: "ar") { tags { tag } } }',
            "{ indexInfo { documents } }",
        ]:
            body = gql(base, field).json()
            assert body["data"] is None, body
            [error] = body["errors"]
            assert error["message"] == "the request took longer than the server's time limit"
            assert error["extensions"] == {"kind": "TIMEOUT"}


def test_bodies_over_the_limit_get_413(site: tuple[str, Path]) -> None:
    base, _ = site
    limit = 1_000_000
    json_type = {"Content-Type": b"application/json"}
    query = b'{"query": "{ indexInfo { documents } }", "padding": "'
    # Declared too long: refused before a byte of the body is read.
    status, answer = raw_request(base, "/graphql", "POST", json_type, b"", limit + 1)
    assert (status, json.loads(answer)) == (413, {"error": f"request body over {limit} bytes"})
    # Sent too long, with a Content-Length and chunked (counted while read).
    status, _ = raw_request(base, "/graphql", "POST", json_type, query + b"x" * limit + b'"}')
    assert status == 413
    chunked = [query, *([b"x" * 50_000] * 21), b'"}']
    status, _ = raw_request(base, "/graphql", "POST", json_type, chunked)
    assert status == 413
    # Just under the limit is read and answered.
    under = query + b"x" * (limit - len(query) - 2) + b'"}'
    status, answer = raw_request(base, "/graphql", "POST", json_type, under)
    assert status == 200 and json.loads(answer)["data"]["indexInfo"]["documents"] >= 36
    # The same through the write path (a big upsert), with the token: nothing is written.
    payload = [ARTICLES[0] | {"id": "big", "body": "word " * 250_000}]
    body = json.dumps({"query": UPSERT, "variables": {"a": payload}}).encode()
    auth = {"Authorization": f"Bearer {TOKEN}".encode()}
    status, _ = raw_request(base, "/graphql", "POST", json_type | auth, body)
    assert status == 413
    assert data(gql(base, '{ article(id: "big") { __typename } }')) == {
        "article": {"__typename": "NotFound"}
    }
    # Huge URLs and multipart bodies are refused without a 5xx.
    status, answer = raw_request(base, "/graphql?query=" + "%7B" * 40_000)
    refused = (  # closed (h11), a 400 of the C parser (httptools), or a GraphQL error
        status == 0
        or (status == 400 and answer.startswith(b"Invalid HTTP request"))
        or (status < 500 and b'"data":null' in answer)
    )
    assert refused, (status, answer[:300])
    response = httpx.post(
        f"{base}/graphql",
        files={"file": ("a.txt", b"x" * 1000)},
        data={"operations": "{}", "map": "{}"},
        timeout=30,
    )
    assert 400 <= response.status_code < 500


# --------------------------------------------------------------------------- files


TRAVERSALS = [
    "/_graphiql/../../../../etc/passwd",
    "/_graphiql/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/_graphiql/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/_graphiql/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/_graphiql/..%252f..%252fsecret.txt",
    "/_graphiql//etc/passwd",
    "/_graphiql/%2fetc%2fpasswd",
    "/_graphiql/react@18.3.1/../../secret.txt",
    "/_graphiql/react@18.3.1/..%2f..%2fsecret.txt",
    "/_graphiql/react@18.3.1/%2e%2e/%2e%2e/secret.txt",
    "/_graphiql/..\\..\\secret.txt",
    "/_graphiql/%5c..%5c..%5csecret.txt",
    "/_graphiql/secret.txt",
    "/_graphiql/react@18.3.1/notes.js",
    "/_graphiql/.fetch.lock",
    "/_graphiql/react@18.3.1/react.production.min.js%00.txt",
    "/_graphiql/..;/..;/secret.txt",
    "/_graphiql/" + "../" * 30 + "proc/self/environ",
    "/_graphiql/%2e%2e/%2e%2e/%2e%2e/%2e%2e/proc/self/cmdline",
    "/graphql/../../etc/passwd",
    "/graphql/%2e%2e/secret.txt",
    "/graphql?query=../../etc/passwd",
    "/healthz/../etc/passwd",
    "/readyz/..%2f..%2fetc%2fpasswd",
    "/metrics/../../pyproject.toml",
    "/../../etc/passwd",
    "//etc/passwd",
    "/etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/./././etc/passwd",
    "/secret.txt",
    "/CURRENT",
    "/ix/CURRENT",
    "/generations/g000001/manifest.json",
    "http://127.0.0.1/../../etc/passwd",
    "file:///etc/passwd",
    "*",
]
MUST_NOT_SHOW = [SECRET, "root:x:0:0", "[build-system]", "NEWSEARCH", "built_at", "g000001\n"]


def test_no_file_outside_the_pinned_assets_is_served(site: tuple[str, Path]) -> None:
    base, _ = site
    statuses: dict[int, int] = {}
    for target in TRAVERSALS:
        for method in ("GET", "HEAD", "POST"):
            status, response = raw_request(base, target, method)
            statuses[status] = statuses.get(status, 0) + 1
            assert status < 500, (target, method, response[:300])
            text = response.decode("latin-1")
            for marker in MUST_NOT_SHOW:
                assert marker not in text, (target, method, marker, text[:500])
    # Only the GraphQL endpoint answers 200 (with a GraphQL error), nothing is served as a file.
    ok = {t for t in TRAVERSALS if raw_request(base, t)[0] == 200}
    assert ok <= {"/graphql?query=../../etc/passwd"}, (ok, statuses)
    # GraphQL arguments that look like paths are ids and words, never files.
    for value in ["../../../etc/passwd", "/etc/passwd", "../secret.txt", "file:///etc/passwd"]:
        found = data(
            gql(
                base,
                """query($v: String!, $id: ID!) {
                  article(id: $id) { __typename }
                  articles(ids: [$id]) { id }
                  related(id: $id) { __typename }
                  suggest(prefix: $v) { tags { tag } titles { title } }
                  search(query: $v, facets: {timeZone: $v}) { __typename
                    ... on QueryError { kind } } }""",
                {"v": value, "id": value},
            )
        )
        assert found["article"] == {"__typename": "NotFound"}
        assert found["articles"] == [None]
        assert found["related"] == {"__typename": "NotFound"}
        assert SECRET not in json.dumps(found) and "root:x" not in json.dumps(found)
    # The pinned files themselves are served (when fetched), so the route was really tried.
    if (REPO / ".assets").is_dir():
        package = PACKAGES[0]
        name = package.files[0].name
        served = httpx.get(f"{base}/_graphiql/{package.spec}/{name}", timeout=30)
        assert served.status_code == 200 and served.content


# --------------------------------------------------------------------------- logs


class Everything(logging.Handler):
    """Every record of every logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(("httpx", "httpcore")):  # the test's own client
            self.lines.append(self.format(record))


SECRETS = [TOKEN, READ_TOKEN, "wrong-but-secret-9d2a", TOKEN[:-1], TOKEN + "x"]


def _exercise(base: str, token_in_url: bool) -> int:
    """Requests with every kind of token, success and failure, errors and writes.

    With ``token_in_url`` a (misguided) client also puts the token in a query string, which
    the server never reads; uvicorn's own ``trace`` level prints query strings, so that is only
    checked in-process, where our loggers and uvicorn's up to ``debug`` see every request.
    """
    sent = 0
    for authorization in [
        f"Bearer {TOKEN}",
        f"Bearer {READ_TOKEN}",
        "Bearer wrong-but-secret-9d2a",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
        None,
    ]:
        headers = {} if authorization is None else {"authorization": authorization}
        for query, variables in [
            (STATE, {}),
            (UPSERT, {"a": [ARTICLES[1] | {"id": f"log-{sent}"}]}),
            ("mutation { reindex { __typename } }", {}),
            ("{ nope }", {}),
        ]:
            httpx.post(
                f"{base}/graphql",
                json={"query": query, "variables": variables},
                headers=headers,
                timeout=60,
            )
            sent += 1
        params = {"query": STATE} | ({"token": TOKEN} if token_in_url else {})
        httpx.get(f"{base}/graphql", params=params, headers=headers)
        httpx.get(f"{base}/readyz", headers=headers)
        sent += 2
    return sent


def damaged_index(tmp_path: Path) -> Path:
    """A demo index whose generation lacks a column: reads fail with a logged traceback
    (a masked "Unexpected error."), until the first write builds a whole generation."""
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    (index_dir / "generations" / "g000001" / "columns" / "published_us.npy").unlink()
    return index_dir


def test_tokens_never_appear_in_logs(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    index_dir = damaged_index(tmp_path)
    handler = Everything()
    root = logging.getLogger()
    loggers = [root] + [
        logging.getLogger(name)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
    ]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(1)
    try:
        settings = Settings(index_dir=index_dir, write_token=TOKEN, read_token=READ_TOKEN)
        assert TOKEN not in repr(settings) and READ_TOKEN not in repr(settings)
        with live_server(create_app(settings)) as base:
            sent = _exercise(base, token_in_url=True)
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
    out, err = capfd.readouterr()
    assert len(handler.lines) >= sent, "every request is logged"
    assert any("unexpected error" in line and "Traceback" in line for line in handler.lines)
    for secret in SECRETS:
        for line in handler.lines:
            assert secret not in line, line
        assert secret not in out and secret not in err


def test_tokens_never_appear_in_the_output_of_newsearch_serve(tmp_path: Path) -> None:
    index_dir = damaged_index(tmp_path)
    env = {**os.environ, "NEWSEARCH_WRITE_TOKEN": TOKEN, "NEWSEARCH_READ_TOKEN": READ_TOKEN}
    log = tmp_path / "serve.log"
    args = ["--index", str(index_dir), "--log-level", "trace"]
    with serve_process(args, env, log, ready="/healthz") as base:
        _exercise(base, token_in_url=False)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert '"path": "/graphql"' in text and "Traceback" in text and "TRACE" in text
    for secret in SECRETS:
        assert secret not in text


HOSTILE_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "https://evil.example/\u0000x",
    "https:/no-host",
]


def test_hostile_urls_are_refused_by_the_api_and_nothing_changes(site: tuple[str, Path]) -> None:
    base, _ = site
    before = data(gql(base, STATE))
    for url in HOSTILE_URLS:
        body = _mutate(
            base, UPSERT, {"a": [ARTICLES[0] | {"id": "url-1", "url": url}]}, f"Bearer {TOKEN}"
        )
        result = body["data"]["upsertArticles"]
        assert result["__typename"] == "QueryError", (url, body)
    assert data(gql(base, STATE)) == before
    ok = _mutate(
        base,
        UPSERT,
        {"a": [ARTICLES[0] | {"id": "url-ok", "url": "https://example.org/a?b=1#c"}]},
        f"Bearer {TOKEN}",
    )
    assert ok["data"]["upsertArticles"]["__typename"] == "WriteSuccess", ok
