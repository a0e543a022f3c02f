"""Phrases and proximity from our postings' positions (``search/phrase.py``) against Whoosh.

Whoosh's own matchers are the reference: the positions in our postings must be the ones
Whoosh stores for the same field and document, and every phrase (``Phrase``) and proximity
query (``SpanNear2``) must match the same documents with the same scores, on real indexes
built in tmp folders (the demo articles, the real corpora, generations made by updates).
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import query as wq
from whoosh.query.spans import SpanNear2

from bench.corpora import write_jsonl
from newsearch.indexer.build import apply_changes, build, update
from newsearch.indexer.parse import iter_sources
from newsearch.indexer.prepare import analyzed_document
from newsearch.search.analysis import field_language, lemmas_of, tags_analyzer, text_terms
from newsearch.search.engine import Engine
from newsearch.search.fields import NAMES_FIELD
from newsearch.search.model import Article
from newsearch.search.phrase import PhraseHits, match_near, match_phrase
from newsearch.search.reader import Generation
from newsearch.search.storage.layout import POSTINGS_DIR, Layout
from newsearch.search.storage.postings import FIELDS, MAX_TF, POSITIONAL_FIELDS, Postings
from newsearch.search.storage.whoosh import whoosh_query_matches
from newsearch.search.types import SearchRequest
from tests.conftest import DEMO

_SCORE = 1e-5
"""Relative score tolerance: the equivalence tests' (float32 weights against Whoosh's)."""


def _keys(postings: Postings) -> Iterator[tuple[str, str]]:
    """(field, term) of every key of the postings in a positional field."""
    keys = postings._keys
    for key, _ in keys.prefixed(b""):
        term, field = key.decode().rsplit("\x1f", 1)
        if field in POSITIONAL_FIELDS:
            yield field, term


def _assert_positions_are_whooshs(gen: Generation, step: int = 1) -> int:
    """Every ``step``-th positional key's positions, document by document, equal those of
    Whoosh's postings (its live documents); the number of keys compared."""
    postings = gen.postings
    assert postings is not None and postings.positioned
    reader = gen.searcher().reader()
    live = np.asarray(gen.columns.live)
    compared = 0
    for i, (field, term) in enumerate(_keys(postings)):
        if i % step:
            continue
        found = postings.positions(field, term)
        assert found is not None, (field, term)
        ours = {
            int(d): found.pos[s : s + c].tolist()
            for d, s, c in zip(found.docs, found.starts, found.tf, strict=True)
        }
        theirs = {
            d: list(p) for d, p in reader.postings(field, term).items_as("positions") if live[d]
        }
        assert ours == theirs, (field, term)
        compared += 1
    return compared


def _reference(gen: Generation, q: Any) -> PhraseHits:
    """What Whoosh's matcher makes of ``q``: matched documents and scores."""
    matched, scores = whoosh_query_matches(q, gen.searcher(), np.asarray(gen.columns.live))
    docs = np.flatnonzero(matched)
    return PhraseHits(docs.astype(np.int32), np.zeros(0, np.int64), scores[docs])


def _assert_same_hits(
    ours: PhraseHits | None, whoosh: PhraseHits, what: object, scores: bool = True
) -> None:
    """The same documents; the same scores unless ``scores`` is False (Whoosh's statistics
    count deleted documents until their segment is merged, our postings do not)."""
    assert ours is not None, what
    assert ours.docs.tolist() == whoosh.docs.tolist(), what
    if scores:
        np.testing.assert_allclose(ours.scores, whoosh.scores, rtol=_SCORE, err_msg=str(what))
    assert bool(np.all(ours.frequency >= 1)), what


