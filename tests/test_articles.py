"""The plain-JSON copy of a generation's articles (search/articles.py) on real indexes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.build import apply_changes, build
from indexer.maintenance import verify
from indexer.parse import iter_sources
from search.articles import ARTICLES_DIR, ArticlesWriter, open_articles
from search.engine import Engine
from search.fields import article_from_json, article_to_json
from search.model import Article
from search.reader import open_generation
from search.store import Layout
from search.types import SearchRequest


def _served(index: Path) -> Path:
    layout = Layout(index)
    return layout.generation_dir(layout.require_current())


def test_articles_are_whooshs_stored_articles_after_changes(
    demo_copy: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    articles = [a for a in iter_sources([demo_copy]) if isinstance(a, Article)]
    changed = replace(articles[0], title=articles[0].title + " (оновлено)")
    apply_changes(index, [changed], deletes=[articles[1].id])
    layout = Layout(index)
    with open_generation(layout, layout.require_current()) as gen, gen.ix.reader() as reader:
        assert gen.articles is not None
        stored = dict(reader.iter_docs())
        size = reader.doc_count_all()
        assert size > len(stored)  # the deletions left numbers behind
        for docnum in range(size):
            text = gen.articles.text(docnum)
            if docnum in stored:
                assert text == stored[docnum]["doc"].encode() + b"\n"
                assert gen.article(docnum) == article_from_json(stored[docnum]["doc"])
            else:
                assert text is None
        titles = {gen.article(d).id: gen.article(d).title for d in stored}
    assert titles[changed.id] == changed.title
    assert articles[1].id not in titles
    assert verify([], index)["columns_ok"]


def test_generation_without_articles_reads_whoosh(demo_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(demo_index, index)
    queries = ["уряд", "election OR армії", '"climate change"']
    expected = {q: Engine(index).search(SearchRequest(query=q, first=36)) for q in queries}
    shutil.rmtree(_served(index) / ARTICLES_DIR)
    old = Engine(index)
    assert old.reader.generation().articles is None
    for q in queries:
        assert old.search(SearchRequest(query=q, first=36)).hits == expected[q].hits


def test_verify_notices_an_article_that_differs(demo_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    assert verify([demo_copy], index)["columns_ok"]
    data = _served(index) / ARTICLES_DIR / "data.jsonl"
    text = data.read_bytes()
    at = text.index(b'"title": "') + len(b'"title": "')
    # Same length, so the offsets still fit: only the comparison can tell.
    data.write_bytes(text[:at] + b"X" + text[at + 1 :])
    result = verify([demo_copy], index)
    assert not result["columns_ok"]
    # The comparison stops at the first difference; every article is still checked by id.
    assert result["missing"] == [] and result["changed"] == [] and result["extra"] == []


def test_damaged_offsets_keep_the_generation_from_opening(demo_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(demo_index, index)
    data = _served(index) / ARTICLES_DIR / "data.jsonl"
    data.write_bytes(data.read_bytes() + b"{}\n")  # longer than the offsets say
    layout = Layout(index)
    with pytest.raises(ValueError, match="offsets do not fit"):
        open_generation(layout, layout.require_current())


def test_writer_takes_documents_in_order_only(tmp_path: Path) -> None:
    writer = ArticlesWriter(tmp_path / "a", 4)
    writer.add(1, '{"x": 1}')
    with pytest.raises(ValueError, match="out of order"):
        writer.add(1, '{"x": 2}')
    with pytest.raises(ValueError, match="out of order"):
        writer.add(4, '{"x": 3}')
    writer.add(3, '{"x": "ü\\n"}')
    writer.close()
    found = open_articles(tmp_path / "a", 4)
    assert found is not None
    assert [found.text(d) for d in range(4)] == [
        None,
        b'{"x": 1}\n',
        None,
        '{"x": "ü\\n"}\n'.encode(),
    ]
    found.close()
    with pytest.raises(ValueError, match="offsets do not fit"):
        open_articles(tmp_path / "a", 5)


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_ARTICLE = st.builds(
    Article,
    id=_TEXT.filter(bool),
    title=_TEXT,
    body=_TEXT,
    published=st.datetimes(
        timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
    ),
    category=_TEXT,
    source=_TEXT,
    tags=st.lists(_TEXT, max_size=4).map(tuple),
    language=st.sampled_from(["uk", "ru", "en", "de", ""]),
    language_detected=st.booleans(),
    url=st.none() | st.sampled_from(["https://example.org/a?b=1", "http://x.test/п"]),
    headline=st.none() | _TEXT,
)


@given(_ARTICLE)
def test_stored_form_round_trips(article: Article) -> None:
    """Whatever an article holds (any script, control characters, quotes, offsets), its
    stored JSON reads back equal, and orjson reads it as the standard library does."""
    text = article_to_json(article)
    assert article_from_json(text) == article
    assert article_from_json(text.encode("utf-8")) == article
    assert orjson.loads(text) == json.loads(text)
