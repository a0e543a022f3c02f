"""The accelerated scoring path (numpy postings) against Whoosh's own matchers.

Both paths run on the same real on-disk indexes: every query must give the
same total, the same ranking and the same scores (to float32 precision).
Builds and updates must leave postings identical to a fresh build's.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpora import write_jsonl
from newsearch.indexer.build import OutdatedAnalysis, apply_changes, build, update
from newsearch.indexer.maintenance import verify
from newsearch.indexer.parse import iter_sources
from newsearch.indexer.prepare import analyzed_document
from newsearch.search.analysis import (
    ANALYSIS_VERSION,
    WORD_PATTERN,
    field_language,
    lemmas_of,
    text_analyzer,
    text_terms,
    words,
)
from newsearch.search.engine import Engine
from newsearch.search.exact import EXACT_FIELD
from newsearch.search.model import Article
from newsearch.search.reader import open_generation
from newsearch.search.storage.layout import POSTINGS_DIR, Layout
from newsearch.search.storage.postings import (
    FIELD_INDEX,
    K1,
    B,
    Postings,
    bm25_weights,
)
from newsearch.search.storage.postings import format as postings_format
from newsearch.search.storage.postings.reader import _Keys
from newsearch.search.storage.vocab import MAX_WORD, surface, vocabulary_words
from newsearch.search.types import Filters, MatchMode, SearchError, SearchRequest, Sort
from tests.conftest import rewrite_toc


def _page(engine: Engine, query: str, **options: Any) -> Any:
    try:
        return engine.search(SearchRequest(query=query, highlight=False, **options))
    except SearchError as exc:
        return exc.kind


_SUGGESTED: list[str] = []
"""Queries whose did-you-mean both paths offered (to show the comparison is exercised)."""


def _assert_same(fast: Engine, slow: Engine, query: str, **options: Any) -> bool:
    """Same outcome on both paths; True when the query found something."""
    a, b = _page(fast, query, **options), _page(slow, query, **options)
    if isinstance(b, str):
        assert a == b, query
        return False
    assert a.total == b.total, query
    assert [h.article.id for h in a.hits] == [h.article.id for h in b.hits], query
    for x, y in zip(a.hits, b.hits, strict=True):
        if y.score is None:  # date order
            assert x.score is None, query
        else:
            assert x.score == pytest.approx(y.score, rel=1e-5), query
    assert a.facets == b.facets, query
    assert a.did_you_mean == b.did_you_mean, query
    if b.did_you_mean is not None:
        _SUGGESTED.append(query)
    return bool(b.total > 0)


def _title_words(engine: Engine, step: int) -> list[list[str]]:
    gen = engine.reader.generation()
    found = []
    for docnum in range(0, gen.columns.size, step):
        title = gen.article(docnum).title
        words = [w.strip(".,:;!?\"'«»()") for w in title.split()]
        words = [w for w in words if len(w) > 3 and w.isalpha()]
        if words:
            found.append(words)
    return found


def _queries(words: list[list[str]], seed: int) -> list[str]:
    """1-3 title words, and the same words under OR, NOT, prefix, fuzzy, phrase, fields,
    exact (``=``) and with a typo."""
    rng = random.Random(seed)
    queries = []
    for ws in words:
        picked = rng.sample(ws, min(len(ws), rng.randint(1, 3)))
        a = picked[0]
        queries.append(" ".join(picked))
        queries.append(" OR ".join(picked))
        queries.append(f"{a} -{ws[-1]}" if ws[-1] != a else f"-{a}")
        queries.append(f"{a[:4]}*")
        queries.append(f"{a}~")
        queries.append(f'"{" ".join(ws[:2])}"')
        queries.append(f"title:{a} OR body:{ws[-1]}")
        queries.append(f"({a} OR {ws[-1]}) language:{rng.choice(['uk', 'ru', 'en'])}")
        queries.append(f"{a[:2]}{a[3:]} {ws[-1]}")  # a typo: did-you-mean on both paths
        queries.append(f"={a} {ws[-1]}")
        queries.append(f'"={" =".join(ws[:2])}"')
    return queries


@pytest.fixture(scope="module")
def corpus_pair(corpus_index: Path) -> tuple[Engine, Engine]:
    return Engine(corpus_index), Engine(corpus_index, accelerated=False)


def test_real_corpora_rank_alike_on_both_paths(corpus_pair: tuple[Engine, Engine]) -> None:
    fast, slow = corpus_pair
    assert fast.reader.generation().postings is not None
    queries = _queries(_title_words(fast, step=23), seed=5)
    _SUGGESTED.clear()
    found = sum(_assert_same(fast, slow, q, first=20) for q in queries)
    print(
        f"\naccelerated vs Whoosh: {len(queries)} queries on the real corpora, {found} with "
        f"hits, {len(_SUGGESTED)} with the same did-you-mean"
    )
    assert len(queries) >= 900 and found >= 700 and len(_SUGGESTED) >= 20


def test_real_corpora_alike_with_filters_facets_and_deep_pages(
    corpus_pair: tuple[Engine, Engine],
) -> None:
    fast, slow = corpus_pair
    words = _title_words(fast, step=97)
    facets = ("tag", "language", "category", "source")
    for i, ws in enumerate(words):
        query = " OR ".join(ws[:2])
        _assert_same(fast, slow, query, first=50, facets=facets)
        _assert_same(fast, slow, query, first=10, filters=Filters(languages=("uk", "ru")))
        page = _page(slow, query, first=100)
        if page.total > 100:
            # The deep page is reached through the cursor of the last hit.
            cursor = page.hits[-1].cursor
            _assert_same(fast, slow, query, first=100, after=cursor)
        if i % 3 == 0:
            _assert_same(fast, slow, query, first=10, sort=Sort.OLDEST)


_WORDS = ["уряд", "армії", "Київ", "government", "election", "правительство", "мобилизация"]
_FIELDED = ["title:уряд", "tag:economy", "category:politics", "ел*"]
_EXACT = ["=армії", "=Київ", "title:=уряд", '"=war with Russia"', '="war with"']


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.sampled_from([*_WORDS, *_FIELDED, *_EXACT]),
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda t: f"({t[0]} {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} OR {t[1]})"),
            inner.map(lambda t: f"-{t}"),
        ),
        max_leaves=6,
    ),
    st.sampled_from(list(MatchMode)),
)
def test_boolean_queries_alike_on_demo(demo_index: Path, query: str, mode: MatchMode) -> None:
    fast, slow = Engine(demo_index), Engine(demo_index, accelerated=False)
    _assert_same(fast, slow, query, first=36, match=mode)


def _postings_by_id(index_dir: Path) -> dict[str, dict[str, tuple[int, float]]]:
    """key -> article id -> (tf, weight) of the served generation."""
    layout = Layout(index_dir)
    name = layout.require_current()
    directory = layout.generation_dir(name) / POSTINGS_DIR
    docs = json.loads((directory / "docs.json").read_text(encoding="utf-8"))
    keys_blob = np.load(directory / "term_keys.npy").tobytes()
    key_ptr = np.load(directory / "term_key_ptr.npy")
    ptr, doc = np.load(directory / "ptr.npy"), np.load(directory / "doc.npy")
    tf, weight = np.load(directory / "tf.npy"), np.load(directory / "weight.npy")
    result: dict[str, dict[str, tuple[int, float]]] = {}
    for t in range(len(ptr) - 1):
        key = keys_blob[key_ptr[t] : key_ptr[t + 1]].decode()
        result[key] = {
            docs[int(doc[p])][0]: (int(tf[p]), round(float(weight[p]), 4))
            for p in range(ptr[t], ptr[t + 1])
        }
    return result


def test_update_leaves_postings_of_a_fresh_build(demo_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    files = sorted(demo_copy.rglob("*.txt"))
    files[0].unlink()  # vanished
    changed = files[1].read_text(encoding="utf-8").replace("\n\n", "\n\nзовсім новий абзац\n\n", 1)
    files[1].write_text(changed, encoding="utf-8")
    shutil.copy(files[2], demo_copy / "copy-of-another.txt")  # new id, same content
    summary = update([demo_copy], index, prune=True, workers=1)
    assert (summary.added, summary.updated, summary.deleted) == (1, 1, 1)
    fresh = tmp_path / "fresh"
    build([demo_copy], fresh, workers=1)
    assert _postings_by_id(index) == _postings_by_id(fresh)

    # Through the API: one article changed, one added under a new id, one deleted.
    articles = [a for a in iter_sources([demo_copy]) if isinstance(a, Article)]
    changed_article = replace(articles[0], body=articles[0].body + "\n\nДодатковий абзац.")
    added = replace(articles[1], id="api/added")
    apply_changes(index, [changed_article, added], deletes=[articles[2].id])
    final = [changed_article, added, *articles[1:2], *articles[3:]]
    fresh_api = tmp_path / "fresh-api"
    build([write_jsonl(final, tmp_path / "final.jsonl")], fresh_api, workers=1)
    after = _postings_by_id(index)
    assert any("api/added" in docs for docs in after.values())
    assert after == _postings_by_id(fresh_api)


@pytest.mark.parametrize("old", ["without postings", "field-first keys"])
def test_generation_without_postings_is_searched_by_whoosh(
    demo_copy: Path, tmp_path: Path, old: str
) -> None:
    """A generation of an earlier version: built before postings, or with postings whose
    keys were field-first (their meta.json names no key layout)."""
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    reference = Engine(index)
    queries = ["уряд", "election OR армії", "-government", '"climate change"', "мобилиз*"]
    expected = {q: _page(reference, q, first=36) for q in queries}
    layout = Layout(index)
    directory = layout.generation_dir(layout.require_current()) / POSTINGS_DIR
    if old == "without postings":
        shutil.rmtree(directory)
    else:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        del meta["keys"], meta["analysis"]  # neither was recorded then
        (directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    old = Engine(index)
    assert old.reader.generation().postings is None
    for q in queries:
        got = _page(old, q, first=36)
        assert [h.article.id for h in got.hits] == [h.article.id for h in expected[q].hits]
    # Its terms are an earlier analysis' (analysis 1): an update would mix them with this
    # version's, so it asks for a rebuild, which gives every article its postings.
    with pytest.raises(OutdatedAnalysis, match="rebuild it with `newsearch index build"):
        update([demo_copy], index, workers=1)
    build([demo_copy], index, workers=1)
    assert Engine(index).reader.generation().postings is not None
    fresh = tmp_path / "fresh"
    build([demo_copy], fresh, workers=1)
    assert _postings_by_id(index) == _postings_by_id(fresh)


def test_update_of_an_earlier_analysis_asks_for_a_rebuild(
    demo_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Postings written before analysis versions were recorded hold analysis 1's terms
    (Russian stems, one Ukrainian lemma): updating them would mix two analyses."""
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    layout = Layout(index)
    served = layout.require_current()
    meta_file = layout.generation_dir(served) / POSTINGS_DIR / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    assert meta["analysis"] == ANALYSIS_VERSION
    del meta["analysis"]
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(OutdatedAnalysis, match=f"{served} was analyzed by an earlier version"):
        update([demo_copy], index, workers=1)
    assert layout.require_current() == served  # still served, unchanged
    with caplog.at_level("WARNING", logger="newsearch.search.reader"):
        assert Engine(index).search(SearchRequest(query="election OR армії")).total > 0
    assert f"generation {served} was analyzed by an earlier version" in caplog.text
    assert "rebuilt with `newsearch index build`" in caplog.text


