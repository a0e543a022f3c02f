"""The search API on real on-disk indexes: the demo articles, small built-for-the-test
indexes, and the real corpora (skipped when absent).  Expected values are exact, or checked
against a brute-force computation over the stored articles."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.corpora import all_corpus_articles, entity_judgments, write_jsonl
from newsearch.indexer.build import build
from newsearch.indexer.parse import iter_sources
from newsearch.search.analysis import field_language, lemmas_of, terms, tokens_with_chars, words
from newsearch.search.compile import MAX_EXPANSIONS
from newsearch.search.engine import Engine, _top
from newsearch.search.model import Article
from newsearch.search.paging import cursor_encoder, decode_cursor, request_key
from newsearch.search.types import (
    MAX_FIRST,
    Filters,
    Interval,
    SearchError,
    SearchPage,
    SearchRequest,
    Sort,
)
from tests.conftest import DEMO
from tests.test_fuzz_inputs import FILTERS, TIME_ZONES

ZONES = ("Europe/Kyiv", "UTC", "America/New_York")


# ----------------------------------------------------------------------------- helpers


def short(hits: Iterable[object]) -> list[str]:
    """``en-008`` for ``en-008-mobilization-bill.txt``: demo ids by their 6-character prefix."""
    return [h.article.id[:6] for h in hits]  # type: ignore[attr-defined]


def found(engine: Engine, query: str, **kw: object) -> set[str]:
    """Short ids of every hit (the demo index has 36 articles, so one page holds them all)."""
    page = engine.search(SearchRequest(query=query, first=MAX_FIRST, **kw))  # type: ignore[arg-type]
    assert page.total == len(page.hits)
    return set(short(page.hits))


def syntax_error(engine: Engine, query: str) -> SearchError:
    with pytest.raises(SearchError) as info:
        engine.search(SearchRequest(query=query))
    assert info.value.kind == "syntax"
    return info.value


def article(i: int | str, title: str, body: str, day: int = 1, **kw: object) -> Article:
    """A small English article for the built-for-the-test indexes."""
    return Article(
        id=f"t{i}",
        title=title,
        body=body,
        published=datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=day),
        language=str(kw.pop("language", "en")),
        **kw,  # type: ignore[arg-type]
    )


def build_index(directory: Path, articles: Iterable[Article]) -> Path:
    """Build (or rebuild: a new generation) an index of ``articles`` in ``directory/index``."""
    source = write_jsonl(articles, directory / "articles.jsonl")
    summary = build([source], directory / "index", workers=1)
    assert summary.errors == []
    return directory / "index"


@pytest.fixture(scope="module")
def demo_articles(demo_engine: Engine) -> dict[str, Article]:
    """Every demo article as stored, keyed by id (ids read from the demo files themselves)."""
    ids = sorted(a.id for a in iter_sources([DEMO]) if isinstance(a, Article))
    stored = demo_engine.get(ids)
    assert len(ids) == 36 and all(stored)
    return {a.id: a for a in stored if a is not None}


# ----------------------------------------------------------------------------- 1. API


def test_get_keeps_order_and_gives_none_for_unknown(demo_engine: Engine) -> None:
    got = demo_engine.get(["uk-002-armiia-bronemashyny.txt", "nope", "en-005-markets-year-end.txt"])
    assert [a.id if a else None for a in got] == [
        "uk-002-armiia-bronemashyny.txt",
        None,
        "en-005-markets-year-end.txt",
    ]
    assert got[0] is not None and got[0].title == "Армія отримала партію відремонтованих бронемашин"
    assert got[0].tags == ("армія", "war with Russia", "бронетехніка", "ремонтні заводи")


def test_browse_is_newest_first(demo_engine: Engine, demo_articles: dict[str, Article]) -> None:
    page = demo_engine.browse(Filters(), first=MAX_FIRST)
    newest = sorted(demo_articles.values(), key=lambda a: a.published_utc, reverse=True)
    assert [h.article.id for h in page.hits] == [a.id for a in newest]
    assert page.total == 36 and page.sort is Sort.NEWEST
    assert all(h.score is None and h.highlights is None for h in page.hits)


def test_suggest_tags_and_titles(demo_engine: Engine) -> None:
    mob = demo_engine.suggest("mob")
    assert mob.tags == (("mobilization", 3),)
    assert mob.titles == (
        (
            "en-008-mobilization-bill.txt",
            "Parliament passes mobilization bill after months of debate",
        ),
    )
    kharkiv = demo_engine.suggest("Харк")
    assert kharkiv.tags == (("Харків", 2),)
    assert [t[0] for t in kharkiv.titles] == ["uk-012-chytalnia-v-metro.txt"]
    assert demo_engine.suggest("war with").tags == (("war with Russia", 5),)
    assert demo_engine.suggest("e", limit=2).tags == (("energy", 5), ("elections", 4))
    for nothing in ("", "   ", "zzz", "*", '"', "("):
        assert demo_engine.suggest(nothing).titles == ()
    assert demo_engine.suggest("mob", limit=0) == type(mob)((), ())


def test_info(demo_engine: Engine) -> None:
    info = demo_engine.info()
    assert info.documents == 36
    assert info.languages == {"uk": 12, "ru": 12, "en": 12}
    assert info.date_from == datetime(2014, 5, 25, 18, 10, tzinfo=UTC)  # uk-001, 21:10+03:00
    assert info.date_to == datetime(2026, 2, 20, 10, 0, tzinfo=UTC)  # uk-012, 12:00+02:00
    assert info.generation == "g000001"


def test_new_generation_is_served_without_restart(tmp_path: Path) -> None:
    first = [article(1, "Harbour crane report", "The old crane was repaired.")]
    index = build_index(tmp_path, first)
    slow = Engine(index, check_interval=3600)
    fast = Engine(index, check_interval=0.05)
    for engine in (slow, fast):
        assert found(engine, "crane") == {"t1"}
        assert engine.search(SearchRequest(query="ferry")).total == 0
    build_index(tmp_path, [article(2, "Ferry timetable", "A new ferry starts in May.")])
    # The slow engine keeps its snapshot until it looks again; refresh() looks now.
    assert slow.search(SearchRequest(query="crane")).generation == "g000001"
    assert slow.reader.refresh().name == "g000002"
    time.sleep(0.1)
    for engine in (slow, fast):
        page = engine.search(SearchRequest(query="ferry"))
        assert (page.generation, [h.article.id for h in page.hits]) == ("g000002", ["t2"])
        assert engine.search(SearchRequest(query="crane")).total == 0
        assert engine.get(["t1", "t2"])[0] is None


def test_a_new_generation_compiles_its_words_afresh(tmp_path: Path) -> None:
    """A word's compiled form names only the fields that hold it in the generation it was
    compiled for; the next generation, where it is also in a body, finds that too."""
    first = [article(1, "Ferry timetable", "Crossings start in May.")]
    index = build_index(tmp_path, first)
    engine = Engine(index, check_interval=0)
    assert found(engine, "ferry") == {"t1"}
    second = [*first, article(2, "Harbour news", "The ferry is late again.")]
    build_index(tmp_path, second)
    assert engine.reader.refresh().name == "g000002"
    assert found(engine, "ferry") == {"t1", "t2"}


def _signature(result: object) -> object:
    """A comparable digest of any API result (took_ms left out)."""
    if isinstance(result, SearchPage):
        return (
            [(h.article.id, h.score, h.cursor, h.highlights) for h in result.hits],
            result.total,
            result.facets,
            result.histogram,
            result.did_you_mean,
            result.end_cursor,
        )
    return result


def _mixed_calls() -> list[tuple[str, object]]:
    queries = [
        "energy",
        "армії",
        "мигрантов",
        "migrant",
        "mobili*",
        "mobilizaton",
        '"war with Russia"',
    ]
    queries += ["(energy OR elections) -markets", "-energy", "tag:mobilization", "biatlon~", ""]
    calls: list[tuple[str, object]] = []
    for i, q in enumerate(queries):
        calls.append(("search", SearchRequest(query=q, first=5, histogram=Interval.YEAR)))
        calls.append(
            (
                "search",
                SearchRequest(
                    query=q,
                    sort=[Sort.NEWEST, Sort.OLDEST, None][i % 3],
                    filters=Filters(languages=(("uk", "en"), ("ru",), ())[i % 3]),
                    time_zone=ZONES[i % 3],
                    histogram=Interval.MONTH,
                ),
            )
        )
    calls += [
        ("get", ["uk-009-volontery-armii.txt", "x"]),
        ("related", "en-008-mobilization-bill.txt"),
    ]
    calls += [("suggest", "mob"), ("suggest", "Харк"), ("related", "ru-006-stroyki-migranty.txt")]
    calls += [("get", ["en-003-bold-claims-xss.txt"])]
    assert len(calls) == 30
    return calls


def _call(engine: Engine, kind: str, arg: object) -> object:
    if kind == "search":
        return _signature(engine.search(arg))  # type: ignore[arg-type]
    return getattr(engine, kind)(arg)


def test_reader_is_thread_safe(demo_index: Path) -> None:
    calls = _mixed_calls()
    serial = [_call(Engine(demo_index), kind, arg) for kind, arg in calls]
    shared = Engine(demo_index)  # fresh: every thread opens its own searcher concurrently
    barrier = threading.Barrier(8)
    results: dict[int, list[object]] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        order = list(range(len(calls)))
        random.Random(n).shuffle(order)
        out: list[object] = [None] * len(calls)
        try:
            barrier.wait()
            for i in order:
                out[i] = _call(shared, *calls[i])
        except BaseException as exc:  # reported below, with the thread's traceback lost
            errors.append(exc)
        results[n] = out

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 8
    for out in results.values():
        assert out == serial


# ----------------------------------------------------------------------------- 2. query language

ENERGY = {"en-002", "en-005", "en-009", "ru-009", "uk-006", "uk-010"}  # tag, body or title


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Words: all required.
        ("energy", ENERGY),
        ("energy prices", {"en-002", "en-005", "en-009"}),
        ("energy AND prices", {"en-002", "en-005", "en-009"}),
        # Phrases: consecutive words (en-002 has "energy" and "prices" apart).
        ('"energy prices"', {"en-005", "en-009"}),
        ('"war with Russia"', {"en-001", "en-007", "en-008", "uk-002", "uk-009"}),
        ('"Russian army"', {"en-007"}),
        # OR, exclusion, precedence (OR binds loosest) and parentheses.
        ("biathlon OR хоккей", {"en-012", "ru-002"}),
        ("energy -markets", {"en-009", "ru-009", "uk-006", "uk-010"}),
        ("energy NOT markets", {"en-009", "ru-009", "uk-006", "uk-010"}),
        ('"war with Russia" -army', {"uk-002", "uk-009"}),
        (
            "energy OR elections -markets",
            ENERGY | {"en-004", "ru-005", "ru-011", "uk-001"},
        ),
        (
            "(energy OR elections) -markets",
            {"en-004", "en-009", "ru-005", "ru-009", "ru-011", "uk-001", "uk-006", "uk-010"},
        ),
        ("-(-energy)", ENERGY),
        ("NOT NOT energy", ENERGY),
        # Fields: mobilization is in en-008's title and body, but only in the tags of uk-009/ru-007.
        ("title:mobilization", {"en-008"}),
        ("body:mobilization", {"en-008"}),
        ("tag:mobilization", {"en-008", "ru-007", "uk-009"}),
        ("mobilization", {"en-008", "ru-007", "uk-009"}),
        ("title:армії", {"uk-002", "uk-009"}),
        ("title:мобілізація", set()),
        ('tag:"war with Russia"', {"en-001", "en-007", "en-008", "uk-002", "uk-009"}),
        ('body:"war with Russia"', set()),
        ("category:war", {"en-001", "en-007", "ru-007", "uk-002", "uk-009"}),
        ('category:"Russian aggression"', {"uk-010"}),
        ('source:"Kyiv Ledger"', {"en-007", "en-008", "en-011"}),
        ('source:"Atlantic Desk" energy', {"en-005"}),
        ("language:ru мигранты", {"ru-006"}),
        ("Language:EN -energy -markets", {f"en-{i:03d}" for i in (1, 4, 6, 8, 10, 11, 12)}),
        # Prefixes, also against tags (uk-009 and ru-007 have "mobilization" only as a tag).
        ("mobili*", {"en-008", "ru-007", "uk-009"}),
        ("tag:mobili*", {"en-008", "ru-007", "uk-009"}),
        ("title:mobili*", {"en-008"}),
        ("мобіліз*", {"uk-009"}),
        ("мобилиз*", {"ru-007"}),
        ("мигр*", {"ru-006"}),
        ("category:war*", {"en-001", "en-007", "ru-007", "uk-002", "uk-009"}),
        ("source:kyiv*", {"en-007", "en-008", "en-011"}),
        # Fuzzy words.
        ("mobilizaton~", {"en-008", "ru-007", "uk-009"}),
        ("biatlon~", {"en-012"}),
        ("biatlhon~1", {"en-012"}),
        ("мигранти~", {"ru-006"}),
        # Required words that match nothing make the whole query match nothing ...
        ("energy zzzz*", set()),
        ("energy zzzzqq~", set()),
        ("energy qqqqqq", set()),
        # ... while excluding nothing keeps everything.
        ("energy -zzzz*", ENERGY),
        ("zzzz* OR energy", ENERGY),
    ],
)
def test_query_language(demo_engine: Engine, query: str, expected: set[str]) -> None:
    assert found(demo_engine, query) == expected


def test_purely_negative_queries(demo_engine: Engine, demo_articles: dict[str, Article]) -> None:
    everything = {i[:6] for i in demo_articles}
    assert found(demo_engine, "-energy") == everything - ENERGY
    assert found(demo_engine, "NOT energy") == everything - ENERGY
    markets = found(demo_engine, "markets")
    assert markets == {"en-002", "en-003", "en-005", "en-007"}  # en-003: "marketed"
    assert found(demo_engine, "-energy -markets") == everything - ENERGY - markets
    assert found(demo_engine, "-(energy markets)") == everything - (ENERGY & markets)
    assert found(demo_engine, "energy OR -markets") == everything - (markets - ENERGY)
    assert found(demo_engine, "-category:war") == everything - found(demo_engine, "category:war")
    assert found(demo_engine, "-zzzz*") == everything
    assert found(demo_engine, "-category:zz*") == everything


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ('"energy', 0, "unclosed quote"),
        ('energy "war', 7, "unclosed quote"),
        ('title:"war', 6, "unclosed quote"),
        ('"', 0, "unclosed quote"),
        ('""', 0, "empty phrase"),
        ("(energy", 0, "unclosed ("),
        ("((energy)", 0, "unclosed ("),
        ("(", 0, "unclosed ("),
        ("energy)", 6, "unmatched )"),
        (")", 0, "unmatched )"),
        ("()", 0, "empty parentheses"),
        ("OR", 0, "OR needs a term before it"),
        ("OR energy", 0, "OR needs a term before it"),
        ("energy OR", 7, "OR needs a term after it"),
        ("energy OR OR markets", 7, "OR needs a term after it"),
        ("AND", 0, "AND needs a term on both sides"),
        ("energy AND", 7, "AND needs a term on both sides"),
        ("NOT", 0, "NOT needs a term after it"),
        ("energy NOT", 7, "NOT needs a term after it"),
        ("-", 0, "- needs a term after it"),
        ("energy -", 7, "- needs a term after it"),
        ("*", 0, "prefix '*' is too short"),
        ("**", 0, "prefix '**' is too short"),
        ("a*", 0, "prefix 'a*' is too short"),
        ("energy я*", 7, "prefix 'я*' is too short"),
        ("e*n*", 0, "* is only allowed at the end of a word"),
        ("title:", 0, "title: has no value"),
        ("energy tag:", 7, "tag: has no value"),
        ("energy~3", 0, "fuzzy distance 3 out of range"),
        ("!!!", 0, "no searchable words"),
        ("(" * 40 + "energy" + ")" * 40, 32, "more than 32 nested parentheses or negations"),
        ("x" * 1001, 1000, "query longer than 1000 characters"),
        (" ".join(["energy"] * 65), 64 * 7, "more than 64 terms"),
    ],
)
def test_syntax_errors_are_typed(
    demo_engine: Engine, query: str, position: int, message: str
) -> None:
    error = syntax_error(demo_engine, query)
    assert (error.position, error.message) == (position, message)
    assert error.hint and isinstance(error.hint, str)


def test_longest_query_is_accepted(demo_engine: Engine) -> None:
    query = "energy prices".ljust(1000)
    assert found(demo_engine, query) == {"en-002", "en-005", "en-009"}
    most_terms = " OR ".join(["biathlon", *(f"qq{i:02d}" for i in range(63))])
    assert found(demo_engine, most_terms) == {"en-012"}


# ----------------------------------------------------------------------------- 3. languages


@pytest.mark.parametrize(
    ("query", "expected", "form_in_text"),
    [
        ("армії", {"uk-002", "uk-009"}, {"uk-002": "армія"}),  # uk-002 never says армії
        ("армія", {"uk-002", "uk-009"}, {"uk-009": "армії"}),  # uk-009 never says армія
        ("мигрантов", {"ru-006"}, {"ru-006": "мигранты"}),
        ("migrant", {"en-007", "ru-006"}, {"en-007": "migrants"}),  # ru-006 has tag migrants
    ],
)
def test_inflected_forms_match(
    demo_engine: Engine,
    demo_articles: dict[str, Article],
    query: str,
    expected: set[str],
    form_in_text: dict[str, str],
) -> None:
    assert found(demo_engine, query) == expected
    for short_id, form in form_in_text.items():
        [stored] = [a for i, a in demo_articles.items() if i.startswith(short_id)]
        text_words = {w.lower() for w in words(f"{stored.title} {stored.body}")}
        assert form in text_words and query not in text_words


def test_language_filter_narrows(demo_engine: Engine) -> None:
    assert found(demo_engine, "migrant", filters=Filters(languages=("en",))) == {"en-007"}
    assert found(demo_engine, "migrant", filters=Filters(languages=("ru",))) == {"ru-006"}
    assert found(demo_engine, "mobilization", filters=Filters(languages=("uk", "ru"))) == {
        "uk-009",
        "ru-007",
    }
    assert found(demo_engine, "energy", filters=Filters(languages=("UK",))) == {"uk-006", "uk-010"}
    assert found(demo_engine, "energy", filters=Filters(languages=("de",))) == set()


def test_apostrophes_and_yo_are_folded(demo_engine: Engine) -> None:
    meat = {"uk-003", "uk-006", "uk-009"}  # м’ясо (U+2019), мʼясо (U+02BC), м'ясо (ASCII)
    for spelling in ("м’ясо", "мʼясо", "м'ясо", "м`ясо"):
        assert found(demo_engine, spelling) == meat
    assert found(demo_engine, "объем") == found(demo_engine, "объём") != set()


# ----------------------------------------------------------------------------- 4. ranking


def test_title_match_outranks_body_match(demo_engine: Engine) -> None:
    page = demo_engine.search(SearchRequest(query="Ukrainian"))
    # en-006/011/012 say "Ukrainian" in the title; en-009 only in its body.
    assert set(short(page.hits[:3])) == {"en-006", "en-011", "en-012"}
    assert short(page.hits[3:]) == ["en-009"]
    scores = [h.score for h in page.hits]
    assert all(isinstance(s, float) and s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]


def test_title_outranks_body_with_the_same_words(tmp_path: Path) -> None:
    a = article("a", "Harbour grid upgrade", "Workers met on Monday to discuss the plan.")
    b = article("b", "Workers met on Monday", "Harbour grid upgrade to discuss the plan.")
    engine = Engine(build_index(tmp_path, [b, a]))
    page = engine.search(SearchRequest(query="grid"))
    assert [h.article.id for h in page.hits] == ["ta", "tb"]
    assert page.hits[0].score > page.hits[1].score  # type: ignore[operator]


@pytest.mark.parametrize("accelerated", [True, False])
def test_words_side_by_side_outrank_the_same_words_apart(tmp_path: Path, accelerated: bool) -> None:
    """A name typed as plain words ranks the articles naming it above those holding its words
    apart, even when one of those words is in their title (weighed x3), on both scoring paths;
    an Or of words, or words typed in lower case, get no such bonus."""
    apart = article("apart", "Gordon visits the harbour", "Officials said Brown would attend.")
    named = article("named", "Treasury talks resume", "Gordon Brown met the officials.")
    filler = [article(i, "Weather report", "Rain again in the north.") for i in range(8)]
    engine = Engine(build_index(tmp_path, [apart, named, *filler]), accelerated=accelerated)
    ranked = engine.search(SearchRequest(query="Gordon Brown", highlight=False)).hits
    assert [h.article.id for h in ranked] == ["tnamed", "tapart"]
    assert ranked[0].score > ranked[1].score  # type: ignore[operator]
    # The bonus adds to scores only: the same documents match, and Or is scored as before.
    either = engine.search(SearchRequest(query="Gordon OR Brown", highlight=False)).hits
    assert [h.article.id for h in either] == ["tapart", "tnamed"]
    # Only capitalized words, as names are typed, are looked up side by side.
    lower = engine.search(SearchRequest(query="gordon brown", highlight=False)).hits
    assert [h.article.id for h in lower] == ["tapart", "tnamed"]


@pytest.mark.parametrize("accelerated", [True, False])
def test_a_name_in_another_case_side_by_side_outranks_its_words_apart(
    tmp_path: Path, accelerated: bool
) -> None:
    """The side-by-side bonus follows every lemma of an ambiguous word (Ахметова: ахметов,
    ахметова), so a name typed in its base form ranks the article naming it in another case
    above one holding its words apart, on both scoring paths."""
    uk = {"language": "uk"}
    apart = article("apart", "Рінат приїхав до Донецька", "Пізніше Ахметов говорив.", **uk)
    named = article("named", "Засідання ради", "Рада вислухала Ріната Ахметова вчора.", **uk)
    filler = [article(i, "Прогноз погоди", "Знову дощ на півночі.", **uk) for i in range(8)]
    engine = Engine(build_index(tmp_path, [apart, named, *filler]), accelerated=accelerated)
    for query in ("Рінат Ахметов", "Ріната Ахметова"):
        ranked = engine.search(SearchRequest(query=query, highlight=False)).hits
        assert [h.article.id for h in ranked] == ["tnamed", "tapart"], query
    lower = engine.search(SearchRequest(query="рінат ахметов", highlight=False)).hits
    assert [h.article.id for h in lower] == ["tapart", "tnamed"]


TIED = 120
BETTER = 30


@pytest.fixture(scope="module")
def tie_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """150 articles matching "grid": 30 with it twice (equal scores), 120 once (equal scores),
    published in an order unrelated to the document order; plus 10 that do not match."""
    docs = []
    for i in range(BETTER + TIED + 10):
        if i < BETTER:
            body = "The grid was repaired overnight. The grid held."
        elif i < BETTER + TIED:
            body = "The grid was repaired overnight. The line held."
        else:
            body = "The road was repaired overnight. The line held."
        docs.append(article(f"{i:03d}", "Night shift report", body, day=(i * 37) % 160))
    return Engine(build_index(tmp_path_factory.mktemp("ties"), docs))


def _tie_order() -> list[str]:
    def newest(ids: range) -> list[str]:
        return [f"t{i:03d}" for i in sorted(ids, key=lambda i: -((i * 37) % 160))]

    return newest(range(BETTER)) + newest(range(BETTER, BETTER + TIED))


def test_equal_scores_are_newest_first(tie_engine: Engine) -> None:
    page = tie_engine.search(SearchRequest(query="grid", first=MAX_FIRST))
    assert page.total == BETTER + TIED
    assert [h.article.id for h in page.hits] == _tie_order()[:MAX_FIRST]
    scores = [h.score for h in page.hits]
    assert len(set(scores[:BETTER])) == 1 and len(set(scores[BETTER:])) == 1
    assert scores[0] > scores[BETTER]  # type: ignore[operator]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([1.0, 2.5, 7.123456789]),  # a few base scores: many near-ties
            st.sampled_from([0.0, 3e-10, -3e-10, 4.9e-10, -4.9e-10, 9e-10, 1.2e-9, -2e-9, 1e-6]),
            st.integers(0, 5),  # publication instants: ties there too
        ),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 20),
)
def test_top_is_the_head_of_the_full_order(
    rows: list[tuple[float, float, int]], needed: int
) -> None:
    """The first ``needed`` of all hits ordered by score rounded to 1e-9 (descending), then
    newest, then document number: what sorting every hit would give."""
    scores = np.array([base + jitter for base, jitter, _ in rows])
    published = np.array([p for _, _, p in rows], dtype=np.int64)
    docnums = np.arange(len(rows), dtype=np.int64)
    expected = sorted(
        range(len(rows)), key=lambda d: (-round(float(scores[d]), 9), -published[d], d)
    )[:needed]
    got = _top(docnums, scores, published, needed)
    assert [d for d, _ in got] == expected
    assert [s for _, s in got] == [float(scores[d]) for d in expected]


def collect(engine: Engine, req: SearchRequest) -> list[str]:
    """All hits, page after page; checks the page flags and cursors on the way."""
    ids: list[str] = []
    after = None
    while True:
        page = engine.search(SearchRequest(**{**req.__dict__, "after": after}))
        ids += [h.article.id for h in page.hits]
        assert page.has_previous_page == (after is not None)
        assert page.has_next_page == (len(ids) < page.total)
        assert page.end_cursor == (page.hits[-1].cursor if page.hits else None)
        if not page.has_next_page:
            assert len(ids) == page.total
            return ids
        after = page.end_cursor


def test_paging_through_ties_is_exact(tie_engine: Engine) -> None:
    ids = collect(tie_engine, SearchRequest(query="grid", first=7))
    assert ids == _tie_order()
    assert len(set(ids)) == len(ids)
    newest = collect(tie_engine, SearchRequest(query="grid", first=7, sort=Sort.NEWEST))
    assert newest == sorted(_tie_order(), key=lambda i: -((int(i[1:]) * 37) % 160))


# ----------------------------------------------------------------------------- 5. filters

EN005 = "en-005-markets-year-end.txt"  # 2021-12-31T23:30-05:00 = 2022-01-01T04:30Z


def browse_ids(engine: Engine, filters: Filters, time_zone: str = "UTC") -> set[str]:
    page = engine.search(SearchRequest(filters=filters, first=MAX_FIRST, time_zone=time_zone))
    return set(short(page.hits))


def test_date_bounds_are_inclusive(demo_engine: Engine, demo_articles: dict[str, Article]) -> None:
    at = demo_articles[EN005].published
    assert browse_ids(demo_engine, Filters(published_from=at, published_to=at)) == {"en-005"}
    # The same instant written in another zone is the same bound.
    kyiv = at.astimezone(ZoneInfo("Europe/Kyiv"))
    assert browse_ids(demo_engine, Filters(published_from=kyiv, published_to=kyiv)) == {"en-005"}
    tick = timedelta(microseconds=1)
    assert (
        browse_ids(demo_engine, Filters(published_from=at + tick, published_to=at + tick)) == set()
    )
    later = {i[:6] for i, a in demo_articles.items() if a.published_utc >= at}
    assert browse_ids(demo_engine, Filters(published_from=at)) == later
    earlier = {i[:6] for i, a in demo_articles.items() if a.published_utc <= at}
    assert browse_ids(demo_engine, Filters(published_to=at)) == earlier
    assert len(later) + len(earlier) == 37  # en-005 is in both


def test_naive_dates_are_read_in_the_request_zone(demo_engine: Engine) -> None:
    local = datetime(2021, 12, 31, 23, 30)  # en-005's own local time in New York
    only = Filters(published_from=local, published_to=local)
    assert browse_ids(demo_engine, only, "America/New_York") == {"en-005"}
    assert browse_ids(demo_engine, only, "UTC") == set()
    new_year = Filters(
        published_from=datetime(2022, 1, 1), published_to=datetime(2022, 12, 31, 23, 59)
    )
    assert "en-005" in browse_ids(demo_engine, new_year, "UTC")
    assert "en-005" in browse_ids(demo_engine, new_year, "Europe/Kyiv")
    assert "en-005" not in browse_ids(demo_engine, new_year, "America/New_York")
    assert browse_ids(demo_engine, new_year, "UTC") == {"en-005", "ru-007", "uk-009"}


def test_bad_filters_are_typed(demo_engine: Engine) -> None:
    reversed_range = Filters(published_from=datetime(2024, 1, 2), published_to=datetime(2024, 1, 1))
    for query in ("", "energy"):
        with pytest.raises(SearchError) as info:
            demo_engine.search(SearchRequest(query=query, filters=reversed_range))
        assert info.value.kind == "filter" and info.value.hint
    for zone in ("Mars/Olympus", "Europe", "Etc", "a" * 300, "", "../../etc/passwd", "UTC\x00"):
        with pytest.raises(SearchError) as info:
            demo_engine.search(SearchRequest(time_zone=zone))
        assert info.value.kind == "filter", zone


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            Filters(tags_any=("energy", "mobilization")),
            {"en-002", "en-005", "ru-009", "uk-006", "uk-010", "en-008", "ru-007", "uk-009"},
        ),
        (Filters(tags_all=("energy", "енергетика")), {"uk-006", "uk-010"}),
        (Filters(tags_all=("war with Russia", "army")), {"en-001", "en-008"}),
        (Filters(tags_all=("energy", "no such tag")), set()),
        (Filters(tags_any=("energy",), tags_all=("markets",)), {"en-005"}),
        (
            Filters(categories=("Economy",), languages=("uk", "ru")),
            {"uk-003", "uk-006", "ru-001", "ru-006", "ru-009"},
        ),
        (
            Filters(sources=("Kyiv Ledger", "Atlantic Desk"), categories=("Politics",)),
            {"en-004", "en-008"},
        ),
        # Values match case and spacing aside (as the query language's category: does).
        (Filters(categories=("  ECONOMY ",), languages=("UK",)), {"uk-003", "uk-006"}),
        (Filters(sources=("kyiv  ledger",), tags_all=("WAR WITH RUSSIA",)), {"en-007", "en-008"}),
        (Filters(categories=("Econ",)), set()),  # whole values only
        (
            Filters(tags_any=("elections",), exclude_ids=("uk-001-vybory-polissia.txt", "nope")),
            {"en-004", "ru-005", "ru-011"},
        ),
    ],
)
def test_filters_combine(demo_engine: Engine, filters: Filters, expected: set[str]) -> None:
    assert browse_ids(demo_engine, filters) == expected


def test_filters_with_text(demo_engine: Engine) -> None:
    f = Filters(languages=("en", "uk"), categories=("Economy",))
    assert found(demo_engine, "energy", filters=f) == {"en-002", "en-005", "uk-006"}
    page = demo_engine.search(SearchRequest(filters=Filters(tags_any=("energy",))))
    assert page.sort is Sort.NEWEST
    assert short(page.hits) == ["ru-009", "uk-010", "en-005", "uk-006", "en-002"]


# ------------------------------------------------------------------------ 6. facets, histograms


def test_facets_count_the_whole_hit_set(demo_engine: Engine) -> None:
    page = demo_engine.search(SearchRequest(query="energy", first=1))
    assert len(page.hits) == 1 and page.total == 6
    language = {f.name: f for f in page.facets}["language"]
    assert [(v.value, v.count) for v in language.values] == [("en", 3), ("uk", 2), ("ru", 1)]
    assert (language.truncated, language.distinct) == (False, 3)


def test_facets_are_disjunctive(demo_engine: Engine) -> None:
    page = demo_engine.search(
        SearchRequest(query="energy", filters=Filters(languages=("uk",)), facet_size=1)
    )
    assert set(short(page.hits)) == {"uk-006", "uk-010"}
    facets = {f.name: f for f in page.facets}
    language = facets["language"]
    assert [(v.value, v.count, v.selected) for v in language.values] == [
        ("en", 3, False),
        ("uk", 2, True),  # shown though outside the top 1, because it is selected
    ]
    assert (language.truncated, language.distinct) == (True, 3)
    category = facets["category"]  # other facets count within the language filter
    assert [(v.value, v.count) for v in category.values] == [("Economy", 1)]
    assert (category.truncated, category.distinct) == (True, 2)
    tag = demo_engine.search(SearchRequest(filters=Filters(tags_all=("energy", "energy"))))
    assert tag.total == 5
    tags = {f.name: f for f in tag.facets}["tag"]
    assert tags.values[0].value == "energy" and tags.values[0].selected


def _passes(a: Article, f: Filters, tz: ZoneInfo, skip: str = "") -> bool:
    def instant(moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)

    def folded(values: Iterable[str]) -> set[str]:
        return {" ".join(v.casefold().split()) for v in values}

    checks = [
        f.published_from is None or a.published >= instant(f.published_from),
        f.published_to is None or a.published <= instant(f.published_to),
        a.id not in f.exclude_ids,
        skip == "language" or not f.languages or a.language in folded(f.languages),
        skip == "category" or not f.categories or folded([a.category]) <= folded(f.categories),
        skip == "source" or not f.sources or folded([a.source]) <= folded(f.sources),
        skip == "tag" or not f.tags_any or bool(folded(a.tags) & folded(f.tags_any)),
        skip == "tag" or folded(f.tags_all) <= folded(a.tags),
    ]
    return all(checks)


def _values(a: Article, facet: str) -> list[str]:
    return list(dict.fromkeys(a.tags)) if facet == "tag" else [getattr(a, facet)]


def _bucket_key(moment: datetime, interval: Interval) -> str:
    day = moment.date()
    if interval is Interval.WEEK:
        day -= timedelta(days=day.weekday())
    return {
        Interval.DAY: day.isoformat(),
        Interval.WEEK: day.isoformat(),
        Interval.MONTH: f"{day.year:04d}-{day.month:02d}",
        Interval.YEAR: f"{day.year:04d}",
    }[interval]


def check_histogram(
    page: SearchPage, hits: list[Article], interval: Interval, tz: ZoneInfo
) -> None:
    """Every bucket count against the hits' local dates; buckets contiguous, local midnights."""
    expected = Counter(_bucket_key(a.published.astimezone(tz), interval) for a in hits)
    got = {b.key: b.count for b in page.histogram}
    assert {k: c for k, c in got.items() if c} == dict(expected)
    assert sum(got.values()) == len(hits)
    for i, b in enumerate(page.histogram):
        assert (
            b.start.tzinfo == tz and b.start.timetz().replace(tzinfo=None).isoformat() == "00:00:00"
        )
        assert _bucket_key(b.start, interval) == b.key
        assert b.count == sum(b.start <= a.published < b.end for a in hits)
        if i:
            assert page.histogram[i - 1].end == b.start
    if hits:
        assert page.histogram[0].key == min(expected) and page.histogram[-1].key == max(expected)