def _article_phrases(gen: Generation, rng: random.Random, docnum: int) -> list[tuple[str, list]]:
    """(field, words) of 2-4 consecutive words of one article: from its title, body, tags
    and names field, each ambiguous word as one of its lemmas at random; and the same
    words in reverse (mostly no phrase)."""
    article = gen.article(docnum)
    lang = field_language(article.language)
    runs: list[tuple[str, list[list[str]]]] = []
    for kind, text in (("title", article.title), ("body", article.body)):
        runs.append((f"{kind}_{lang}", [lemmas_of(t) for t in text_terms(lang, text)]))
    tags = "\x1f".join(article.tags)
    tag_tokens: dict[int, list[str]] = {}
    for t in tags_analyzer(lang)(tags, positions=True):
        tag_tokens.setdefault(t.pos, []).append(t.text)
    if tag_tokens:
        last = max(tag_tokens)
        runs.append((f"tags_{lang}", [tag_tokens.get(i, []) for i in range(last + 1)]))
    names = analyzed_document(article).document.get(NAMES_FIELD, [])
    runs.append((NAMES_FIELD, [lemmas_of(t) if t else [] for t in names]))
    found: list[tuple[str, list]] = []
    for field, words in runs:
        for _ in range(3):
            size = rng.randint(2, 4)
            if len(words) < size:
                break
            at = rng.randrange(len(words) - size + 1)
            picked = words[at : at + size]
            if not all(picked):
                continue
            phrase = [rng.choice(lemmas) for lemmas in picked]
            found.append((field, phrase))
            found.append((field, phrase[::-1]))
    return found


def _brute_force_phrases(gen: Generation, seed: int, articles: int) -> tuple[int, int]:
    """Random phrases of random articles through both matchers; (phrases, with hits)."""
    rng = random.Random(seed)
    postings = gen.postings
    assert postings is not None
    size = gen.columns.size
    scores = not gen.searcher().reader().has_deletions()
    tried = hits = 0
    for docnum in rng.sample(range(size), min(articles, size)):
        if not gen.columns.live[docnum]:
            continue
        for field, words in _article_phrases(gen, rng, docnum):
            boost = rng.choice([1.0, 0.5, 2.0])
            q = wq.Phrase(field, words, boost=boost)
            ours = match_phrase(postings, field, words, boost=boost)
            _assert_same_hits(ours, _reference(gen, q), q, scores)
            tried += 1
            hits += ours is not None and ours.docs.size > 0
            if rng.random() < 0.3:  # proximity, in order or not
                slop, ordered = rng.randint(2, 6), rng.random() < 0.5
                near = SpanNear2([wq.Term(field, w) for w in words], slop, ordered, mindist=1)
                got = match_near(postings, field, words, slop, ordered)
                _assert_same_hits(got, _reference(gen, near), (near, words), scores)
    return tried, hits


def test_positions_are_whooshs_on_demo(demo_index: Path) -> None:
    gen = Engine(demo_index).reader.generation()
    assert _assert_positions_are_whooshs(gen) > 3000
    # Every positional field has positions (the exact field has none).
    postings = gen.postings
    assert postings is not None
    fields = {field for field, _ in _keys(postings)}
    assert fields >= {"title_uk", "body_uk", "tags_en", NAMES_FIELD}
    assert set(FIELDS) - {"exact"} == POSITIONAL_FIELDS


def test_phrases_match_as_whooshs_on_demo(demo_index: Path) -> None:
    gen = Engine(demo_index).reader.generation()
    tried, hits = _brute_force_phrases(gen, seed=1, articles=40)
    assert tried >= 300 and hits >= 150


@pytest.mark.corpus
def test_positions_are_whooshs_on_real_corpora(corpus_engine: Engine) -> None:
    gen = corpus_engine.reader.generation()
    assert _assert_positions_are_whooshs(gen, step=97) > 1000


@pytest.mark.corpus
def test_phrases_match_as_whooshs_on_real_corpora(corpus_engine: Engine) -> None:
    gen = corpus_engine.reader.generation()
    tried, hits = _brute_force_phrases(gen, seed=7, articles=250)
    print(f"\n{tried} random phrases on the real corpora, {hits} found by both matchers")
    assert tried >= 2000 and hits >= 1000


def test_proximity_cases() -> None:
    """Spans joined as Whoosh's SpanNear2 joins them, on hand-made positions."""
    from newsearch.search.phrase import _near

    def near(words: list[list[int]], slop: int, ordered: bool) -> int:
        positions = [(np.zeros(len(p), np.int64), np.array(p, np.int64)) for p in words]
        return int(_near(positions, 100, 1, slop, ordered)[0])

    assert near([[3], [5]], 2, True) == 1
    assert near([[5], [3]], 2, True) == 0
    assert near([[5], [3]], 2, False) == 1
    assert near([[3], [6]], 2, False) == 0  # 3 apart
    assert near([[1], [5], [3]], 4, False) == 0  # 3 lies inside the span 1-5: no join
    assert near([[1, 2], [3]], 2, True) == 2  # spans 1-3 and 2-3


