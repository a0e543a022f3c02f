"""One rule for values: filters (``categories``, ``sources``, ``languages``, ``tagsAny``,
``tagsAll``) and the query language's ``category:``/``source:``/``language:`` match values
case- and whitespace-insensitively, and always the same documents; facets show the
archive's spelling and mark a value selected with any spelling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.corpora import write_jsonl
from newsearch.indexer.build import build, update
from newsearch.search.engine import Engine
from newsearch.search.model import Article
from newsearch.search.types import MAX_FIRST, Filters, SearchRequest
from newsearch.search.values import fold
from tests.test_api import Client

CATEGORIES = ["Politics", "politics", "Arts, Culture", "Straße", "Economy"]
SOURCES = ["BBC News", "bbc  news", "Kyiv Ledger", "Die Zeit", "Уральская неделя"]
LANGUAGES = ["en", "uk", "ru", "de"]
TAGS = ["war with Russia", "Energy", "energy", "Ukraine", "ЖКХ", "İstanbul"]


def _articles(start: int, count: int) -> list[Article]:
    """Articles cycling through the values above at different rates (so they combine)."""
    return [
        Article(
            id=f"v{i}",
            title=f"valued article {i}",
            body="valued",
            published=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=i),
            category=CATEGORIES[i % len(CATEGORIES)],
            source=SOURCES[i % 3 + (i // 7) % 3],
            language=LANGUAGES[i % len(LANGUAGES)],
            tags=tuple(TAGS[(i * k) % len(TAGS)] for k in (1, 2)),
        )
        for i in range(start, start + count)
    ]


ARTICLES = _articles(0, 40) + _articles(40, 30)


@pytest.fixture(scope="module")
def valued_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two segments: a build, then an update that adds articles (Whoosh searches each
    segment with its own matcher, so the clause's documents are split at an offset)."""
    tmp = tmp_path_factory.mktemp("valued")
    first = write_jsonl(ARTICLES[:40], tmp / "first.jsonl")
    assert build([first], tmp / "index", workers=1).errors == []
    second = write_jsonl(ARTICLES[40:], tmp / "second.jsonl")
    assert update([first, second], tmp / "index", workers=1).errors == []
    return tmp / "index"


@pytest.fixture(scope="module")
def engines(valued_index: Path) -> Iterator[tuple[Engine, Engine]]:
    yield Engine(valued_index), Engine(valued_index, accelerated=False)


def ids(engine: Engine, query: str = "", filters: Filters | None = None) -> set[str]:
    req = SearchRequest(query=query, filters=filters or Filters(), first=MAX_FIRST, facets=())
    page = engine.search(req)
    assert page.total == len(page.hits)
    return {h.article.id for h in page.hits}


def test_the_index_has_several_segments(engines: tuple[Engine, Engine]) -> None:
    searcher = engines[1].reader.generation().searcher()
    assert len(searcher.leaf_searchers()) >= 2


def respelled(value: str) -> st.SearchStrategy[str]:
    """``value`` with each letter's case flipped at random and its spaces varied."""
    spaces = st.sampled_from([" ", "  ", "\t", "\u00a0", " \u2003 "])
    letters = st.lists(st.booleans(), min_size=len(value), max_size=len(value))

    def spell(flips: list[bool], inner: str, before: str, after: str) -> str:
        cased = "".join(
            c.swapcase() if flip and len(c.swapcase()) == 1 else c
            for c, flip in zip(value, flips, strict=True)
        )
        return before + cased.replace(" ", inner) + after

    return st.builds(spell, letters, spaces, spaces | st.just(""), spaces | st.just(""))


FIELDS = {"category": "categories", "source": "sources", "language": "languages"}
VALUES = [(f, v) for f, vs in (("category", CATEGORIES), ("source", SOURCES)) for v in vs]
VALUES += [("language", v) for v in LANGUAGES]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), picked=st.sampled_from(VALUES))
def test_filter_and_query_clause_agree_for_any_spelling(
    engines: tuple[Engine, Engine], data: st.DataObject, picked: tuple[str, str]
) -> None:
    field, value = picked
    spelled = data.draw(respelled(value))
    expected = {a.id for a in ARTICLES if fold(getattr(a, field)) == fold(value)}
    assert expected
    clause = f'{field}:"{spelled}"'
    filters = Filters(**{FIELDS[field]: (spelled,)})  # type: ignore[arg-type]
    for engine in engines:
        assert ids(engine, filters=filters) == expected, (spelled, engine.accelerated)
        assert ids(engine, clause) == expected, (clause, engine.accelerated)
        # Combined with words, negated, and as a filter beside the clause.
        assert ids(engine, f"valued -{clause}") == {a.id for a in ARTICLES} - expected
        assert ids(engine, f"valued {clause}", filters) == expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), tag=st.sampled_from(TAGS), other=st.sampled_from(TAGS))