@pytest.mark.parametrize("zone", [*ZONES, "America/Sao_Paulo", "Asia/Kathmandu"])
@pytest.mark.parametrize("interval", list(Interval))
def test_histogram_of_everything(
    demo_engine: Engine, demo_articles: dict[str, Article], zone: str, interval: Interval
) -> None:
    page = demo_engine.search(SearchRequest(histogram=interval, time_zone=zone))
    check_histogram(page, list(demo_articles.values()), interval, ZoneInfo(zone))


def test_year_end_article_falls_in_the_zone_s_year(demo_engine: Engine) -> None:
    def buckets(zone: str, interval: Interval) -> list[tuple[str, int]]:
        req = SearchRequest(query='"turbulent year"', histogram=interval, time_zone=zone)
        return [(b.key, b.count) for b in demo_engine.search(req).histogram]

    assert buckets("America/New_York", Interval.YEAR) == [("2021", 1)]
    assert buckets("UTC", Interval.YEAR) == [("2022", 1)]
    assert buckets("Europe/Kyiv", Interval.YEAR) == [("2022", 1)]
    assert buckets("America/New_York", Interval.DAY) == [("2021-12-31", 1)]
    assert buckets("Europe/Kyiv", Interval.WEEK) == [("2021-12-27", 1)]  # Saturday 1 January
    years = {
        zone: {
            b.key: b.count
            for b in demo_engine.search(
                SearchRequest(histogram=Interval.YEAR, time_zone=zone)
            ).histogram
        }
        for zone in ZONES
    }
    assert (years["America/New_York"]["2021"], years["America/New_York"]["2022"]) == (3, 2)
    assert (years["UTC"]["2021"], years["UTC"]["2022"]) == (2, 3)
    assert years["Europe/Kyiv"] == years["UTC"]


