"""pymorphy3's C dictionary reader (DAWG2, the ``fast`` extra) gives the lemmas of its
pure-Python one: the speed-up must not change a single term of the index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import corpora
from newsearch.indexer.parse import iter_sources
from newsearch.search.analysis import lemma, words
from newsearch.search.model import Article
from tests.conftest import DEMO

# Computes the lemmas with the C reader hidden: pymorphy3 falls back to dawg_python.
_PURE = """
import json, sys
sys.modules["dawg"] = None
from newsearch.search.analysis import lemma
import pymorphy3.dawg
assert pymorphy3.dawg.DAWG.__module__.startswith("dawg_python"), pymorphy3.dawg.DAWG
print(json.dumps([lemma("uk", w) for w in json.load(sys.stdin)]))
"""


def _words(articles: list[Article]) -> list[str]:
    found = {w.lower() for a in articles for t in (a.title, a.body, *a.tags) for w in words(t)}
    return sorted(found)


def _pure_lemmas(vocabulary: list[str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PURE],
        input=json.dumps(vocabulary),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    result: list[str] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def c_reader() -> None:
    pytest.importorskip(
        "dawg", reason="the fast extra (DAWG2) is not installed: nothing to compare"
    )
    import pymorphy3.dawg

    assert pymorphy3.dawg.DAWG.__module__ == "dawg"


def test_demo_words_have_the_same_lemmas(c_reader: None) -> None:
    articles = [a for a in iter_sources([DEMO]) if isinstance(a, Article)]
    vocabulary = _words(articles)
    assert len(vocabulary) > 1000
    assert [lemma("uk", w) for w in vocabulary] == _pure_lemmas(vocabulary)


@pytest.mark.corpus
def test_corpus_words_have_the_same_lemmas(c_reader: None) -> None:
    vocabulary = _words(corpora.all_corpus_articles(corpora.require_shared()))
    assert len(vocabulary) > 30_000
    assert [lemma("uk", w) for w in vocabulary] == _pure_lemmas(vocabulary)
