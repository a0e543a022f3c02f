"""Drive a real headless Chromium (Debian's ``/usr/bin/chromium``) through Playwright.

A helper for tests, not a test module.  It uses the ``playwright`` Python package only as a
driver (its wheel carries the node driver); no Playwright browser is downloaded: Chromium is
Debian's (``apt-get install chromium``), or the one named by ``$CHROMIUM``.

* :func:`chromium_unavailable_reason` / :func:`chromium_available`: whether a browser test can
  run here, and why not (for ``pytest.skip``).
* :func:`run_graphiql`: open a GraphiQL page, record every request, every failed request,
  non-2xx response and console error, wait for GraphiQL to render, click the run button and
  return the text of the result pane.
* :func:`graphiql_states`: open several GraphiQL URLs in turn in one browser and return the
  tabs and editors each load shows.

Every request that leaves the loopback interface is refused by the page's routing and counted
as a failed request, so a page that would need the internet fails here, not in production.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import ConsoleMessage, Dialog, Page, Request, Response, Route

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
"""The browser binary: Debian's Chromium unless ``$CHROMIUM`` names another."""

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Flags for a closed network: without the background-networking ones Chromium keeps trying
(and failing) to reach Google's hosts."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

EXECUTE_BUTTON = ".graphiql-execute-button"
RESULT_PANE = ".result-window"
QUERY_EDITOR = ".graphiql-query-editor"
VARIABLES_EDITOR = "section.graphiql-editor-tool"
"""The editor tools; their first editor is the variables one (the headers one follows)."""
TAB = ".graphiql-tab"
SETTLE_S = 1.5
"""Seconds for GraphiQL to store its state after a page load (it debounces its writes)."""

