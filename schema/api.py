"""The GraphQL schema: Query and Mutation with thin resolvers over ``search`` and ``indexer``.

Each resolver: GraphQL input -> request dataclass -> one engine call (off the
event loop) -> GraphQL types.  Expected failures are typed union members.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, MaxTokensLimiter, ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from newsearch.indexer.build import OutdatedAnalysis
from newsearch.indexer.lock import IndexLocked
from newsearch.schema.context import Context, RequestTimeout
from newsearch.schema.dates import DATETIME, SCALAR_MAP
from newsearch.schema.execution import PlainObjectsExecutionContext
from newsearch.schema.limits import Limits, Validation
from newsearch.schema.middleware import request_id_var
from newsearch.schema.settings import Settings
from newsearch.schema.types import (
    Article,
    ArticleConnection,
    ArticleEdge,
    ArticleInput,
    ArticleResult,
    ErrorKind,
    FacetOptions,
    HighlightOptions,
    IndexInfo,
    MatchMode,
    NotFound,
    QueryError,
    ReindexResult,
    ReindexStatus,
    RelatedArticles,
    RelatedResult,
    SearchFilter,
    SearchResult,
    SortOrder,
    Suggestions,
    WriteResult,
    WriteSuccess,
)
from newsearch.search import types as st
from newsearch.search.model import Article as ModelArticle

log = logging.getLogger("newsearch.graphql")
MAX_IDS = 100
MAX_UPSERT = 1000


def _request(
    query: str,
    filter: SearchFilter | None,
    sort: SortOrder | None,
    first: int,
    after: str | None,
    facets: FacetOptions | None,
    highlight: HighlightOptions | None,
    match: MatchMode = MatchMode.ANY_SCRIPT,
) -> st.SearchRequest:
    f = facets or FacetOptions()
    h = highlight or HighlightOptions()
    if not 0 <= f.size <= st.MAX_FIRST:
        raise st.SearchError("argument", f"facets.size must be between 0 and {st.MAX_FIRST}")
    if not 0 <= h.fragments <= 10 or not 20 <= h.fragment_size <= 1000:
        raise st.SearchError(
            "argument", "highlight.fragments must be 0-10 and fragmentSize 20-1000"
        )
    return st.SearchRequest(
        query=query,
        filters=(filter or SearchFilter()).to_filters(),
        sort=st.Sort(sort.value) if sort else None,
        first=first,
        after=after,
        facets=tuple(dict.fromkeys(x.value for x in f.fields)),
        facet_size=f.size,
        histogram=st.Interval(f.date_histogram.value) if f.date_histogram else None,
        time_zone=f.time_zone,
        highlight=h.enabled,
        fragments=h.fragments,
        fragment_size=h.fragment_size,
        match=st.MatchMode(match.value),
    )


async def _search(
    ctx: Context,
    query: str,
    filter: SearchFilter | None,
    sort: SortOrder | None,
    first: int,
    after: str | None,
    facets: FacetOptions | None,
    highlight: HighlightOptions | None,
    match: MatchMode = MatchMode.ANY_SCRIPT,
) -> ArticleConnection | QueryError:
    try:
        req = _request(query, filter, sort, first, after, facets, highlight, match)
        page = await ctx.run(ctx.engine.search, req)
    except st.SearchError as exc:
        return QueryError.of(exc)
    except RequestTimeout:
        return _timeout()
    return ArticleConnection.of(page)


def _timeout() -> QueryError:
    return QueryError(
        kind=ErrorKind.TIMEOUT,
        message="the request took longer than the server's time limit",
        hint="narrow the query or add filters",
    )


def _unauthorized() -> QueryError:
    return QueryError(
        kind=ErrorKind.UNAUTHORIZED,
        message="writes need a valid bearer token",
        hint="send Authorization: Bearer <write token>",
    )


@strawberry.type(description="Read the archive.")
class Query:
    @strawberry.field(
        description="Full-text search with filters, facets, histogram and highlights."
    )
    async def search(
        self,
        info: Info[Context, None],
        query: str = "",
        filter: SearchFilter | None = None,
        sort: SortOrder | None = None,
        first: int = 10,
        after: str | None = None,
        facets: FacetOptions | None = None,
        highlight: HighlightOptions | None = None,
        match: Annotated[
            MatchMode,
            strawberry.argument(
                description="What the words match: every form and script (the default), "
                "every form in the word's script, or only the form typed."
            ),
        ] = MatchMode.ANY_SCRIPT,
    ) -> SearchResult:
        return await _search(
            info.context, query, filter, sort, first, after, facets, highlight, match
        )

    @strawberry.field(description="Filtered browsing without text, newest first by default.")
    async def browse(
        self,
        info: Info[Context, None],
        filter: SearchFilter | None = None,
        sort: SortOrder | None = SortOrder.NEWEST,
        first: int = 10,
        after: str | None = None,
        facets: FacetOptions | None = None,
    ) -> SearchResult:
        no_highlights = HighlightOptions(enabled=False)
        return await _search(info.context, "", filter, sort, first, after, facets, no_highlights)

    @strawberry.field(description="One article by id.")
    async def article(self, info: Info[Context, None], id: strawberry.ID) -> ArticleResult:
        found = (await info.context.run(info.context.engine.get, [str(id)]))[0]
        if found is None:
            return NotFound(id=id, message=f"no article with id {id!r}")
        return Article.of(found)

    @strawberry.field(description="Articles by ids, in order; null for unknown ids (at most 100).")
    async def articles(
        self, info: Info[Context, None], ids: list[strawberry.ID]
    ) -> list[Article | None]:
        if len(ids) > MAX_IDS:
            raise GraphQLError(f"at most {MAX_IDS} ids per request")
        found = await info.context.run(info.context.engine.get, [str(i) for i in ids])
        return [None if a is None else Article.of(a) for a in found]

    @strawberry.field(description="Articles like this one (its exact duplicates left out).")
    async def related(
        self, info: Info[Context, None], id: strawberry.ID, first: int = 5
    ) -> RelatedResult:
        hits = await info.context.run(
            info.context.engine.related, str(id), min(max(first, 0), st.MAX_FIRST)
        )
        if hits is None:
            return NotFound(id=id, message=f"no article with id {id!r}")
        return RelatedArticles(id=id, articles=[ArticleEdge.of(h) for h in hits])

    @strawberry.field(description="Tags and titles that complete a prefix.")
    async def suggest(self, info: Info[Context, None], prefix: str, first: int = 10) -> Suggestions:
        return Suggestions.of(
            await info.context.run(info.context.engine.suggest, prefix[:200], first)
        )

    @strawberry.field(description="Documents, languages, date range and generation of the index.")
    async def index_info(self, info: Info[Context, None]) -> IndexInfo:
        return IndexInfo.of(await info.context.run(info.context.engine.info))

    @strawberry.field(description="The state of the last rebuild started with `reindex`.")
    def reindex_status(self, info: Info[Context, None]) -> ReindexStatus:
        return _status(info.context)


def _status(ctx: Context) -> ReindexStatus:
    s = ctx.services.writes.reindex_state
    return ReindexStatus(
        state=s.state,
        processed=s.processed,
        total=s.total,
        generation=s.generation,
        error=s.error,
        started_at=s.started_at,
        finished_at=s.finished_at,
        sources=list(s.sources),
        warnings=list(s.warnings),
    )


def _model(a: ArticleInput) -> ModelArticle:
    if a.published.tzinfo is None:
        raise ValueError(f"article {a.id}: published has no UTC offset")
    if not a.title.strip() or not a.body.strip():
        raise ValueError(f"article {a.id}: title and body must not be empty")
    return ModelArticle(
        id=str(a.id),
        title=a.title,
        body=a.body,
        published=a.published,
        category=a.category.strip(),
        source=a.source.strip(),
        tags=tuple(dict.fromkeys(t.strip() for t in a.tags if t.strip())),
        language=(a.language or "").lower(),
        url=a.url,
    )


@strawberry.type(description="Change the archive (needs the write token).")
class Mutation:
    @strawberry.mutation(
        description="Add or replace articles by id; returns when they are searchable."
    )
    async def upsert_articles(
        self, info: Info[Context, None], articles: list[ArticleInput]
    ) -> WriteResult:
        ctx = info.context
        if not ctx.may_write():
            return _unauthorized()
        if len(articles) > MAX_UPSERT:
            return QueryError(
                kind=ErrorKind.INPUT, message=f"at most {MAX_UPSERT} articles per request"
            )
        try:
            models = [_model(a) for a in articles]
        except ValueError as exc:
            return QueryError(kind=ErrorKind.INPUT, message=str(exc))
        return await _write(ctx, models, [])

    @strawberry.mutation(description="Delete articles by id (unknown ids are ignored).")
    async def delete_articles(
        self, info: Info[Context, None], ids: list[strawberry.ID]
    ) -> WriteResult:
        ctx = info.context
        if not ctx.may_write():
            return _unauthorized()
        return await _write(ctx, [], [str(i) for i in ids])

    @strawberry.mutation(
        description="Rebuild the index in the background from the server's --sources, else "
        "from the sources the served generation records (see ReindexStatus)."
    )
    def reindex(self, info: Info[Context, None]) -> ReindexResult:
        ctx = info.context
        if not ctx.may_write():
            return _unauthorized()
        ctx.services.writes.start_reindex()
        return _status(ctx)


async def _write(ctx: Context, upserts: list[ModelArticle], deletes: list[str]) -> WriteResult:
    # Writes are not abandoned at the request deadline: they finish, then get served.
    import anyio.to_thread

    try:
        summary = await anyio.to_thread.run_sync(ctx.services.writes.apply, upserts, deletes)
    except (IndexLocked, OutdatedAnalysis) as exc:  # the served generation stays as it was
        return QueryError(kind=ErrorKind.INDEX, message=str(exc))
    await anyio.to_thread.run_sync(ctx.engine.reader.refresh)
    return WriteSuccess(
        generation=summary.generation,
        added=summary.added,
        updated=summary.updated,
        unchanged=summary.unchanged,
        deleted=summary.deleted,
        documents=summary.documents,
    )


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False  # validation and argument errors are the client's to see
    log.error(
        "unexpected error in request %s: %r", request_id_var.get(), original, exc_info=original
    )
    return True


def make_schema(settings: Settings) -> strawberry.Schema:
    """The schema with the guards configured in ``settings``."""
    # Parsed and validated documents are cached: apps repeat the same documents with
    # new variables, and parsing plus validation are a large share of a small request.
    # The limits (depth, aliases, expanded fields) are checked before graphql-core's rules,
    # in time linear in the document (schema/limits.py).
    limits = Limits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_fields=settings.max_fields,
    )
    rules: tuple[type[ASTValidationRule], ...] = (
        () if settings.introspection else (NoSchemaIntrospectionCustomRule,)
    )
    # Factories, not instances: strawberry builds fresh extensions per request.
    extensions: list[object] = [
        lambda: ParserCache(maxsize=256),
        lambda: Validation(limits, rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="Unexpected error."),
    ]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        scalar_overrides={datetime: DATETIME},
        extensions=extensions,  # type: ignore[arg-type]
        execution_context_class=PlainObjectsExecutionContext,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