def test_damaged_postings_keep_the_generation_from_opening(demo_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    layout = Layout(index)
    name = layout.require_current()
    doc = layout.generation_dir(name) / POSTINGS_DIR / "doc.npy"
    doc.write_bytes(doc.read_bytes()[:-8])
    with pytest.raises(ValueError):
        open_generation(layout, name)


def test_lookup_finds_every_key_and_nothing_else(demo_index: Path) -> None:
    layout = Layout(demo_index)
    name = layout.require_current()
    gen = open_generation(layout, name)
    postings = gen.postings
    assert isinstance(postings, Postings)
    by_key = _postings_by_id(demo_index)
    for key, docs in by_key.items():
        term, field = key.rsplit("\x1f", 1)
        found, _ = postings.lookup(field, term)
        assert len(found) == len(docs)
    assert postings.lookup("body_uk", "zzzz-not-a-term")[0].size == 0
    assert postings.lookup("body_uk", "")[0].size == 0
    gen.close()


@settings(max_examples=300, deadline=None)
@given(
    st.sets(st.binary(max_size=6), max_size=60),
    st.lists(st.binary(max_size=7), max_size=20),
    st.integers(1, 6),
    st.integers(1, 5),
)
def test_key_table_finds_every_key_and_nothing_else(
    keys: set[bytes], others: list[bytes], stride: int, batch: int
) -> None:
    """The two-level search (an in-memory sample, then a block) against a scan of a list."""
    ordered = sorted(keys)
    ptr = np.zeros(len(ordered) + 1, dtype=np.int64)
    np.cumsum([len(k) for k in ordered], out=ptr[1:])
    blob = np.frombuffer(b"".join(ordered), dtype=np.uint8)
    table = _Keys(blob, ptr, stride=stride)
    neighbours = [k + b"\x00" for k in ordered] + [k[:-1] for k in ordered if k]
    for probe in [*ordered, *others, *neighbours, b"", b"\xff" * 8]:
        first = next((i for i, k in enumerate(ordered) if k >= probe), len(ordered))
        assert table.lower_bound(probe) == first, probe
        expected = [(k, i) for i, k in enumerate(ordered) if k.startswith(probe)]
        assert table.prefixed(probe, batch=batch) == expected, probe


def test_verify_checks_the_postings(demo_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    assert verify([demo_copy], index)["columns_ok"]
    layout = Layout(index)
    docs_file = layout.generation_dir(layout.require_current()) / POSTINGS_DIR / "docs.json"
    docs = json.loads(docs_file.read_text(encoding="utf-8"))
    docs[0], docs[1] = docs[1], docs[0]  # two documents' postings swapped
    docs_file.write_text(json.dumps(docs), encoding="utf-8")
    assert not verify([demo_copy], index)["columns_ok"]


_LETTERS = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяыэъёABCxyz"
_TEXT = st.text(alphabet=st.sampled_from(list(_LETTERS + "'’ʼ`´‘\u0301 -.,\n0123")), max_size=120)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["uk", "ru", "en", "other"]), _TEXT)
def test_fast_analysis_equals_the_analyzer_pipeline(language: str, text: str) -> None:
    expected = [(t.text, t.pos) for t in text_analyzer(language)(text, positions=True)]
    # One position term per word; the pipeline gives each of its lemmas at its position.
    found = [(lemma, i) for i, t in enumerate(text_terms(language, text)) for lemma in lemmas_of(t)]
    assert found == expected