def _phrase_page(engine: Engine, query: str) -> list[tuple[str, float]]:
    page = engine.search(SearchRequest(query=query, first=50, highlight=False))
    return [(h.article.id, h.score or 0.0) for h in page.hits]


def _assert_same_page(x: list[tuple[str, float]], y: list[tuple[str, float]], q: str) -> None:
    assert [i for i, _ in x] == [i for i, _ in y], q
    for (_, s), (_, t) in zip(x, y, strict=True):
        assert s == pytest.approx(t, rel=_SCORE), q


def _assert_pages_alike(a: Engine, b: Engine, queries: list[str]) -> None:
    for q in queries:
        _assert_same_page(_phrase_page(a, q), _phrase_page(b, q), q)


_QUERIES = [
    '"climate change"',
    '"Верховна Рада"',
    '"армії України"',
    "Gordon Brown",
    '"war with Russia"',
    '"мобилизация в России"',
]


def _by_id(engine: Engine, q: Any) -> dict[str, float]:
    """Article id -> score of what our phrase matcher finds for ``q`` on ``engine``."""
    gen = engine.reader.generation()
    assert gen.postings is not None
    hits = match_phrase(gen.postings, q.fieldname, q.words, boost=q.boost)
    assert hits is not None
    return {gen.article(int(d)).id: float(s) for d, s in zip(hits.docs, hits.scores, strict=True)}


def test_updates_and_deletes_keep_positions_and_phrases(demo_copy: Path, tmp_path: Path) -> None:
    """Generations made by updates (kept documents' positions carried over, changed and new
    ones analyzed, deleted ones gone): positions still Whoosh's, phrases as Whoosh matches
    them, and scores those of a fresh build of the same articles."""
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    files = sorted(demo_copy.rglob("*.txt"))
    files[0].unlink()
    changed = files[1].read_text(encoding="utf-8").replace("\n\n", "\n\nзовсім новий абзац\n\n", 1)
    files[1].write_text(changed, encoding="utf-8")
    shutil.copy(files[2], demo_copy / "copy-of-another.txt")
    update([demo_copy], index, prune=True, workers=1)
    articles = [a for a in iter_sources([demo_copy]) if isinstance(a, Article)]
    changed_article = replace(articles[0], body=articles[0].body + "\n\nНовий абзац тут.")
    added = replace(articles[1], id="api/added", body="Зовсім новий абзац. " + articles[1].body)
    apply_changes(index, [changed_article, added], deletes=[articles[2].id])
    engine = Engine(index)
    gen = engine.reader.generation()
    assert gen.searcher().reader().has_deletions()  # scores are compared with a fresh build
    # Each key's documents ascending, though the update put the parent's after its own.
    postings = gen.postings
    assert postings is not None
    step = np.diff(np.asarray(postings.doc).astype(np.int64))
    inside = np.ones(step.shape[0], dtype=np.bool_)
    inside[np.asarray(postings.ptr)[1:-1] - 1] = False  # a key's last and the next's first
    assert bool(np.all(step[inside] > 0))
    assert _assert_positions_are_whooshs(gen) > 3000
    tried, hits = _brute_force_phrases(gen, seed=3, articles=40)
    assert tried >= 300 and hits >= 150
    # The phrase of the added article and of the changed file, found by both paths alike.
    page = _phrase_page(engine, '"зовсім новий абзац"')
    assert "api/added" in {i for i, _ in page} and len(page) >= 2

    final = [changed_article, added, *articles[1:2], *articles[3:]]
    fresh = Engine(build_fresh(final, tmp_path / "fresh"))
    fresh_whoosh = Engine(tmp_path / "fresh", accelerated=False)
    rng = random.Random(11)
    for docnum in rng.sample(range(gen.columns.size), 20):
        if not gen.columns.live[docnum]:
            continue
        for field, words in _article_phrases(gen, rng, docnum):
            q = wq.Phrase(field, words)
            ours, theirs = _by_id(engine, q), _by_id(fresh, q)
            assert ours.keys() == theirs.keys(), q
            for key, score in ours.items():
                assert score == pytest.approx(theirs[key], rel=_SCORE), q
    # Through the engine: the pages of a fresh build's Whoosh path (its statistics have no
    # deleted documents), ties aside (document numbers differ).
    for query in [*_QUERIES, '"зовсім новий абзац"']:
        ours, theirs = dict(_phrase_page(engine, query)), dict(_phrase_page(fresh_whoosh, query))
        assert len(ours) < 50 and ours.keys() == theirs.keys(), query
        assert all(ours[k] == pytest.approx(theirs[k], rel=_SCORE) for k in ours), query