QUERIES = ["", "energy", "war", "-energy", "mobili*", "elections OR выборы OR вибори", "the"]
QUERIES += ["армії OR army", "Ukraine OR Україна OR Украина", "культура OR culture", "NOT the"]


def _random_filters(rng: random.Random, articles: list[Article]) -> Filters:
    def some(values: Iterable[str], most: int) -> tuple[str, ...]:
        pool = sorted(set(values))
        return tuple(rng.sample(pool, rng.randint(1, most))) if rng.random() < 0.3 else ()

    def bound() -> datetime | None:
        a = rng.choice(articles).published
        return rng.choice([None, None, None, a, a.replace(tzinfo=None), a.astimezone(UTC)])

    return Filters(
        published_from=bound(),
        published_to=bound(),
        tags_any=some((t for a in articles for t in a.tags), 8),
        tags_all=some(
            (
                t
                for a in articles
                for t in a.tags
                if t in ("energy", "culture", "sport", "elections")
            ),
            1,
        ),
        languages=some(["uk", "ru", "en", "UK"], 2),
        categories=some((a.category for a in articles), 2),
        sources=some((a.source for a in articles), 3),
        exclude_ids=some((a.id for a in articles), 4),
    )


def test_filters_facets_histograms_against_brute_force(
    demo_engine: Engine, demo_articles: dict[str, Article]
) -> None:
    rng = random.Random(20260227)
    articles = list(demo_articles.values())
    matched = {q: found(demo_engine, q) for q in QUERIES}
    checked = Counter[str]()
    for _ in range(200):
        query, zone = rng.choice(QUERIES), rng.choice(ZONES)
        tz = ZoneInfo(zone)
        filters = _random_filters(rng, articles)
        interval = rng.choice(list(Interval))
        size = rng.randint(0, 6)
        sort = rng.choice([Sort.NEWEST, Sort.OLDEST, None])
        req = SearchRequest(
            query, filters, sort, MAX_FIRST, facet_size=size, histogram=interval, time_zone=zone
        )
        candidates = [a for a in articles if a.id[:6] in matched[query]]
        try:
            page = demo_engine.search(req)
        except SearchError as exc:
            lo, hi = filters.published_from, filters.published_to
            assert exc.kind == "filter" and lo and hi
            assert (lo if lo.tzinfo else lo.replace(tzinfo=tz)) > (
                hi if hi.tzinfo else hi.replace(tzinfo=tz)
            )
            checked["reversed"] += 1
            continue
        hits = [a for a in candidates if _passes(a, filters, tz)]
        assert page.total == len(hits)
        assert {h.article.id for h in page.hits} == {a.id for a in hits}
        if page.sort is not Sort.RELEVANCE:
            newest = sorted(hits, key=lambda a: a.published_utc, reverse=page.sort is Sort.NEWEST)
            assert [h.article.published_utc for h in page.hits] == [a.published_utc for a in newest]
        check_histogram(page, hits, interval, tz)
        for facet in page.facets:
            pool = [a for a in candidates if _passes(a, filters, tz, skip=facet.name)]
            counts = Counter(v for a in pool for v in _values(a, facet.name))
            top = sorted(counts, key=lambda v: (-counts[v], v))[:size]
            selected = {
                "tag": filters.tags_any + filters.tags_all,
                "language": tuple(x.lower() for x in filters.languages),
                "category": filters.categories,
                "source": filters.sources,
            }[facet.name]
            extra = [v for v in dict.fromkeys(selected) if v not in top]
            assert [(v.value, v.count, v.selected) for v in facet.values] == [
                (v, counts[v], v in selected) for v in top + extra
            ]
            assert (facet.distinct, facet.truncated) == (len(counts), len(counts) > size)
            checked["facets"] += 1
        checked["pages"] += 1
        checked["hits"] += len(hits)
        checked["nonempty"] += bool(hits)
    print(f"\nfilters/facets/histograms against brute force: {dict(checked)}")
    # How much was compared (pages with hits, reversed ranges refused, facet lists):
    assert checked["nonempty"] >= 80 and checked["hits"] >= 350, checked
    assert checked["reversed"] >= 10 and checked["facets"] >= 600, checked


