"""No silent data loss: empty or vanished sources never replace a served index, and every
generation records the sources a rebuild (``reindex``) reads again."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsearch.indexer.build import apply_changes, build, update
from newsearch.indexer.guard import EmptyBuildError, MissingSourcesError
from newsearch.schema.cli import main
from newsearch.schema.writes import Writes
from newsearch.search.engine import Engine
from newsearch.search.model import Article
from newsearch.search.storage.layout import Layout
from newsearch.search.types import SearchRequest
from tests.conftest import DEMO
from tests.server import serve_process
from tests.test_security import data, gql

TOKEN = "guard-write-token-5d1e"


def _junk(folder: Path) -> Path:
    """A folder holding only an empty file and a binary one."""
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return folder


def _few(folder: Path, count: int) -> Path:
    """``count`` demo articles copied into ``folder``."""
    folder.mkdir()
    for path in sorted(DEMO.glob("en-*.txt"))[:count]:
        shutil.copy(path, folder / path.name)
    return folder


def _served(index_dir: Path) -> tuple[str | None, list[str]]:
    layout = Layout(index_dir)
    return layout.current(), layout.generations()


def test_build_of_no_articles_keeps_serving_and_names_the_errors(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    before = _served(index_dir)
    engine = Engine(index_dir)
    junk = _junk(tmp_path / "junk")
    result = CliRunner().invoke(
        main, ["index", "build", str(junk), "--index", str(index_dir), "--workers", "1"]
    )
    assert result.exit_code == 1, result.output
    assert "blob.txt:3: binary file: NUL byte" in result.output
    assert "empty.txt:1: empty file" in result.output
    assert "the sources gave no articles" in result.output
    assert "generation g000001 (36 documents) stays served" in result.output
    assert _served(index_dir) == before
    assert engine.reader.refresh().name == "g000001"
    assert engine.search(SearchRequest()).total == 36
    # Asked for explicitly, an empty index is served.
    allowed = CliRunner().invoke(
        main,
        ["index", "build", str(junk), "--index", str(index_dir), "--workers", "1", "--allow-empty"],
    )
    assert allowed.exit_code == 0, allowed.output
    assert engine.reader.refresh().name == "g000002"
    assert engine.search(SearchRequest()).total == 0


def test_first_build_of_no_articles_creates_nothing(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    with pytest.raises(EmptyBuildError, match="there is nothing to serve"):
        build([_junk(tmp_path / "junk")], index_dir, workers=1)
    assert _served(index_dir) == (None, [])


def test_pruning_update_from_an_emptied_folder_is_refused(tmp_path: Path) -> None:
    """An unmounted folder reads as an empty one: pruning by it would delete everything."""
    index_dir = tmp_path / "ix"
    mount = _few(tmp_path / "mnt", 3)
    build([mount], index_dir, workers=1)
    before = _served(index_dir)
    for path in mount.iterdir():
        path.unlink()
    with pytest.raises(EmptyBuildError, match=r"g000001 \(3 documents\) stays served"):
        update([mount], index_dir, prune=True, workers=1)
    assert _served(index_dir) == before
    # Without --prune nothing is removed, so nothing is refused; the empty source is said.
    kept = update([mount], index_dir, workers=1)
    assert kept.documents == 3
    assert kept.warnings == [f"source {mount} gave no articles"]


def test_missing_source_is_refused_before_reading(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    before = _served(index_dir)
    gone = tmp_path / "unmounted" / "news"
    with pytest.raises(MissingSourcesError, match=f"{gone}.*g000001 stays served"):
        build([DEMO, gone], index_dir, workers=1)
    assert _served(index_dir) == before


def test_much_smaller_build_is_warned_about(tmp_path: Path) -> None:
    """One of two source folders unmounted: the build goes on, and says so loudly."""
    index_dir = tmp_path / "ix"
    build([DEMO], index_dir, workers=1)
    few = _few(tmp_path / "few", 3)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(
        main,
        ["index", "build", str(few), str(empty), "--index", str(index_dir), "--workers", "1"],
    )
    assert result.exit_code == 0, result.output
    assert f"WARNING: source {empty} gave no articles" in result.output
    assert (
        "WARNING: the new generation has 3 documents, 33 fewer than the 36 of generation g000001"
        in result.output
    )


def _article(article_id: str) -> Article:
    return Article(
        id=article_id,
        title="Grid repairs",
        body="Crews repaired the grid overnight.",
        published=datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
    )


def test_generations_record_their_real_sources(tmp_path: Path, monkeypatch: Any) -> None:
    """A build records absolute paths; an update adds its own; API writes keep them (they
    recorded "api" before) and count their changes; a build reads them and warns."""
    index_dir = tmp_path / "ix"
    first = _few(tmp_path / "first", 2)
    second = _few(tmp_path / "second", 1)
    monkeypatch.chdir(tmp_path)
    build([Path("first")], index_dir, workers=1)
    layout = Layout(index_dir)
    assert layout.manifest("g000001").sources == [str(first)]
    update([Path("second")], index_dir, workers=1)
    assert layout.manifest("g000002").sources == [str(first), str(second)]
    apply_changes(index_dir, [_article("api-1")], ["en-001-volunteers-supply.txt"])
    manifest = layout.manifest("g000003")
    assert (manifest.sources, manifest.api_changes) == ([str(first), str(second)], 2)
    rebuilt = build([first, second], index_dir, workers=1)
    assert rebuilt.warnings == [
        "generation g000003 had 2 article change(s) made through the API since its sources "
        "were last read; this generation, read from the sources, does not have them"
    ]
    assert layout.manifest(rebuilt.generation).api_changes == 0


REINDEX = "mutation { reindex { ... on ReindexStatus { state sources } } }"
STATUS = """{ reindexStatus { state error generation sources warnings }
  indexInfo { documents generation } }"""


def _reindexed(base: str) -> Any:
    """Start a rebuild; its status once it ended and the server serves what it left."""
    started = data(gql(base, REINDEX, token=TOKEN))["reindex"]
    deadline = time.monotonic() + 60
    while True:
        status = data(gql(base, STATUS))
        built = status["reindexStatus"]["generation"]
        ended = status["reindexStatus"]["state"] != "running"
        if (ended and built in (None, status["indexInfo"]["generation"])) or (
            time.monotonic() > deadline
        ):
            return started, status
        time.sleep(0.1)


def test_reindex_rebuilds_from_the_recorded_sources(tmp_path: Path) -> None:
    """A server started without --sources (as scripts/serve runs a real index) rebuilds from
    the served generation's sources: the same articles, not the demo ones, nor nothing."""
    index_dir = tmp_path / "ix"
    real = _few(tmp_path / "real", 3)
    build([real], index_dir, workers=1)
    apply_changes(index_dir, [_article("api-1")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSEARCH_")}
    env["NEWSEARCH_WRITE_TOKEN"] = TOKEN
    args = ["--index", str(index_dir), "--workers", "1"]
    with serve_process(args, env, tmp_path / "serve.log") as base:
        assert data(gql(base, STATUS))["indexInfo"]["documents"] == 4
        started, status = _reindexed(base)
        assert started == {"state": "running", "sources": [str(real)]}
        assert status["reindexStatus"]["state"] == "done", status
        assert status["reindexStatus"]["generation"] == "g000003"
        [warning] = status["reindexStatus"]["warnings"]
        assert "1 article change(s) made through the API" in warning
        assert status["indexInfo"]["documents"] == 3
        # Its sources gone (an unmounted disk), a rebuild fails and the index stays served.
        shutil.rmtree(real)
        started, status = _reindexed(base)
        assert status["reindexStatus"]["state"] == "failed"
        assert f"source(s) not found: {real}" in status["reindexStatus"]["error"]
        assert "g000003 stays served" in status["reindexStatus"]["error"]
        assert status["indexInfo"]["documents"] == 3
        # Or there but empty (a mount point without its disk): refused as well.
        real.mkdir()
        started, status = _reindexed(base)
        assert status["reindexStatus"]["state"] == "failed"
        assert "the sources gave no articles" in status["reindexStatus"]["error"]
        assert status["indexInfo"] == {"documents": 3, "generation": "g000003"}


def test_reindex_with_sources_builds_a_new_index(tmp_path: Path) -> None:
    """A server given --sources over an index folder with nothing built yet rebuilds from those
    sources (there is no recorded generation to ask)."""
    writes = Writes(tmp_path / "index", (_few(tmp_path / "src", 3),))
    assert writes.start_reindex().state == "running"
    deadline = time.monotonic() + 60
    while writes.reindex_state.state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    state = writes.reindex_state
    assert (state.state, state.error) == ("done", None)
    assert Layout(tmp_path / "index").current() == state.generation
