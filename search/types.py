"""Requests and results of the search API (plain dataclasses, no Whoosh)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from newsearch.search.catalog import FACET_NAMES as FACET_NAMES  # re-exported: requests name facets
from newsearch.search.catalog import ValueFilter
from newsearch.search.highlight import Fragment, Span
from newsearch.search.model import Article

MAX_FIRST = 100


class Sort(Enum):
    """Result order."""

    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"


class Interval(Enum):
    """Date histogram bucket size."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class MatchMode(Enum):
    """What a query word matches (``=word`` makes one word EXACT whatever the mode)."""

    ANY_SCRIPT = "any_script"
    """Every form of the word, and a name also in every script (the names field)."""
    FORMS = "forms"
    """Every form of the word, in its own script only."""
    EXACT = "exact"
    """Only the surface form typed, for every word (``exact.py`` says what "the same
    form" means); prefixes and fuzzy words are not changed."""


@dataclass(frozen=True)
class Filters:
    """Combinable filters; empty tuples mean no restriction.

    ``published_from``/``published_to`` are inclusive bounds.  A ``datetime`` is an
    instant (a naive one is read in the request's time zone); a ``date`` is that whole
    day in the request's time zone: from its first instant, to its last (the next local
    midnight, exclusive: 23 or 25 hours on a DST change).  The value filters are those of
    ``catalog.VALUE_FIELDS`` (an attribute per ``ValueFilter``).
    """

    published_from: datetime | date | None = None
    published_to: datetime | date | None = None
    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    exclude_ids: tuple[str, ...] = ()

    def wanted(self, flt: ValueFilter) -> tuple[str, ...]:
        """The values asked for by the value filter ``flt``."""
        found: tuple[str, ...] = getattr(self, flt.attribute)
        return found


@dataclass(frozen=True)
class SearchRequest:
    """One search or browse (an empty ``query`` browses, newest first)."""

    query: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: Sort | None = None
    first: int = 10
    after: str | None = None
    facets: tuple[str, ...] = FACET_NAMES
    facet_size: int = 10
    histogram: Interval | None = None
    time_zone: str = "UTC"
    highlight: bool = True
    fragments: int = 3
    fragment_size: int = 160
    match: MatchMode = MatchMode.ANY_SCRIPT


@dataclass(frozen=True)
class FacetValue:
    """One facet value and how many hits have it."""

    value: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class Facet:
    """Counts over the whole hit set; ``truncated`` when values were cut at facet_size."""

    name: str
    values: tuple[FacetValue, ...]
    truncated: bool
    distinct: int


@dataclass(frozen=True)
class Bucket:
    """Hits published in [start, end) in the histogram's time zone."""

    key: str
    start: datetime
    end: datetime
    count: int


@dataclass(frozen=True)
class Highlights:
    """HTML-escaped title with <mark>s, body fragments, and raw match offsets."""

    title: str
    title_spans: tuple[Span, ...]
    fragments: tuple[Fragment, ...]
    body_spans: tuple[Span, ...]


@dataclass(frozen=True)
class Hit:
    """One result: the article, its score (None when sorted by date) and its cursor."""

    article: Article
    score: float | None
    cursor: str
    highlights: Highlights | None = None


class WarningKind(Enum):
    """What a warning is about."""

    UNKNOWN_FILTER_VALUE = "unknown_filter_value"
    """A filter value or a ``category:``/``source:``/``language:`` clause that matches no
    value in the archive."""
    UNKNOWN_FIELD = "unknown_field"
    """A ``name:`` prefix that is not a field: its words were searched instead."""
    LINK = "link"
    """A pasted link: its words were searched instead."""


@dataclass(frozen=True)
class SearchWarning:
    """Part of a request that matches nothing or was read other than as written; the
    search ran anyway.  ``position``: where in the query (None for a filter)."""

    kind: WarningKind
    message: str
    hint: str
    position: int | None = None


@dataclass(frozen=True)
class SearchPage:
    """A page of hits and everything computed over the whole hit set."""

    hits: tuple[Hit, ...]
    total: int
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None
    facets: tuple[Facet, ...]
    histogram: tuple[Bucket, ...]
    did_you_mean: str | None
    took_ms: float
    generation: str
    sort: Sort
    warnings: tuple[SearchWarning, ...] = ()


class SearchError(ValueError):
    """An expected failure: bad syntax, a bad cursor or filter. ``kind`` names which."""

    def __init__(
        self, kind: str, message: str, position: int | None = None, hint: str = ""
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.position = position
        self.hint = hint
