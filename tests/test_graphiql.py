"""The offline GraphiQL page (schema/graphiql.py), end to end on a real uvicorn server.

A tiny strawberry schema (``hello(name)``) is served by ``OfflineGraphQL`` with the assets of
``<repo>/.assets`` (``scripts/fetch-assets``) on 127.0.0.1, and Debian's headless Chromium opens
the page, clicks run and reads the result.  Tests needing the assets skip when they are missing,
the browser test when Chromium or Playwright is missing; with ``NEWSEARCH_REQUIRE_BROWSER=1``
(for CI, after ``scripts/fetch-assets`` and ``apt-get install chromium``) they fail instead.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from newsearch.schema.assets import (
    PACKAGES,
    AssetFetchError,
    AssetFile,
    NpmPackage,
    assets_app,
    assets_ready,
    sri_digest,
)
from newsearch.schema.fetch_assets import _install_from_tarball, fetch_assets
from newsearch.schema.graphiql import OfflineGraphQL, graphiql_html
from tests.browser import chromium_unavailable_reason, graphiql_states, run_graphiql
from tests.server import live_server

REPO = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO / ".assets"
PREFIX = "/graphiql-assets"

NASTY = "</script><script>alert(1)</script><!--<script>"
DEFAULT_QUERY = f"""\
# Offline GraphiQL test </script> & <b>bold</b>
query Hello($name: String!) {{
  hello(name: $name)
  tricky: hello(name: {json.dumps(NASTY)})
}}
"""
DEFAULT_VARIABLES = '{"name": "Wörld </script>"}'
EXPECTED_RESULT = {
    "data": {
        "hello": "Hello, Wörld </script>!",
        "tricky": f"Hello, {NASTY}!",
    }
}


@strawberry.type
class Query:
    """The test schema's root."""

    @strawberry.field
    def hello(self, name: str = "world") -> str:
        """A greeting for ``name``."""
        return f"Hello, {name}!"


SCHEMA = strawberry.Schema(query=Query)


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it where ``NEWSEARCH_REQUIRE_BROWSER=1`` demands it runs."""
    if os.environ.get("NEWSEARCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"NEWSEARCH_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def need_assets() -> None:
    """Skip unless ``<repo>/.assets`` holds the pinned, intact files."""
    if not assets_ready(ASSETS_DIR, verify=True):
        skip_or_fail(f"GraphiQL assets missing in {ASSETS_DIR}: run scripts/fetch-assets")


def make_app(assets_dir: Path, empty_dir: Path) -> Starlette:
    """The app under test: the IDE with assets, one without, and the assets themselves."""
    graphql: OfflineGraphQL[object, object] = OfflineGraphQL(
        SCHEMA,
        assets_dir=assets_dir,
        assets_prefix=PREFIX,
        default_query=DEFAULT_QUERY,
        default_variables=DEFAULT_VARIABLES,
        title="newsearch test",
    )
    no_assets: OfflineGraphQL[object, object] = OfflineGraphQL(
        SCHEMA, assets_dir=empty_dir, assets_prefix=PREFIX, default_query=DEFAULT_QUERY
    )
    return Starlette(
        routes=[
            Route("/graphql", graphql),
            Route("/no-assets/graphql", no_assets),
            Mount(PREFIX, app=assets_app(assets_dir)),
        ]
    )


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on a free loopback port, in a background thread."""
    with live_server(make_app(ASSETS_DIR, tmp_path_factory.mktemp("no-assets"))) as url:
        yield url


def get_page(base_url: str, path: str = "/graphql") -> httpx.Response:
    """GET the IDE page as a browser would ask for it."""
    return httpx.get(base_url + path, headers={"Accept": "text/html"}, timeout=30)


class PageParser(HTMLParser):
    """Collects tags with their attributes and the text of each ``<script>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script, self._text = dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)


def parse(page: str) -> PageParser:
    """The page, parsed as a browser's HTML tokenizer would split it."""
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def referenced_assets(page: str) -> dict[str, str]:
    """``{url: integrity}`` of every ``<script src>`` and stylesheet ``<link href>``."""
    found: dict[str, str] = {}
    for tag, attrs in parse(page).tags:
        url = attrs.get("src") if tag == "script" else None
        if tag == "link" and attrs.get("rel") == "stylesheet":
            url = attrs.get("href")
        if url:
            found[url] = attrs.get("integrity") or ""
    return found


def config_of(page: str) -> object:
    """The JSON of the page's ``graphiql-config`` script, as the boot script reads it."""
    scripts = [text for attrs, text in parse(page).scripts if attrs.get("id") == "graphiql-config"]
    assert len(scripts) == 1
    return json.loads(scripts[0])


# ---------------------------------------------------------------------------------------------
# (a) the page, (b) its assets


