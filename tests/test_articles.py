"""The records copy of a generation's articles (search/articles.py) on real indexes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.build import apply_changes, build
from indexer.maintenance import verify
from indexer.parse import iter_sources
from search.engine import Engine
from search.model import Article
from search.reader import open_generation
from search.storage.articles import (
    ArticlesWriter,
    article_from_json,
    article_to_json,
    decode_record,
    encode_record,
    open_articles,
)
from search.storage.layout import ARTICLES_DIR, Layout
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
            record = gen.articles.record(docnum)
            if docnum in stored:
                assert record is not None
                assert article_to_json(decode_record(record)) == stored[docnum]["doc"]
                assert gen.article(docnum) == article_from_json(stored[docnum]["doc"])
            else:
                assert record is None
        titles = {gen.article(d).id: gen.article(d).title for d in stored}
    assert titles[changed.id] == changed.title
    assert articles[1].id not in titles
    assert verify([], index)["columns_ok"]


@pytest.mark.parametrize("old", ["without articles", "JSON lines"])
def test_generation_without_articles_reads_whoosh(
    demo_index: Path, tmp_path: Path, old: str
) -> None:
    """A generation of an earlier version: built before the copy, or with the copy as JSON
    lines (data.jsonl, offsets.npy), which this version does not read."""
    index = tmp_path / "index"
    shutil.copytree(demo_index, index)
    queries = ["уряд", "election OR армії", '"climate change"']
    expected = {q: Engine(index).search(SearchRequest(query=q, first=36)) for q in queries}
    directory = _served(index) / ARTICLES_DIR
    if old == "without articles":
        shutil.rmtree(directory)
    else:
        (directory / "records.bin").rename(directory / "data.jsonl")
        (directory / "record_offsets.npy").rename(directory / "offsets.npy")
    old = Engine(index)
    assert old.reader.generation().articles is None
    for q in queries:
        assert old.search(SearchRequest(query=q, first=36)).hits == expected[q].hits


def test_verify_notices_an_article_that_differs(demo_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    assert verify([demo_copy], index)["columns_ok"]
    data = _served(index) / ARTICLES_DIR / "records.bin"
    text = data.read_bytes()
    at = text.index(b'"title":"') + len(b'"title":"')
    # Same length, so the offsets still fit: only the comparison can tell.
    data.write_bytes(text[:at] + b"X" + text[at + 1 :])
    result = verify([demo_copy], index)
    assert not result["columns_ok"]
    # The comparison stops at the first difference; every article is still checked by id.
    assert result["missing"] == [] and result["changed"] == [] and result["extra"] == []


def test_verify_reports_a_record_that_no_longer_decodes(demo_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    data = _served(index) / ARTICLES_DIR / "records.bin"
    raw = bytearray(data.read_bytes())
    width_at = _HEAD_SIZE + int.from_bytes(raw[:_HEAD_SIZE], "little")
    raw[width_at] = 3  # the first record's body width: none such
    data.write_bytes(bytes(raw))
    assert not verify([demo_copy], index)["columns_ok"]


def test_damaged_offsets_keep_the_generation_from_opening(demo_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(demo_index, index)
    data = _served(index) / ARTICLES_DIR / "records.bin"
    data.write_bytes(data.read_bytes() + b"{}\n")  # longer than the offsets say
    layout = Layout(index)
    with pytest.raises(ValueError, match="offsets do not fit"):
        open_generation(layout, layout.require_current())


def test_writer_takes_documents_in_order_only(tmp_path: Path) -> None:
    one = Article(id="a1", title="t", body="", published=datetime(2024, 1, 2, tzinfo=UTC))
    three = replace(one, id="a3", body="ü\n🙂")
    writer = ArticlesWriter(tmp_path / "a", 4)
    writer.add(1, one)
    with pytest.raises(ValueError, match="out of order"):
        writer.add(1, three)
    with pytest.raises(ValueError, match="out of order"):
        writer.add(4, three)
    writer.add(3, three)
    writer.close()
    found = open_articles(tmp_path / "a", 4)
    assert found is not None
    assert [found.article(d) for d in range(4)] == [None, one, None, three]
    assert [found.record(d) for d in range(4)] == [
        None,
        encode_record(one),
        None,
        encode_record(three),
    ]
    found.close()
    with pytest.raises(ValueError, match="offsets do not fit"):
        open_articles(tmp_path / "a", 5)


def test_a_generation_of_deleted_documents_has_an_empty_copy(tmp_path: Path) -> None:
    ArticlesWriter(tmp_path / "a", 3).close()
    found = open_articles(tmp_path / "a", 3)
    assert found is not None
    assert [found.article(d) for d in range(3)] == [None, None, None]
    found.close()
    found.close()


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_HEAD_SIZE = 4
"""The record's head length: a little-endian uint32."""
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
def test_record_round_trips(article: Article) -> None:
    """Whatever an article holds, its record reads back as the same article, with the same
    date offset (equality of datetimes alone ignores it)."""
    record = encode_record(article)
    back = decode_record(record)
    assert back == article
    assert article_to_json(back) == article_to_json(article)
    width = record[_HEAD_SIZE + int.from_bytes(record[:_HEAD_SIZE], "little")]
    top = max(map(ord, article.body), default=0)
    assert width == (1 if top < 0x100 else 2 if top < 0x10000 else 4)


@given(_ARTICLE)
def test_stored_form_round_trips(article: Article) -> None:
    """Whatever an article holds (any script, control characters, quotes, offsets), its
    stored JSON reads back equal, and orjson reads it as the standard library does."""
    text = article_to_json(article)
    assert article_from_json(text) == article
    assert article_from_json(text.encode("utf-8")) == article
    assert orjson.loads(text) == json.loads(text)