# ----------------------------------------------------------------------------- 7. highlights

_MARK = re.compile(r"</?mark>")


def _marked(fragment_html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", fragment_html)


@pytest.mark.parametrize("query", ["армії", "мигрантов", "energy", "м'ясо", "Ukrainian", "mobili*"])
def test_every_matched_form_is_marked(
    demo_engine: Engine, demo_articles: dict[str, Article], query: str
) -> None:
    page = demo_engine.search(SearchRequest(query=query, fragments=50, fragment_size=100_000))
    assert page.hits
    for hit in page.hits:
        a, hl = hit.article, hit.highlights
        assert hl is not None
        lang = field_language(a.language)
        wanted = {lemma for t in terms(lang, query.rstrip("*")) for lemma in lemmas_of(t)}
        # An ambiguous word's lemma tokens share its characters: one span per word.
        if query.endswith("*"):  # every word of the text starting with the prefix
            expected = [
                (s, e)
                for _, s, e in tokens_with_chars(lang, a.body)
                if a.body[s:e].lower().startswith(query[:-1])
            ]
        else:  # every word of the text with one of the query's lemmas in its language
            expected = [(s, e) for t, s, e in tokens_with_chars(lang, a.body) if t in wanted]
        expected = list(dict.fromkeys(expected))
        assert [(s.start, s.end) for s in hl.body_spans] == expected
        assert all(
            a.body[s.start : s.end] == a.body[s.start : s.end].strip() for s in hl.body_spans
        )
        # One fragment holds the whole body: it marks exactly the spans.
        [whole] = hl.fragments if expected else hl.fragments[:1]
        if expected:
            assert _marked(whole.html) == [html.escape(a.body[s:e]) for s, e in expected]
            assert html.unescape(_MARK.sub("", whole.html)) == a.body
        title = _MARK.sub("", hl.title)
        assert html.unescape(title) == a.title
        assert _marked(hl.title) == [html.escape(a.title[s.start : s.end]) for s in hl.title_spans]


def test_highlight_examples(demo_engine: Engine) -> None:
    [army] = demo_engine.search(
        SearchRequest(query="армії", filters=Filters(tags_any=("армія",)))
    ).hits
    assert army.highlights is not None
    assert army.highlights.title == "<mark>Армія</mark> отримала партію відремонтованих бронемашин"
    assert [army.article.body[s.start : s.end] for s in army.highlights.body_spans] == [
        "Армія",
        "армія",
    ]
    [mob] = demo_engine.search(SearchRequest(query='"частичной мобилизации"')).hits
    assert mob.highlights is not None
    assert mob.highlights.title.startswith("Объявлена <mark>частичная мобилизация</mark>: ")
    body = mob.article.body
    assert [body[s.start : s.end] for s in mob.highlights.body_spans] == ["частичной мобилизации"]
    [war] = demo_engine.search(SearchRequest(query='"war with Russia" -army')).hits[:1]
    assert war.highlights is not None and war.highlights.body_spans == ()  # a tag match
    assert war.highlights.fragments[0].html.count("<mark>") == 0


def test_markup_in_articles_is_escaped(demo_engine: Engine) -> None:
    queries = ["bold script", "onerror img", '"entity sequence"', "unhackable"]
    for query in queries:
        [hit] = demo_engine.search(SearchRequest(query=query, fragments=5)).hits
        hl = hit.highlights
        assert hit.article.id == "en-003-bold-claims-xss.txt" and hl is not None
        for text in (hl.title, *(f.html for f in hl.fragments)):
            bare = _MARK.sub("", text)
            assert "<" not in bare and ">" not in bare
            assert html.unescape(bare).strip("…") in hit.article.title + hit.article.body
    [bold] = demo_engine.search(SearchRequest(query="bold script")).hits
    assert bold.highlights is not None
    assert bold.highlights.title == (
        "Researchers debunk &lt;b&gt;<mark>Bold</mark>&lt;/b&gt; claims about "
        "“unhackable” comment widgets"
    )
    assert any(
        "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in f.html
        for f in bold.highlights.fragments
    )
    [entity] = demo_engine.search(SearchRequest(query='"entity sequence"')).hits
    assert entity.highlights is not None
    assert any(
        "<mark>entity sequence</mark> &amp;lt;b&amp;gt; were decoded" in f.html
        for f in entity.highlights.fragments
    )


# ----------------------------------------------------------------------------- 8. sorting, paging


def test_sort_orders(demo_engine: Engine, demo_articles: dict[str, Article]) -> None:
    energy = [a for i, a in demo_articles.items() if i[:6] in ENERGY]
    by_date = [a.id for a in sorted(energy, key=lambda a: a.published_utc)]
    newest = demo_engine.search(SearchRequest(query="energy", sort=Sort.NEWEST))
    oldest = demo_engine.search(SearchRequest(query="energy", sort=Sort.OLDEST))
    relevance = demo_engine.search(SearchRequest(query="energy"))
    assert [h.article.id for h in newest.hits] == by_date[::-1]
    assert [h.article.id for h in oldest.hits] == by_date
    assert relevance.sort is Sort.RELEVANCE and {h.article.id for h in relevance.hits} == set(
        by_date
    )
    assert all(h.score is None for h in newest.hits + oldest.hits)
    scores = [h.score or 0.0 for h in relevance.hits]
    assert scores == sorted(scores, reverse=True) and min(scores) > 0
    assert newest.total == oldest.total == relevance.total == 6


@pytest.mark.parametrize("first", [1, 2, 5, 7])
@pytest.mark.parametrize("sort", [Sort.RELEVANCE, Sort.NEWEST, Sort.OLDEST])
@pytest.mark.parametrize("query", ["", "the", "-energy", "war OR армія OR армия"])
def test_pages_concatenate_to_the_full_list(
    demo_engine: Engine, query: str, sort: Sort, first: int
) -> None:
    full = demo_engine.search(SearchRequest(query=query, sort=sort, first=MAX_FIRST))
    assert full.total <= MAX_FIRST and len(full.hits) == full.total
    ids = collect(demo_engine, SearchRequest(query=query, sort=sort, first=first))
    assert ids == [h.article.id for h in full.hits]
    assert len(set(ids)) == len(ids)


def test_first_is_capped(demo_engine: Engine) -> None:
    for first in (MAX_FIRST + 1, 1000, -1):
        with pytest.raises(SearchError) as info:
            demo_engine.search(SearchRequest(query="energy", first=first))
        assert info.value.kind == "argument" and str(MAX_FIRST) in info.value.hint
    page = demo_engine.search(SearchRequest(query="energy", first=0))
    assert (page.hits, page.total, page.has_next_page) == ((), 6, True)
    with pytest.raises(SearchError) as info:
        demo_engine.search(SearchRequest(facet_size=-1))
    assert info.value.kind == "argument"


@given(st.text(max_size=20), FILTERS, st.sampled_from(Sort), TIME_ZONES)
def test_request_keys_are_those_of_earlier_releases(
    query: str, filters: Filters, sort: Sort, time_zone: str
) -> None:
    """A cursor names its request by this digest: it must not change between releases, or
    every cursor a client holds would be refused after an upgrade."""
    req = SearchRequest(query=query, filters=filters, time_zone=time_zone)
    payload = json.dumps(
        [query, asdict(filters), sort.value, time_zone], default=str, ensure_ascii=False
    )
    assert request_key(req, sort) == hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _cursor(data: object) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_bad_cursors_are_refused(demo_engine: Engine) -> None:
    req = SearchRequest(query="energy", first=2)
    good = demo_engine.search(req).end_cursor
    assert good is not None
    key = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))["k"]
    tampered = [
        "x",
        "!!!!",
        "ключ",
        good[:-3],
        good[:5] + ("A" if good[5] != "A" else "B") + good[6:],
        good + "AAAA",
        _cursor([1, 2]),
        _cursor({"g": "g000001", "k": key}),
        _cursor({"g": "g000001", "k": key, "o": -1}),
        _cursor({"g": "g000001", "k": key, "o": "1"}),
        _cursor({"g": "g000001", "k": 7, "o": 1}),
        base64.urlsafe_b64encode(b"\xff\xfe{").decode(),
    ]
    for cursor in tampered:
        with pytest.raises(SearchError) as info:
            demo_engine.search(SearchRequest(query="energy", first=2, after=cursor))
        assert info.value.kind == "cursor", cursor
    others = [
        SearchRequest(query="energy markets", first=2),
        SearchRequest(query="energy", first=2, sort=Sort.NEWEST),
        SearchRequest(query="energy", first=2, filters=Filters(languages=("en",))),
        SearchRequest(query="energy", first=2, time_zone="Europe/Kyiv"),
    ]
    for other in others:
        with pytest.raises(SearchError) as info:
            demo_engine.search(SearchRequest(**{**other.__dict__, "after": good}))
        assert info.value.kind == "cursor" and "another query" in info.value.message
    # The same request with another page size still pages on from the cursor.
    rest = demo_engine.search(SearchRequest(query="energy", first=10, after=good))
    assert rest.total == 6 and len(rest.hits) == 4 and rest.has_previous_page


