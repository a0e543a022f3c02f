"""Names across scripts: a Latin name finds its Cyrillic articles and the reverse.

Name keys are checked for the issue's spellings, the names field of an analyzed
article for what it holds (names, not sentence-initial common words), then a real
index built in tmp_path: Kyiv/Kiev/Київ/Киев, Zelensky/Зеленський/Зеленский and
Khodorkovsky/Ходорковский find each other on both scoring paths with the same
scores, an own-script match ranks above an other-script one, highlights mark the
name as the text spells it, and mixed-script input never raises.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from indexer.prepare import analyzed_document
from search.analysis import lemmas_of
from search.engine import Engine
from search.highlight import MatchTerms, match_spans
from search.model import Article
from search.names import name_key
from search.types import SearchError, SearchRequest
from tests.test_names import index_of


@pytest.mark.parametrize(
    "spellings",
    [
        (("uk", "Київ"), ("ru", "Киев"), ("en", "Kyiv"), ("en", "Kiev")),
        (("uk", "Зеленський"), ("ru", "Зеленский"), ("en", "Zelensky"), ("en", "Zelenskyy")),
        (("ru", "Ходорковский"), ("en", "Khodorkovsky"), ("en", "Khodorkovskiy")),
        (("uk", "Харків"), ("ru", "Харьков"), ("en", "Kharkiv"), ("en", "Kharkov")),
        (("uk", "Львів"), ("ru", "Львов"), ("en", "Lviv")),
        (("uk", "Путін"), ("ru", "Путин"), ("en", "Putin")),
        (("uk", "Олександр"), ("ru", "Александр"), ("en", "Oleksandr")),
    ],
)
def test_spellings_of_a_name_share_its_key(spellings: tuple[tuple[str, str], ...]) -> None:
    keys = {name_key(lang, word) for lang, word in spellings}
    assert len(keys) == 1, [(word, name_key(lang, word)) for lang, word in spellings]


def test_different_names_keep_different_keys() -> None:
    names = ["Київ", "Харків", "Львів", "Путін", "Зеленський", "Ахметов", "Медведев"]
    assert len({name_key("uk", n) for n in names}) == len(names)


_WHEN = datetime.fromisoformat("2024-05-01T10:00:00+03:00")


def _names_field(language: str, title: str, body: str) -> set[str]:
    article = Article(id="a", title=title, body=body, published=_WHEN, language=language)
    terms = analyzed_document(article).document.get("names", [])
    return {key for term in terms if term for key in lemmas_of(term)}


def test_the_names_field_holds_names_not_sentence_initial_words() -> None:
    held = _names_field("en", "Talks Resume In Kyiv", "The talks in Kyiv went on. Grain is sold.")
    # "Talks", "Resume", "The", "Grain": capitalized at a sentence or a title's start only.
    assert held == {name_key("en", "Kyiv")}
    held = _names_field("uk", "Війна", "Учора у Києві відбулася зустріч. Зеленський заявив.")
    # Зеленський starts a sentence and is still a name: pymorphy3 reads it as a surname.
    assert {name_key("uk", "Київ"), name_key("uk", "Зеленський")} <= held
    # A verb ends a name's lowercase words (відбулася зустріч, заявив are not held).
    common = ("Учора", "відбулася", "зустріч", "заявив", "Війна")
    assert held.isdisjoint(name_key("uk", w) for w in common), held
    # A name's lowercase words are held: Ukrainian and Russian capitalize only the first.
    held = _names_field("ru", "Суд", "Вчера Мировой суд Центрального района вынес решение.")
    assert {name_key("ru", w) for w in ("Мировой", "суд", "Центрального", "района")} <= held
    assert held.isdisjoint(name_key("ru", w) for w in ("Вчера", "вынес", "решение"))


_ARTICLES = [
    ("uk1", "uk", "Зустріч у Києві", "Учора у Києві відбулася зустріч. Зеленський заявив."),
    ("ru1", "ru", "Визит в Киев", "Премьер прибыл в Киев. Зеленский встретился с Ходорковским."),
    ("en1", "en", "Talks In Kyiv", "The talks in Kyiv went on. President Zelensky met him."),
    ("en2", "en", "Exile", "He met Mikhail Khodorkovsky in London."),
    ("en3", "en", "War", "War goes on. The war with Russia goes on."),
    ("uk2", "uk", "Війна", "Війна триває, каже Петро. Вар'єте закрите."),
]


@pytest.fixture(scope="module")
def scripts_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_of(tmp_path_factory.mktemp("scripts"), _ARTICLES)


def _ranked(engine: Engine, query: str) -> list[str]:
    page = engine.search(SearchRequest(query=query, highlight=False, first=50))
    return [h.article.id for h in page.hits]


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Kyiv", {"uk1", "ru1", "en1"}),
        ("kiev", {"uk1", "ru1", "en1"}),
        ("Київ", {"uk1", "ru1", "en1"}),
        ("Киеве", {"uk1", "ru1", "en1"}),
        ("Zelensky", {"uk1", "ru1", "en1"}),
        ("Зеленский", {"uk1", "ru1", "en1"}),
        ("Khodorkovsky", {"ru1", "en2"}),
        ("Ходорковский", {"ru1", "en2"}),
        ("Zelenskyy Kyiv", {"uk1", "ru1", "en1"}),
        ('"Mikhail Khodorkovsky"', {"en2"}),
        ("war", {"en3"}),
        ("вар", set()),  # a common word matches no name: War starts its sentence
    ],
)
def test_a_name_is_found_in_every_script(
    scripts_index: Path, accelerated: bool, query: str, found: set[str]
) -> None:
    assert set(_ranked(Engine(scripts_index, accelerated=accelerated), query)) == found


@pytest.mark.parametrize(("query", "first"), [("Київ", "uk1"), ("Киев", "ru1"), ("Kyiv", "en1")])
def test_a_name_in_its_own_script_ranks_first(scripts_index: Path, query: str, first: str) -> None:
    assert _ranked(Engine(scripts_index), query)[0] == first


@pytest.mark.parametrize("query", ["Kyiv", "Зеленский Kyiv", "Kiev OR Ходорковский", "-Kyiv"])
def test_both_paths_score_names_alike(scripts_index: Path, query: str) -> None:
    fast = Engine(scripts_index).search(SearchRequest(query=query, highlight=False, first=50))
    slow = Engine(scripts_index, accelerated=False).search(
        SearchRequest(query=query, highlight=False, first=50)
    )
    assert [h.article.id for h in fast.hits] == [h.article.id for h in slow.hits]
    for a, b in zip(fast.hits, slow.hits, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-5)


def test_highlights_mark_the_name_as_the_text_spells_it(scripts_index: Path) -> None:
    page = Engine(scripts_index).search(SearchRequest(query="Kyiv Zelensky", first=50))
    marked = {
        hit.article.id: {hit.article.body[s.start : s.end] for s in hit.highlights.body_spans}
        for hit in page.hits
        if hit.highlights is not None
    }
    assert marked["uk1"] == {"Києві", "Зеленський"}
    assert marked["ru1"] == {"Киев", "Зеленский"}


def test_highlights_mark_names_only_where_the_names_field_holds_them() -> None:
    """A common word that starts a sentence is not a name (the index leaves it out), so a
    name key does not mark it either; the same word inside a sentence is marked."""
    key = name_key("uk", "Вар")
    text = "War broke out. The War Office answered."
    spans = match_spans(
        text, "en", MatchTerms(terms=frozenset(), phrases=(), names=frozenset({key}))
    )
    assert [(s.start, s.end) for s in spans] == [(19, 22)]


@pytest.mark.parametrize(
    "query",
    [
        *("Kиїв", "Київi", "Kyiv2024", "Zelenskyy-Зеленський", '"Kyiv Київ"', "K", "Ь", "'"),
        *("Kyiv" * 250, "і и", "Б.А. Pokrovskogo"),
    ],
)
def test_mixed_script_input_never_raises(scripts_index: Path, query: str) -> None:
    for accelerated in (True, False):
        try:
            page = Engine(scripts_index, accelerated=accelerated).search(SearchRequest(query=query))
        except SearchError as exc:  # a typed error, for a query with nothing to search only
            assert exc.kind == "syntax", exc
        else:
            assert page.total >= 0


def test_a_hit_without_the_name_in_its_names_field_gets_no_name_marks(tmp_path: Path) -> None:
    """An English title capitalizes every word, so a title word the body never names is not
    held as a name (``name_positions``); a hit found by another word then marks no name in
    it either: marks follow what the names field holds."""
    index = index_of(
        tmp_path,
        [
            ("en1", "en", "Talks In Kyiv", "The talks went on for hours."),
            ("uk1", "uk", "Зустріч", "Учора у Києві відбулася зустріч."),
        ],
    )
    page = Engine(index).search(SearchRequest(query="Київ OR talks", first=10))
    marked = {
        hit.article.id: (
            {hit.article.title[s.start : s.end] for s in hit.highlights.title_spans},
            {hit.article.body[s.start : s.end] for s in hit.highlights.body_spans},
        )
        for hit in page.hits
        if hit.highlights is not None
    }
    assert marked == {"en1": ({"Talks"}, {"talks"}), "uk1": (set(), {"Києві"})}