def test_tag_filters_ignore_case_and_spacing(
    engines: tuple[Engine, Engine], data: st.DataObject, tag: str, other: str
) -> None:
    spelled, spelled_other = data.draw(respelled(tag)), data.draw(respelled(other))

    def having(t: str) -> set[str]:
        return {a.id for a in ARTICLES if fold(t) in {fold(x) for x in a.tags}}

    fast, _ = engines
    assert ids(fast, filters=Filters(tags_any=(spelled, spelled_other))) == having(tag) | having(
        other
    )
    assert ids(fast, filters=Filters(tags_all=(spelled, spelled_other))) == having(tag) & having(
        other
    )


def test_values_equal_only_as_whole_values(engines: tuple[Engine, Engine]) -> None:
    fast, slow = engines
    for engine in engines:
        assert ids(engine, filters=Filters(categories=("Arts",))) == set()
        assert ids(engine, 'category:"arts, culture"') == ids(
            engine, filters=Filters(categories=("ARTS,  CULTURE",))
        )
        # ß folds to ss; both archive spellings of Politics are one value.
        assert ids(engine, "category:STRASSE") == {a.id for a in ARTICLES if a.category == "Straße"}
        assert len(ids(engine, "category:politics")) == 2 * len(ARTICLES) // len(CATEGORIES)
        # A prefix clause: every value starting so, folded.
        assert ids(engine, "category:POL*") == ids(engine, "category:politics")
    assert ids(fast, "source:bbc*") == ids(slow, 'source:"BBC NEWS"')


def test_facets_show_the_archive_spelling_selected(engines: tuple[Engine, Engine]) -> None:
    fast, _ = engines
    page = fast.search(
        SearchRequest(
            filters=Filters(categories=(" POLITICS",), sources=("kyiv LEDGER", "No Such")),
            facet_size=1,
        )
    )
    facets = {f.name: f for f in page.facets}
    category = {(v.value, v.selected) for v in facets["category"].values}
    assert {("Politics", True), ("politics", True)} <= category
    assert not any(v.value == " POLITICS" for v in facets["category"].values)
    source = [(v.value, v.selected) for v in facets["source"].values if v.selected]
    assert source == [("Kyiv Ledger", True), ("No Such", True)]


def test_graphql_filters_ignore_case(valued_index: Path) -> None:
    client = Client(valued_index)
    result = client.execute(
        """{ search(filter: {categories: ["politics "], sources: ["bbc news"]},
                    facets: {fields: [SOURCE]}) {
               ... on ArticleConnection { totalCount facets { values { value selected } } } } }"""
    )
    assert result.errors is None
    expected = {
        a.id for a in ARTICLES if fold(a.category) == "politics" and fold(a.source) == "bbc news"
    }
    assert result.data["search"]["totalCount"] == len(expected) > 0
    selected = [v for v in result.data["search"]["facets"][0]["values"] if v["selected"]]
    assert {v["value"] for v in selected} == {"BBC News", "bbc  news"}


def test_graphql_query_clause_and_filter_find_the_archive_spelling(valued_index: Path) -> None:
    """``category:POLITICS`` in the query and ``categories: ["politics"]`` as a filter are one
    rule (``values.fold``): both find ``Politics`` and ``politics``, and the facet shows the
    archive's two spellings."""
    client = Client(valued_index)
    document = """query($q: String!, $filter: SearchFilter) {
      search(query: $q, filter: $filter, facets: {fields: [CATEGORY]}) {
        ... on ArticleConnection { totalCount facets { values { value count } } } } }"""
    expected = {a.id for a in ARTICLES if fold(a.category) == "politics"}
    found = []
    for query, filters in (("category:POLITICS", None), ("", {"categories": ["politics"]})):
        result = client.execute(document, {"q": query, "filter": filters})
        assert result.errors is None
        found.append(result.data["search"])
    by_query, by_filter = found
    assert by_query["totalCount"] == by_filter["totalCount"] == len(expected) > 0
    shown = {v["value"] for v in by_query["facets"][0]["values"]}
    assert shown == {"Politics", "politics"}
