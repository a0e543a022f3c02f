"""Names in every grammatical case: Russian lemmas and every plausible lemma of a word.

Analysis is checked word by word, then on a real index built in tmp_path: the
articles of the issue's examples are found by a name in any case, an ambiguous word
counts once in a score, phrases with ambiguous words still match, highlights mark
every form, both scoring paths agree, and bad input never raises.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from whoosh import matching
from whoosh import query as wq

from bench.corpora import write_jsonl
from newsearch.indexer.build import build
from newsearch.search.analysis import lemmas_of, word_term
from newsearch.search.engine import Engine
from newsearch.search.model import Article
from newsearch.search.spelling import known
from newsearch.search.storage.whoosh import AnyLemma
from newsearch.search.types import SearchError, SearchRequest


def lemmas(language: str, word: str) -> set[str]:
    return set(lemmas_of(word_term(language, word)))


@pytest.mark.parametrize(
    "forms",
    [
        ("Медведев", "Медведева", "Медведеву", "Медведевым"),
        ("Киев", "Киеве", "Киева"),
        ("Китай", "Китая", "Китаем"),
        ("Лужков", "Лужкова", "Лужкову"),
        ("Лавров", "Лаврова", "Лаврову"),
        ("мигранты", "мигрантов", "мигрантами"),
    ],
)
def test_russian_forms_share_their_lemma(forms: tuple[str, ...]) -> None:
    # Snowball cut these differently per case (Медведев -> медвед, Медведева -> медведев).
    shared = set.intersection(*(lemmas("ru", f) for f in forms))
    assert shared, [(f, lemmas("ru", f)) for f in forms]


def test_russian_surname_does_not_match_the_laurel_or_the_lavra() -> None:
    assert lemmas("ru", "Лавров").isdisjoint(lemmas("ru", "Лавра"))
    assert lemmas("ru", "ёлка") == lemmas("ru", "елка")  # ё folded as before


@pytest.mark.parametrize(
    ("word", "wanted"),
    [
        ("Києві", {"київ", "кий"}),
        ("Ахметова", {"ахметов", "ахметова"}),
        ("Львова", {"львів", "львов"}),
        ("Львів", {"львів"}),
        ("армії", {"армія"}),
        # Four common readings fill every place: the name's reading (Митя) still gets one.
        ("миті", {"митя"}),
    ],
)
def test_ukrainian_ambiguous_words_keep_every_plausible_lemma(word: str, wanted: set[str]) -> None:
    assert wanted <= lemmas("uk", word)


def test_name_like_words_drop_other_parts_of_speech() -> None:
    # A capitalized surname reading wins over the adjective (лавровий листок, the bay leaf).
    assert "лавровий" not in lemmas("uk", "Лаврова")
    assert lemmas("uk", "лавровий") == {"лавровий"}
    # An all-caps abbreviation is not the vocative of the name Ната.
    assert lemmas("uk", "НАТО") == {"нато"}


_WHEN = datetime.fromisoformat("2024-05-01T10:00:00+03:00")
_ARTICLES = [
    ("uk1", "uk", "Зустріч у Києві", "Учора у Києві відбулася зустріч міністрів."),
    ("uk2", "uk", "Бізнес", "Компанія Ріната Ахметова оголосила про інвестиції."),
    ("uk3", "uk", "Авіація", "Авіакомпанія Кий Авіа відкрила новий рейс."),
    ("uk4", "uk", "Рецепт", "Додайте лавровий листок і перець."),
    ("uk5", "uk", "Столиця", "Київ готується до свята. Київ прикрашають квітами."),
    ("ru1", "ru", "Визит", "Премьер встретился с Медведевым и обсудил бюджет."),
    ("ru2", "ru", "Заявление", "Пресс-служба Медведева сообщила о визите."),
    ("ru3", "ru", "Паломники", "Паломники посетили Киево-Печерскую Лавру и Лавра."),
    ("ru4", "ru", "Переговоры", "Министр Лавров провел переговоры в Китае."),
    ("en1", "en", "War", "The war with Russia goes on; with friends we stand."),
    ("uk6", "uk", "Довге слово", "Слово " + "ж" * 10_000 + " у Києві, п’ять В. Путін НАТО."),
]


def index_of(root: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """An index in ``root`` of (id, language, title, body) rows, all published at one time."""
    articles = [
        Article(id=i, title=t, body=b, published=_WHEN, language=lang) for i, lang, t, b in rows
    ]
    build([write_jsonl(articles, root / "articles.jsonl")], root / "index", workers=1)
    return root / "index"


@pytest.fixture(scope="module")
def names_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_of(tmp_path_factory.mktemp("names"), _ARTICLES)


def _ids(engine: Engine, query: str) -> set[str]:
    page = engine.search(SearchRequest(query=query, highlight=False, first=50))
    return {h.article.id for h in page.hits}


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("Київ", {"uk1", "uk5"}, set()),
        ("Ахметов", {"uk2"}, set()),
        ("Лаврова", set(), {"uk4"}),
        ("Медведев", {"ru1", "ru2"}, set()),
        ("Лавров", {"ru4"}, {"ru3"}),
        ("Китай", {"ru4"}, set()),
        ('"у Києві"', {"uk1"}, set()),
        ('"Києві відбулася"', {"uk1"}, set()),
    ],
)
def test_names_are_found_in_every_case(
    names_index: Path, accelerated: bool, query: str, found: set[str], not_found: set[str]
) -> None:
    ids = _ids(Engine(names_index, accelerated=accelerated), query)
    assert found <= ids, ids
    assert not (not_found & ids), ids


@pytest.mark.parametrize(
    "query",
    ["Києві", "Київ Ахметова", "Києві OR Львова", '"у Києві"', "-Києві", "Кий*", "Медведева"],
)
def test_both_paths_score_ambiguous_words_alike(names_index: Path, query: str) -> None:
    fast = Engine(names_index).search(SearchRequest(query=query, highlight=False, first=50))
    slow = Engine(names_index, accelerated=False).search(
        SearchRequest(query=query, highlight=False, first=50)
    )
    assert fast.total == slow.total
    assert [h.article.id for h in fast.hits] == [h.article.id for h in slow.hits]
    for a, b in zip(fast.hits, slow.hits, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-5)


def _scores(engine: Engine, q: Any) -> dict[int, float]:
    searcher = engine.reader.generation().searcher()
    m = q.matcher(searcher, searcher.context())
    found = {}
    while m.is_active():
        found[m.id()] = m.score()
        m.next()
    return found


def test_an_ambiguous_word_is_scored_once_by_its_best_lemma(names_index: Path) -> None:
    engine = Engine(names_index, accelerated=False)
    kyiv, cue = wq.Term("body_uk", "київ"), wq.Term("body_uk", "кий")
    one, other = _scores(engine, kyiv), _scores(engine, cue)
    best = _scores(engine, AnyLemma([kyiv, cue]))
    assert set(best) == set(one) | set(other)
    assert len(set(one) & set(other)) >= 1  # "у Києві": both lemmas at one position
    for doc, score in best.items():
        assert score == pytest.approx(max(one.get(doc, 0.0), other.get(doc, 0.0)))
    # Whoosh's own DisjunctionMax adds another document's lemma score where its children
    # stand on different documents (the reason for AnyLemma's matcher).
    whoosh_max = _scores(engine, wq.DisjunctionMax([kyiv, cue]))
    assert whoosh_max != best
    assert matching.DisjunctionMaxMatcher is not None


@pytest.mark.parametrize("accelerated", [True, False])
def test_an_ambiguous_word_in_the_index_is_not_corrected(
    names_index: Path, accelerated: bool
) -> None:
    engine = Engine(names_index, accelerated=accelerated)
    gen = engine.reader.generation()
    present = gen.postings.has if accelerated and gen.postings is not None else None
    for word in ("Києві", "Ахметова", "Лавра"):
        assert known(gen.searcher(), word, present), word
    assert not known(gen.searcher(), "Кіеві", present)


def _marked(names_index: Path, query: str) -> list[str]:
    page = Engine(names_index).search(SearchRequest(query=query, first=50))
    found = []
    for hit in page.hits:
        assert hit.highlights is not None
        text = hit.article.body
        found += [text[s.start : s.end] for s in hit.highlights.body_spans]
    return found


def test_highlights_mark_every_form_of_the_query_lemmas(names_index: Path) -> None:
    assert set(_marked(names_index, "Києві")) >= {"Києві", "Київ"}
    assert "Медведева" in _marked(names_index, "Медведев")
    # A phrase marks its words where they stand together, not a lone "with".
    assert _marked(names_index, '"war with Russia"') == ["war with Russia"]


@pytest.mark.parametrize(
    "query",
    [
        "Київ2024",
        "Kиїв",  # a Latin K inside a Cyrillic word
        "Київ" + "i",  # a Latin i at its end
        "м'ясо",
        "п’ять",
        "Івано-Франківськ",
        "Ростов-на-Дону",
        "В. Путін",
        "НАТО ЗСУ",
        '"Ахметова Києві"',
        "Ахметов" * 140,
        "ж" * 999,
        "Кий~ Киє*",
        "я" * 10_000,
    ],
)
def test_bad_input_never_raises(names_index: Path, query: str) -> None:
    # The index holds a 10,000-letter word too (built without error by the fixture).
    for accelerated in (True, False):
        try:
            page = Engine(names_index, accelerated=accelerated).search(SearchRequest(query=query))
        except SearchError as exc:  # a typed error, for a query over the length limit only
            assert exc.kind == "syntax" and len(query) > 1000
        else:
            assert page.total >= 0