def build_fresh(articles: list[Article], index: Path) -> Path:
    """A build of ``articles`` from nothing."""
    build([write_jsonl(articles, index.parent / f"{index.name}.jsonl")], index, workers=1)
    return index


def test_postings_without_positions_leave_phrases_to_whoosh(
    demo_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A generation whose postings are of format 1 (no positions): served, its phrases
    matched by Whoosh (same pages), a warning logged; an update gives it positions again."""
    index = tmp_path / "index"
    build([demo_copy], index, workers=1)
    expected = {q: _phrase_page(Engine(index), q) for q in _QUERIES}
    layout = Layout(index)
    served = layout.require_current()
    directory = layout.generation_dir(served) / POSTINGS_DIR
    for name in ("pos.npy", "pos_ptr.npy"):
        (directory / name).unlink()
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    del meta["format"]
    (directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="newsearch.search.reader"):
        old = Engine(index)
        gen = old.reader.generation()
    assert gen.postings is not None and not gen.postings.positioned
    assert f"generation {served} has postings without positions" in caplog.text
    assert match_phrase(gen.postings, "body_en", ["climate", "change"]) is None
    for q in _QUERIES:
        _assert_same_page(_phrase_page(old, q), expected[q], q)
    assert any(expected.values())

    files = sorted(demo_copy.rglob("*.txt"))
    files[0].unlink()
    update([demo_copy], index, prune=True, workers=1)
    gen = Engine(index).reader.generation()
    assert gen.postings is not None and gen.postings.positioned
    assert _assert_positions_are_whooshs(gen) > 3000


def test_a_term_over_the_frequency_cap_leaves_its_phrases_to_whoosh(tmp_path: Path) -> None:
    """A term a field holds MAX_TF times or more gets no positions (its tf is capped): phrases
    with it are matched by Whoosh.  The field's other terms keep theirs, and once that
    document is gone an update gives the term's key its positions back."""
    demo = [a for a in iter_sources([DEMO]) if isinstance(a, Article)][:3]
    big = replace(
        demo[0], id="big", title="Long list", body="news " * (MAX_TF + 10) + "rare words here"
    )
    big = replace(big, language="en")
    other = replace(
        demo[1], id="other", body="Some rare words here and there, news of it.", language="en"
    )
    index = build_fresh([big, other, *demo[2:]], tmp_path / "index")
    engine = Engine(index)
    gen = engine.reader.generation()
    assert gen.postings is not None
    assert gen.postings.positions("body_en", "news") is None  # a posting without positions
    assert match_phrase(gen.postings, "body_en", ["news", "of"]) is None
    assert gen.postings.positions("body_en", "rare") is not None
    assert match_phrase(gen.postings, "body_en", ["rare", "word"]) is not None
    title = match_phrase(gen.postings, "title_en", ["long", "list"])
    assert title is not None
    queries = ['"rare words here"', '"news of it"', '"news rare"']
    _assert_pages_alike(engine, Engine(index, accelerated=False), queries)
    page = engine.search(SearchRequest(query='"rare words here"', highlight=False))
    assert {h.article.id for h in page.hits} == {"big", "other"}
    apply_changes(index, [], deletes=["big"])
    gen = Engine(index).reader.generation()
    assert gen.postings is not None
    assert gen.postings.positions("body_en", "news") is not None
    found = match_phrase(gen.postings, "body_en", ["news", "of"])
    assert found is not None and found.docs.size == 1