def test_page_is_served_and_names_no_external_url(base_url: str) -> None:
    need_assets()
    response = get_page(base_url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<div id="graphiql">' in page
    assert "<title>newsearch test</title>" in page
    urls = re.findall(r"(?:https?|wss?)://[^\s\"'<>)]*|//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", page)
    assert [url for url in urls if "://127.0.0.1" not in url] == [], urls
    # Every src/href is one of our assets or an inline data: URL.
    for tag, attrs in parse(page).tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith((PREFIX + "/", "data:")), (tag, key, value)
    # The Content-Security-Policy refuses anything but this origin.
    csp = next(
        attrs["content"]
        for tag, attrs in parse(page).tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None and "default-src 'none'" in csp and "script-src 'self'" in csp


def test_every_referenced_asset_is_served_with_type_hash_and_cache(base_url: str) -> None:
    need_assets()
    assets = referenced_assets(get_page(base_url).text)
    expected_types = {".js": "text/javascript", ".css": "text/css"}
    assert sorted(Path(url).suffix for url in assets) == [".css", ".js", ".js", ".js"]
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for url, integrity in assets.items():
            response = client.get(url)
            assert response.status_code == 200, url
            media_type = response.headers["content-type"].split(";")[0].strip()
            assert media_type == expected_types[Path(url).suffix], url
            assert "immutable" in response.headers["cache-control"]
            assert "max-age=31536000" in response.headers["cache-control"]
            assert response.headers["x-content-type-options"] == "nosniff"
            assert integrity.startswith("sha384-")
            assert sri_digest(response.content) == integrity, url
            # A revalidation by ETag is a 304.
            etag = response.headers["etag"]
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/.fetch.lock",
        "/",
        "/react@18.3.1/",
        "/react@18.3.1/package.json",
        "/..%2f..%2fpyproject.toml",
        "/%2e%2e/%2e%2e/pyproject.toml",
        "/react@18.3.1/%2e%2e/%2e%2e/pyproject.toml",
        "/%2fetc%2fpasswd",
    ],
)
def test_only_pinned_files_are_served(base_url: str, path: str) -> None:
    response = httpx.get(base_url + PREFIX + path, timeout=30)
    assert response.status_code == 404, (path, response.text[:200])


def test_assets_refuse_other_methods(base_url: str) -> None:
    url = f"{base_url}{PREFIX}/react@18.3.1/react.production.min.js"
    assert httpx.post(url, timeout=30).status_code == 405


def test_missing_assets_page_says_what_to_run(base_url: str) -> None:
    response = get_page(base_url, "/no-assets/graphql")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "scripts/fetch-assets" in response.text
    assert "<script" not in response.text


