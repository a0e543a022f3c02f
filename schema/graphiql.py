"""GraphiQL served entirely from this app: no CDN, no external URL, works offline.

strawberry's stock GraphiQL page loads React and GraphiQL from a CDN.  Here those files come
from the npm registry once, at set-up time (``scripts/fetch-assets``, which calls
:func:`fetch_assets`), into the git-ignored ``<repo>/.assets/`` folder, and the app serves them
itself (:func:`assets_app`).  No third-party file is ever committed.

* :data:`PACKAGES` pins each npm package (name, version, the registry's sha512 ``integrity`` of
  its tarball) and the few files taken from it (path in the tarball, size, sha384).  Both
  hashes are checked: the tarball's after ``npm pack``, each file's after extraction and
  whenever :func:`fetch_assets` runs again (it skips what is present and intact).  The page
  also gives each ``<script>``/``<link>`` an ``integrity`` attribute, so the browser checks them
  too.
* Layout: ``<assets_dir>/<name>@<version>/<file>``, e.g. ``.assets/react@18.3.1/react.production
  .min.js``, served as ``<assets_prefix>/react@18.3.1/react.production.min.js``.  The version in
  the path makes every URL immutable, so the files are served with a one-year cache.
* :class:`OfflineGraphQL` is strawberry's ASGI ``GraphQL`` view whose IDE page is
  :func:`graphiql_html`; while the assets are missing it answers with a 503 page that says to run
  ``scripts/fetch-assets`` instead of a broken page.

To bump a version: change it and its ``integrity`` (``npm view graphiql@X dist.integrity``), run
``python -m schema.graphiql --print-pins`` to get the new file sizes and hashes, paste them,
then run the browser test (``tests/test_graphiql.py``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from strawberry.asgi import GraphQL
from strawberry.http.typevars import Context, RootValue

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Scope
    from strawberry.schema import BaseSchema

__all__ = [
    "DEFAULT_ASSETS_DIR",
    "DEFAULT_QUERY",
    "PACKAGES",
    "AssetFetchError",
    "AssetFile",
    "NpmPackage",
    "OfflineGraphQL",
    "assets_app",
    "assets_ready",
    "fetch_assets",
    "graphiql_html",
    "missing_assets_html",
]

DEFAULT_ASSETS_DIR = Path(__file__).resolve().parent.parent / ".assets"
"""``<repo>/.assets``: where ``scripts/fetch-assets`` puts the files in a checkout."""

FETCH_COMMAND = "scripts/fetch-assets"
"""What to run to get the assets, as told to whoever sees the 503 page."""

NPM_TIMEOUT_SECONDS = 600.0
"""Upper bound for one ``npm pack`` run (it retries on network errors by itself)."""

DEFAULT_QUERY = """\
# GraphiQL, served offline by newsearch.
#
# Write a query here and press the run button (or Ctrl-Enter).
# Ctrl-Space completes field names; the docs pane shows the schema.

