"""GraphQL types (strawberry) and their conversion from the search API's dataclasses."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry

from newsearch.schema.dates import DateOrDateTime
from newsearch.search import types as st
from newsearch.search.catalog import VALUE_FIELDS, VALUE_FILTERS
from newsearch.search.engine import IndexInfo as EngineIndexInfo
from newsearch.search.engine import Suggestions as EngineSuggestions
from newsearch.search.highlight import Fragment, Span
from newsearch.search.model import Article as ModelArticle


@strawberry.enum(description="Order of results.")
class SortOrder(Enum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"


@strawberry.enum(description="What the words of a query match (=word: that form only, always).")
class MatchMode(Enum):
    ANY_SCRIPT = strawberry.enum_value(
        "any_script", description="Every form of a word; a name also in every script."
    )
    FORMS = strawberry.enum_value("forms", description="Every form of a word, in its script.")
    EXACT = strawberry.enum_value("exact", description="Only the form typed, for every word.")


@strawberry.enum(description="Bucket size of the date histogram.")
class DateInterval(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


if TYPE_CHECKING:
    FacetField = Enum
else:
    FacetField = strawberry.enum(
        Enum("FacetField", [(f.graphql_name, f.name) for f in VALUE_FIELDS], module=__name__),
        description="A facet that can be counted.",
    )
"""A member per ``catalog.VALUE_FIELDS`` entry (``TAG = "tag"``), in table order."""


@strawberry.enum(description="What kind of expected error a request ran into.")
class ErrorKind(Enum):
    SYNTAX = "syntax"
    CURSOR = "cursor"
    FILTER = "filter"
    ARGUMENT = "argument"
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    INPUT = "input"
    TIMEOUT = "timeout"
    INDEX = "index"  # a write the index cannot take: another writer holds it, or a rebuild is due


@strawberry.enum(description="What a search warning is about.")
class WarningKind(Enum):
    UNKNOWN_FILTER_VALUE = "unknown_filter_value"
    UNKNOWN_FIELD = "unknown_field"
    LINK = "link"


@strawberry.type(
    description="Part of the request that matches nothing in the archive, or that was "
    "searched other than as written; the search ran anyway."
)
class SearchWarning:
    kind: WarningKind = strawberry.field(
        description="UNKNOWN_FILTER_VALUE: a filter value or a category:/source:/language: "
        "value no article has; UNKNOWN_FIELD: a name: prefix that is not a field (its words "
        "were searched); LINK: a pasted link (its words were searched)."
    )
    message: str = strawberry.field(description="What was asked, and what happened.")
    hint: str = strawberry.field(description="What to write instead.")
    position: int | None = strawberry.field(
        description="0-based character position in the query; null for a filter."
    )

    @staticmethod
    def of(w: st.SearchWarning) -> SearchWarning:
        """From the engine's warning."""
        return SearchWarning(
            kind=WarningKind(w.kind.value), message=w.message, hint=w.hint, position=w.position
        )


@strawberry.type(description="A news article exactly as its source gave it.")
class Article:
    id: strawberry.ID = strawberry.field(description="Stable id: the source's id or the file path.")
    title: str = strawberry.field(description="Headline.")
    body: str = strawberry.field(description="Full text; paragraphs separated by blank lines.")
    published: datetime = strawberry.field(
        description="Publication time with the source's own UTC offset (e.g. +03:00)."
    )
    published_utc: datetime = strawberry.field(description="The same instant in UTC.")
    category: str = strawberry.field(description="Category as written by the source.")
    source: str = strawberry.field(description="Publisher.")
    tags: list[str] = strawberry.field(description="Tags as written (trimmed), in source order.")
    language: str = strawberry.field(description="ISO 639-1 code (or 'und').")
    language_detected: bool = strawberry.field(
        description="True when the language was detected, false when the source gave it."
    )
    url: str | None = strawberry.field(description="Link to the original, if known.")
    headline: str | None = strawberry.field(
        description="The repeated headline block, when it differs from the title."
    )

    @staticmethod
    def of(a: ModelArticle) -> Article:
        """From the shared model."""
        return Article(
            id=strawberry.ID(a.id),
            title=a.title,
            body=a.body,
            published=a.published,
            published_utc=a.published_utc,
            category=a.category,
            source=a.source,
            tags=list(a.tags),
            language=a.language,
            language_detected=a.language_detected,
            url=a.url,
            headline=a.headline,
        )


@strawberry.type(description="Character offsets [start, end) of a match in the original text.")
class TextSpan:
    start: int = strawberry.field(
        description="Offset of the first character (Python string index)."
    )
    end: int = strawberry.field(description="Offset just past the last character.")

    @staticmethod
    def of(s: Span) -> TextSpan:
        """From the highlighter's span."""
        return TextSpan(start=s.start, end=s.end)


