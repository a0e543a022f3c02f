"""The records copy of a generation's articles (search/articles.py) on real indexes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsearch.indexer.build import apply_changes, build, update
from newsearch.indexer.generation import SPOOL_FILE
from newsearch.indexer.maintenance import verify
from newsearch.indexer.parse import iter_sources
from newsearch.indexer.prepare import with_language
from newsearch.search.engine import Engine
from newsearch.search.model import Article
from newsearch.search.reader import open_generation
from newsearch.search.storage.articles import (
    ArticlesWriter,
    article_from_json,
    article_to_json,
    decode_record,
    encode_record,
    open_articles,
)
from newsearch.search.storage.layout import ARTICLES_DIR, Layout
from newsearch.search.types import SearchRequest


def _served(index: Path) -> Path:
    layout = Layout(index)
    return layout.generation_dir(layout.require_current())


def test_articles_are_stored_once_in_their_records_after_changes(
    demo_copy: Path, tmp_path: Path
) -> None:
    """Whoosh stores only each article's id and hash; the records hold the articles (with
    the language the build set), also after an update that replaced and deleted some."""
    index = tmp_path / "index"
    articles = [with_language(a) for a in iter_sources([demo_copy]) if isinstance(a, Article)]
    build([demo_copy], index, workers=1)
    changed = replace(articles[0], title=articles[0].title + " (оновлено)")
    apply_changes(index, [changed], deletes=[articles[1].id])
    expected = {a.id: a for a in [changed, *articles[2:]]}
    layout = Layout(index)
    served = layout.require_current()
    assert not (layout.generation_dir(served) / SPOOL_FILE).exists()
    with open_generation(layout, served) as gen, gen.ix.reader() as reader:
        assert gen.articles is not None
        stored = dict(reader.iter_docs())
        assert {k for f in stored.values() for k in f} == {"id", "hash"}
        size = reader.doc_count_all()
        assert size > len(stored)  # the deletions left numbers behind
        for docnum in range(size):
            record = gen.articles.record(docnum)
            if docnum in stored:
                assert record is not None
                article = decode_record(record)
                assert article.id == stored[docnum]["id"]
                assert article.content_hash == stored[docnum]["hash"]
                assert article_to_json(article) == article_to_json(expected.pop(article.id))
            else:
                assert record is None
    assert expected == {}
    assert verify([], index)["columns_ok"]


def earlier_version(generation: Path) -> None:
    """Make a generation of this version one of a version before records: its Whoosh index
    written again with every article in a stored ``doc`` field (in document-number order,
    from its records: a build of one worker numbers them 0, 1, ...), its records removed."""
    from whoosh import fields
    from whoosh.filedb.filestore import FileStorage

    from newsearch.indexer.prepare import analyzed_document
    from newsearch.search.storage.whoosh import build_schema, codec, open_whoosh

    with open_whoosh(generation / "whoosh").reader() as reader:
        size = reader.doc_count_all()
        assert reader.doc_count() == size
    records = open_articles(generation / ARTICLES_DIR, size)
    assert records is not None
    schema = build_schema()
    schema.add("doc", fields.STORED())
    (generation / "whoosh.old").mkdir()
    ix = FileStorage(str(generation / "whoosh.old")).create_index(schema)
    writer = ix.writer(codec=codec())
    for docnum in range(size):
        article = records.article(docnum)
        assert article is not None
        writer.add_document(**analyzed_document(article).document, doc=article_to_json(article))
    writer.commit()
    ix.close()
    records.close()
    shutil.rmtree(generation / "whoosh")
    (generation / "whoosh.old").rename(generation / "whoosh")
    shutil.rmtree(generation / ARTICLES_DIR)


@pytest.mark.parametrize("old", ["without articles", "JSON lines"])
def test_generation_without_articles_reads_whoosh(
    demo_index: Path, tmp_path: Path, old: str
) -> None:
    """A generation of an earlier version: built before the records, with each article in
    Whoosh's stored ``doc`` field, or with the records as JSON lines (data.jsonl,
    offsets.npy), which this version does not read."""
    index = tmp_path / "index"
    shutil.copytree(demo_index, index)
    queries = ["уряд", "election OR армії", '"climate change"']
    expected = {q: Engine(index).search(SearchRequest(query=q, first=36)) for q in queries}
    directory = _served(index) / ARTICLES_DIR
    if old == "without articles":
        earlier_version(_served(index))
    else:
        records = (directory / "records.bin").read_bytes()
        earlier_version(_served(index))
        directory.mkdir()
        (directory / "data.jsonl").write_bytes(records)
        np.save(directory / "offsets.npy", np.zeros(2, dtype=np.int64))
    old = Engine(index)
    assert old.reader.generation().articles is None
    for q in queries:
        assert old.search(SearchRequest(query=q, first=36)).hits == expected[q].hits
    assert verify([], index)["columns_ok"]


def test_update_of_a_generation_without_articles_writes_them(
    demo_copy: Path, tmp_path: Path
) -> None:
    """Articles kept from a generation of a version before records come from Whoosh's
    stored ``doc`` field into the new generation's records: it answers as the same update
    of a generation of this version does."""
    articles = [a for a in iter_sources([demo_copy]) if isinstance(a, Article)]
    changed = replace(articles[0], title=articles[0].title + " (оновлено)")
    index, same = tmp_path / "index", tmp_path / "same"
    for built in (index, same):
        build([demo_copy], built, workers=1)
    earlier_version(_served(index))
    for built in (index, same):
        apply_changes(built, [changed])
    queries = ["уряд", "election OR армії", '"climate change"', "оновлено"]
    expected = {q: Engine(same).search(SearchRequest(query=q, first=36)) for q in queries}
    engine = Engine(index)
    gen = engine.reader.generation()
    assert gen.articles is not None
    docnum = gen.docnum(changed.id)
    assert docnum is not None and gen.article(docnum).title == changed.title
    for q in queries:
        assert engine.search(SearchRequest(query=q, first=36)).hits == expected[q].hits
    assert verify([demo_copy], index)["changed"] == [changed.id]
    assert verify([demo_copy], index)["columns_ok"]


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


def test_an_id_given_three_times_keeps_the_record_of_its_last_version(tmp_path: Path) -> None:
    """A, B, A of one id in an update of a generation holding A: whichever copy of A stays
    (the kept one or the one indexed again), its record is A's."""
    first = {"id": "x", "title": "First", "body": "one", "published": "2024-01-01T00:00:00+02:00"}
    second = {**first, "title": "Second", "body": "two"}
    source = tmp_path / "a.jsonl"
    source.write_text(json.dumps(first), encoding="utf-8")
    index = tmp_path / "index"
    build([source], index, workers=1)
    source.write_text("\n".join(json.dumps(x) for x in (first, second, first)), encoding="utf-8")
    update([source], index, workers=1)
    [found] = Engine(index).get(["x"])
    assert found is not None and (found.title, found.body) == ("First", "one")
    result = verify([source], index)
    assert result["columns_ok"] and result["missing"] == result["extra"] == []
