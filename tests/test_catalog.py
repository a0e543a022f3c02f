"""The table of value fields (``search/catalog.py``) is what every part reads: each entry is
in the columns, the filters, the facets, the query language, the GraphQL schema and the
stats (so a half-added facet fails here), and a new entry over an article attribute is a
working column, filter and facet without other code."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from newsearch.indexer.maintenance import index_stats, verify
from newsearch.search.catalog import VALUE_FIELDS, VALUE_QUERY_FIELDS, ValueField, ValueFilter
from newsearch.search.engine import Engine
from newsearch.search.facets import facet
from newsearch.search.fields import FIELD_KINDS, QUERY_KINDS
from newsearch.search.filters import field_mask
from newsearch.search.model import Article
from newsearch.search.querylang import FIELD_ORDER, parse_query
from newsearch.search.storage.columns import build_columns, read_columns, write_columns
from newsearch.search.types import MAX_FIRST, FacetValue, Filters, SearchRequest
from newsearch.search.values import fold
from tests.conftest import DEMO
from tests.test_api import Client


def _values(field: ValueField, article: Article) -> list[str]:
    held = getattr(article, field.attribute)
    return list(held) if field.many else [held]


def _articles(engine: Engine) -> list[Article]:
    gen = engine.reader.generation()
    return [gen.article(int(d)) for d in np.flatnonzero(np.asarray(gen.columns.live))]


def _ids(engine: Engine, query: str = "", filters: Filters | None = None) -> set[str]:
    req = SearchRequest(query=query, filters=filters or Filters(), first=MAX_FIRST, facets=())
    page = engine.search(req)
    assert page.total == len(page.hits)
    return {h.article.id for h in page.hits}


GRAPHQL = """query($filter: SearchFilter, $fields: [FacetField!]!) {
  search(filter: $filter, first: 0, facets: {fields: $fields, size: 100}) {
    ... on ArticleConnection { totalCount facets { field values { value count } } }
    ... on QueryError { message }
  }
}"""


@pytest.mark.parametrize("field", VALUE_FIELDS, ids=lambda f: f.name)
def test_every_value_field_is_in_every_part(
    demo_index: Path, demo_engine: Engine, field: ValueField
) -> None:
    articles = _articles(demo_engine)
    assert len(articles) == demo_engine.info().documents
    counts = Counter(v for a in articles for v in _values(field, a))
    value = max(counts, key=lambda v: (counts[v], v))
    typed = value.upper()
    assert value and fold(typed) == fold(value)
    expected = {a.id for a in articles if fold(value) in {fold(v) for v in _values(field, a)}}
    assert 0 < len(expected) < len(articles)

    # Columns: the field's values as the articles hold them.
    gen = demo_engine.reader.generation()
    assert sorted(gen.columns.values[field.name]) == sorted(counts)
    # Filters: each of the field's, in any case (one value: any of and all of agree).
    assert field.filters
    for flt in field.filters:
        filters = Filters(**{flt.attribute: (typed,)})
        assert filters.wanted(flt) == (typed,)
        assert _ids(demo_engine, filters=filters) == expected, flt.argument
    # Facets: a request counts it by name, in the archive's spelling.
    page = demo_engine.search(SearchRequest(facets=(field.name,), facet_size=MAX_FIRST, first=0))
    assert [f.name for f in page.facets] == [field.name]
    assert page.facets[0].distinct == len(counts)
    shown = page.facets[0].values
    assert shown and all(v == FacetValue(v.value, counts[v.value]) for v in shown)
    # The query language: its field, by the filters' rule or by its words.
    assert field.name in FIELD_ORDER
    if field.query == "values":
        assert field.name in VALUE_QUERY_FIELDS
        assert _ids(demo_engine, f'{field.name}:"{typed}"') == expected
    else:
        assert QUERY_KINDS[field.name] == (field.attribute,)
        assert field.attribute in FIELD_KINDS
        assert parse_query(f"{field.name}:{value.split()[0]}") is not None
    # GraphQL: the facet enum and each filter argument.
    client = Client(demo_index)
    for flt in field.filters:
        result = client.execute(
            GRAPHQL, {"filter": {flt.argument: [typed]}, "fields": [field.graphql_name]}
        )
        assert result.errors is None, result.errors
        found = result.data["search"]
        assert found["totalCount"] == len(expected), flt.argument
        assert [f["field"] for f in found["facets"]] == [field.graphql_name]
    # Stats: counted per value when the table says so.
    stats = index_stats(demo_index)
    if field.in_stats:
        assert stats[field.name] == dict(counts)
    else:
        assert field.name not in stats


def test_verify_compares_every_value_field(demo_index: Path) -> None:
    report = verify([DEMO], demo_index)
    assert report["columns_ok"] and not report["changed"] and not report["missing"]


PUBLISHER = ValueField(
    "publisher",
    "source",
    (ValueFilter("publishers", "publishers", "Any of these publishers."),),
)
"""An extra entry over an attribute the articles already have."""
LABELS = ValueField(
    "labels",
    "tags",
    (ValueFilter("labelsAll", "labels_all", "All of these labels.", all_of=True),),
    many=True,
)


def test_a_new_entry_is_a_column_filter_and_facet(demo_engine: Engine, tmp_path: Path) -> None:
    articles = _articles(demo_engine)
    fields = (*VALUE_FIELDS, PUBLISHER, LABELS)
    write_columns(tmp_path, build_columns(len(articles), enumerate(articles), fields))
    cols = read_columns(tmp_path, fields)
    everyone = np.ones(cols.size, dtype=np.bool_)
    for extra, original in ((PUBLISHER, "source"), (LABELS, "tag")):
        assert cols.values[extra.name] == cols.values[original]
        for value in cols.values[original]:
            flt = extra.filters[0]
            mask = field_mask(cols, extra, (value.upper(),), flt.all_of)
            holding = [fold(value) in map(fold, _values(extra, a)) for a in articles]
            assert mask.tolist() == holding, value
        shown = facet(cols, extra.name, everyone, 100, ())
        assert shown.values == facet(cols, original, everyone, 100, ()).values


def test_a_generation_without_a_fields_column_says_to_rebuild(
    demo_engine: Engine, tmp_path: Path
) -> None:
    """A generation built before an entry was added has no column for it: refused with the
    file and the fix, rather than served without the facet."""
    articles = _articles(demo_engine)
    write_columns(tmp_path, build_columns(len(articles), enumerate(articles)))
    with pytest.raises(ValueError, match=r"publisher\.npy is missing.*newsearch index build"):
        read_columns(tmp_path, (*VALUE_FIELDS, PUBLISHER))
    assert read_columns(tmp_path).size == len(articles)