def test_the_api_itself_answers(base_url: str) -> None:
    response = httpx.post(
        base_url + "/graphql",
        json={"query": DEFAULT_QUERY, "variables": json.loads(DEFAULT_VARIABLES)},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json() == EXPECTED_RESULT


# ---------------------------------------------------------------------------------------------
# (c) escaping


@pytest.mark.parametrize(
    "query",
    [
        DEFAULT_QUERY,
        NASTY,
        "</SCRIPT ><script>x</script>",
        "<!-- <script> --> ]]> \u2028\u2029 &amp; &lt;/script&gt; \\u003c",
        '"; alert(1); "',
    ],
)
def test_default_query_cannot_break_out_of_the_script(query: str) -> None:
    page = graphiql_html("/graphql", PREFIX, query, default_variables=query)
    parsed = parse(page)
    # Exactly our five scripts: react, react-dom, graphiql, config, boot; nothing injected.
    assert len(parsed.scripts) == 5
    assert [attrs.get("src") is not None for attrs, _ in parsed.scripts] == [True] * 3 + [False] * 2
    assert [tag for tag, _ in parsed.tags].count("script") == 5
    assert config_of(page) == {
        "endpoint": "/graphql",
        "defaultQuery": query,
        "defaultVariables": query,
    }
    config_text = next(text for attrs, text in parsed.scripts if attrs.get("id"))
    assert not set("<>&\u2028\u2029") & set(config_text)


def test_served_page_carries_the_query_escaped(base_url: str) -> None:
    need_assets()
    page = get_page(base_url).text
    assert "</script><script>alert" not in page
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in page
    assert config_of(page) == {
        "endpoint": "",
        "defaultQuery": DEFAULT_QUERY,
        "defaultVariables": DEFAULT_VARIABLES,
    }


@pytest.mark.parametrize(
    ("endpoint", "prefix"),
    [
        ("https://example.com/graphql", PREFIX),
        ("//example.com/graphql", PREFIX),
        ("/graphql", "https://cdn.example.com/assets"),
        ("/graphql", "//cdn.example.com"),
        ("/graphql", "http://127.0.0.1:9/assets"),
    ],
)
def test_page_refuses_urls_of_other_hosts(endpoint: str, prefix: str) -> None:
    with pytest.raises(ValueError, match="must be a path on this server"):
        graphiql_html(endpoint, prefix, "{ hello }")


# ---------------------------------------------------------------------------------------------
# Fetching (no network: an unusable npm proves it is not called)


def test_fetch_is_idempotent_without_network(tmp_path: Path) -> None:
    need_assets()
    dest = tmp_path / "assets"
    shutil.copytree(ASSETS_DIR, dest)
    fetch_assets(dest, npm=str(tmp_path / "no-such-npm"))  # all present: npm not run
    assert assets_ready(dest, verify=True)
    victim = dest / "react@18.3.1" / "react.production.min.js"
    victim.write_bytes(victim.read_bytes()[:-1] + b";")  # same size, wrong hash
    assert assets_ready(dest) and not assets_ready(dest, verify=True)
    with pytest.raises(AssetFetchError, match="could not run npm"):
        fetch_assets(dest, npm=str(tmp_path / "no-such-npm"))


def _tarball(members: dict[str, bytes | str]) -> bytes:
    """A gzipped tar of regular files (bytes) and symlinks (str: the link target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _package(tarball: bytes, member: str, content: bytes) -> NpmPackage:
    digest = hashlib.sha512(tarball).digest()
    return NpmPackage(
        name="evil",
        version="1.0.0",
        integrity="sha512-" + base64.b64encode(digest).decode(),
        files=(AssetFile(member, "evil.js", len(content), sri_digest(content)),),
    )


def test_extraction_takes_only_pinned_regular_files(tmp_path: Path) -> None:
    body = b"console.log(1);"
    data = _tarball({"package/evil.js": body, "../../escape.js": b"x", "/abs.js": b"x"})
    (tmp_path / "evil.tgz").write_bytes(data)
    dest = tmp_path / "dest"
    _install_from_tarball(tmp_path / "evil.tgz", _package(data, "package/evil.js", body), dest)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "dest",
        "dest/evil@1.0.0",
        "dest/evil@1.0.0/evil.js",
        "evil.tgz",
    ]
    assert (dest / "evil@1.0.0" / "evil.js").read_bytes() == body


def test_extraction_refuses_links_and_bad_hashes(tmp_path: Path) -> None:
    link = _tarball({"package/evil.js": "/etc/passwd"})
    (tmp_path / "link.tgz").write_bytes(link)
    with pytest.raises(AssetFetchError, match="not a regular file"):
        _install_from_tarball(
            tmp_path / "link.tgz", _package(link, "package/evil.js", b""), tmp_path / "d"
        )
    good = _tarball({"package/evil.js": b"a"})
    (tmp_path / "good.tgz").write_bytes(good)
    with pytest.raises(AssetFetchError, match="tarball integrity"):
        _install_from_tarball(
            tmp_path / "good.tgz", _package(link, "package/evil.js", b"a"), tmp_path / "d"
        )
    with pytest.raises(AssetFetchError, match="pinned"):
        _install_from_tarball(
            tmp_path / "good.tgz", _package(good, "package/evil.js", b"b"), tmp_path / "d"
        )
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").rglob("*.js"))


def test_pins_are_consistent() -> None:
    specs = [package.spec for package in PACKAGES]
    assert specs == ["react@18.3.1", "react-dom@18.3.1", "graphiql@3.8.3"]
    for package in PACKAGES:
        assert package.integrity.startswith("sha512-")
        assert {asset.name for asset in package.files} >= {"LICENSE"}


# ---------------------------------------------------------------------------------------------
# (d) a real browser


@pytest.mark.browser
def test_graphiql_runs_the_default_query_in_chromium(base_url: str, tmp_path: Path) -> None:
    need_assets()
    reason = chromium_unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    failed, errors, result = run_graphiql(
        base_url + "/graphql", screenshot=tmp_path / "graphiql.png"
    )
    assert failed == []
    assert errors == []
    assert json.loads(result) == EXPECTED_RESULT


@pytest.mark.browser
def test_reopening_with_new_variables_keeps_one_tab(base_url: str) -> None:
    """A link with other ``?variables=`` opens them in the one tab, not in a second tab."""
    need_assets()
    reason = chromium_unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    query = "query Hello($name: String!) { hello(name: $name) }"
    first, second = (
        f"{base_url}/graphql?{urlencode({'q': query, 'variables': json.dumps({'name': name})})}"
        for name in ("A", "B")
    )
    states = graphiql_states([first, second, second])
    assert [s.tabs for s in states] == [0, 0, 0]  # GraphiQL shows a tab bar from two tabs on
    assert [json.loads(s.variables) for s in states] == [{"name": n} for n in "ABB"]
    assert all(s.query == query for s in states)
