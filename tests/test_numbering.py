"""Terms and words sent as numbers between the indexer's processes (search/numbering.py)."""

from __future__ import annotations

import json
from array import array
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsearch.indexer.build import build
from newsearch.indexer.parse import iter_sources
from newsearch.indexer.prepare import analyzed_document, numbered_document, prepare, with_language
from newsearch.search.analysis import LANGUAGES, text_terms, word_term, words
from newsearch.search.model import Article
from newsearch.search.storage.layout import VOCAB_FILE, Layout
from newsearch.search.storage.numbering import Numbered, Numbering, RunNumbers
from newsearch.search.storage.postings import PostingsBuilder
from newsearch.search.storage.postings.writer import _read_arrays
from newsearch.search.storage.vocab import VocabularyBuilder, article_words, vocabulary_words_of
from tests.test_indexer import _many


def test_numbers_are_dense_and_each_string_is_sent_once() -> None:
    numbering: Numbering[str] = Numbering()
    assert [numbering.number(s) for s in ["b", "a", "b", "c"]] == [0, 1, 0, 2]
    assert numbering.fresh() == (0, ["b", "a", "c"])
    assert numbering.number("a") == 1 and numbering.number("d") == 3
    assert numbering.fresh() == (3, ["d"])
    assert numbering.fresh() == (4, [])


def test_chunks_are_put_together_in_any_order_and_a_gap_is_refused() -> None:
    numbered: Numbered[str] = Numbered()
    numbered.define("w1", (2, ["c"]))
    numbered.define("w2", (0, ["x"]))
    numbered.define("w1", (0, ["a", "b"]))
    numbered.define("w1", (3, []))
    assert numbered.keys("w1") == ["a", "b", "c"] and numbered.keys("w2") == ["x"]
    numbered.define("w3", (1, ["late"]))
    with pytest.raises(ValueError, match="never arrived"):
        numbered.keys("w3")


_TEXT = st.text(st.sampled_from("армії Армія мигрантов war's Wars éte 12 ё-ё"), max_size=80)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(st.tuples(st.sampled_from(LANGUAGES), _TEXT), max_size=6))
def test_term_numbers_are_the_analyzers_terms(texts: list[tuple[str, str]]) -> None:
    """Whatever the texts and however often the memo is emptied (a limit of 2 words),
    the numbers of a text's words name exactly the analyzer's terms, and so do the
    numbers of its vocabulary words."""
    run = RunNumbers(word_term, vocabulary_words_of, limit=2)
    for lang, text in texts:
        numbers = run.term_numbers(lang, words(text))
        assert [run.terms.keys[n] for n in numbers] == text_terms(lang, text)
        distinct = list(set(words(text)))
        expected = {(lang, w) for word in distinct for w in vocabulary_words_of(lang, word)}
        assert {run.words.keys[n] for n in run.word_numbers(lang, distinct)} == expected


def _postings_content(directory: Path) -> dict[str, set[tuple[str, int]]]:
    """key -> {(article id, tf)} of the postings in ``directory``."""
    arrays = _read_arrays(directory)
    ids = [p[0] if p else None for p in json.loads((directory / "docs.json").read_text())]
    ptr, doc, tf = arrays.ptr.tolist(), arrays.doc.tolist(), arrays.tf.tolist()
    return {
        key: {(str(ids[doc[i]]), tf[i]) for i in range(ptr[k], ptr[k + 1])}
        for k, key in enumerate(arrays.keys)
    }


def _served(index: Path) -> Path:
    layout = Layout(index)
    return layout.generation_dir(layout.require_current())


def _vocabulary(index: Path) -> object:
    layout = Layout(index)
    return json.loads((layout.columns_dir(layout.require_current()) / VOCAB_FILE).read_text())


def test_numbered_builds_write_what_strings_would(tmp_path: Path) -> None:
    """A parallel build (numbers from two worker processes) and a serial one (numbers from
    the main process) write the postings and vocabulary that adding every article with
    its terms and words as strings gives."""
    source = _many(tmp_path / "many.jsonl", 400)
    for workers in (1, 2):
        assert build([source], tmp_path / f"w{workers}", workers=workers).errors == []
    articles = [with_language(a) for a in iter_sources([source]) if isinstance(a, Article)]
    strings, vocabulary = PostingsBuilder(), VocabularyBuilder()
    for a in articles:
        strings.add(a.id, analyzed_document(a).document["hash"], analyzed_document(a).stats)
        vocabulary.add(a)
    ids = [(a.id, analyzed_document(a).document["hash"]) for a in articles]
    strings.write(tmp_path / "strings", ids)
    vocabulary.write(tmp_path / "vocab.json")
    expected = _postings_content(tmp_path / "strings")
    for workers in (1, 2):
        assert _postings_content(_served(tmp_path / f"w{workers}") / "postings") == expected
        assert _vocabulary(tmp_path / f"w{workers}") == json.loads(
            (tmp_path / "vocab.json").read_text()
        )


def test_prepared_article_matches_its_string_analysis() -> None:
    article = with_language(
        Article(
            id="n1",
            title="Армія отримала техніку",
            body="Армії потрібна техніка. Army news, war's end.",
            published=datetime(2024, 1, 1, tzinfo=UTC),
            tags=("оборона", "war"),
        )
    )
    run = RunNumbers(word_term, vocabulary_words_of)
    prepared = prepare(article, run)
    analyzed = analyzed_document(article)
    assert prepared.document == analyzed.document == numbered_document(article, run).document
    assert {run.words.keys[n][1] for n in array("i", prepared.words)} == set(article_words(article))
