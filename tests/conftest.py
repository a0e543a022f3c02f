"""Shared fixtures: real indexes built on disk from the demo articles and the real corpora."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsearch.indexer.build import build
from newsearch.search.engine import Engine
from newsearch.search.storage.layout import Layout

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "indexer" / "demo"


def rewrite_toc(index_dir: Path, change: Callable[[Any], None]) -> Path:
    """The served generation's Whoosh TOC read, ``change``d (its schema, say) and written anew
    in its place, as an older version would have written it; returns the TOC file."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    layout = Layout(index_dir)
    whoosh_dir = layout.whoosh_dir(layout.require_current())
    storage = FileStorage(str(whoosh_dir))
    toc = TOC.read(storage, "MAIN")
    name = f"_MAIN_{toc.generation}.toc"
    change(toc)
    storage.delete_file(name)
    toc.write(storage, "MAIN")
    return whoosh_dir / name


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