{
  __typename
}
"""
"""The query shown when the page has none of its own (``?q=`` or the user's last edit)."""


@dataclass(frozen=True, slots=True)
class AssetFile:
    """One file taken out of an npm tarball.

    ``member`` is its path inside the tarball (``package/...``), ``name`` the plain file name it
    gets under the package's folder, ``size`` its length in bytes and ``sri`` its Subresource
    Integrity string (``sha384-<base64>``), checked after extraction and by the browser.
    """

    member: str
    name: str
    size: int
    sri: str

    def __post_init__(self) -> None:
        if not _SAFE_NAME.fullmatch(self.name) or self.name in {".", ".."}:
            raise ValueError(f"asset file name must be a plain file name: {self.name!r}")
        if not self.sri.startswith(("sha256-", "sha384-", "sha512-")):
            raise ValueError(f"unsupported integrity string: {self.sri!r}")


@dataclass(frozen=True, slots=True)
class NpmPackage:
    """A pinned npm package: ``integrity`` is the registry's ``dist.integrity`` of its tarball."""

    name: str
    version: str
    integrity: str
    files: tuple[AssetFile, ...]

    def __post_init__(self) -> None:
        if not _SAFE_NAME.fullmatch(self.name) or not _SAFE_NAME.fullmatch(self.version):
            raise ValueError(f"unsupported package spec: {self.name}@{self.version}")
        if not self.integrity.startswith("sha512-"):
            raise ValueError(f"tarball integrity must be sha512: {self.integrity!r}")

    @property
    def spec(self) -> str:
        """``name@version``, as given to ``npm pack`` (and the folder/URL segment)."""
        return f"{self.name}@{self.version}"

    def file(self, name: str) -> AssetFile:
        """The pinned file called ``name``."""
        for asset in self.files:
            if asset.name == name:
                return asset
        raise KeyError(f"{self.spec} has no pinned file {name!r}")


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

REACT = NpmPackage(
    name="react",
    version="18.3.1",
    integrity="sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
    files=(
        AssetFile(
            member="package/umd/react.production.min.js",
            name="react.production.min.js",
            size=10751,
            sri="sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
        ),
        AssetFile(
            member="package/LICENSE",
            name="LICENSE",
            size=1086,
            sri="sha384-dIN5gxuW3odCH42AKpxql36fRQlrVsjCi4EJgGC2Ty8Ihkcq9cdrChEZpKhSAfks",
        ),
    ),
)
REACT_DOM = NpmPackage(
    name="react-dom",
    version="18.3.1",
    integrity="sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
    files=(
        AssetFile(
            member="package/umd/react-dom.production.min.js",
            name="react-dom.production.min.js",
            size=131835,
            sri="sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
        ),
        AssetFile(
            member="package/LICENSE",
            name="LICENSE",
            size=1086,
            sri="sha384-dIN5gxuW3odCH42AKpxql36fRQlrVsjCi4EJgGC2Ty8Ihkcq9cdrChEZpKhSAfks",
        ),
    ),
)
GRAPHIQL = NpmPackage(
    name="graphiql",
    version="3.8.3",
    integrity="sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
    files=(
        AssetFile(
            member="package/graphiql.min.js",
            name="graphiql.min.js",
            size=3513580,
            sri="sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
        ),
        AssetFile(
            member="package/graphiql.min.css",
            name="graphiql.min.css",
            size=425367,
            sri="sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
        ),
        AssetFile(
            member="package/LICENSE",
            name="LICENSE",
            size=1077,
            sri="sha384-9JPX1agGTIUB7wtQt2kO3PUO7clmCJp+9e50VMjw1yd8briI77AZnMDBz5VcerBH",
        ),
    ),
)

PACKAGES: tuple[NpmPackage, ...] = (REACT, REACT_DOM, GRAPHIQL)
"""Everything the page needs, in the order the scripts must load (React before GraphiQL)."""

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    "": "text/plain; charset=utf-8",
}
"""Content types by file suffix, set explicitly rather than guessed from the OS's mime.types."""

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


class AssetFetchError(RuntimeError):
    """The assets could not be fetched or did not match their pinned hashes."""


# --------------------------------------------------------------------------------------------
# Integrity


def sri_digest(data: bytes, algorithm: str = "sha384") -> str:
    """The Subresource Integrity string (``<algorithm>-<base64 digest>``) of ``data``."""
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"


def _matches(data: bytes, sri: str) -> bool:
    algorithm = sri.split("-", 1)[0]
    return sri_digest(data, algorithm) == sri


def _asset_path(assets_dir: Path, package: NpmPackage, asset: AssetFile) -> Path:
    return assets_dir / package.spec / asset.name


def _file_ok(path: Path, asset: AssetFile, *, verify: bool) -> bool:
    try:
        if not path.is_file() or path.stat().st_size != asset.size:
            return False
        return not verify or _matches(path.read_bytes(), asset.sri)
    except OSError:
        return False