# ----------------------------------------------------------------------------- 9. did you mean


@pytest.mark.parametrize(
    ("query", "suggestion", "finds"),
    [
        ("mobilizaton", "mobilization", {"en-008", "ru-007", "uk-009"}),
        ("мобілізацыя", "мобілізація", {"uk-009"}),  # ы for і
        ("title:mobilizaton", "title:mobilization", {"en-008"}),
        ("mobilizaton parliment", "mobilization parliament", {"en-008"}),
        (
            "(mobilizaton OR biatlon) -хоккей",
            "(mobilization OR biathlon) -хоккей",
            {"en-008", "en-012", "ru-007", "uk-009"},
        ),
        ("energyx", "energy", ENERGY),
    ],
)
def test_did_you_mean(demo_engine: Engine, query: str, suggestion: str, finds: set[str]) -> None:
    page = demo_engine.search(SearchRequest(query=query))
    assert page.did_you_mean == suggestion
    assert page.total < len(finds)
    assert found(demo_engine, suggestion) == finds


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("energy", Filters()),  # plenty of hits
        ("mobilization", Filters()),
        ("energy -category:Economy", Filters()),  # two hits, but every word is right
        ("мобілізація", Filters()),  # one hit, the right word
        ("mobilizaton", Filters(languages=("uk",), categories=("Sport",))),  # finds no more
        ("zzzzzzzz", Filters()),  # nothing close
        ("tag:mobilizaton", Filters()),  # tags are values, not corrected
    ],
)
def test_no_needless_suggestion(demo_engine: Engine, query: str, filters: Filters) -> None:
    assert demo_engine.search(SearchRequest(query=query, filters=filters)).did_you_mean is None