def test_whoosh_gets_the_analyzers_tokens(demo_index: Path) -> None:
    """Title and body reach Whoosh pre-analyzed: its postings and positions are the pipeline's."""
    gen = Engine(demo_index).reader.generation()
    searcher = gen.searcher()
    for docnum in range(gen.columns.size):
        article = gen.article(docnum)
        lang = field_language(article.language)
        for kind, text in (("title", article.title), ("body", article.body)):
            tokens = [(t.text, t.pos) for t in text_analyzer(lang)(text, positions=True)]
            field = f"{kind}_{lang}"
            vector = {
                term: sorted(positions)
                for term, positions in _positions(searcher, docnum, field, {t for t, _ in tokens})
            }
            expected: dict[str, list[int]] = {}
            for token, position in tokens:
                expected.setdefault(token, []).append(position)
            assert vector == expected, (article.id, kind)


def _positions(searcher: Any, docnum: int, field: str, terms: set[str]) -> Any:
    for term in terms:
        matcher = searcher.postings(field, term)
        matcher.skip_to(docnum)
        assert matcher.is_active() and matcher.id() == docnum
        yield term, matcher.value_as("positions")


_VOCAB_TEXT = st.text(alphabet=st.sampled_from(list(_LETTERS + "'’ʼ\u0301 -.,\n0123½ﬁéßÉ")))


