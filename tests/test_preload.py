"""Preloading a generation's mapped files (search/preload.py), seen in the process's RSS."""

from __future__ import annotations

import mmap
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.corpora import write_jsonl
from newsearch.indexer.build import build
from newsearch.search.engine import Engine
from newsearch.search.model import Article
from newsearch.search.preload import preload
from newsearch.search.storage.layout import Layout
from newsearch.search.types import SearchRequest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads RssFile from /proc/self/status (Linux)"
)


def rss_file() -> int:
    """Bytes of mapped files this process has resident (its page tables, not the cache)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no RssFile in /proc/self/status")


def mapped_file(path: Path, size: int) -> mmap.mmap:
    path.write_bytes(random.Random(1).randbytes(size))
    with path.open("rb") as f:
        return mmap.mmap(f.fileno(), size, prot=mmap.PROT_READ)


def test_preload_maps_every_page(tmp_path: Path) -> None:
    size = 48 << 20
    data = mapped_file(tmp_path / "data.bin", size)
    before = rss_file()
    assert preload([data])
    assert rss_file() - before >= 0.95 * size
    data.close()  # no view of the map outlives preload


def test_preload_leaves_what_does_not_fit(tmp_path: Path) -> None:
    size = 48 << 20
    data = mapped_file(tmp_path / "data.bin", size)
    before = rss_file()
    assert not preload([data], limit=size - 1)
    assert rss_file() - before < 0.05 * size
    data.close()


def _long_articles(count: int, words: int) -> list[Article]:
    rng = random.Random(7)
    vocabulary = [f"word{i}" for i in range(2000)]
    return [
        Article(
            id=f"long-{i}",
            title=f"Long report {i}",
            body=" ".join(rng.choice(vocabulary) for _ in range(words)),
            published=datetime(2024, 5, 1, tzinfo=UTC) + timedelta(days=i),
            language="en",
        )
        for i in range(count)
    ]


def test_engine_preloads_a_generation_as_it_opens(tmp_path: Path) -> None:
    """With preload, opening a generation maps its records and postings in (in a
    background thread, then ``preloaded`` is set); without, only what queries read."""
    source = write_jsonl(_long_articles(16, 40_000), tmp_path / "long.jsonl")
    index = tmp_path / "index"
    assert build([source], index, workers=1).errors == []
    layout = Layout(index)
    records = layout.generation_dir(layout.require_current()) / "articles" / "records.bin"
    assert records.stat().st_size > 4 << 20

    def opened_rss(preload: bool) -> tuple[int, Engine]:
        before = rss_file()
        engine = Engine(index, check_interval=3600, preload=preload)
        generation = engine.reader.generation()
        assert generation.preloaded.wait(30)
        return rss_file() - before, engine

    lazy, lazy_engine = opened_rss(preload=False)
    eager, eager_engine = opened_rss(preload=True)
    assert eager - lazy >= records.stat().st_size
    # Either way the same answers.
    request = SearchRequest(query="word7 word11")
    assert lazy_engine.search(request).hits == eager_engine.search(request).hits
