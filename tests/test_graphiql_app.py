"""The real app's GraphiQL in headless Chromium: opens offline, runs the example, shows results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newsearch.schema.app import create_app
from newsearch.schema.settings import Settings
from tests.browser import chromium_unavailable_reason, run_graphiql
from tests.server import live_server

ASSETS = Path(__file__).resolve().parents[1] / ".assets"


def test_example_query_runs_in_a_real_browser(demo_index: Path, tmp_path: Path) -> None:
    reason = chromium_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    from newsearch.schema.assets import assets_ready

    if not assets_ready(ASSETS):
        pytest.skip("GraphiQL assets are missing: run scripts/fetch-assets")
    shot = tmp_path / "graphiql.png"
    with live_server(create_app(Settings(index_dir=demo_index, assets_dir=ASSETS))) as base:
        run = run_graphiql(f"{base}/graphql", screenshot=shot)
    assert run.failed_requests == []
    assert run.console_errors == []
    # The result pane shows the example's search: hits, facets, histogram and highlights.
    text = run.result_text
    match = re.search(r"\{.*\}", text, re.S)
    assert match, text
    data = json.loads(match.group(0))["data"]["search"]
    assert data["__typename"] == "ArticleConnection"
    assert data["totalCount"] == 5
    assert {e["node"]["id"] for e in data["edges"]} >= {"en-001-volunteers-supply.txt"}
    assert any(
        "<mark>" in e["highlights"]["title"] or e["highlights"]["fragments"] for e in data["edges"]
    )
    assert [f["field"] for f in data["facets"]] == ["TAG", "LANGUAGE", "CATEGORY", "SOURCE"]
    assert sum(b["count"] for b in data["dateHistogram"]) == 5
    assert shot.stat().st_size > 10_000
