"""Shared fixtures: real indexes built on disk from the demo articles and the real corpora."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsearch.indexer.build import build
from newsearch.search.engine import Engine

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "indexer" / "demo"


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the project's own demo articles (built once per session; treat as read-only)."""
    index_dir = tmp_path_factory.mktemp("demo") / "index"
    summary = build([DEMO], index_dir, workers=1)
    assert summary.errors == []
    return index_dir


@pytest.fixture(scope="session")
def demo_engine(demo_index: Path) -> Engine:
    """An engine over the demo index."""
    return Engine(demo_index)


@pytest.fixture(scope="session")
def corpus_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All real corpora of ../shared/data as one JSON Lines file (skips when absent)."""
    from bench.corpora import all_corpus_articles, require_shared, write_jsonl

    require_shared()
    return write_jsonl(all_corpus_articles(), tmp_path_factory.mktemp("corpora") / "all.jsonl")


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, corpus_jsonl: Path) -> Path:
    """An index of every real corpus article, built with all cores (read-only)."""
    index_dir = tmp_path_factory.mktemp("corpus") / "index"
    summary = build([corpus_jsonl], index_dir)
    assert summary.errors == []
    return index_dir


@pytest.fixture(scope="session")
def corpus_engine(corpus_index: Path) -> Engine:
    """An engine over the real corpora."""
    return Engine(corpus_index)


@pytest.fixture
def demo_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the demo articles."""
    import shutil

    target = tmp_path / "articles"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.md"))
    yield target