def _whole_text_words(language: str, texts: list[str]) -> set[str]:
    """How the vocabulary took words before: normalize the whole text, then split it."""
    text = surface(language, "\n".join(texts))
    return {w for w in re.findall(WORD_PATTERN, text) if len(w) <= MAX_WORD and not w.isdigit()}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["uk", "ru", "en", "de"]), st.lists(_VOCAB_TEXT, max_size=4))
def test_vocabulary_words_are_those_of_the_whole_text(language: str, texts: list[str]) -> None:
    """Split, then normalize each distinct word: the words of normalizing the whole text.

    (Not for Greek: lower() makes a final sigma from the letters around it.)
    """
    texts = [*texts, "a" * MAX_WORD + " " + "b" * (MAX_WORD + 1)]
    split = [w for text in texts for w in words(text)]
    assert vocabulary_words(language, split) == _whole_text_words(language, texts)
    assert vocabulary_words(language, split) == _whole_text_words(language, texts)  # remembered


def test_vocabulary_counted_while_indexing_is_a_recount(demo_copy: Path, tmp_path: Path) -> None:
    """A fresh build counts words in the workers; an update recounts the stored articles."""
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    layout = Layout(index)
    first = layout.require_current()
    counted = (layout.columns_dir(first) / "vocab.json").read_text(encoding="utf-8")
    (demo_copy / "extra.txt").write_text(
        sorted(demo_copy.rglob("*.txt"))[0].read_text(encoding="utf-8"), encoding="utf-8"
    )
    update([demo_copy], index, workers=1)
    (demo_copy / "extra.txt").unlink()
    update([demo_copy], index, prune=True, workers=1)
    recounted = (layout.columns_dir(layout.require_current()) / "vocab.json").read_text("utf-8")
    assert layout.require_current() != first
    assert json.loads(counted) == json.loads(recounted)
    assert sum(len(words) for words in json.loads(counted).values()) > 1000