# ----------------------------------------------------------------------------- 10. related


def test_related(demo_engine: Engine) -> None:
    me = "en-008-mobilization-bill.txt"
    related = demo_engine.related(me)
    assert related is not None and 1 <= len(related) <= 5
    ids = [h.article.id for h in related]
    assert me not in ids and len(set(ids)) == len(ids)
    assert all(h.score is not None and h.score > 0 for h in related)
    scores = [h.score or 0.0 for h in related]
    assert scores == sorted(scores, reverse=True)
    assert [h.article.id for h in demo_engine.related(me, first=2) or []] == ids[:2]
    assert demo_engine.related(me, first=0) == []
    assert demo_engine.related("no-such-id") is None
    army = demo_engine.related("uk-009-volontery-armii.txt", first=1)
    assert army is not None and short(army) == ["uk-002"]  # the other armія article


def test_related_skips_exact_duplicates(tmp_path: Path) -> None:
    text = "The harbour crane was repaired after the storm. Dock workers returned to the crane."
    docs = [
        article("x", "Crane repaired", text, day=1),
        article("copy", "Crane repaired", text, day=1),  # same content, another id
        article("copy2", "Crane repaired", text, day=1),
        article("near", "Crane repaired again", text + " Again.", day=2),
        article(
            "other", "Storm closes the harbour", "The storm closed the harbour for a day.", day=3
        ),
    ]
    engine = Engine(build_index(tmp_path, docs))
    for me in ("tx", "tcopy", "tcopy2"):
        related = engine.related(me)
        assert related is not None
        ids = [h.article.id for h in related]
        assert ids[0] == "tnear" and set(ids) == {"tnear", "tother"}
    near = engine.related("tnear", first=3)
    assert near is not None and {h.article.id for h in near} == {"tx", "tcopy", "tcopy2"}