@strawberry.type(description="A snippet of the body around matches.")
class HighlightFragment:
    html: str = strawberry.field(description="HTML-escaped snippet; matches wrapped in <mark>.")
    text: str = strawberry.field(description="The snippet as plain text.")
    start: int = strawberry.field(description="Offset of the snippet in the body.")
    end: int = strawberry.field(description="End offset of the snippet in the body.")
    matches: list[TextSpan] = strawberry.field(description="Match offsets within the body.")

    @staticmethod
    def of(f: Fragment) -> HighlightFragment:
        """From the highlighter's fragment."""
        return HighlightFragment(
            html=f.html,
            text=f.text,
            start=f.start,
            end=f.end,
            matches=[TextSpan.of(s) for s in f.spans],
        )


@strawberry.type(description="Highlighted title and body fragments of one hit.")
class Highlights:
    title: str = strawberry.field(description="HTML-escaped title with <mark>ed matches.")
    title_matches: list[TextSpan] = strawberry.field(description="Match offsets in the title.")
    fragments: list[HighlightFragment] = strawberry.field(description="Best body snippets.")
    body_matches: list[TextSpan] = strawberry.field(description="All match offsets in the body.")


@strawberry.type(description="One search hit.")
class ArticleEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this hit.")
    score: float | None = strawberry.field(description="BM25F score (null when sorted by date).")
    node: Article = strawberry.field(description="The article.")
    highlights: Highlights | None = strawberry.field(description="Null when highlighting is off.")

    @staticmethod
    def of(hit: st.Hit) -> ArticleEdge:
        """From an engine hit."""
        h = hit.highlights
        return ArticleEdge(
            cursor=hit.cursor,
            score=hit.score,
            node=Article.of(hit.article),
            highlights=None
            if h is None
            else Highlights(
                title=h.title,
                title_matches=[TextSpan.of(s) for s in h.title_spans],
                fragments=[HighlightFragment.of(f) for f in h.fragments],
                body_matches=[TextSpan.of(s) for s in h.body_spans],
            ),
        )


@strawberry.type(description="Relay-style paging state.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More hits follow this page.")
    has_previous_page: bool = strawberry.field(description="Hits precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first hit on the page.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last hit: pass it as `after` for the next page."
    )


@strawberry.type(description="A facet value with its number of hits.")
class FacetValue:
    value: str = strawberry.field(description="The value as written in the articles.")
    count: int = strawberry.field(description="Hits with this value.")
    selected: bool = strawberry.field(
        description="True when the filter asks for this value (in any case or spacing)."
    )


@strawberry.type(
    description="Counts over the whole hit set; disjunctive: a facet ignores its own filter."
)
class Facet:
    field: FacetField = strawberry.field(description="Which facet.")
    values: list[FacetValue] = strawberry.field(
        description="Values by count, then alphabetically; selected ones always included."
    )
    truncated: bool = strawberry.field(description="True when more values exist than shown.")
    distinct: int = strawberry.field(description="How many distinct values have hits.")


@strawberry.type(description="Hits published in [start, end) in the requested time zone.")
class DateBucket:
    key: str = strawberry.field(description="2024, 2024-09 or 2024-09-15 (weeks: their Monday).")
    start: datetime = strawberry.field(
        description="Bucket start (inclusive), in the requested time zone."
    )
    end: datetime = strawberry.field(description="Bucket end (exclusive).")
    count: int = strawberry.field(description="Hits published in the bucket.")


@strawberry.type(description="A page of search results and aggregates over all hits.")
class ArticleConnection:
    edges: list[ArticleEdge] = strawberry.field(description="The hits of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="Exact number of hits.")
    facets: list[Facet] = strawberry.field(description="Facet counts over all hits.")
    date_histogram: list[DateBucket] = strawberry.field(
        description="Empty unless a histogram interval was asked for."
    )
    did_you_mean: str | None = strawberry.field(
        description="A corrected query that finds more, when this one finds few."
    )
    took_ms: float = strawberry.field(description="Time the engine spent, in milliseconds.")
    generation: str = strawberry.field(description="The index generation that answered.")
    sort: SortOrder = strawberry.field(description="The order used.")
    warnings: list[SearchWarning] = strawberry.field(
        description="Filter values and query clauses that match nothing in the archive, and "
        "words searched other than as written (empty when all is as asked)."
    )

    @staticmethod
    def of(page: st.SearchPage) -> ArticleConnection:
        """From an engine page."""
        return ArticleConnection(
            edges=[ArticleEdge.of(h) for h in page.hits],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.start_cursor,
                end_cursor=page.end_cursor,
            ),
            total_count=page.total,
            facets=[
                Facet(
                    field=FacetField(f.name),
                    values=[
                        FacetValue(value=v.value, count=v.count, selected=v.selected)
                        for v in f.values
                    ],
                    truncated=f.truncated,
                    distinct=f.distinct,
                )
                for f in page.facets
            ],
            date_histogram=[
                DateBucket(key=b.key, start=b.start, end=b.end, count=b.count)
                for b in page.histogram
            ],
            did_you_mean=page.did_you_mean,
            took_ms=round(page.took_ms, 3),
            generation=page.generation,
            sort=SortOrder(page.sort.value),
            warnings=[SearchWarning.of(w) for w in page.warnings],
        )


