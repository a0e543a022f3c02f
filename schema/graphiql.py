"""GraphiQL served entirely from this app: no CDN, no external URL, works offline.

strawberry's stock GraphiQL page loads React and GraphiQL from a CDN.  Here the page loads the
pinned files that :mod:`newsearch.schema.assets` describes and serves from the git-ignored
``.assets/`` folder (filled once by ``scripts/fetch-assets``, :mod:`newsearch.schema.fetch_assets`).

* :func:`graphiql_html` is the page: only this server's files, each with its ``integrity``, a
  Content-Security-Policy allowing nothing else, and the boot script that keeps the query and
  variables in the URL.
* :class:`OfflineGraphQL` is strawberry's ASGI ``GraphQL`` view whose IDE page is
  :func:`graphiql_html`; while the assets are missing it answers with a 503 page that says to run
  ``scripts/fetch-assets`` instead of a broken page.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse, Response
from strawberry.asgi import GraphQL
from strawberry.http.typevars import Context, RootValue

from newsearch.schema.assets import (
    FETCH_COMMAND,
    GRAPHIQL,
    REACT,
    REACT_DOM,
    NpmPackage,
    assets_ready,
    sri_digest,
)

if TYPE_CHECKING:
    from starlette.requests import Request
    from strawberry.schema import BaseSchema

__all__ = [
    "DEFAULT_QUERY",
    "OfflineGraphQL",
    "graphiql_csp",
    "graphiql_html",
    "missing_assets_html",
]

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
    ``asset_prefix`` is the URL path where :func:`newsearch.schema.assets.assets_app` is mounted
    (``/graphiql-assets``).
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
# The IDE route


class OfflineGraphQL(GraphQL[Context, RootValue]):
    """strawberry's ASGI ``GraphQL`` view with the offline GraphiQL page as its IDE.

    ``assets_dir`` is the folder ``scripts/fetch-assets`` filled, ``assets_prefix`` the URL path
    where :func:`newsearch.schema.assets.assets_app` serves it.  ``endpoint`` defaults to the page's
    own URL (where strawberry serves both the IDE and the API), which also works behind a
    path-rewriting proxy.
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
