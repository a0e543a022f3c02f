"""Did-you-mean on a small real index: the user's capitalization and script are kept, the
nearest word wins before the most frequent, a Russian word gets no Ukrainian spelling."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsearch.search.engine import Engine
from newsearch.search.querylang import OPERATORS
from newsearch.search.types import SearchRequest
from tests.test_search import article, build_index

ARTICLES = [
    article(1, "Gordon Brown sets out budget", "Gordon Brown has been clear about the budget."),
    article(2, "Brown defends tax plans", "Gordon Brown said taxes have been kept low."),
    article(3, "Markets have been calm", "Shares have been steady and bonds have been flat."),
    article(4, "Trade has been slow", "It has been a slow year, traders said."),
    article(5, "Exports have been rising", "Exports have been rising for a year."),
    article(
        6,
        "Ходорковський вийшов на волю",
        "Михайло Ходорковський провів у в'язниці десять років.",
        language="uk",
    ),
    article(
        7, "Нефть подорожала", "Цены на нефть выросли после заявления министра.", language="ru"
    ),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(build_index(tmp_path_factory.mktemp("spelling"), ARTICLES))


def suggestion(engine: Engine, query: str) -> str | None:
    page = engine.search(SearchRequest(query=query))
    if page.did_you_mean is not None:  # only offered when it finds more
        better = engine.search(SearchRequest(query=page.did_you_mean, first=0))
        assert better.total > page.total
    return page.did_you_mean


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gordon Brwn", "gordon Brown"),
        ("Gordon Brwn", "Gordon Brown"),
        ("GORDON BRWN", "GORDON BROWN"),
        ("brwn", "brown"),
        ("Нефтъ", "Нефть"),
        ("НЕФТЪ", "НЕФТЬ"),
    ],
)
def test_a_correction_is_written_as_the_user_wrote_the_word(
    engine: Engine, query: str, expected: str
) -> None:
    assert suggestion(engine, query) == expected


def test_the_nearest_word_wins_before_the_most_frequent(engine: Engine) -> None:
    # ``been`` (2 edits away) is in four articles and would find the most; ``Brown`` is 1 edit.
    assert suggestion(engine, "Brwn") == "Brown"


@pytest.mark.parametrize(
    "query",
    [
        "Ходорковский",  # a correct Russian word (pymorphy3's Russian dictionary has it)
        "Ходорковскый",  # ы: a Russian word, however misspelt
    ],
)
def test_a_russian_word_gets_no_ukrainian_spelling(engine: Engine, query: str) -> None:
    # The archive has only the Ukrainian ``Ходорковський``, within 1-2 edits of both.
    assert suggestion(engine, query) is None


def test_a_ukrainian_misspelling_still_gets_the_ukrainian_word(engine: Engine) -> None:
    assert suggestion(engine, "Ходорковсьий") == "Ходорковський"
    # A misspelling that keeps the name's key (search/names.py) finds the name as it is.
    page = engine.search(SearchRequest(query="Ходорковськй"))
    assert [h.article.id for h in page.hits] == ["t6"] and page.did_you_mean is None


@pytest.mark.parametrize("query", ["Министр", "Gordon", "ходорковського"])
def test_a_word_the_archive_has_in_some_form_is_not_corrected(engine: Engine, query: str) -> None:
    # The archive writes ``министра`` (1 edit away) and ``Ходорковський``: the query finds them.
    page = engine.search(SearchRequest(query=query))
    assert page.total >= 1 and page.did_you_mean is None


def test_a_correction_is_never_an_operator(tmp_path: Path) -> None:
    """Capitals kept, ``NO`` would become ``NOT`` (and ``AN`` ``AND``): read as operators, not
    words, so such candidates are passed over and the search answers as usual."""
    docs = [article(1, "Fees will not rise", "Taxes will not rise, and nor will fees.")]
    engine = Engine(build_index(tmp_path, docs))
    for query in ("NO", "AN", "NO fees"):
        page = engine.search(SearchRequest(query=query))
        assert page.did_you_mean is None or not set(page.did_you_mean.split()) & OPERATORS
    assert engine.search(SearchRequest(query="NO")).did_you_mean == "NOR"