def _weights_per_posting(
    ptr: Any, doc: Any, tf: Any, field_of_key: Any, lengths: Any, n: int
) -> Any:
    """Whoosh's BM25F per posting, one posting at a time (the reference for bm25_weights)."""
    from whoosh.util.numeric import byte_to_length, length_to_byte

    totals = lengths.sum(axis=0)
    out = []
    for t in range(len(ptr) - 1):
        idf = math.log(n / (ptr[t + 1] - ptr[t] + 1)) + 1
        f = field_of_key[t]
        avgfl = totals[f] / n if totals[f] > 0 else 1.0
        for p in range(ptr[t], ptr[t + 1]):
            fl = byte_to_length(length_to_byte(int(lengths[doc[p], f])))
            norm = tf[p] + K1 * ((1 - B) + B * fl / avgfl)
            out.append(idf * (tf[p] * (K1 + 1)) / norm)
    return np.array(out, dtype=np.float32)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=12),
    st.integers(1, 9),
    st.randoms(use_true_random=False),
)
def test_bm25_weights_over_slices(counts: list[int], slice_size: int, rnd: random.Random) -> None:
    """Weights computed a slice at a time (terms cut across slices, empty terms) are per-posting."""
    n, fields = 5, 3
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    size = int(ptr[-1])
    doc = np.array([rnd.randrange(n) for _ in range(size)], dtype=np.int32)
    tf = np.array([rnd.randint(1, 4) for _ in range(size)], dtype=np.uint16)
    field_of_key = np.array([rnd.randrange(fields) for _ in counts], dtype=np.int8)
    lengths = np.array(
        [[rnd.choice([0, 3, 17, 300, 5000]) for _ in range(fields)] for _ in range(n)]
    )
    lengths = lengths.astype(np.int32)
    expected = _weights_per_posting(ptr, doc, tf, field_of_key, lengths, n)
    original = postings_format._SLICE
    postings_format._SLICE = slice_size
    try:
        got = bm25_weights(ptr, doc, tf, field_of_key, lengths, n)
    finally:
        postings_format._SLICE = original
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_term_frequencies_above_uint16_are_capped() -> None:
    body = "news " * 70_000 + "rare"
    article = Article(
        id="x", title="News", body=body, published=datetime(2024, 1, 1, tzinfo=UTC), language="en"
    )
    stats = analyzed_document(article).stats
    exact = FIELD_INDEX[EXACT_FIELD]
    (title, (_, terms, freqs, length, positions)) = [s for s in stats if s[0] != exact]
    assert title[1:] == (["news"], [1], 1, bytes(4))  # "news" at position 0
    # The exact field holds each form once: a document has it or not; it has no positions.
    assert [s[1:] for s in stats if s[0] == exact] == [
        (["t:news", "b:news", "b:rare"], [1] * 3, 3, b"")
    ]
    assert dict(zip(terms, freqs, strict=True)) == {"news": 65_535, "rare": 1}
    assert length == 70_001
    # a capped frequency: that term's phrases are left to Whoosh, "rare" keeps its position
    assert positions == (70_000).to_bytes(4, "little")