_CODEMIRROR_VALUE_JS = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const cm = el.querySelector('.CodeMirror');
  if (cm && cm.CodeMirror) return cm.CodeMirror.getValue();
  return el.innerText;
}"""
"""The full text of a GraphiQL (CodeMirror 5) editor; ``innerText`` would only give the lines
that happen to be rendered."""


def chromium_unavailable_reason() -> str | None:
    """Why a browser test cannot run here, or ``None`` if Chromium and Playwright are there."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        hint = f" (but {found} exists: set CHROMIUM)" if found else ""
        return f"no Chromium at {CHROMIUM}{hint}: apt-get install chromium"
    try:
        subprocess.run([CHROMIUM, "--version"], capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{CHROMIUM} does not run: {exc}"
    return None


def chromium_available() -> bool:
    """Whether :func:`run_graphiql` can run here (see :func:`chromium_unavailable_reason`)."""
    return chromium_unavailable_reason() is None


class GraphiQLRun(NamedTuple):
    """What :func:`run_graphiql` saw: failures, console errors and the result pane's text."""

    failed_requests: list[str]
    console_errors: list[str]
    result_text: str


@dataclass
class BrowserLog:
    """Everything the page did, for assertions and for failure messages."""

    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    console_messages: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A readable dump of the log."""
        return json.dumps(
            {
                "requests": self.requests,
                "failed_requests": self.failed_requests,
                "console_errors": self.console_errors,
                "console_messages": self.console_messages,
            },
            indent=2,
        )


class BrowserRunError(AssertionError):
    """The page did not do what was expected; the message carries the browser's log."""


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and (
        parts.hostname in LOOPBACK_HOSTS or (parts.hostname or "").startswith("127.")
    )


@contextlib.contextmanager
def _page(log: BrowserLog, timeout_s: float) -> Iterator[Page]:
    """A page of a fresh headless Chromium whose every event goes into ``log``."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    def on_request(request: Request) -> None:
        log.requests.append(f"{request.method} {request.url}")

    def on_request_failed(request: Request) -> None:
        log.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(response: Response) -> None:
        if not (200 <= response.status < 300 or response.status == 304):
            log.failed_requests.append(
                f"{response.request.method} {response.url}: HTTP {response.status}"
            )

    def on_console(message: ConsoleMessage) -> None:
        text = f"{message.type}: {message.text} ({message.location.get('url', '')})"
        log.console_messages.append(text)
        if message.type == "error":
            log.console_errors.append(text)

    def on_page_error(error: PlaywrightError) -> None:
        log.console_errors.append(f"uncaught: {error}")

    def on_dialog(dialog: Dialog) -> None:
        log.console_errors.append(f"dialog ({dialog.type}): {dialog.message}")
        dialog.dismiss()

    def route(route: Route) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            log.failed_requests.append(f"blocked non-local request: {route.request.url}")
            route.abort("blockedbyclient")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            context = browser.new_context(service_workers="block")
            context.set_default_timeout(timeout_s * 1000)
            context.route("**/*", route)
            page = context.new_page()
            page.on("request", on_request)
            page.on("requestfailed", on_request_failed)
            page.on("response", on_response)
            page.on("console", on_console)
            page.on("pageerror", on_page_error)
            page.on("dialog", on_dialog)
            yield page
            context.close()
        finally:
            browser.close()


def _wait_for_graphiql(page: Page) -> None:
    page.wait_for_selector(EXECUTE_BUTTON, state="visible")
    page.wait_for_function(f"() => ({_CODEMIRROR_VALUE_JS})('{QUERY_EDITOR}') || ''")


def run_graphiql(
    url: str,
    *,
    timeout_s: float = 60.0,
    screenshot: Path | None = None,
    log: BrowserLog | None = None,
) -> GraphiQLRun:
    """Open the GraphiQL page at ``url``, click run and return what happened.

    Waits for GraphiQL to render (its run button and the query editor holding text), clicks
    the run button, waits for the result pane to hold text, and returns
    ``(failed_requests, console_errors, result_text)``.  ``failed_requests`` lists refused
    requests (including any to a non-loopback host, which are blocked), network failures and
    responses outside 2xx/304; ``console_errors`` lists console errors and uncaught page errors
    (CSP violations and failed integrity checks show up there).  Pass ``log`` to also get every
    request and console message, ``screenshot`` to save a PNG of the final page.  Raises
    :class:`BrowserRunError`, with the log, if the page never renders or no result comes.
    """
    from playwright.sync_api import Error as PlaywrightError

    log = log if log is not None else BrowserLog()
    with _page(log, timeout_s) as page:
        try:
            page.goto(url, wait_until="load")
            _wait_for_graphiql(page)
            page.click(EXECUTE_BUTTON)
            page.wait_for_function(
                f"() => (({_CODEMIRROR_VALUE_JS})('{RESULT_PANE}') || '').trim().length > 0"
            )
            result = page.evaluate(_CODEMIRROR_VALUE_JS, RESULT_PANE)
            # Let late requests/console messages (e.g. the schema's introspection) land.
            with contextlib.suppress(PlaywrightError):
                page.wait_for_load_state("networkidle", timeout=5000)
        except PlaywrightError as exc:
            raise BrowserRunError(f"{exc}\n--- browser log ---\n{log.describe()}") from exc
        finally:
            if screenshot is not None:
                with contextlib.suppress(PlaywrightError):
                    page.screenshot(path=str(screenshot))
    return GraphiQLRun(
        failed_requests=list(log.failed_requests),
        console_errors=list(log.console_errors),
        result_text=str(result or ""),
    )


class EditorState(NamedTuple):
    """What GraphiQL shows after a page load: its tabs and its editors' text."""

    tabs: int
    """Tabs in the tab bar (GraphiQL shows none while there is only one)."""
    query: str
    variables: str


def graphiql_states(urls: list[str], *, timeout_s: float = 60.0) -> list[EditorState]:
    """Open each URL in turn in one browser (one localStorage, as a user reopening links).

    After each page renders, waits :data:`SETTLE_S` for GraphiQL to store its state, then
    reads the tabs and the query and variables editors.
    """
    from playwright.sync_api import Error as PlaywrightError

    log = BrowserLog()
    states: list[EditorState] = []
    with _page(log, timeout_s) as page:
        try:
            for url in urls:
                page.goto(url, wait_until="load")
                _wait_for_graphiql(page)
                page.wait_for_timeout(SETTLE_S * 1000)
                states.append(
                    EditorState(
                        tabs=page.locator(TAB).count(),
                        query=page.evaluate(_CODEMIRROR_VALUE_JS, QUERY_EDITOR) or "",
                        variables=page.evaluate(_CODEMIRROR_VALUE_JS, VARIABLES_EDITOR) or "",
                    )
                )
        except PlaywrightError as exc:
            raise BrowserRunError(f"{exc}\n--- browser log ---\n{log.describe()}") from exc
    if log.failed_requests or log.console_errors:
        raise BrowserRunError(f"the page reported problems\n{log.describe()}")
    return states