# ----------------------------------------------------------------------------- real corpora

CORPORA = ("bbc", "ner-uk", "factrueval")
SAMPLE = 30


@pytest.fixture(scope="module")
def corpus_articles(corpus_engine: Engine) -> dict[str, list[Article]]:
    groups: dict[str, list[Article]] = {name: [] for name in CORPORA}
    for a in all_corpus_articles():
        groups[a.id.split("/")[0]].append(a)
    return groups


def _title_query(a: Article, df: Counter[str], n: int = 3) -> str:
    """The ``n`` rarest (by document frequency in the corpus) words of the title."""
    candidates = {w.lower() for w in words(a.title) if len(w) >= 3 and w.isalpha()}
    return " ".join(sorted(candidates, key=lambda w: (df[w], w))[:n])


@pytest.mark.corpus
@pytest.mark.parametrize("corpus", CORPORA)
def test_known_item_relevance(
    corpus_engine: Engine, corpus_articles: dict[str, list[Article]], corpus: str
) -> None:
    """Each sampled article is found in the top 3 (a) by the 3 rarest words of its title,
    all required, and (b) by its title's words joined with OR, where ranking alone decides."""
    group = corpus_articles[corpus]
    df: Counter[str] = Counter()
    for a in group:
        df.update({w.lower() for w in words(f"{a.title}\n{a.body}")})
    sample = group[:: len(group) // SAMPLE][:SAMPLE]  # every k-th article by id
    rank: dict[str, Counter[str]] = {"rarest": Counter(), "title OR": Counter()}
    for a in sample:
        title_or = " OR ".join([w for w in words(a.title) if len(w) >= 3][:12])
        for kind, query in (("rarest", _title_query(a, df)), ("title OR", title_or)):
            req = SearchRequest(query=query, first=3, highlight=False, facets=())
            ids = [h.article.id for h in corpus_engine.search(req).hits]
            rank[kind]["top 3"] += a.id in ids
            rank[kind]["top 1"] += ids[:1] == [a.id]
    print(f"\n{corpus}, {len(sample)} articles: {dict(rank)}")
    assert len(sample) == SAMPLE
    assert rank["rarest"]["top 3"] >= 0.9 * SAMPLE
    assert rank["title OR"]["top 3"] >= 0.9 * SAMPLE


@pytest.mark.corpus
@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_entity_recall(corpus_engine: Engine, lang: str) -> None:
    judged = found_judged = 0
    judgments = entity_judgments(lang)
    for query, relevant in judgments:
        hits = collect_ids(corpus_engine, query)
        judged += len(relevant)
        found_judged += len(relevant & hits)
    recall = found_judged / judged
    print(f"\n{lang}: {len(judgments)} entities, recall {found_judged}/{judged} = {recall:.3f}")
    assert recall >= 0.95


def collect_ids(engine: Engine, query: str) -> set[str]:
    """Every hit of ``query`` (date order: no scoring needed), page by page."""
    req = SearchRequest(query=query, first=MAX_FIRST, sort=Sort.NEWEST, highlight=False, facets=())
    return set(collect(engine, req))


@pytest.mark.corpus
def test_prefix_expansion_is_bounded_on_the_corpus(corpus_engine: Engine) -> None:
    from tests.test_query_fuzz import expansion_terms

    sizes = {}
    for prefix in ("co*", "по*", "пр*", "ко*", "ст*", "re*"):
        # Thousands of words start so; several words may share one stem or lemma.
        sizes[prefix] = len(expansion_terms(corpus_engine, prefix))
        assert 150 < sizes[prefix] <= MAX_EXPANSIONS
        assert corpus_engine.search(SearchRequest(query=prefix, first=5)).total > 100
    print(f"\nprefix expansions on the corpora (bound {MAX_EXPANSIONS}): {sizes}")


@given(
    st.text(alphabet="g0123456789", min_size=1, max_size=12),
    st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
    st.integers(min_value=0, max_value=10**12),
)
def test_page_cursor_encoder_writes_the_documented_cursor(
    generation: str, key: str, offset: int
) -> None:
    """base64url of the JSON {"g", "k", "o"}, exactly (what decode_cursor and clients read)."""
    raw = json.dumps({"g": generation, "k": key, "o": offset}, separators=(",", ":"))
    expected = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert cursor_encoder(generation, key)(offset) == expected
    assert decode_cursor(expected, key) == offset + 1


@pytest.mark.parametrize(
    ("query", "hint"),
    [
        (
            "NOT",
            "put the word to leave out after NOT, as in sanctions NOT oil; "
            'to search for the word itself, write "NOT"',
        ),
        (
            "energy NOT)",
            "put the word to leave out after NOT, as in sanctions NOT oil; "
            'to search for the word itself, write "NOT"',
        ),
        ("energy -", "put the word to leave out right after -, as in sanctions -oil"),
        ("(a -)", "put the word to leave out right after -, as in sanctions -oil"),
    ],
)
def test_a_misplaced_not_has_a_hint_a_person_can_follow(
    demo_engine: Engine, query: str, hint: str
) -> None:
    assert syntax_error(demo_engine, query).hint == hint