def assets_ready(assets_dir: Path, *, verify: bool = False) -> bool:
    """Whether every pinned asset file is in ``assets_dir`` with its pinned size.

    Cheap (a few ``stat`` calls), so the server can ask on every IDE request.  With
    ``verify=True`` each file's sha384 is checked too (reads about 4 MB).
    """
    return all(
        _file_ok(_asset_path(assets_dir, package, asset), asset, verify=verify)
        for package in PACKAGES
        for asset in package.files
    )


# --------------------------------------------------------------------------------------------
# Fetching from the npm registry


@contextlib.contextmanager
def _locked(dest: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``dest`` so concurrent fetches do not interleave."""
    with (dest / ".fetch.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _npm_error_summary(stdout: str, stderr: str) -> str:
    """The most useful line(s) of a failed ``npm pack --json`` run."""
    try:
        payload = json.loads(stdout)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        parts = [str(error.get(key)) for key in ("code", "summary") if error.get(key)]
        if parts:
            return ": ".join(parts)
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "\n".join(lines[-5:]) or "(npm printed nothing)"


def _npm_pack(npm: str, packages: Sequence[NpmPackage], workdir: Path) -> dict[str, Path]:
    """Run ``npm pack`` for ``packages`` into ``workdir``; map each spec to its tarball."""
    specs = [package.spec for package in packages]
    command = [
        npm,
        "pack",
        *specs,
        "--pack-destination",
        str(workdir),
        "--json",
        "--ignore-scripts",
        "--loglevel=error",
        "--no-fund",
        "--no-audit",
        "--no-update-notifier",
        "--fetch-retry-maxtimeout=10000",
    ]
    try:
        # cwd=workdir: no package.json of ours is read, nothing is written into the repo.
        result = subprocess.run(
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssetFetchError(
            f"`npm pack {' '.join(specs)}` did not finish in {NPM_TIMEOUT_SECONDS:.0f} s: "
            "is the npm registry reachable from this machine (npm's registry/proxy config)?"
        ) from exc
    except OSError as exc:
        raise AssetFetchError(f"could not run npm ({npm}): {exc}") from exc
    if result.returncode != 0:
        raise AssetFetchError(
            f"`npm pack {' '.join(specs)}` failed (exit {result.returncode}); is the npm "
            "registry reachable from this machine (npm's registry/proxy config)?\n"
            f"npm said: {_npm_error_summary(result.stdout, result.stderr)}"
        )
    try:
        entries = json.loads(result.stdout)
        by_spec = {f"{entry['name']}@{entry['version']}": entry for entry in entries}
    except (ValueError, KeyError, TypeError) as exc:
        raise AssetFetchError(f"unexpected output from `npm pack --json`: {exc}") from exc
    tarballs: dict[str, Path] = {}
    for package in packages:
        entry = by_spec.get(package.spec)
        if entry is None:
            raise AssetFetchError(f"`npm pack` did not produce {package.spec}")
        filename = str(entry.get("filename", ""))
        if not _SAFE_NAME.fullmatch(filename):
            raise AssetFetchError(f"`npm pack` reported an odd file name: {filename!r}")
        tarballs[package.spec] = workdir / filename
    return tarballs


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _install_from_tarball(tarball: Path, package: NpmPackage, dest: Path) -> None:
    """Check the tarball's sha512, then copy out exactly the pinned members, checking each.

    Nothing is extracted by the member's own name: each file's bytes are read through
    ``extractfile`` and written to a path built from the pinned, validated ``AssetFile.name``,
    so a hostile tarball cannot write outside ``dest`` (no ``..``, absolute paths or links).
    """
    data = tarball.read_bytes()
    if not _matches(data, package.integrity):
        raise AssetFetchError(
            f"{package.spec}: tarball integrity {sri_digest(data, 'sha512')} does not match "
            f"the pinned {package.integrity}"
        )
    with tarfile.open(tarball, mode="r:gz") as archive:
        for asset in package.files:
            try:
                member = archive.getmember(asset.member)
            except KeyError as exc:
                raise AssetFetchError(f"{package.spec}: no {asset.member} in tarball") from exc
            if not member.isreg():
                raise AssetFetchError(f"{package.spec}: {asset.member} is not a regular file")
            extracted = archive.extractfile(member)
            if extracted is None:  # pragma: no cover - isreg() members always have data
                raise AssetFetchError(f"{package.spec}: cannot read {asset.member}")
            with extracted:
                content = extracted.read()
            if len(content) != asset.size or not _matches(content, asset.sri):
                raise AssetFetchError(
                    f"{package.spec}: {asset.member} is {len(content)} bytes with "
                    f"{sri_digest(content, asset.sri.split('-', 1)[0])}; pinned: "
                    f"{asset.size} bytes with {asset.sri}"
                )
            _write_atomically(_asset_path(dest, package, asset), content)


def fetch_assets(dest: Path, *, npm: str | None = None) -> None:
    """Download the pinned packages with ``npm pack`` and install their files into ``dest``.

    Idempotent: a package whose files are all present with their pinned sizes and sha384 is
    skipped, so a second run makes no network access.  The tarballs go to a temporary folder
    inside ``dest`` that is removed afterwards.  Raises :class:`AssetFetchError` with a clear
    message when npm is missing, the registry is unreachable or a hash does not match.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with _locked(dest):
        missing = [
            package
            for package in PACKAGES
            if not all(
                _file_ok(_asset_path(dest, package, asset), asset, verify=True)
                for asset in package.files
            )
        ]
        if not missing:
            return
        npm_path = npm or shutil.which("npm")
        if npm_path is None:
            raise AssetFetchError(
                "npm was not found on PATH; install Node.js with npm (Debian: "
                "`apt-get install npm`) and run scripts/fetch-assets again"
            )
        with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
            tarballs = _npm_pack(npm_path, missing, Path(tmp))
            for package in missing:
                _install_from_tarball(tarballs[package.spec], package, dest)


# --------------------------------------------------------------------------------------------
# The page


def _script_hash(source: str) -> str:
    return sri_digest(source.encode("utf-8"), "sha256")


_BOOT_SCRIPT = """
(function () {
  "use strict";
  var mount = document.getElementById("graphiql");
  if (typeof React === "undefined" || typeof ReactDOM === "undefined" ||
      typeof GraphiQL === "undefined") {
    mount.textContent = "GraphiQL's scripts did not load: run scripts/fetch-assets on the server.";
    return;
  }
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var page = new URL(window.location.href);
  var params = page.searchParams;
  var endpoint = new URL(config.endpoint, page);
  endpoint.search = "";
  endpoint.hash = "";
  var subscriptions = new URL(endpoint.href);
  subscriptions.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: subscriptions.href
  });
  var query = params.has("q") ? params.get("q") : config.defaultQuery;
  var variables = params.has("variables") ? params.get("variables") : config.defaultVariables;

  // GraphiQL keeps its tabs in localStorage and adds a tab for a query and variables that
  // match none of them: each link with other ?variables= opened one more tab.  The URL holds
  // the work here, so the tabs are not kept; everything else GraphiQL stores still is.
  var TABS = "graphiql:tabState";
  var storage = {
    getItem: function (key) { return key === TABS ? null : window.localStorage.getItem(key); },
    setItem: function (key, value) {
      if (key !== TABS) {
        window.localStorage.setItem(key, value);
      }
    },
    removeItem: function (key) { window.localStorage.removeItem(key); },
    clear: function () {
      Object.keys(window.localStorage).forEach(function (key) {
        if (key.indexOf("graphiql:") === 0) {
          window.localStorage.removeItem(key);
        }
      });
    },
    get length() {
      return Object.keys(window.localStorage).filter(function (key) {
        return key.indexOf("graphiql:") === 0;
      }).length;
    }
  };

  function remember(key, value) {
    if (value) {
      params.set(key, value);
    } else {
      params.delete(key);
    }
    var search = params.toString();
    window.history.replaceState(null, "", search ? "?" + search : page.pathname);
  }

  var props = {
    fetcher: fetcher,
    storage: storage,
    defaultQuery: config.defaultQuery,
    query: query,
    defaultEditorToolsVisibility: Boolean(variables),
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
    onEditQuery: function (value) { remember("q", value); },
    onEditVariables: function (value) { remember("variables", value); }
  };
  if (variables) {
    props.variables = variables;
  }
  ReactDOM.createRoot(mount).render(React.createElement(GraphiQL, props));
})();
"""

_STYLE = """
html, body { height: 100%; margin: 0; overflow: hidden; }
#graphiql { height: 100vh; display: flex; }
"""


def _json_for_script(value: object) -> str:
    """``value`` as JSON that is inert inside an HTML ``<script>`` element.

    ``ensure_ascii`` leaves only ASCII (so also no U+2028/U+2029), and ``<``, ``>`` and ``&`` are
    written as ``\\u`` escapes, so no ``</script>``, ``<!--`` or ``<script`` can appear in the
    element's text; ``JSON.parse`` turns the escapes back into the original characters.
    """
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _check_local(url: str, what: str, *, allow_loopback: bool) -> None:
    """Refuse a URL naming a host (``scheme:`` or ``//host``), but for loopback if allowed."""
    has_host = url.startswith("//") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url) is not None
    if has_host and not (allow_loopback and _is_loopback_url(url)):
        raise ValueError(f"{what} must be a path on this server, not {url!r}")


