"""Countries by their names in the three languages: Germany, Німеччина, Германия.

The place keys of pycountry's one-word names are checked first, then a real index built in
tmp_path: a country typed in one language finds its articles in the others on both scoring
paths with the same scores, its own language's articles rank first, highlights mark the
country as each text spells it, and a lowercase common word of the same stem is no match.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsearch.search.engine import Engine
from newsearch.search.places import place_key
from newsearch.search.types import SearchRequest
from tests.test_name_scripts import _ranked
from tests.test_names import index_of


@pytest.mark.parametrize(
    "names",
    [
        ("Germany", "Німеччина", "Германия", "GERMANY"),
        ("China", "Китай"),
        ("Poland", "Польща", "Польша"),
        ("Türkiye", "Туреччина", "Турция"),
        ("Moldova", "Молдова", "Молдавия"),
        ("Georgia", "Грузія", "Грузия"),
    ],
)
def test_a_countrys_names_share_its_place_key(names: tuple[str, ...]) -> None:
    keys = {place_key(name) for name in names}
    assert len(keys) == 1 and "" not in keys, {name: place_key(name) for name in names}


@pytest.mark.parametrize("word", ["Велика", "Британія", "Штаты", "Berlin", "німецький", ""])
def test_words_that_name_no_country_have_no_place_key(word: str) -> None:
    # Several-word names are left out: their words alone name no country.
    assert place_key(word) == ""


_ARTICLES = [
    ("en1", "en", "Trade Talks", "The minister flew to Germany on Monday."),
    ("uk1", "uk", "Переговори", "Учора міністр прилетів до Німеччини на переговори."),
    ("ru1", "ru", "Переговоры", "Вчера министр прилетел в Германию на переговоры."),
    ("uk2", "uk", "Кухня", "Учора ми готували німецький суп і пекли хліб."),
    ("en2", "en", "Markets", "Prices in Poland rose on Monday."),
]


@pytest.fixture(scope="module")
def places_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return index_of(tmp_path_factory.mktemp("places"), _ARTICLES)


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize(
    ("query", "first"),
    [("Germany", "en1"), ("Німеччина", "uk1"), ("Германии", "ru1"), ("germany", "en1")],
)
def test_a_country_is_found_in_every_language(
    places_index: Path, accelerated: bool, query: str, first: str
) -> None:
    ranked = _ranked(Engine(places_index, accelerated=accelerated), query)
    assert set(ranked) == {"en1", "uk1", "ru1"}
    assert ranked[0] == first


@pytest.mark.parametrize("query", ["Germany", "Німеччина OR Poland", "Германия -Poland"])
def test_both_paths_score_countries_alike(places_index: Path, query: str) -> None:
    request = SearchRequest(query=query, highlight=False, first=50)
    fast = Engine(places_index).search(request)
    slow = Engine(places_index, accelerated=False).search(request)
    assert [h.article.id for h in fast.hits] == [h.article.id for h in slow.hits]
    for a, b in zip(fast.hits, slow.hits, strict=True):
        assert a.score == pytest.approx(b.score, rel=1e-5)


def test_highlights_mark_the_country_as_each_text_spells_it(places_index: Path) -> None:
    page = Engine(places_index).search(SearchRequest(query="Germany", first=50))
    marked = {
        hit.article.id: {hit.article.body[s.start : s.end] for s in hit.highlights.body_spans}
        for hit in page.hits
        if hit.highlights is not None
    }
    assert marked == {"en1": {"Germany"}, "uk1": {"Німеччини"}, "ru1": {"Германию"}}


@pytest.mark.parametrize("accelerated", [True, False])
def test_a_country_that_starts_a_sentence_or_a_title_is_found_in_every_language(
    tmp_path: Path, accelerated: bool
) -> None:
    """Ukrainian country names are no proper nouns to pymorphy3, and a capitalized word at a
    sentence's or title's start is a name only when it is one: a country is, there too."""
    index = index_of(
        tmp_path,
        [
            ("a", "uk", "Німеччина допомогла Україні", "Допомогу надали вчора."),
            ("b", "uk", "Новини", "Німеччина допомогла."),
            ("c", "uk", "Новини", "Вчора Німеччина допомогла."),
            ("d", "en", "News", "Germany helped. It did so yesterday."),
        ],
    )
    engine = Engine(index, accelerated=accelerated)
    assert set(_ranked(engine, "Germany")) == {"a", "b", "c", "d"}
    assert set(_ranked(engine, "Германия")) == {"a", "b", "c", "d"}