@strawberry.type(description="An expected failure: what went wrong, where, and how to fix it.")
class QueryError:
    kind: ErrorKind = strawberry.field(description="The kind of error.")
    message: str = strawberry.field(description="What went wrong.")
    position: int | None = strawberry.field(
        default=None, description="0-based character position in the query, for syntax errors."
    )
    hint: str | None = strawberry.field(default=None, description="How to fix it.")

    @staticmethod
    def of(exc: st.SearchError) -> QueryError:
        """From an engine error."""
        return QueryError(
            kind=ErrorKind(exc.kind),
            message=exc.message,
            position=exc.position,
            hint=exc.hint or None,
        )


@strawberry.type(description="No article has this id.")
class NotFound:
    id: strawberry.ID = strawberry.field(description="The id asked for.")
    message: str = strawberry.field(description="Human-readable explanation.")


@strawberry.type(description="Articles similar to one article.")
class RelatedArticles:
    id: strawberry.ID = strawberry.field(description="The article they are related to.")
    articles: list[ArticleEdge] = strawberry.field(
        description="Similar articles, most similar first."
    )


@strawberry.type(description="A tag completion.")
class TagSuggestion:
    tag: str = strawberry.field(description="A tag as written.")
    count: int = strawberry.field(description="Articles with the tag.")


@strawberry.type(description="A title completion.")
class TitleSuggestion:
    id: strawberry.ID = strawberry.field(description="Article id.")
    title: str = strawberry.field(description="Article title.")


@strawberry.type(description="Completions of a prefix.")
class Suggestions:
    tags: list[TagSuggestion] = strawberry.field(
        description="Tags with a word starting with the prefix, most used first."
    )
    titles: list[TitleSuggestion] = strawberry.field(
        description="Titles whose words complete the prefix, best first."
    )

    @staticmethod
    def of(s: EngineSuggestions) -> Suggestions:
        """From the engine's suggestions."""
        return Suggestions(
            tags=[TagSuggestion(tag=t, count=c) for t, c in s.tags],
            titles=[TitleSuggestion(id=strawberry.ID(i), title=t) for i, t in s.titles],
        )


@strawberry.type(description="Documents per language.")
class LanguageCount:
    language: str = strawberry.field(description="ISO 639-1 code.")
    count: int = strawberry.field(description="Documents in that language.")


@strawberry.type(description="What the served index holds.")
class IndexInfo:
    documents: int = strawberry.field(description="Searchable documents.")
    languages: list[LanguageCount] = strawberry.field(description="Documents per language.")
    date_from: datetime | None = strawberry.field(description="Oldest publication instant (UTC).")
    date_to: datetime | None = strawberry.field(description="Newest publication instant (UTC).")
    generation: str = strawberry.field(description="The served index generation.")
    built_at: str = strawberry.field(description="When that generation was built (UTC, ISO 8601).")

    @staticmethod
    def of(i: EngineIndexInfo) -> IndexInfo:
        """From the engine's info."""
        return IndexInfo(
            documents=i.documents,
            languages=[LanguageCount(language=k, count=v) for k, v in sorted(i.languages.items())],
            date_from=i.date_from,
            date_to=i.date_to,
            generation=i.generation,
            built_at=i.built_at,
        )


_T = TypeVar("_T")


def _value_filters(cls: type[_T]) -> type[_T]:
    """``cls`` with a ``[String!]`` field per ``catalog.VALUE_FILTERS`` entry (``categories``),
    in table order, before its ``exclude_ids``."""
    before = cls.__annotations__
    annotations: dict[str, object] = {}
    for name, annotation in before.items():
        if name == "exclude_ids":
            for _, flt in VALUE_FILTERS:
                annotations[flt.attribute] = "list[str] | None"
                field = strawberry.field(
                    name=flt.argument, default=None, description=flt.description
                )
                setattr(cls, flt.attribute, field)
        annotations[name] = annotation
    cls.__annotations__ = annotations
    return cls


