"""The search API: ``search``, ``browse``, ``get``, ``suggest``, ``related``, ``info``.

Plain functions of an ``Engine`` over the served generation.  A query is
compiled to a query plan (``compile.py``) and matched and scored with
Whoosh's BM25F over numpy postings (``accel.py``: the same documents and
scores as Whoosh's matchers, without their per-posting Python cost); a
generation built without postings is searched by Whoosh itself.  Filters,
facets, histograms, top-k and date order are numpy operations over the
generation's columns (``filters.py``, ``facets.py``, ``histogram.py``).
Expected failures raise ``SearchError``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from newsearch.search import plan
from newsearch.search.accel import evaluate, evaluate_with_whoosh
from newsearch.search.analysis import field_language
from newsearch.search.catalog import BY_NAME
from newsearch.search.compile import Compiled, Present, compile_query
from newsearch.search.exact import EXACT_FIELD
from newsearch.search.facets import facet
from newsearch.search.fields import NAMES_FIELD
from newsearch.search.filters import FilterMasks, Mask, build_masks
from newsearch.search.highlight import MatchTerms, fragments, mark, match_spans
from newsearch.search.histogram import histogram
from newsearch.search.model import Article, datetime_from_us
from newsearch.search.paging import cursor_encoder, decode_cursor, request_key
from newsearch.search.querylang import Node, QuerySyntaxError, parse, parse_query
from newsearch.search.reader import Generation, IndexReader
from newsearch.search.spelling import did_you_mean
from newsearch.search.types import (
    FACET_NAMES,
    MAX_FIRST,
    Facet,
    Filters,
    Highlights,
    Hit,
    MatchMode,
    SearchError,
    SearchPage,
    SearchRequest,
    Sort,
)

FEW_HITS = 3
"""Below this many hits, a did-you-mean correction is looked for."""


@dataclass(frozen=True)
class IndexInfo:
    """What the served index holds."""

    documents: int
    languages: dict[str, int]
    date_from: datetime | None
    date_to: datetime | None
    generation: str
    built_at: str


@dataclass(frozen=True)
class Suggestions:
    """Completions for a prefix: tags (with document counts) and article titles."""

    tags: tuple[tuple[str, int], ...]
    titles: tuple[tuple[str, str], ...]


def _time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" (a folder), too long
        raise SearchError(
            "filter", f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Kyiv"
        ) from None


class Engine:
    """Searches the served generation of one index directory (thread-safe)."""

    def __init__(
        self,
        index_dir: Path,
        check_interval: float = 1.0,
        *,
        accelerated: bool = True,
        preload: bool = True,
    ) -> None:
        """``accelerated=False`` scores with Whoosh's matchers even where postings exist
        (the reference the accelerated path is tested against); ``preload``: see
        ``IndexReader``."""
        self.reader = IndexReader(index_dir, check_interval=check_interval, preload=preload)
        self.accelerated = accelerated

    # -- public API ---------------------------------------------------------

    def search(self, req: SearchRequest) -> SearchPage:
        """Run one search (or a browse, when ``req.query`` has no words)."""
        started = time.perf_counter()
        if not 0 <= req.first <= MAX_FIRST:
            raise SearchError(
                "argument",
                f"first must be between 0 and {MAX_FIRST}",
                hint=f"use first <= {MAX_FIRST}",
            )
        if req.facet_size < 0:
            raise SearchError(
                "argument", "facet_size must not be negative", hint="use facet_size >= 0"
            )
        unknown = set(req.facets) - set(FACET_NAMES)
        if unknown:
            raise SearchError(
                "argument",
                f"unknown facet {sorted(unknown)[0]!r}",
                hint=f"use {', '.join(FACET_NAMES)}",
            )
        tz = _time_zone(req.time_zone)
        try:
            parsed = parse(req.query)
        except QuerySyntaxError as exc:
            raise SearchError("syntax", exc.message, position=exc.position, hint=exc.hint) from None
        node = parsed.node
        gen = self.reader.generation()
        sort = req.sort or (Sort.RELEVANCE if node is not None else Sort.NEWEST)
        key = request_key(req, sort)
        offset = decode_cursor(req.after, key) if req.after else 0
        searcher = gen.searcher()
        masks = build_masks(
            gen.columns, req.filters, tz, self._docnums(gen, req.filters.exclude_ids)
        )
        compiled: Compiled | None = None
        scores: npt.NDArray[np.float64] | None = None
        if node is not None:
            try:
                compiled = self._compile(gen, node, req.match)
            except QuerySyntaxError as exc:
                raise SearchError(
                    "syntax", exc.message, position=exc.position, hint=exc.hint
                ) from None
            matched, scores = self._match(gen, compiled.query)
        else:
            matched = np.asarray(gen.columns.live).copy()
        hits_mask = matched & masks.all()
        total = int(np.count_nonzero(hits_mask))
        order = self._order(gen, scores, hits_mask, sort, offset + req.first)
        page = order[offset : offset + req.first]
        cursor = cursor_encoder(gen.name, key)
        named = _holding_names(gen, [d for d, _ in page], compiled) if req.highlight else None
        hits = tuple(
            self._hit(gen, docnum, score, cursor(offset + i), compiled, req, named)
            for i, (docnum, score) in enumerate(page)
        )
        facets = self._facets(gen, matched, masks, req)
        buckets = (
            histogram(np.asarray(gen.columns.published_us)[hits_mask], req.histogram, tz)
            if req.histogram
            else []
        )
        suggestion = None
        if node is not None and total < FEW_HITS:
            all_filters = masks.all()
            suggestion = did_you_mean(
                req.query,
                node,
                total,
                searcher,
                gen.vocabulary,
                lambda q: self._count(gen, q, all_filters, req.match),
                self._present(gen),
            )
        in_query = [*parsed.warnings, *(compiled.warnings if compiled is not None else ())]
        in_query.sort(key=lambda w: w.position or 0)
        return SearchPage(
            hits=hits,
            total=total,
            has_next_page=offset + len(hits) < total,
            has_previous_page=offset > 0,
            start_cursor=hits[0].cursor if hits else None,
            end_cursor=hits[-1].cursor if hits else None,
            facets=facets,
            histogram=tuple(buckets),
            did_you_mean=suggestion,
            took_ms=(time.perf_counter() - started) * 1000,
            generation=gen.name,
            sort=sort,
            warnings=(*in_query, *masks.warnings),
        )

    def browse(
        self, filters: Filters, sort: Sort = Sort.NEWEST, first: int = 10, after: str | None = None
    ) -> SearchPage:
        """Articles matching ``filters`` without text, newest first by default."""
        return self.search(
            SearchRequest(filters=filters, sort=sort, first=first, after=after, highlight=False)
        )

    def get(self, ids: list[str]) -> list[Article | None]:
        """Articles by id, in the order asked; None for unknown ids."""
        gen = self.reader.generation()
        result: list[Article | None] = []
        for article_id in ids:
            docnum = gen.docnum(article_id)
            result.append(None if docnum is None else gen.article(docnum))
        return result

    def related(self, article_id: str, first: int = 5) -> list[Hit] | None:
        """More like this: similar articles, excluding the article and its exact duplicates.

        None when the id is unknown.
        """
        gen = self.reader.generation()
        docnum = gen.docnum(article_id)
        if docnum is None:
            return None
        first = max(0, min(first, MAX_FIRST))
        searcher = gen.searcher()
        stored = searcher.stored_fields(docnum)
        article = gen.article(docnum)
        lang = field_language(article.language)
        text = f"{article.title}\n{article.body}"
        # Ask for enough to still have ``first`` after dropping every exact duplicate.
        duplicates = int(searcher.doc_frequency("hash", stored["hash"]))
        # Whoosh's more_like: the text's key terms, weighted, in an AnyOf (scored here, as
        # every query is: Whoosh's own top-k misranks on multi-segment indexes).
        field = f"body_{lang}"
        key_terms = searcher.key_terms_from_text(field, text, numterms=12)
        query = plan.AnyOf(
            tuple(plan.Term(field, word, boost=weight) for word, weight in key_terms)
        )
        matched, scores = self._match(gen, query)
        matched[docnum] = False
        published = np.asarray(gen.columns.published_us)
        hits: list[Hit] = []
        for other, score in _top(np.flatnonzero(matched), scores, published, first + duplicates):
            if len(hits) >= first:
                break
            if searcher.stored_fields(other)["hash"] == stored["hash"]:
                continue
            hits.append(Hit(article=gen.article(other), score=score, cursor=""))
        return hits

    def suggest(self, prefix: str, limit: int = 10) -> Suggestions:
        """Tags and titles completing ``prefix`` (tags by document count, titles by relevance)."""
        gen = self.reader.generation()
        limit = max(0, min(limit, MAX_FIRST))
        needle = prefix.strip().casefold()
        if not needle:
            return Suggestions((), ())
        cols = gen.columns
        live = np.asarray(cols.live)
        tag_counts = np.bincount(
            np.asarray(cols.ids["tag"])[live[cols.owners["tag"]]], minlength=len(cols.values["tag"])
        )
        tags = [
            (value, int(tag_counts[i]))
            for i, value in enumerate(cols.values["tag"])
            if tag_counts[i]
            and any(w.startswith(needle) for w in [value.casefold(), *value.casefold().split()])
        ]
        tags.sort(key=lambda t: (-t[1], t[0]))
        titles: list[tuple[str, str]] = []
        # A leading = (the query language's exact switch) means nothing to a completion.
        words = [w for w in (w.lstrip("=") for w in needle.split()) if w]
        if limit and words and sum(c.isalnum() for c in words[-1]) >= 2:  # Whoosh: no limit=0
            text = " ".join([*(f"title:{w}" for w in words[:-1]), f"title:{words[-1]}*"])
            try:
                node = parse_query(text)
                assert node is not None
                compiled = self._compile(gen, node)
                matched, scores = self._match(gen, compiled.query)
                published = np.asarray(cols.published_us)
                for docnum, _ in _top(np.flatnonzero(matched), scores, published, limit):
                    article = gen.article(docnum)
                    titles.append((article.id, article.title))
            except QuerySyntaxError:
                pass
        return Suggestions(tuple(tags[:limit]), tuple(titles))

    def info(self) -> IndexInfo:
        """Documents, languages, date range, generation and build time of the served index."""
        gen = self.reader.generation()
        cols = gen.columns
        live = np.asarray(cols.live)
        langs = np.bincount(
            np.asarray(cols.ids["language"])[live], minlength=len(cols.values["language"])
        )
        published = np.asarray(cols.published_us)[live]
        return IndexInfo(
            documents=int(np.count_nonzero(live)),
            languages={v: int(langs[i]) for i, v in enumerate(cols.values["language"]) if langs[i]},
            date_from=datetime_from_us(int(published.min()), 0) if published.size else None,
            date_to=datetime_from_us(int(published.max()), 0) if published.size else None,
            generation=gen.name,
            built_at=gen.manifest.built_at,
        )

    # -- internals ----------------------------------------------------------

    @staticmethod
    def _docnums(gen: Generation, ids: tuple[str, ...]) -> dict[str, int]:
        found = {}
        for article_id in ids:
            docnum = gen.docnum(article_id)
            if docnum is not None:
                found[article_id] = docnum
        return found

    def _present(self, gen: Generation) -> Present | None:
        """Which terms occur (from the postings), for compile_query to leave out the others.

        The Whoosh path gets whole queries: it is the reference the pruned ones are
        tested against."""
        if self.accelerated and gen.postings is not None:
            return gen.postings.has
        return None

    def _compile(
        self, gen: Generation, node: Node, mode: MatchMode = MatchMode.ANY_SCRIPT
    ) -> Compiled:
        """``node`` compiled against the generation (its words remembered with ``present``:
        the Whoosh path compiles whole queries, every time)."""
        present = self._present(gen)
        postings = gen.postings
        return compile_query(
            node,
            gen.columns,
            gen.vocabulary,
            present,
            gen.words if present is not None else None,
            gen.searcher().doc_frequency,
            mode,
            None if postings is None else lambda term: postings.lookup(EXACT_FIELD, term)[0],
            None if postings is None else postings.frequency,
        )

    def _match(self, gen: Generation, query: plan.Plan) -> tuple[Mask, npt.NDArray[np.float64]]:
        """The documents ``query`` matches, and their scores."""
        live = np.asarray(gen.columns.live)
        if self.accelerated and gen.postings is not None:
            found = evaluate(query, gen.postings, gen.searcher(), live)
        else:
            found = evaluate_with_whoosh(query, gen.searcher(), live)
        return found.matched, found.scores

    @staticmethod
    def _order(
        gen: Generation,
        scores: npt.NDArray[np.float64] | None,
        hits_mask: Mask,
        sort: Sort,
        needed: int,
    ) -> list[tuple[int, float | None]]:
        """(docnum, score) for the first ``needed`` hits in ``sort`` order (scores: None
        without query text)."""
        published = np.asarray(gen.columns.published_us)
        docnums = np.flatnonzero(hits_mask)
        if sort is not Sort.RELEVANCE or scores is None:
            # Newest: date descending, then docnum for a total order.
            dates = published[docnums]
            keys = (docnums, -dates) if sort is not Sort.OLDEST else (docnums, dates)
            ordered = docnums[np.lexsort(keys)][:needed]
            return [(int(d), None) for d in ordered]
        if needed <= 0:
            return []
        return _top(docnums, scores, published, needed)

    def _count(self, gen: Generation, query_text: str, allowed: Mask, mode: MatchMode) -> int:
        node = parse_query(query_text)
        if node is None:
            return 0
        compiled = self._compile(gen, node, mode)
        matched, _ = self._match(gen, compiled.query)
        return int(np.count_nonzero(matched & allowed))

    @staticmethod
    def _facets(
        gen: Generation, matched: Mask, masks: FilterMasks, req: SearchRequest
    ) -> tuple[Facet, ...]:
        return tuple(
            facet(
                gen.columns,
                name,
                matched & masks.without(name),
                req.facet_size,
                tuple(v for flt in BY_NAME[name].filters for v in req.filters.wanted(flt)),
            )
            for name in req.facets
        )

    @staticmethod
    def _hit(
        gen: Generation,
        docnum: int,
        score: float | None,
        cursor: str,
        compiled: Compiled | None,
        req: SearchRequest,
        named: set[int] | None = None,
    ) -> Hit:
        article = gen.article(docnum)
        highlights = None
        if req.highlight:
            lang = field_language(article.language)
            marks = (
                compiled.marks.get(lang, MatchTerms(frozenset(), ()))
                if compiled
                else MatchTerms(frozenset(), ())
            )
            if marks.names and named is not None and docnum not in named:
                marks = replace(marks, names=frozenset())
            title_spans = match_spans(article.title, lang, marks)
            body_spans = match_spans(article.body, lang, marks)
            highlights = Highlights(
                title=mark(article.title, title_spans),
                title_spans=tuple(title_spans),
                fragments=tuple(
                    fragments(article.body, body_spans, req.fragments, req.fragment_size)
                ),
                body_spans=tuple(body_spans),
            )
        return Hit(article=article, score=score, cursor=cursor, highlights=highlights)


def _holding_names(gen: Generation, page: list[int], compiled: Compiled | None) -> set[int] | None:
    """The documents of ``page`` whose names field holds one of the query's name keys (None:
    all may).  Highlights mark a word as a name only where the names field holds its key, so
    the others skip that walk over their words (most hits match by their own words)."""
    postings = gen.postings
    if compiled is None or postings is None or not page:
        return None
    keys = frozenset().union(*(m.names for m in compiled.marks.values()))
    if not keys:
        return None
    on_page = np.zeros(postings.size, dtype=bool)
    on_page[page] = True
    held: set[int] = set()
    for key in keys:
        docs, _ = postings.lookup(NAMES_FIELD, key)
        held.update(docs[on_page[docs]].tolist())
    return held


_TIE_MARGIN = 2e-9
"""Below the cut score, how far a score may be and still round to the cut's rounding."""


def _top(
    docnums: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    published: npt.NDArray[np.int64],
    needed: int,
) -> list[tuple[int, float | None]]:
    """The ``needed`` best of ``docnums``: by score, equal scores (to 1e-9) newest first,
    then by docnum; every document tied with the last one kept is ordered, not cut."""
    exact = scores[docnums]
    if docnums.size > needed:
        # Rounding keeps order, so the needed-th best rounded score is the rounding of the
        # needed-th best exact one, and every score rounding to it or above is above that
        # exact one less 1e-9: cut on exact scores (with a margin), round only what stays.
        cut = np.partition(exact, docnums.size - needed)[docnums.size - needed]
        keep = exact >= cut - _TIE_MARGIN
        docnums, exact = docnums[keep], exact[keep]
    rounded = np.round(exact, 9)
    order = np.lexsort((docnums, -published[docnums], -rounded))[:needed]
    return [(int(docnums[i]), float(exact[i])) for i in order]
