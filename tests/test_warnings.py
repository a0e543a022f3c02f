"""Typed warnings: filter values and ``category:``/``source:``/``language:`` values that
no article has, and ``name:`` prefixes that are not fields (searched as words, and said so),
on the engine and through GraphQL (``search`` and ``browse``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsearch.search.engine import Engine
from newsearch.search.types import MAX_FIRST, Filters, SearchRequest, SearchWarning, WarningKind
from tests.test_api import Client
from tests.test_search import found

UNKNOWN_VALUE, UNKNOWN_FIELD, LINK = (
    WarningKind.UNKNOWN_FILTER_VALUE,
    WarningKind.UNKNOWN_FIELD,
    WarningKind.LINK,
)
LANGUAGE_HINT = "use ISO 639-1 codes such as en; this archive has en, ru, uk"
FIELDS_HINT = "fields are title, body, tag, category, source, language; "


def warnings(engine: Engine, query: str = "", **filters: tuple[str, ...]) -> list[SearchWarning]:
    req = SearchRequest(query=query, filters=Filters(**filters), first=MAX_FIRST)  # type: ignore[arg-type]
    return list(engine.search(req).warnings)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"languages": ("english",)},
            SearchWarning(
                UNKNOWN_VALUE,
                'languages: "english" matches nothing: no article has this language',
                LANGUAGE_HINT,
            ),
        ),
        (
            {"categories": ("Sprot",)},
            SearchWarning(
                UNKNOWN_VALUE,
                'categories: "Sprot" matches nothing: no article has this category',
                'did you mean "Sport"?',
            ),
        ),
        (
            {"sources": ("Kyiv Leger",)},
            SearchWarning(
                UNKNOWN_VALUE,
                'sources: "Kyiv Leger" matches nothing: no article has this source',
                'did you mean "Kyiv Ledger"?',
            ),
        ),
        (
            {"tags_all": ("energy", "zzzz qqqq")},
            SearchWarning(
                UNKNOWN_VALUE,
                'tagsAll: "zzzz qqqq" matches nothing: no article has this tag',
                "no tag in the archive is close to it; the tag facet lists those in use",
            ),
        ),
    ],
)
def test_filter_values_no_article_has_are_named(
    demo_engine: Engine, filters: dict[str, tuple[str, ...]], expected: SearchWarning
) -> None:
    assert warnings(demo_engine, **filters) == [expected]
    assert warnings(demo_engine, "energy", **filters) == [expected]
    # browse reports them the same way.
    page = demo_engine.browse(Filters(**filters))  # type: ignore[arg-type]
    assert list(page.warnings) == [expected] and page.total == 0


def test_values_in_another_spelling_are_no_warning(demo_engine: Engine) -> None:
    assert warnings(demo_engine, languages=("EN",), categories=(" politics",)) == []
    assert warnings(demo_engine, 'language:UK category:ECONOMY source:"kyiv  ledger"') == []
    assert warnings(demo_engine, "energy markets title:war tag:army 10:30 energy:") == []


def test_query_clause_values_no_article_has(demo_engine: Engine) -> None:
    assert warnings(demo_engine, "language:english") == [
        SearchWarning(
            UNKNOWN_VALUE,
            "language:english matches nothing: no article has this language",
            LANGUAGE_HINT,
            0,
        )
    ]
    assert warnings(demo_engine, 'energy -category:"Polticts"') == [
        SearchWarning(
            UNKNOWN_VALUE,
            'category:"Polticts" matches nothing: no article has this category',
            'did you mean "Politics"?',
            8,
        )
    ]


def test_unknown_field_prefixes_are_searched_as_words(demo_engine: Engine) -> None:
    # Before, markets:energy was the phrase "markets energy" (no article has it).
    assert found(demo_engine, "markets:energy") == found(demo_engine, "markets energy")
    assert found(demo_engine, "markets:energy") == {"en-002", "en-005"}
    assert warnings(demo_engine, "war markets:energy") == [
        SearchWarning(
            UNKNOWN_FIELD,
            "markets: is not a field, so markets:energy was searched as the words markets energy",
            FIELDS_HINT + "write markets energy to search the words without this warning",
            4,
        )
    ]
    # The words stay together: negated, both are left out together.
    everything = found(demo_engine, "")
    assert found(demo_engine, "-markets:energy") == everything - {"en-002", "en-005"}
    assert found(demo_engine, "foo:bar") == found(demo_engine, "foo bar")
    assert [w.kind for w in warnings(demo_engine, "foo:bar")] == [UNKNOWN_FIELD]


def test_a_pasted_link_is_searched_as_its_words(demo_engine: Engine) -> None:
    assert found(demo_engine, "http://energy.markets") == {"en-002", "en-005"}
    assert warnings(demo_engine, "https://energy.markets/2021?x=1") == [
        SearchWarning(
            LINK,
            "https://energy.markets/2021?x=1 looks like a link: it was searched as the words "
            "energy markets 2021 x 1",
            "to find a publisher's articles, use source: or the sources filter; "
            "to search the address as written, put it in quotes",
            0,
        )
    ]
    assert [w.kind for w in warnings(demo_engine, "http://bbc.co.uk")] == [LINK]


WARNINGS = """
query($q: String!, $filter: SearchFilter) {
  search(query: $q, filter: $filter, first: 1, facets: {fields: []}) {
    ... on ArticleConnection { totalCount warnings { kind message hint position } }
  }
  browse(filter: $filter, first: 1, facets: {fields: []}) {
    ... on ArticleConnection { totalCount warnings { kind message hint position } }
  }
}
"""


def test_graphql_warnings_exact_data(demo_index: Path) -> None:
    client = Client(demo_index)
    result = client.execute(
        WARNINGS, {"q": "Yukos:court", "filter": {"languages": ["english", "en"]}}
    )
    assert result.errors is None
    language = {
        "kind": "UNKNOWN_FILTER_VALUE",
        "message": 'languages: "english" matches nothing: no article has this language',
        "hint": LANGUAGE_HINT,
        "position": None,
    }
    assert result.data == {
        "search": {
            "totalCount": 0,
            "warnings": [
                {
                    "kind": "UNKNOWN_FIELD",
                    "message": "Yukos: is not a field, so Yukos:court was searched as the "
                    "words Yukos court",
                    "hint": FIELDS_HINT + "write Yukos court to search the words without "
                    "this warning",
                    "position": 0,
                },
                language,
            ],
        },
        "browse": {"totalCount": 12, "warnings": [language]},
    }
    quiet = client.execute(WARNINGS, {"q": "energy", "filter": {"languages": ["EN"]}})
    assert quiet.data["search"]["warnings"] == quiet.data["browse"]["warnings"] == []