@strawberry.input(
    description="Filters; all given ones must hold. Dates are inclusive; languages, "
    "categories, sources and tags match whole values, ignoring case and extra spaces."
)
@_value_filters
class SearchFilter:
    published_from: DateOrDateTime | None = strawberry.field(
        default=None,
        description="Published at or after this instant, or on or after this day "
        "(2005-03-31: from its first instant in facets.timeZone).",
    )
    published_to: DateOrDateTime | None = strawberry.field(
        default=None,
        description="Published at or before this instant, or on or before this day "
        "(2005-03-31: to its last instant in facets.timeZone, inclusive).",
    )
    exclude_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Leave these articles out."
    )

    def to_filters(self) -> st.Filters:
        """To the engine's filters."""
        return st.Filters(
            published_from=self.published_from,
            published_to=self.published_to,
            exclude_ids=tuple(str(i) for i in self.exclude_ids or ()),
            **{
                flt.attribute: tuple(getattr(self, flt.attribute) or ()) for _, flt in VALUE_FILTERS
            },
        )


@strawberry.input(description="Which facets to count, and the date histogram.")
class FacetOptions:
    fields: list[FacetField] = strawberry.field(
        default_factory=lambda: list(FacetField), description="Facets to count."
    )
    size: int = strawberry.field(default=10, description="Values per facet (at most 100).")
    date_histogram: DateInterval | None = strawberry.field(default=None, description="Bucket size.")
    time_zone: str = strawberry.field(
        default="UTC", description="IANA zone for buckets and naive dates."
    )


@strawberry.input(description="Highlighting of titles and body fragments.")
class HighlightOptions:
    enabled: bool = strawberry.field(
        default=True, description="Compute highlights (off saves time)."
    )
    fragments: int = strawberry.field(default=3, description="Body fragments per hit (at most 10).")
    fragment_size: int = strawberry.field(
        default=160, description="About this many characters each."
    )


@strawberry.input(description="An article to add or replace (matched by id).")
class ArticleInput:
    id: strawberry.ID = strawberry.field(
        description="Stable id; an existing article with it is replaced."
    )
    title: str = strawberry.field(description="Headline (not empty).")
    body: str = strawberry.field(description="Full text (not empty).")
    published: datetime = strawberry.field(
        description="With a UTC offset; naive times are refused."
    )
    category: str = strawberry.field(default="", description="Category.")
    source: str = strawberry.field(default="", description="Publisher.")
    tags: list[str] = strawberry.field(default_factory=list, description="Tags as written.")
    language: str | None = strawberry.field(
        default=None, description="ISO 639-1; detected if absent."
    )
    url: str | None = strawberry.field(default=None, description="Link to the original.")


@strawberry.type(description="A write was applied; the new generation is being served.")
class WriteSuccess:
    generation: str = strawberry.field(description="The generation now served, with the change.")
    added: int = strawberry.field(description="New articles.")
    updated: int = strawberry.field(description="Replaced articles whose content changed.")
    unchanged: int = strawberry.field(description="Articles sent with identical content.")
    deleted: int = strawberry.field(description="Articles removed.")
    documents: int = strawberry.field(description="Documents in the new generation.")


@strawberry.type(
    description="A rebuild from the server's --sources, else from the sources the served "
    "generation records. It drops changes made through the API since those sources were last "
    "read (see `warnings`), and is refused when a source is missing or it finds no articles."
)
class ReindexStatus:
    state: str = strawberry.field(description="idle, running, done or failed.")
    processed: int = strawberry.field(description="Articles read so far.")
    total: int | None = strawberry.field(description="Articles expected (estimate).")
    generation: str | None = strawberry.field(description="The generation built, when done.")
    error: str | None = strawberry.field(description="Why it failed.")
    started_at: datetime | None = strawberry.field(description="Start time (UTC).")
    finished_at: datetime | None = strawberry.field(description="End time (UTC).")
    sources: list[str] = strawberry.field(description="The sources read (absolute paths).")
    warnings: list[str] = strawberry.field(
        description="What the rebuild's summary warns of, e.g. changes made through the API "
        "that it dropped."
    )


SearchResult = Annotated[
    ArticleConnection | QueryError,
    strawberry.union("SearchResult", description="Results or an error."),
]
ArticleResult = Annotated[Article | NotFound, strawberry.union("ArticleResult")]
RelatedResult = Annotated[RelatedArticles | NotFound, strawberry.union("RelatedResult")]
WriteResult = Annotated[WriteSuccess | QueryError, strawberry.union("WriteResult")]
ReindexResult = Annotated[ReindexStatus | QueryError, strawberry.union("ReindexResult")]
