"""The one table of the article's value fields (language, category, source, tag): what each
is, and so what every part of the search engine does with it.

A value field holds whole values (``Politics``, ``BBC News``), not words.  Each entry of
``VALUE_FIELDS`` drives:

* the columns (``storage/columns.py``): one value id per article, or a list (``many``);
* the filters (``filters.py``, ``types.Filters`` and GraphQL ``SearchFilter``): one per
  ``ValueFilter``, any or all of the values asked for;
* the facet counts (``facets.py``, ``types.FACET_NAMES``, the GraphQL ``FacetField`` enum);
* the query language (``querylang.py``): ``name:value`` matches values as the filter does
  (``query="values"``), or searches the words of the article's analyzed text field
  (``query="words"``: ``tag:`` finds ``energy`` in the tag ``Energy crisis``);
* ``newsearch index stats`` and ``index verify`` (``indexer/maintenance.py``).

One case rule for every entry, and for its filter and its query field alike: values are
equal when ``values.fold`` makes them so (case folded, spaces collapsed), and facets show
the archive's own spelling.  Table order is the order of the facets (in a request by
default, in GraphQL's ``FacetField``) and of the filters in ``SearchFilter``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from newsearch.search.model import Article


@dataclass(frozen=True)
class ValueFilter:
    """A filter over one value field: documents with any (or, ``all_of``, every) value asked
    for.  ``argument`` is its GraphQL name in ``SearchFilter`` (``tagsAny``), ``attribute``
    its ``types.Filters`` attribute (``tags_any``)."""

    argument: str
    attribute: str
    description: str
    all_of: bool = False


@dataclass(frozen=True)
class ValueField:
    """One value field.

    ``name`` is its facet's name everywhere: the column and ``values.json`` key, the facet a
    request counts, the GraphQL ``FacetField`` (upper-cased) and the query language's field.
    ``attribute`` is the ``Article`` attribute holding the value (``many``: a tuple of
    them).  ``query`` says what the query language's ``name:`` matches (see the module
    docstring).  ``in_stats``: counted per value by ``index stats``.  ``unknown_hint``: the
    hint for a value no article has, ``{values}`` the archive's values (None: up to three
    values close to the one asked for).
    """

    name: str
    attribute: str
    filters: tuple[ValueFilter, ...]
    many: bool = False
    query: Literal["values", "words"] = "values"
    in_stats: bool = True
    unknown_hint: str | None = None

    @property
    def graphql_name(self) -> str:
        """The member of the GraphQL ``FacetField`` enum."""
        return self.name.upper()


VALUE_FIELDS: tuple[ValueField, ...] = (
    ValueField(
        "tag",
        "tags",
        (
            ValueFilter(
                "tagsAny", "tags_any", "At least one of these tags (case and spacing aside)."
            ),
            ValueFilter("tagsAll", "tags_all", "All of these tags.", all_of=True),
        ),
        many=True,
        query="words",
        in_stats=False,
    ),
    ValueField(
        "language",
        "language",
        (ValueFilter("languages", "languages", "Any of these ISO 639-1 codes."),),
        unknown_hint="use ISO 639-1 codes such as en; this archive has {values}",
    ),
    ValueField(
        "category",
        "category",
        (
            ValueFilter(
                "categories", "categories", "Any of these categories (case and spacing aside)."
            ),
        ),
    ),
    ValueField(
        "source",
        "source",
        (ValueFilter("sources", "sources", "Any of these sources (case and spacing aside)."),),
    ),
)
"""Every value field, in facet order."""

BY_NAME = {f.name: f for f in VALUE_FIELDS}
"""The value fields by name."""
FACET_NAMES = tuple(f.name for f in VALUE_FIELDS)
"""The facets a request may count (all of them by default), in table order."""
VALUE_FILTERS = tuple((f, flt) for f in VALUE_FIELDS for flt in f.filters)
"""Every filter over values with its field, in ``SearchFilter``'s order."""
STATS_FIELDS = tuple(f for f in VALUE_FIELDS if f.in_stats)
"""The value fields ``index stats`` counts per value."""

_ARTICLE_ORDER = {f.name: i for i, f in enumerate(fields(Article))}
VALUE_QUERY_FIELDS = tuple(
    sorted(
        (f.name for f in VALUE_FIELDS if f.query == "values"),
        key=lambda name: _ARTICLE_ORDER[BY_NAME[name].attribute],
    )
)
"""The query language's fields answered from the columns by the filters' rule, in the order
the article holds them (``category:``, ``source:``, ``language:``)."""
