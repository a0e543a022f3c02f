"""The accelerated scoring path: a compiled Whoosh query evaluated over numpy postings.

``compile.py`` turns a query into a tree of Whoosh queries; here the tree is
evaluated with array operations over the generation's postings
(``postings.py``) instead of Whoosh's pure-Python matchers, with Whoosh's
semantics and scores for the shapes the compiler emits:

* ``Term`` on a text field: BM25F weight x the term's boost;
* ``AnyLemma`` (an ambiguous word's lemmas, ``lemmaquery.py``): documents matching any
  child, scored by the best child, x its boost (of text terms: a maximum over their
  postings, which then count as one term's);
* ``Or``: documents matching any child, scores summed over matching children;
* ``And``: documents matching every child, scores summed;
* ``Not``: every other live document, score 1 (Whoosh's ``InverseMatcher``);
* ``Every``: every live document, score 1; ``NullQuery``: nothing;
* ``ValuesQuery`` (``category:war``): its documents, score 1;
* ``Require`` (an exact word, ``exact.py``; a name's case, ``compile.name_case``): the
  documents of its first query that also match its second (the ``ValuesQuery`` of the
  documents holding the form, or text terms), scored by the first alone.

Anything else (a phrase) is evaluated by
Whoosh's own matcher for that subquery only, so its documents and scores are
Whoosh's, and only that part of the query pays Whoosh's price (a phrase only in
the segments holding all of its words).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import query as wq

from search.lemmaquery import AnyLemma
from search.storage.postings import FIELDS, Postings
from search.values import ValuesQuery

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.float64]
_TEXT_FIELDS = frozenset(FIELDS)


@dataclass(frozen=True)
class Evaluated:
    """Which documents a query matches, and their scores.

    A score is meaningful only where ``matched`` is set: zeroing the rest would be a
    pass over every document for each And (40 us at 100k documents, a quarter of a
    two-word query's matching).
    """

    matched: Mask
    scores: Scores


def evaluate(query: Any, postings: Postings, searcher: Any, live: Mask) -> Evaluated:
    """Match and score ``query`` (a compiled Whoosh query) over every document.

    ``searcher`` is the generation's Whoosh searcher, used only for subqueries
    the arrays cannot answer; ``live`` marks the documents not deleted.
    """
    matched, scores = _Evaluator(postings, searcher, live).node(query)
    return Evaluated(matched=matched, scores=scores)


def evaluate_with_whoosh(query: Any, searcher: Any, live: Mask) -> Evaluated:
    """The reference path: Whoosh's matcher for the whole query, walked once.

    Every match with its score, for generations without postings (and for tests).
    Whoosh's own top-k (``searcher.search(q, limit=k)``) is not used: on
    multi-segment indexes it returned lower-scored documents ahead of better
    ones for some queries (whoosh3 3.54, ``(a OR b) language:uk``).
    """
    live = np.asarray(live, dtype=np.bool_)
    matched, scores = _walk(query, searcher, live)
    return Evaluated(matched=matched, scores=scores)


class _Evaluator:
    def __init__(self, postings: Postings, searcher: Any, live: Mask) -> None:
        self.postings = postings
        self.searcher = searcher
        self.live = np.asarray(live, dtype=np.bool_)
        self.size = postings.size

    def node(self, q: Any) -> tuple[Mask, Scores]:
        if q is wq.NullQuery:
            return self._nothing()
        if isinstance(q, wq.Every) and q.fieldname in (None, "", "*"):
            return self.live.copy(), self.live.astype(np.float64) * float(q.boost)
        if _is_text_term(q):
            return self._terms([q])
        if isinstance(q, ValuesQuery):
            matched = np.zeros(self.size, dtype=np.bool_)
            matched[q.docnums] = True
            return matched, matched.astype(np.float64) * float(q.boost)
        if type(q) is AnyLemma:
            return self._best_of(q)
        if type(q) is wq.Or and not q.scale and not q.minmatch:
            terms = [c for c in q.subqueries if _is_text_term(c)]
            matched, scores = self._terms(terms)  # 0 where unmatched, as Or sums need
            for child in q.subqueries:
                if not _is_text_term(child):
                    m, s = self.node(child)
                    matched |= m
                    np.add(scores, s, out=scores, where=m)
            return matched, self._boosted(scores, q.boost)
        if type(q) is wq.And:
            groups = [g for g in map(_term_group, q.subqueries) if g is not None]
            if len(groups) == len(q.subqueries):
                return self._all_of(groups, q.boost)
            matched, scores = self.node(q.subqueries[0])
            for child in q.subqueries[1:]:
                m, s = self.node(child)
                matched &= m
                scores += s
            return matched, self._boosted(scores, q.boost)
        if type(q) is wq.Not:
            inner, _ = self.node(q.query)
            matched = self.live & ~inner
            return matched, matched.astype(np.float64)
        if type(q) is wq.Phrase and q.fieldname in _TEXT_FIELDS:
            return self._phrase(q)
        if type(q) is wq.Require:
            matched, scores = self.node(q.a)
            if matched.any():
                matched &= self._holding(q.b)
            return matched, scores
        return _walk(q, self.searcher, self.live)

    def _holding(self, q: Any) -> Mask:
        """The live documents matching ``q``, unscored: a ``ValuesQuery``'s from its
        numbers, text terms' from their postings (``compile.name_case``), anything else
        by Whoosh's matchers."""
        found = np.zeros(self.size, dtype=np.bool_)
        group = _term_group(q)
        if isinstance(q, ValuesQuery):
            found[q.docnums] = True
        elif group is not None:
            found = _marked(self._postings(group), self.size)
        else:
            found[np.fromiter(self.searcher.docs_for_query(q), dtype=np.int64)] = True
        found &= self.live
        return found

    def _best_of(self, q: Any) -> tuple[Mask, Scores]:
        """``AnyLemma`` of other queries than terms (a phrase's readings): documents
        matching any child, each scored by its best child."""
        matched, scores = self.node(q.subqueries[0])
        for child in q.subqueries[1:]:
            m, s = self.node(child)
            both = matched & m
            np.maximum(scores, s, out=scores, where=both)
            only = m & ~matched
            scores[only] = s[only]
            matched |= m
        return matched, self._boosted(scores, q.boost)

    def _phrase(self, q: Any) -> tuple[Mask, Scores]:
        """A phrase, by Whoosh's matcher, in the segments holding all its words only.

        Only documents with every word of the phrase (our postings) can match, so
        segments without one are skipped: their term lookups were most of a phrase's
        time on a build of many segments.
        """
        candidates: npt.NDArray[Any] | None = None
        for word in q.words:
            docs, _ = self.postings.lookup(q.fieldname, word)
            candidates = docs if candidates is None else np.intersect1d(candidates, docs)
            if candidates.size == 0:
                return self._nothing()
        return _walk(q, self.searcher, self.live, candidates)

    @staticmethod
    def _boosted(scores: Scores, boost: float) -> Scores:
        if boost != 1.0:
            scores *= boost
        return scores

    def _nothing(self) -> tuple[Mask, Scores]:
        return np.zeros(self.size, dtype=np.bool_), np.zeros(self.size)

    def _postings(self, group: list[tuple[Any, float]]) -> _Group:
        """The postings of a group's terms that occur, each with its score factor (an
        ``AnyLemma`` of terms: one posting per document, its best lemma's weight)."""
        found: _Group = []
        for term, factor in group:
            if type(term) is AnyLemma:
                docs, weights = self._best_postings(term.subqueries)
            else:
                docs, weights = self.postings.lookup(term.fieldname, term.text)
            if docs.size:
                found.append((docs, weights, factor))
        return found

    def _best_postings(
        self, terms: list[Any]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """One posting per document holding any of ``terms``: the largest of its terms'
        boosted weights."""
        looked = []
        for t in terms:
            docs, weights = self.postings.lookup(t.fieldname, t.text)
            if docs.size:
                looked.append((docs, weights if t.boost == 1.0 else weights * t.boost))
        if len(looked) <= 1:
            return looked[0] if looked else (np.zeros(0, np.int32), np.zeros(0, np.float32))
        docs = np.concatenate([d for d, _ in looked])
        weights = np.concatenate([w for _, w in looked])
        order = np.argsort(docs, kind="stable")
        docs, weights = docs[order], weights[order]
        starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
        return docs[starts], np.maximum.reduceat(weights, starts)

    def _all_of(self, groups: list[list[tuple[Any, float]]], boost: float) -> tuple[Mask, Scores]:
        """An And of text terms and Ors of text terms (a plain words query): a document
        matches when it holds a term of every group; its score is the sum of its terms'.

        A boolean mark per group and one weighted count over every group's postings,
        rather than a dense score array per group (each ~25 us at 100k documents).
        """
        looked = [self._postings(g) for g in groups]
        if not all(looked):
            return self._nothing()  # a group without postings: nothing matches
        matched = _marked(looked[0], self.size)
        for group in looked[1:]:
            matched &= _marked(group, self.size)
        if not matched.any():
            return self._nothing()
        scores = _count([posting for group in looked for posting in group], self.size)
        return matched, self._boosted(scores, boost)

    def _terms(self, terms: list[Any]) -> tuple[Mask, Scores]:
        """Several text terms at once (an Or): their summed weights, by document."""
        group = self._postings([(t, float(t.boost)) for t in terms])
        if not group:
            return self._nothing()
        # Marked from the postings rather than as ``scores > 0``: a pass over every
        # document's score (20 us at 100k) for what is usually a few hundred documents.
        return _marked(group, self.size), _count(group, self.size)


_Group = list[tuple[npt.NDArray[np.int32], npt.NDArray[np.float32], float]]
"""A group's postings: (documents, BM25F weights, score factor) of each term."""


def _scaled(weights: npt.NDArray[np.float32], factor: float) -> Scores:
    wide = weights.astype(np.float64)
    if factor != 1.0:
        wide *= factor
    return wide


def _marked(group: _Group, size: int) -> Mask:
    """The documents holding any of a group's postings."""
    mark = np.zeros(size, dtype=np.bool_)
    for docs, _, _ in group:
        mark[docs] = True
    return mark


def _count(group: _Group, size: int) -> Scores:
    """Summed weights by document, as a dense array of ``size`` (0: no posting)."""
    return np.bincount(
        np.concatenate([docs for docs, _, _ in group]),
        weights=np.concatenate([_scaled(w, f) for _, w, f in group]),
        minlength=size,
    ).astype(np.float64, copy=False)


def _walk(
    q: Any, searcher: Any, live: Mask, candidates: npt.NDArray[Any] | None = None
) -> tuple[Mask, Scores]:
    """A (sub)query matched and scored by Whoosh's own matchers, segment by segment
    (only the segments holding one of ``candidates``, sorted docnums, when given)."""
    matched = np.zeros(live.shape[0], dtype=np.bool_)
    scores = np.zeros(live.shape[0])
    for leaf, offset in searcher.leaf_searchers():
        if candidates is not None:
            at = int(np.searchsorted(candidates, offset))
            if at == candidates.size or candidates[at] >= offset + leaf.doc_count_all():
                continue
        m = q.matcher(leaf, leaf.context())
        ids: list[int] = []
        values: list[float] = []
        while m.is_active():
            ids.append(m.id())
            values.append(m.score())
            m.next()
        if ids:
            at = np.asarray(ids, dtype=np.int64) + offset
            matched[at] = True
            scores[at] = values
    matched &= live
    return matched, scores


def _term_group(q: Any) -> list[tuple[Any, float]] | None:
    """A text term, or a plain Or of text terms, as (term, score factor) pairs; None for
    any other query."""
    if _is_text_term(q):
        return [(q, float(q.boost))]
    if (
        type(q) is wq.Or
        and not q.scale
        and not q.minmatch
        and all(_is_text_term(c) for c in q.subqueries)
    ):
        return [(c, float(c.boost) * float(q.boost)) for c in q.subqueries]
    return None


def _is_text_term(q: Any) -> bool:
    """A text field's term, or an ``AnyLemma`` of them (scored as one term)."""
    return (type(q) is wq.Term and q.fieldname in _TEXT_FIELDS) or _is_lemma_terms(q)


def _is_lemma_terms(q: Any) -> bool:
    return type(q) is AnyLemma and all(
        type(c) is wq.Term and c.fieldname in _TEXT_FIELDS for c in q.subqueries
    )