_LOOPBACK_URL = re.compile(r"^https?://(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(/|$)")


def _is_loopback_url(url: str) -> bool:
    return _LOOPBACK_URL.match(url) is not None


def _origin(url: str) -> str | None:
    match = re.match(r"^(https?)://([^/?#]+)", url)
    return f"{match.group(1)}://{match.group(2)}" if match else None


def graphiql_csp(endpoint: str = "") -> str:
    """The Content-Security-Policy of the page: only this origin, plus our one inline script.

    It is in the page as a ``<meta>`` element, so the browser refuses (and reports) any load
    from elsewhere.  ``data:`` is allowed for GraphiQL's embedded fonts and SVG icons;
    ``'unsafe-inline'`` styles for the editors' computed styles.
    """
    connect = ["'self'"]
    origin = _origin(endpoint)
    if origin is not None:
        connect += [origin, "ws" + origin.removeprefix("http")]
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' '{_script_hash(_BOOT_SCRIPT)}'",
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self' data:",
            "img-src 'self' data:",
            f"connect-src {' '.join(connect)}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def graphiql_html(
    endpoint: str,
    asset_prefix: str,
    default_query: str,
    default_variables: str | None = None,
    *,
    title: str = "GraphiQL",
) -> str:
    """The GraphiQL page, loading only ``asset_prefix/...`` files of this server.

    ``endpoint`` is the GraphQL URL, resolved against the page's URL in the browser (``""``:
    the page's own URL without its query string, which is where strawberry serves both);
    ``asset_prefix`` is the URL path where :func:`assets_app` is mounted (``/graphiql-assets``).
    Neither may point to another host (a loopback ``endpoint`` is accepted for tests).
    ``default_query``/``default_variables`` prefill the editors; ``?q=`` and ``?variables=`` in
    the page's URL win over them and follow the user's edits, so a reload keeps the work.
    """
    _check_local(endpoint, "endpoint", allow_loopback=True)
    _check_local(asset_prefix, "asset_prefix", allow_loopback=False)
    prefix = asset_prefix.rstrip("/")

    def href(package: NpmPackage, name: str) -> str:
        asset = package.file(name)
        url = f"{prefix}/{package.spec}/{asset.name}"
        return f'"{html.escape(url)}" integrity="{html.escape(asset.sri)}"'

    config = _json_for_script(
        {
            "endpoint": endpoint,
            "defaultQuery": default_query,
            "defaultVariables": default_variables,
        }
    )
    csp = html.escape(graphiql_csp(endpoint))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>{_STYLE}</style>