def test_an_index_written_by_the_previous_version_is_served(
    demo_copy: Path, tmp_path: Path
) -> None:
    """An index of the version before Russian lemmas and name keys: Whoosh's pickled schema
    names its Russian chain (``YoFilter``, Snowball) and its postings have no names field.
    It opens and is searched through Whoosh alone (the README's promise for older layouts)."""
    from newsearch.search.analysis import (
        WORD_PATTERN,
        ApostropheFilter,
        Lowercase,
        RegexTokenizer,
        SnowballFilter,
        YoFilter,
    )
    from newsearch.search.fields import NAMES_FIELD
    from newsearch.search.storage.whoosh import TermsText

    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    layout = Layout(index)
    served = layout.require_current()
    old_chain = ApostropheFilter() | Lowercase() | YoFilter() | SnowballFilter("russian")

    def old_schema(toc: Any) -> None:
        for kind in ("title", "body"):
            toc.schema.remove(f"{kind}_ru")
            toc.schema.add(f"{kind}_ru", TermsText(RegexTokenizer(WORD_PATTERN) | old_chain))
        toc.schema.remove(NAMES_FIELD)

    rewrite_toc(index, old_schema)
    meta_file = layout.generation_dir(served) / POSTINGS_DIR / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["fields"] = [f for f in meta["fields"] if f != NAMES_FIELD]
    del meta["analysis"]
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    engine = Engine(index)
    assert engine.reader.generation().postings is None  # Whoosh alone
    assert engine.search(SearchRequest(query="election OR армії")).total > 0


def test_an_index_pickled_with_the_previous_module_paths_is_served(
    demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoosh pickles the schema's field classes by module path: generations built before the
    Whoosh format moved to ``search/storage/whoosh.py`` name ``search.fields.TermsText``.
    Such an index opens, is searched through both paths alike, and is updated."""
    from newsearch.search.storage.whoosh import TermsText

    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    with monkeypatch.context() as patch:
        patch.setattr(TermsText, "__module__", "search.fields")
        toc = rewrite_toc(index, lambda toc: None)  # naming the class at its old path
    pickled = toc.read_bytes()
    assert b"csearch.fields\nTermsText\n" in pickled
    # Only TermsText's path: the analyzers' Whoosh adapter is pickled at its own (current) path.
    assert b"csearch.storage.whoosh\nTermsText\n" not in pickled
    engine = Engine(index)
    assert engine.reader.generation().postings is not None
    assert _assert_same(engine, Engine(index, accelerated=False), "election OR армії")
    shutil.copy(sorted(demo_copy.rglob("*.txt"))[0], demo_copy / "copy.txt")
    assert update([demo_copy], index, workers=1).added == 1