<link rel="stylesheet" href={href(GRAPHIQL, "graphiql.min.css")}>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src={href(REACT, "react.production.min.js")}></script>
<script src={href(REACT_DOM, "react-dom.production.min.js")}></script>
<script src={href(GRAPHIQL, "graphiql.min.js")}></script>
<script id="graphiql-config" type="application/json">{config}</script>
<script>{_BOOT_SCRIPT}</script>
</body>
</html>
"""


def missing_assets_html(assets_dir: Path | None = None, *, title: str = "GraphiQL") -> str:
    """A plain page saying the GraphiQL files are missing and how to get them."""
    where = f" (expected in <code>{html.escape(str(assets_dir))}</code>)" if assets_dir else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{html.escape(title)}: assets missing</title>
<link rel="icon" href="data:,">
<style>body {{ font-family: sans-serif; margin: 3em; max-width: 50em; }}</style>
</head>
<body>
<h1>GraphiQL is not installed on this server</h1>
<p>Its JavaScript and CSS files are fetched once from the npm registry, not shipped with the
code{where}. Run this in the repository, then reload the page:</p>
<pre><code>{html.escape(FETCH_COMMAND)}</code></pre>
<p>The GraphQL endpoint itself works without them: POST queries to this URL.</p>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Serving


class _AssetFiles(StaticFiles):
    """``StaticFiles`` limited to the pinned asset files, with explicit types and long caching.

    Any other path (other files dropped in the folder, the lock file, download leftovers,
    ``..`` tricks) is a 404; starlette's own checks still refuse anything outside the folder.
    """

    def __init__(self, assets_dir: Path) -> None:
        super().__init__(directory=assets_dir, check_dir=False)
        self._allowed = {
            f"{package.spec}/{asset.name}": _MEDIA_TYPES[Path(asset.name).suffix]
            for package in PACKAGES
            for asset in package.files
        }

    async def check_config(self) -> None:
        """Accept a folder that does not exist yet: its files are 404 until fetched."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """404 for anything but a pinned file, else starlette's usual answer."""
        if path.replace(os.sep, "/") not in self._allowed:
            if scope["method"] not in ("GET", "HEAD"):
                raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file with its fixed content type and immutable caching (URLs carry versions)."""
        response = FileResponse(
            full_path,
            status_code=status_code,
            stat_result=stat_result,
            media_type=_MEDIA_TYPES[Path(full_path).suffix],
            headers={
                "cache-control": IMMUTABLE_CACHE_CONTROL,
                "x-content-type-options": "nosniff",
            },
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def assets_app(assets_dir: Path) -> StaticFiles:
    """An ASGI app serving the pinned GraphiQL files of ``assets_dir``; mount it at a prefix.

    ``Mount("/graphiql-assets", app=assets_app(dir))``, then give the same prefix to
    :class:`OfflineGraphQL`.  The folder may be missing at start-up (404 until fetched).
    """
    return _AssetFiles(Path(assets_dir))


class OfflineGraphQL(GraphQL[Context, RootValue]):
    """strawberry's ASGI ``GraphQL`` view with the offline GraphiQL page as its IDE.

    ``assets_dir`` is the folder :func:`fetch_assets` filled, ``assets_prefix`` the URL path
    where :func:`assets_app` serves it.  ``endpoint`` defaults to the page's own URL (where
    strawberry serves both the IDE and the API), which also works behind a path-rewriting proxy.
    Other keyword arguments go to strawberry's ``GraphQL`` (``graphql_ide=None`` disables the
    IDE as usual).  While the assets are missing the IDE request gets a 503 page that says to
    run ``scripts/fetch-assets``.
    """

    def __init__(
        self,
        schema: BaseSchema,
        *,
        assets_dir: Path,
        assets_prefix: str,
        default_query: str = DEFAULT_QUERY,
        default_variables: str | None = None,
        endpoint: str = "",
        title: str = "GraphiQL",
        **kwargs: Any,
    ) -> None:
        super().__init__(schema, **kwargs)
        self.assets_dir = Path(assets_dir)
        self.assets_prefix = assets_prefix
        self.default_query = default_query
        self.default_variables = default_variables
        self.endpoint = endpoint
        self.title = title
        # Fail at start-up, not on the first page view, on a prefix/endpoint of another host.
        graphiql_html(endpoint, assets_prefix, default_query, default_variables, title=title)

    @property
    def graphql_ide_html(self) -> str:
        """The page, for code that reads strawberry's property rather than the response."""
        return graphiql_html(
            self.endpoint,
            self.assets_prefix,
            self.default_query,
            self.default_variables,
            title=self.title,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """The offline GraphiQL page, or a 503 page naming the fix while assets are missing."""
        headers = {"cache-control": "no-cache", "x-content-type-options": "nosniff"}
        if not assets_ready(self.assets_dir):
            return HTMLResponse(
                missing_assets_html(self.assets_dir, title=self.title),
                status_code=503,
                headers=headers,
            )
        return HTMLResponse(self.graphql_ide_html, headers=headers)


# --------------------------------------------------------------------------------------------
# Command line (scripts/fetch-assets)


def _print_pins(npm: str | None = None) -> None:
    """Download the pinned versions and print each file's size and sha384, for a bump.

    Only the tarballs' sha512 is checked (against :data:`PACKAGES`), not the per-file pins,
    which are what this prints.
    """
    npm_path = npm or shutil.which("npm")
    if npm_path is None:
        raise AssetFetchError("npm was not found on PATH")
    with tempfile.TemporaryDirectory(prefix="graphiql-pins-") as tmp:
        tarballs = _npm_pack(npm_path, PACKAGES, Path(tmp))
        for package in PACKAGES:
            data = tarballs[package.spec].read_bytes()
            status = "ok" if _matches(data, package.integrity) else "MISMATCH"
            print(f"{package.spec}\ttarball={sri_digest(data, 'sha512')} ({status})")
            with tarfile.open(tarballs[package.spec], mode="r:gz") as archive:
                for asset in package.files:
                    extracted = archive.extractfile(asset.member)
                    content = extracted.read() if extracted is not None else b""
                    print(f"  {asset.member}\tsize={len(content)}\tsri={sri_digest(content)}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m schema.graphiql [--dest DIR] [--check] [--print-pins]``."""
    parser = argparse.ArgumentParser(
        prog="fetch-assets",
        description="Fetch GraphiQL, React and ReactDOM from the npm registry for offline use.",
    )
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_ASSETS_DIR, help="folder to fill (<repo>/.assets)"
    )
    parser.add_argument(
        "--check", action="store_true", help="only verify the files (exit 1 if missing/corrupt)"
    )
    parser.add_argument(
        "--print-pins",
        action="store_true",
        help="download the pinned versions and print their files' sizes and sha384 (for bumps)",
    )
    args = parser.parse_args(argv)
    dest: Path = args.dest
    if args.check:
        ok = assets_ready(dest, verify=True)
        print(f"GraphiQL assets in {dest}: {'ok' if ok else 'missing or corrupt'}")
        return 0 if ok else 1
    try:
        if args.print_pins:
            _print_pins()
            return 0
        fetch_assets(dest)
    except AssetFetchError as exc:
        print(f"fetch-assets: {exc}", file=sys.stderr)
        return 1
    total = sum(asset.size for package in PACKAGES for asset in package.files)
    specs = ", ".join(package.spec for package in PACKAGES)
    print(f"GraphiQL assets ready in {dest}: {specs} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
